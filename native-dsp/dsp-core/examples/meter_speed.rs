//! Times the loudness meter and the true-peak meter on 4 minutes of stereo noise at 44.1 kHz:
//! `cargo run --release --example meter_speed`.
use dsp_core::loudness::{ChannelRole, LoudnessMeter};
use dsp_core::truepeak::TruePeakMeter;
use std::time::Instant;

fn main() {
    let fs = 44_100.0;
    let n = 240 * 44_100;
    let mut s: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        ((s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
    };
    let l: Vec<f32> = (0..n).map(|_| next()).collect();
    let r: Vec<f32> = (0..n).map(|_| next()).collect();
    for _ in 0..3 {
        let t = Instant::now();
        let mut m = LoudnessMeter::new(fs, &ChannelRole::from_names(&["FL", "FR"])).unwrap();
        for (a, b) in l.chunks(16384).zip(r.chunks(16384)) {
            m.process(&[a, b]).unwrap();
        }
        let rep = m.report();
        let lt = t.elapsed();
        let t = Instant::now();
        let mut tp = TruePeakMeter::new(fs, 2).unwrap();
        for (a, b) in l.chunks(16384).zip(r.chunks(16384)) {
            tp.process(&[a, b]).unwrap();
        }
        tp.flush();
        println!(
            "loudness {:?} ({:?} LUFS), true peak {:?} ({:?})",
            lt,
            rep.integrated_lufs,
            t.elapsed(),
            tp.true_peaks()
        );
    }
}
