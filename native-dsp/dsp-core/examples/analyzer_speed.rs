//! Times the whole analysis and each meter on 4 minutes of stereo material at 44.1 kHz:
//! `cargo run --release --example analyzer_speed [noise|music] [all|only] [parallel|serial]`.
use dsp_core::analyzer::{Analyzer, AnalyzerOptions};
use dsp_core::loudness::{ChannelRole, LoudnessMeter};
use dsp_core::spectral::{SpectralAnalyzer, SpectralOptions};
use dsp_core::timedomain::{TimeDomainAnalyzer, TimeDomainOptions};
use dsp_core::truepeak::TruePeakMeter;
use std::time::Instant;

fn time(name: &str, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    println!("{name:>12}: {:6.1} ms", t.elapsed().as_secs_f64() * 1e3);
}

fn main() {
    let fs = 44_100.0;
    let n = 240 * 44_100;
    let music = std::env::args().nth(1).as_deref() == Some("music");
    let mut s: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    // "music": noise under a slow envelope with sparse transients, peaking near full scale.
    let gen = |i: usize, x: f32| -> f32 {
        if !music {
            return x * 0.5;
        }
        let t = i as f32 / 44_100.0;
        let env = 0.15 * (1.2 + (t * 0.8).sin());
        let hit = if (i % 22_050) < 200 { 3.0 } else { 1.0 };
        x * env * hit
    };
    let l: Vec<f32> = (0..n).map(|i| gen(i, next())).collect();
    let r: Vec<f32> = (0..n).map(|i| gen(i, next())).collect();
    let block = 8192;
    let names = ["FL".to_string(), "FR".to_string()];
    let only = std::env::args().nth(2).as_deref() == Some("only");
    let threads = if std::env::args().nth(3).as_deref() == Some("serial") {
        1
    } else {
        2
    };
    for _ in 0..2 {
        time("analyzer", || {
            let mut a = Analyzer::new(
                fs,
                AnalyzerOptions {
                    channel_names: names.to_vec(),
                    spectrogram_columns: 1024,
                    spectrogram_rows: 160,
                    threads,
                    full: true,
                },
            )
            .unwrap();
            for (x, y) in l.chunks(block).zip(r.chunks(block)) {
                a.process(&[x, y]).unwrap();
            }
            a.finish().unwrap();
        });
        if only {
            continue;
        }
        time("loudness", || {
            let mut m = LoudnessMeter::new(fs, &ChannelRole::from_names(&["FL", "FR"])).unwrap();
            for (x, y) in l.chunks(block).zip(r.chunks(block)) {
                m.process(&[x, y]).unwrap();
            }
            m.report();
        });
        time("true peak", || {
            let mut m = TruePeakMeter::new(fs, 2).unwrap();
            for (x, y) in l.chunks(block).zip(r.chunks(block)) {
                m.process(&[x, y]).unwrap();
            }
            m.flush();
        });
        time("time domain", || {
            let opts = TimeDomainOptions {
                included: vec![true, true],
                stereo_pair: Some((0, 1)),
            };
            let mut m = TimeDomainAnalyzer::new(fs, 2, opts).unwrap();
            for (x, y) in l.chunks(block).zip(r.chunks(block)) {
                m.process(&[x, y]).unwrap();
            }
            m.finish();
        });
        time("spectral", || {
            let opts = SpectralOptions {
                included: vec![true, true],
                stereo_pair: Some((0, 1)),
                ..Default::default()
            };
            let mut m = SpectralAnalyzer::new(fs, 2, opts).unwrap();
            for (x, y) in l.chunks(block).zip(r.chunks(block)) {
                m.process(&[x, y]).unwrap();
            }
            m.finish();
        });
    }
}
