//! Times each stage of the analysis on a real file: decode it once with
//! `ffmpeg -i FILE -f f32le -c:a pcm_f32le OUT.f32` (stereo), then
//! `cargo run --release --example analyzer_profile OUT.f32 [sample-rate]`. Each line is the
//! fastest of several runs on one thread (the least disturbed by other work on the machine).
use dsp_core::analyzer::{deinterleave_f32le, Analyzer, AnalyzerOptions};
use dsp_core::loudness::{ChannelRole, LoudnessMeter};
use dsp_core::spectral::{SpectralAnalyzer, SpectralOptions};
use dsp_core::timedomain::{TimeDomainAnalyzer, TimeDomainOptions};
use dsp_core::truepeak::TruePeakMeter;
use std::time::Instant;

const REPS: usize = 7;

fn best(name: &str, mut f: impl FnMut()) {
    let mut times: Vec<f64> = (0..REPS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{name:>22}: best {:6.1} ms, median {:6.1} ms",
        times[0],
        times[REPS / 2]
    );
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: analyzer_profile FILE.f32 [sample-rate]");
    let fs: f64 = std::env::args()
        .nth(2)
        .map(|s| s.parse().expect("sample rate"))
        .unwrap_or(44_100.0);
    let bytes = std::fs::read(&path).expect("readable file");
    let mut planes = vec![Vec::new(), Vec::new()];
    deinterleave_f32le(&bytes, &mut planes);
    let (l, r) = (&planes[0], &planes[1]);
    println!("{path}: {:.1} s of stereo at {fs} Hz", l.len() as f64 / fs);
    let block = 131_072;
    let names = ["FL".to_string(), "FR".to_string()];
    let analyzer = |threads: usize| {
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
        for chunk in bytes.chunks(1 << 20) {
            a.process_f32le_stream(chunk).unwrap();
        }
        a.finish().unwrap()
    };
    best("analyzer, 1 thread", || {
        analyzer(1);
    });
    best("analyzer, 2 threads", || {
        analyzer(2);
    });
    best("deinterleave", || {
        let mut p = vec![Vec::with_capacity(block), Vec::with_capacity(block)];
        for chunk in bytes.chunks(8 * block) {
            deinterleave_f32le(chunk, &mut p);
        }
    });
    best("loudness", || {
        let mut m = LoudnessMeter::new(fs, &ChannelRole::from_names(&["FL", "FR"])).unwrap();
        for (x, y) in l.chunks(block).zip(r.chunks(block)) {
            m.process(&[x, y]).unwrap();
        }
        m.report();
    });
    best("true peak", || {
        let mut m = TruePeakMeter::new(fs, 2).unwrap();
        for (x, y) in l.chunks(block).zip(r.chunks(block)) {
            m.process(&[x, y]).unwrap();
        }
        m.flush();
    });
    best("time domain", || {
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
    best("spectral", || {
        let opts = SpectralOptions {
            included: vec![true, true],
            stereo_pair: Some((0, 1)),
            spectrogram_columns: 1024,
            spectrogram_rows: 160,
        };
        let mut m = SpectralAnalyzer::new(fs, 2, opts).unwrap();
        for (x, y) in l.chunks(block).zip(r.chunks(block)) {
            m.process(&[x, y]).unwrap();
        }
        m.finish();
    });
    let report = analyzer(1);
    println!(
        "I {:?} LUFS, LRA {:?} LU, TP {:?} dBTP",
        report.loudness.integrated_lufs, report.loudness.loudness_range_lu, report.true_peak_dbtp
    );
}
