//! Word-length reduction for the end of the mastering chain: TPDF dither, optional noise shaping
//! by error feedback, and quantisation to the grid of a 16- or 24-bit (any 8–24 bit) integer.
//!
//! **Dither.** Each sample gets triangular-PDF noise spanning ±1 LSB, the sum of two independent
//! uniform variables on [−½, ½) LSB. Its variance is 2 · (1/12) = 1/6 LSB²; with the rounding
//! error (uniform, 1/12 LSB²) the total requantisation noise is 1/6 + 1/12 = 1/4 LSB², and its
//! first two moments no longer depend on the signal (Lipshitz, Wannamaker & Vanderkooy,
//! "Quantization and Dither: A Theoretical Survey", J. AES 40(5), 1992). So a tone below 1 LSB
//! survives as a tone in noise instead of being truncated to silence or to distortion.
//!
//! **Noise shaping** (optional). The quantiser's total error is fed back through a filter so the
//! output noise is the white requantisation noise e filtered by a noise transfer function
//! NTF(z) = N(z)/D(z) with N and D monic (first coefficient 1), which is what lets the filter use
//! only past errors (the error-feedback structure of Lipshitz, Vanderkooy & Wannamaker,
//! "Minimally Audible Noise Shaping", J. AES 39(11), 1991):
//!
//! ```text
//! u[n] = Σₖ nₖ·e[n−k] − Σₖ dₖ·v[n−k]      (k = 1, 2)
//! w    = x[n] + u[n];  y[n] = Q(w + tpdf);  e[n] = y[n] − w;  v[n] = y[n] − x[n] = e[n] + u[n]
//! ```
//!
//! NTF is a second-order shelf: zeros of an analog prototype at 7 kHz (Q 0.7) and poles at
//! 18 kHz (Q 0.7), bilinear-transformed with each pair pre-warped at its own frequency, then made
//! monic. At 44.1 kHz the noise is about −13 dB below 5 kHz, −4.6 dB at 10 kHz, crosses 0 dB
//! near 12 kHz and rises to +7 dB at 15 kHz and +18 dB at Nyquist; the total noise power grows by
//! 11 dB, all of it where hearing is least sensitive. Because N and D are monic and minimum
//! phase, the mean of log|NTF| over frequency is 0 dB (Gerzon & Craven, "Optimal Noise Shaping
//! and Dither of Digital Signals", AES 87th Convention, 1989): lowering the audible band must
//! raise the top octave. At higher rates the same analog corners leave much more room above
//! 18 kHz, so the audible band is lowered as much at a far smaller total cost (+2.7 dB at
//! 96 kHz). Below 40 kHz the poles are moved to 0.45·fs and the zeros keep the 7:18 ratio.
//!
//! The feedback is bounded: e is clamped to ±1.5 LSB, its range when the quantiser is not at its
//! rails, so a clipped sample cannot drive the filter.
//!
//! Deterministic given the seed: each channel has its own SplitMix64 generator seeded from the
//! seed and the channel index.

use crate::error::{check_format, check_planes, DspError};
use crate::processor::check_output;
use std::f64::consts::PI;

/// Noise-shaping corners (see the module documentation).
const SHAPING_ZERO_HZ: f64 = 7_000.0;
const SHAPING_POLE_HZ: f64 = 18_000.0;
const SHAPING_Q: f64 = 0.7;
/// Highest pole frequency as a fraction of the sample rate (keeps the design below Nyquist).
const SHAPING_POLE_MAX_FRACTION: f64 = 0.45;
/// |e| never exceeds 1 (TPDF) + ½ (rounding) LSB unless the output clipped.
const ERROR_LIMIT_LSB: f64 = 1.5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DitherParams {
    /// Target word length, 8–24 (16 for CD, 24 for high-resolution delivery).
    pub bits: u32,
    /// Push the requantisation noise above ~12 kHz (see the module documentation).
    pub noise_shaping: bool,
    /// Seed of the dither generators: equal seeds give bit-identical output.
    pub seed: u64,
}

