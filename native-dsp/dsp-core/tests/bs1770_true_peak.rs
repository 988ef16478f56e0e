//! True peak (BS.1770-5 Annex 2) on signals whose true peak is known analytically, modelled on
//! EBU Tech 3341 cases 15–23 (expected value +0.2/−0.4 dB), plus a slow f64 reference of the
//! oversampler and block-size invariance.

mod common;
use common::*;
use dsp_core::truepeak::{kernel, oversampling_factor, peak_db, TruePeakMeter, TAPS_PER_PHASE};
use std::f64::consts::PI;

fn measure(fs: f64, planes: &[Vec<f32>], block: usize) -> TruePeakMeter {
    let mut m = TruePeakMeter::new(fs, planes.len()).unwrap();
    in_blocks(planes, block, |b| m.process(b).unwrap());
    m.flush();
    m
}

fn max_true_peak_db(m: &TruePeakMeter) -> f64 {
    peak_db(m.true_peaks().into_iter().fold(0.0, f64::max)).unwrap()
}

/// A tone with 20 ms raised-cosine fades: a sine switched on abruptly is not band-limited, and
/// its edges ring above the tone's amplitude on any true-peak meter.
fn tone(fs: f64, hz: f64, peak_dbfs: f64, phase: f64, seconds: f64) -> Vec<f32> {
    let a = db_to_amp(peak_dbfs);
    let n = (fs * seconds) as usize;
    let fade = (0.02 * fs) as usize;
    (0..n)
        .map(|i| {
            let edge = i.min(n - 1 - i);
            let g = if edge < fade {
                0.5 - 0.5 * (PI * edge as f64 / fade as f64).cos()
            } else {
                1.0
            };
            (g * a * (2.0 * PI * hz * i as f64 / fs + phase).sin()) as f32
        })
        .collect()
}

fn within_tolerance(actual: f64, expected: f64, what: &str) {
    assert!(
        actual <= expected + 0.2 && actual >= expected - 0.4,
        "{what}: {actual:.3} dBTP, expected {expected} +0.2/−0.4"
    );
}

#[test]
fn tones_at_quarter_and_sixth_of_the_rate() {
    for fs in [44_100.0, 48_000.0, 96_000.0] {
        // (frequency as a fraction of fs, phase, peak dBFS, expected dBTP)
        let cases = [
            (0.25, 0.0, -6.0, -6.0),      // samples on the peaks
            (0.25, PI / 4.0, -6.0, -6.0), // samples 3 dB below the peaks
            (1.0 / 6.0, PI / 3.0, -6.0, -6.0),
            (1.0 / 8.0, PI / 8.0, -6.0, -6.0),
            (0.25, PI / 4.0, 3.01, 3.01), // samples at 0 dBFS, true peak +3 dBTP
        ];
        for (frac, phase, dbfs, expected) in cases {
            let x = tone(fs, frac * fs, dbfs, phase, 1.0);
            let m = measure(fs, &[x.clone(), x], 4096);
            within_tolerance(
                max_true_peak_db(&m),
                expected,
                &format!("fs/{} at {fs}", 1.0 / frac),
            );
        }
        // The +3 dBTP tone's samples sit at full scale: sample peak 0 dBFS.
        let x = tone(fs, 0.25 * fs, 3.01, PI / 4.0, 1.0);
        let m = measure(fs, &[x], 4096);
        assert!(peak_db(m.sample_peaks()[0]).unwrap().abs() < 0.01);
        assert!(
            m.overs().total_events() > 0,
            "a +3 dBTP tone is an inter-sample over at {fs}"
        );
    }
}

/// A band-limited pulse whose continuous peak (1.0 = 0 dBTP) lies halfway between two samples;
/// its content reaches 0.4 fs or 20 kHz, whichever is lower (audio content, as in programme).
fn pulse_between_samples(fs: f64, seconds: f64) -> Vec<f32> {
    let n = (fs * seconds) as usize;
    let centre = n as f64 / 2.0 + 0.5;
    let fc = (0.4 * fs).min(20_000.0) / fs; // cycles per sample
    (0..n)
        .map(|i| {
            let t = i as f64 - centre;
            let sinc = if t == 0.0 {
                1.0
            } else {
                (2.0 * PI * fc * t).sin() / (2.0 * PI * fc * t)
            };
            // A long Hann taper keeps it (very nearly) band-limited.
            let w = 0.5 + 0.5 * (PI * t / 2000.0).cos();
            (sinc * if t.abs() < 2000.0 { w } else { 0.0 }) as f32
        })
        .collect()
}

