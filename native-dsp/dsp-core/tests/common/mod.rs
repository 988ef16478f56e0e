//! Test signals synthesised the way EBU Tech 3341/3342 describe theirs, and a ten-line PRNG.
#![allow(dead_code)]

use std::f64::consts::PI;

/// xorshift64*: deterministic noise for randomised tests (print the seed on failure).
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

pub fn db_to_amp(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A 1 kHz sine (peak amplitude from dBFS), continuing phase across calls via `start`.
pub fn sine_into(out: &mut Vec<f32>, fs: f64, hz: f64, dbfs: f64, seconds: f64) {
    let a = db_to_amp(dbfs);
    let n = (seconds * fs).round() as usize;
    let start = out.len();
    for i in 0..n {
        let t = (start + i) as f64 / fs;
        out.push((a * (2.0 * PI * hz * t).sin()) as f32);
    }
}

pub fn silence_into(out: &mut Vec<f32>, fs: f64, seconds: f64) {
    let n = (seconds * fs).round() as usize;
    out.extend(std::iter::repeat_n(0.0f32, n));
}

/// A sequence of (dBFS or None for silence, seconds) segments of a 1 kHz sine.
pub fn tone_sequence(fs: f64, segments: &[(Option<f64>, f64)]) -> Vec<f32> {
    let mut out = Vec::new();
    for &(level, seconds) in segments {
        match level {
            Some(db) => sine_into(&mut out, fs, 1000.0, db, seconds),
            None => silence_into(&mut out, fs, seconds),
        }
    }
    out
}

/// Splits planes into blocks of `block` frames and calls `f` on each.
pub fn in_blocks(planes: &[Vec<f32>], block: usize, mut f: impl FnMut(&[&[f32]])) {
    let frames = planes[0].len();
    let mut pos = 0;
    while pos < frames {
        let n = block.min(frames - pos);
        let views: Vec<&[f32]> = planes.iter().map(|p| &p[pos..pos + n]).collect();
        f(&views);
        pos += n;
    }
}

pub fn assert_near(actual: Option<f64>, expected: f64, tol: f64, what: &str) {
    let a = actual.unwrap_or_else(|| panic!("{what}: undefined, expected {expected}"));
    assert!(
        (a - expected).abs() <= tol,
        "{what}: {a:.4}, expected {expected} ± {tol}"
    );
}