impl Default for DitherParams {
    fn default() -> Self {
        DitherParams {
            bits: 16,
            noise_shaping: false,
            seed: 0x4c61_7468_6544_6974,
        }
    }
}

/// The noise-shaping filter NTF(z) = (1 + n1 z⁻¹ + n2 z⁻²) / (1 + d1 z⁻¹ + d2 z⁻²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseShapingFilter {
    pub n1: f64,
    pub n2: f64,
    pub d1: f64,
    pub d2: f64,
}

impl NoiseShapingFilter {
    /// No shaping: NTF = 1.
    pub const FLAT: NoiseShapingFilter = NoiseShapingFilter {
        n1: 0.0,
        n2: 0.0,
        d1: 0.0,
        d2: 0.0,
    };

    /// The shelf described in the module documentation, designed for `fs`.
    pub fn shelf(fs: f64) -> Self {
        let pole_hz = SHAPING_POLE_HZ.min(SHAPING_POLE_MAX_FRACTION * fs);
        let zero_hz = pole_hz * (SHAPING_ZERO_HZ / SHAPING_POLE_HZ);
        // s² + (ω/Q)s + ω² under s → (1 − z⁻¹)/(1 + z⁻¹), pre-warped: k = tan(πf/fs).
        let quadratic = |f: f64| {
            let k = (PI * f / fs).tan();
            let c0 = 1.0 + k / SHAPING_Q + k * k;
            (2.0 * (k * k - 1.0) / c0, (1.0 - k / SHAPING_Q + k * k) / c0)
        };
        let (n1, n2) = quadratic(zero_hz);
        let (d1, d2) = quadratic(pole_hz);
        NoiseShapingFilter { n1, n2, d1, d2 }
    }

    /// |NTF| at `freq` Hz (the noise gain the UI can draw), linear.
    pub fn magnitude(&self, freq: f64, fs: f64) -> f64 {
        let w = 2.0 * PI * freq / fs;
        let eval = |c1: f64, c2: f64| {
            let re = 1.0 + c1 * w.cos() + c2 * (2.0 * w).cos();
            let im = -c1 * w.sin() - c2 * (2.0 * w).sin();
            (re * re + im * im).sqrt()
        };
        eval(self.n1, self.n2) / eval(self.d1, self.d2)
    }
}

/// SplitMix64 (Steele, Lea & Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA
/// 2014): one 64-bit output gives the two independent 32-bit uniforms of a TPDF sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline(always)]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Triangular noise on (−1, 1) LSB: the sum of two uniforms on [−½, ½).
    #[inline(always)]
    fn tpdf(&mut self) -> f64 {
        let r = self.next();
        let scale = 1.0 / 4_294_967_296.0;
        let a = (r >> 32) as f64 * scale;
        let b = (r & 0xffff_ffff) as f64 * scale;
        a + b - 1.0
    }
}