#[test]
fn zero_dbtp_pulses_between_samples_at_all_rates() {
    for fs in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let x = pulse_between_samples(fs, 1.0);
        let sample = peak_db(x.iter().fold(0f32, |m, v| m.max(v.abs())) as f64).unwrap();
        let m = measure(fs, &[x], 4096);
        let tp = max_true_peak_db(&m);
        within_tolerance(
            tp,
            0.0,
            &format!("pulse at {fs} (sample peak {sample:.2} dBFS)"),
        );
        assert!(
            tp > sample,
            "the true peak is above the sample peak at {fs}"
        );
    }
}

#[test]
fn random_tones_read_their_amplitude_within_the_oversampling_bound() {
    let mut rng = Rng(0x9e37_79b9);
    for fs in [44_100.0, 48_000.0, 96_000.0] {
        let l = oversampling_factor(fs) as f64;
        for _ in 0..40 {
            let f = (0.005 + 0.34 * (rng.uniform() * 0.5 + 0.5)) * fs;
            let phase = rng.uniform() * PI;
            let x = tone(fs, f, -3.0, phase, 0.2);
            let m = measure(fs, &[x], 4096);
            let tp = max_true_peak_db(&m);
            // The worst under-read of L-times oversampling is the cosine of half a sub-step;
            // the interpolator's passband ripple up to 0.35 fs is below 0.05 dB.
            let bound = 20.0 * (PI * f / (l * fs) / 1.0).cos().log10() - 0.05;
            assert!(
                tp <= -3.0 + 0.05 && tp >= -3.0 + bound,
                "{f:.0} Hz at {fs}: {tp:.3} dBTP, seed 0x9e3779b9"
            );
        }
    }
}

#[test]
fn oversampler_matches_a_slow_f64_reference() {
    let fs = 48_000.0;
    let mut rng = Rng(42);
    let x: Vec<f32> = (0..20_000).map(|_| (rng.uniform() * 0.7) as f32).collect();
    let l = oversampling_factor(fs);
    let half = (TAPS_PER_PHASE / 2) as i64;
    let mut reference = 0f64;
    for i in 0..x.len() as i64 + half {
        for p in 0..l {
            let frac = p as f64 / l as f64;
            let mut y = 0.0;
            let mut norm = 0.0;
            for j in (i - half + 1)..=(i + half) {
                let k = kernel(i as f64 + frac - j as f64);
                norm += k;
                if j >= 0 && (j as usize) < x.len() {
                    y += k * x[j as usize] as f64;
                }
            }
            reference = reference.max((y / norm).abs());
        }
    }
    let m = measure(fs, &[x], 777);
    let tp = m.true_peaks()[0];
    // f32 taps and products against f64: a few parts in 10^7.
    assert!(
        (tp - reference).abs() < 1e-5,
        "meter {tp} vs reference {reference}"
    );
}

#[test]
fn block_size_invariance_and_over_spans() {
    let fs = 44_100.0;
    let mut x = tone(fs, 1000.0, -12.0, 0.0, 3.0);
    // An over burst at 1.5–1.6 s.
    let burst = tone(fs, 0.25 * fs, 3.01, PI / 4.0, 0.1);
    let at = (1.5 * fs) as usize;
    x[at..at + burst.len()].copy_from_slice(&burst);
    let planes = vec![x.clone(), x];
    let reference = measure(fs, &planes, 4096);
    for block in [1, 7, 64, 1000] {
        let m = measure(fs, &planes, block);
        assert_eq!(m.true_peaks(), reference.true_peaks(), "block {block}");
        assert_eq!(
            m.overs().spans(),
            reference.overs().spans(),
            "block {block}"
        );
    }
    let spans = reference.overs().spans();
    assert_eq!(spans.len(), 1);
    let (start, end) = (spans[0].0 as f64 / fs, spans[0].1 as f64 / fs);
    // The burst fades in and out over 20 ms; it is above full scale once the fade passes −3 dB.
    assert!(
        start > 1.5 && start < 1.52 && end > 1.58 && end < 1.6,
        "{start}..{end}"
    );
}