fn channel_generator(seed: u64, channel: usize) -> SplitMix64 {
    // Distinct, well-mixed starting points per channel, so channels' noise is uncorrelated.
    let mut g = SplitMix64(seed ^ (channel as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
    SplitMix64(g.next())
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ShapingState {
    e1: f64,
    e2: f64,
    v1: f64,
    v2: f64,
}

/// Streaming word-length reducer.
#[derive(Debug, Clone)]
pub struct Dither {
    sample_rate: f64,
    params: DitherParams,
    filter: NoiseShapingFilter,
    /// 2^(bits−1): one LSB is 1/scale.
    scale: f64,
    generators: Vec<SplitMix64>,
    states: Vec<ShapingState>,
}

impl Dither {
    pub fn new(sample_rate: f64, channels: usize, params: DitherParams) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        validate(&params)?;
        let mut d = Dither {
            sample_rate,
            params,
            filter: NoiseShapingFilter::FLAT,
            scale: 1.0,
            generators: vec![SplitMix64(0); channels],
            states: vec![ShapingState::default(); channels],
        };
        d.apply(params);
        d.reset();
        Ok(d)
    }

    /// Changes parameters; a new seed restarts the generators, otherwise the noise continues.
    pub fn set_params(&mut self, params: DitherParams) -> Result<(), DspError> {
        validate(&params)?;
        let reseed = params.seed != self.params.seed;
        let reshape = params.noise_shaping != self.params.noise_shaping;
        self.apply(params);
        if reseed {
            self.reseed();
        }
        if reshape {
            self.states.fill(ShapingState::default());
        }
        Ok(())
    }

    fn apply(&mut self, params: DitherParams) {
        self.params = params;
        self.scale = (1u64 << (params.bits - 1)) as f64;
        self.filter = if params.noise_shaping {
            NoiseShapingFilter::shelf(self.sample_rate)
        } else {
            NoiseShapingFilter::FLAT
        };
    }

    fn reseed(&mut self) {
        for (c, g) in self.generators.iter_mut().enumerate() {
            *g = channel_generator(self.params.seed, c);
        }
    }

    /// Restarts the generators from the seed and clears the shaping filter.
    pub fn reset(&mut self) {
        self.reseed();
        self.states.fill(ShapingState::default());
    }

    pub fn latency_frames(&self) -> usize {
        0
    }

    pub fn params(&self) -> DitherParams {
        self.params
    }

    /// The noise transfer function in use (flat when shaping is off).
    pub fn noise_shaping_filter(&self) -> NoiseShapingFilter {
        self.filter
    }

    /// Writes each input sample reduced to the target grid: k / 2^(bits−1) for an integer k in
    /// [−2^(bits−1), 2^(bits−1) − 1].
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.states.len())?;
        check_output(output, self.states.len(), frames)?;
        let f = self.filter;
        let scale = self.scale;
        let inv_scale = 1.0 / scale;
        let (lo, hi) = (-scale, scale - 1.0);
        for (c, (inp, out)) in input.iter().zip(output.iter_mut()).enumerate() {
            let mut g = self.generators[c];
            let mut s = self.states[c];
            for (&x, o) in inp.iter().zip(out.iter_mut()) {
                // In LSB units. A NaN input is passed to the quantiser as silence.
                let x = if x.is_finite() { x as f64 * scale } else { 0.0 };
                let u = f.n1 * s.e1 + f.n2 * s.e2 - f.d1 * s.v1 - f.d2 * s.v2;
                let w = x + u;
                let y = (w + g.tpdf()).round().clamp(lo, hi);
                let e = (y - w).clamp(-ERROR_LIMIT_LSB, ERROR_LIMIT_LSB);
                s = ShapingState {
                    e1: e,
                    e2: s.e1,
                    v1: e + u,
                    v2: s.v1,
                };
                // k / 2^(bits−1) with |k| ≤ 2^23 is exact in f32.
                *o = (y * inv_scale) as f32;
            }
            self.generators[c] = g;
            self.states[c] = s;
        }
        Ok(())
    }
}

/// Word lengths accepted: 16 for CD, 24 for high-resolution delivery, and anything between
/// (and down to 8 bits, for tests and lo-fi work).
pub const MIN_BITS: u32 = 8;
pub const MAX_BITS: u32 = 24;

fn validate(p: &DitherParams) -> Result<(), DspError> {
    if !(MIN_BITS..=MAX_BITS).contains(&p.bits) {
        return Err(DspError::Parameter {
            name: "bits",
            message: format!("{} is outside {MIN_BITS}..={MAX_BITS} bits", p.bits),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::testing::{assert_bit_identical, run_blocks, XorShift, BLOCK_SIZES};

    fn run(d: &mut Dither, input: &[Vec<f32>], block: usize) -> Vec<Vec<f32>> {
        run_blocks(input, block, |i, o| d.process(i, o).unwrap())
    }

    #[test]
    fn tpdf_has_zero_mean_variance_one_sixth_and_a_triangular_density() {
        let seed = 0x1234_5678_9abc_def0;
        let mut g = channel_generator(seed, 0);
        let n = 1_000_000;
        let bins = 20;
        let mut hist = vec![0u64; bins];
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..n {
            let d = g.tpdf();
            assert!(
                (-1.0..1.0).contains(&d),
                "seed {seed:#x}: {d} outside ±1 LSB"
            );
            sum += d;
            sum2 += d * d;
            hist[((d + 1.0) / 2.0 * bins as f64) as usize] += 1;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        // Standard error of the mean is sqrt(1/6 / n) = 4.1e-4: allow 5 of them.
        assert!(mean.abs() < 2.1e-3, "seed {seed:#x}: mean {mean}");
        // Var of d² for this triangle is E[d⁴] − (1/6)² = 1/15 − 1/36 = 0.039; its standard
        // error over n samples is 2e-4: allow 5 of them.
        assert!(
            (var - 1.0 / 6.0).abs() < 1e-3,
            "seed {seed:#x}: variance {var}"
        );
        for (i, &count) in hist.iter().enumerate() {
            // Probability of bin [a, b) under the density 1 − |d| on (−1, 1).
            let cdf = |x: f64| {
                if x < 0.0 {
                    (1.0 + x) * (1.0 + x) / 2.0
                } else {
                    1.0 - (1.0 - x) * (1.0 - x) / 2.0
                }
            };
            let a = -1.0 + 2.0 * i as f64 / bins as f64;
            let b = a + 2.0 / bins as f64;
            let expected = (cdf(b) - cdf(a)) * n as f64;
            // Counts are binomial: allow 5 standard deviations.
            let tolerance = 5.0 * expected.sqrt();
            assert!(
                (count as f64 - expected).abs() < tolerance,
                "seed {seed:#x}: bin {i} has {count}, expected {expected:.0}"
            );
        }
    }

    #[test]
    fn total_error_is_signal_independent_with_variance_one_quarter_lsb() {
        let seed = 0x9e37_79b9;
        let mut rng = XorShift(seed);
        let n = 400_000;
        // Random values off the grid, at a low level where the error must not depend on them.
        let x: Vec<f32> = (0..n)
            .map(|_| (rng.next_f32() as f64 * 1e-3) as f32)
            .collect();
        let params = DitherParams {
            bits: 16,
            noise_shaping: false,
            seed,
        };
        let mut d = Dither::new(48_000.0, 1, params).unwrap();
        let y = run(&mut d, std::slice::from_ref(&x), 4096);
        let lsb = 1.0 / 32768.0;
        let (mut sum, mut sum2) = (0.0, 0.0);
        for (&a, &b) in x.iter().zip(&y[0]) {
            let e = (b as f64 - a as f64) / lsb;
            sum += e;
            sum2 += e * e;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        // 1/6 (dither) + 1/12 (rounding) = 1/4 LSB². Standard error of the mean: sqrt(0.25/n)
        // = 7.9e-4; of the variance about 0.25·sqrt(2/n) = 5.6e-4 (near-Gaussian): 5σ each.
        assert!(mean.abs() < 4e-3, "seed {seed:#x}: mean error {mean} LSB");
        assert!(
            (var - 0.25).abs() < 3e-3,
            "seed {seed:#x}: error variance {var} LSB²"
        );
    }

    #[test]
    fn outputs_lie_on_the_grid_and_clamp_to_the_integer_range() {
        let seed = 77;
        let mut rng = XorShift(seed);
        for bits in [8u32, 16, 24] {
            for shaping in [false, true] {
                let x: Vec<f32> = (0..20_000)
                    .map(|_| (rng.next_f32() as f64 * 1.2) as f32)
                    .collect();
                let params = DitherParams {
                    bits,
                    noise_shaping: shaping,
                    seed,
                };
                let mut d = Dither::new(44_100.0, 1, params).unwrap();
                let y = run(&mut d, &[x], 64);
                let scale = (1u64 << (bits - 1)) as f64;
                for &v in &y[0] {
                    let k = v as f64 * scale;
                    assert_eq!(k, k.round(), "seed {seed}: {v} is off the {bits}-bit grid");
                    assert!(
                        k >= -scale && k <= scale - 1.0,
                        "{v} outside the {bits}-bit range"
                    );
                }
            }
        }
    }

    /// Amplitude of the component at `freq` Hz, by correlation over whole cycles.
    fn tone_amplitude(y: &[f32], freq: f64, fs: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in y.iter().enumerate() {
            let ph = 2.0 * PI * freq * n as f64 / fs;
            re += v as f64 * ph.cos();
            im += v as f64 * ph.sin();
        }
        2.0 * (re * re + im * im).sqrt() / y.len() as f64
    }

    #[test]
    fn a_sine_at_minus_100_dbfs_survives_as_a_tone_in_16_bits() {
        let fs = 48_000.0;
        let amp = 1e-5; // −100 dBFS, a third of a 16-bit LSB.
        let freq = 750.0; // 64 samples per cycle: the correlation spans whole cycles.
        let n = 1 << 16;
        let x: Vec<f32> = (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / fs).sin()) as f32)
            .collect();
        for shaping in [false, true] {
            let seed = 5;
            let params = DitherParams {
                bits: 16,
                noise_shaping: shaping,
                seed,
            };
            let mut d = Dither::new(fs, 1, params).unwrap();
            let y = run(&mut d, std::slice::from_ref(&x), 4096);
            let a = tone_amplitude(&y[0], freq, fs);
            // Noise of 1/4 LSB² (white) or less at 750 Hz (shaped) spreads over n/2 bins: the
            // amplitude estimate's standard deviation is below sqrt(2·0.25/n) LSB ≈ 0.003 LSB,
            // 1 % of the tone. 5 % allows for the shaped noise's higher total power.
            assert!(
                (a / amp - 1.0).abs() < 0.05,
                "seed {seed}: shaping {shaping}: tone amplitude {a:e}, expected {amp:e}"
            );
        }
        // Plain rounding would have turned the whole tone into digital silence.
        assert!(x.iter().all(|&v| (v as f64 * 32768.0).round() == 0.0));
    }

    const SEGMENT: usize = 512;

    /// DFT bins (of SEGMENT samples) whose frequency lies in [f_lo, f_hi).
    fn bins(fs: f64, f_lo: f64, f_hi: f64) -> impl Iterator<Item = usize> {
        (1..SEGMENT / 2).filter(move |&k| {
            let f = k as f64 * fs / SEGMENT as f64;
            f >= f_lo && f < f_hi
        })
    }

    /// Power of `e` in [f_lo, f_hi) Hz per segment, from naive DFTs of Hann-windowed segments.
    fn band_power(e: &[f64], fs: f64, f_lo: f64, f_hi: f64) -> f64 {
        let len = SEGMENT;
        let mut total = 0.0;
        let mut count = 0;
        for seg in e.chunks_exact(len) {
            count += 1;
            for k in bins(fs, f_lo, f_hi) {
                let (mut re, mut im) = (0.0, 0.0);
                for (n, &v) in seg.iter().enumerate() {
                    let w = 0.5 - 0.5 * (2.0 * PI * n as f64 / len as f64).cos();
                    let ph = 2.0 * PI * (k * n) as f64 / len as f64;
                    re += w * v * ph.cos();
                    im -= w * v * ph.sin();
                }
                total += re * re + im * im;
            }
        }
        total / count as f64
    }

    #[test]
    fn noise_shaping_moves_noise_above_10_khz_as_designed() {
        let fs = 44_100.0;
        let seed = 11;
        let mut rng = XorShift(seed);
        let n = 512 * 48;
        let x: Vec<f32> = (0..n)
            .map(|_| (rng.next_f32() as f64 * 0.01) as f32)
            .collect();
        let mut errors = Vec::new();
        for shaping in [false, true] {
            let params = DitherParams {
                bits: 16,
                noise_shaping: shaping,
                seed,
            };
            let mut d = Dither::new(fs, 1, params).unwrap();
            let y = run(&mut d, std::slice::from_ref(&x), 777);
            let e: Vec<f64> = x
                .iter()
                .zip(&y[0])
                .map(|(&a, &b)| (b as f64 - a as f64) * 32768.0)
                .collect();
            errors.push(e);
        }
        let low = |e: &[f64]| band_power(e, fs, 0.0, 10_000.0);
        let high = |e: &[f64]| band_power(e, fs, 10_000.0, fs / 2.0);
        let flat_fraction = high(&errors[0]) / (high(&errors[0]) + low(&errors[0]));
        let shaped_fraction = high(&errors[1]) / (high(&errors[1]) + low(&errors[1]));
        // Flat noise puts bandwidth-proportional power above 10 kHz (12.05/22.05 = 0.55); the
        // shelf puts nearly all of it there. Averaging 48 segments keeps the estimates within
        // a few per cent.
        assert!(
            (flat_fraction - 0.55).abs() < 0.05,
            "seed {seed}: flat {flat_fraction}"
        );
        assert!(
            shaped_fraction > 0.95,
            "seed {seed}: shaped {shaped_fraction}"
        );
        // Measured against the design: below 5 kHz the noise is the white 1/4 LSB² times
        // |NTF|² (−13 dB). Segment averaging leaves about ±0.5 dB of estimation noise.
        let f = NoiseShapingFilter::shelf(fs);
        let low_bins: Vec<usize> = bins(fs, 0.0, 5_000.0).collect();
        let predicted: f64 = low_bins
            .iter()
            .map(|&k| f.magnitude(k as f64 * fs / SEGMENT as f64, fs).powi(2))
            .sum::<f64>()
            / low_bins.len() as f64;
        let measured =
            band_power(&errors[1], fs, 0.0, 5_000.0) / band_power(&errors[0], fs, 0.0, 5_000.0);
        let diff_db = 10.0 * (measured / predicted).log10();
        assert!(
            diff_db.abs() < 1.0,
            "seed {seed}: low band off the design by {diff_db} dB"
        );
    }

    #[test]
    fn shelf_design_has_the_documented_curve() {
        let fs = 44_100.0;
        let f = NoiseShapingFilter::shelf(fs);
        let db = |hz: f64| 20.0 * f.magnitude(hz, fs).log10();
        // Values quoted in the module documentation, to 0.5 dB.
        for (hz, expected) in [(1000.0, -13.3), (10_000.0, -4.6), (15_000.0, 7.3)] {
            assert!((db(hz) - expected).abs() < 0.5, "{hz} Hz: {} dB", db(hz));
        }
        // Gerzon–Craven: the mean of ln|NTF| over frequency is 0 for a monic minimum-phase NTF.
        let m = 20_000;
        let mean_log: f64 = (0..m)
            .map(|k| f.magnitude((k as f64 + 0.5) * fs / 2.0 / m as f64, fs).ln())
            .sum::<f64>()
            / m as f64;
        assert!(mean_log.abs() < 1e-3, "mean ln|NTF| = {mean_log}");
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let seed = 3;
        let mut rng = XorShift(seed);
        let x: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..10_000)
                    .map(|_| (rng.next_f32() as f64 * 0.5) as f32)
                    .collect()
            })
            .collect();
        let params = DitherParams {
            bits: 16,
            noise_shaping: true,
            seed,
        };
        let reference = run(&mut Dither::new(96_000.0, 2, params).unwrap(), &x, 10_000);
        for block in BLOCK_SIZES {
            let y = run(&mut Dither::new(96_000.0, 2, params).unwrap(), &x, block);
            assert_bit_identical(&format!("seed {seed}: block {block}"), &y, &reference);
        }
        // reset() restarts the same sequence.
        let mut d = Dither::new(96_000.0, 2, params).unwrap();
        run(&mut d, &x, 64);
        d.reset();
        assert_eq!(run(&mut d, &x, 64), reference);
    }

    #[test]
    fn rejects_bad_word_lengths() {
        let params = DitherParams {
            bits: 32,
            ..DitherParams::default()
        };
        match Dither::new(48_000.0, 2, params) {
            Err(DspError::Parameter { name: "bits", .. }) => {}
            other => panic!("expected a bits error, got {other:?}"),
        }
    }
}
