//! Second-order IIR sections: coefficients designed for the actual sample rate (RBJ audio-EQ
//! cookbook and bilinear transforms of analog prototypes), kept apart from the per-channel state,
//! which is f64 (transposed direct form II) so long filters at low frequencies stay exact.

use std::f64::consts::PI;

/// Normalised biquad coefficients (a0 = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiquadCoefs {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl BiquadCoefs {
    pub const IDENTITY: BiquadCoefs = BiquadCoefs {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    fn normalised(b0: f64, b1: f64, b2: f64, a0: f64, a1: f64, a2: f64) -> Self {
        BiquadCoefs {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: a1 / a0,
            a2: a2 / a0,
        }
    }

    /// High shelf from an analog prototype with gain `gain_db` (`vh = 10^(g/20)`), pre-warped at
    /// `f0`; `vb` is the mid-band gain of the prototype. This is the parameterisation that
    /// reproduces BS.1770's stage-1 "pre-filter" at any sample rate.
    pub fn analog_high_shelf(fs: f64, f0: f64, q: f64, gain_db: f64, vb_exponent: f64) -> Self {
        let k = (PI * f0 / fs).tan();
        let vh = 10f64.powf(gain_db / 20.0);
        let vb = vh.powf(vb_exponent);
        let a0 = 1.0 + k / q + k * k;
        BiquadCoefs::normalised(
            vh + vb * k / q + k * k,
            2.0 * (k * k - vh),
            vh - vb * k / q + k * k,
            a0,
            2.0 * (k * k - 1.0),
            1.0 - k / q + k * k,
        )
    }

    /// Second-order high-pass by the bilinear transform, pre-warped at `f0`, with the numerator
    /// left unnormalised (gain 1 at Nyquist), as BS.1770's "RLB" stage is specified.
    pub fn analog_high_pass(fs: f64, f0: f64, q: f64) -> Self {
        let k = (PI * f0 / fs).tan();
        let a0 = 1.0 + k / q + k * k;
        BiquadCoefs {
            b0: 1.0,
            b1: -2.0,
            b2: 1.0,
            a1: 2.0 * (k * k - 1.0) / a0,
            a2: (1.0 - k / q + k * k) / a0,
        }
    }

    /// Complex response at `freq` Hz for sample rate `fs`, as (magnitude, phase in radians).
    pub fn response(&self, freq: f64, fs: f64) -> (f64, f64) {
        let w = 2.0 * PI * freq / fs;
        // z^-1 = e^{-jw}
        let (c1, s1) = (w.cos(), -w.sin());
        let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num_re = self.b0 + self.b1 * c1 + self.b2 * c2;
        let num_im = self.b1 * s1 + self.b2 * s2;
        let den_re = 1.0 + self.a1 * c1 + self.a2 * c2;
        let den_im = self.a1 * s1 + self.a2 * s2;
        let den = den_re * den_re + den_im * den_im;
        let re = (num_re * den_re + num_im * den_im) / den;
        let im = (num_im * den_re - num_re * den_im) / den;
        ((re * re + im * im).sqrt(), im.atan2(re))
    }

    /// Magnitude response in dB at `freq`.
    pub fn response_db(&self, freq: f64, fs: f64) -> f64 {
        20.0 * self.response(freq, fs).0.log10()
    }
}

/// Designs from Robert Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter
/// coefficients" (the RBJ Audio EQ Cookbook): each is the bilinear transform of a second-order
/// analog prototype, pre-warped so that `f0` lands exactly where it was asked for at any sample
/// rate. `q` is the prototype's quality factor; `gain_db` is the boost (+) or cut (−).
impl BiquadCoefs {
    /// Bell: `gain_db` exactly at `f0`, 0 dB far from it; the cookbook's "constant Q" form,
    /// whose cut is the exact inverse of the boost with the same `q`.
    pub fn peaking(fs: f64, f0: f64, q: f64, gain_db: f64) -> Self {
        let (cos_w0, alpha) = cookbook_w0(fs, f0, q);
        let a = 10f64.powf(gain_db / 40.0);
        BiquadCoefs::normalised(
            1.0 + alpha * a,
            -2.0 * cos_w0,
            1.0 - alpha * a,
            1.0 + alpha / a,
            -2.0 * cos_w0,
            1.0 - alpha / a,
        )
    }

    /// Low shelf: `gain_db` at DC, 0 dB at Nyquist, half the gain (in dB) at `f0`.
    /// `q` = 1/√2 is the steepest shelf without overshoot (the cookbook's slope S = 1); see
    /// [`BiquadCoefs::shelf_q_from_slope`].
    pub fn low_shelf(fs: f64, f0: f64, q: f64, gain_db: f64) -> Self {
        let (cos_w0, alpha) = cookbook_w0(fs, f0, q);
        let a = 10f64.powf(gain_db / 40.0);
        let k = 2.0 * a.sqrt() * alpha;
        BiquadCoefs::normalised(
            a * ((a + 1.0) - (a - 1.0) * cos_w0 + k),
            2.0 * a * ((a - 1.0) - (a + 1.0) * cos_w0),
            a * ((a + 1.0) - (a - 1.0) * cos_w0 - k),
            (a + 1.0) + (a - 1.0) * cos_w0 + k,
            -2.0 * ((a - 1.0) + (a + 1.0) * cos_w0),
            (a + 1.0) + (a - 1.0) * cos_w0 - k,
        )
    }

    /// High shelf: `gain_db` at Nyquist, 0 dB at DC, half the gain (in dB) at `f0`.
    pub fn high_shelf(fs: f64, f0: f64, q: f64, gain_db: f64) -> Self {
        let (cos_w0, alpha) = cookbook_w0(fs, f0, q);
        let a = 10f64.powf(gain_db / 40.0);
        let k = 2.0 * a.sqrt() * alpha;
        BiquadCoefs::normalised(
            a * ((a + 1.0) + (a - 1.0) * cos_w0 + k),
            -2.0 * a * ((a - 1.0) + (a + 1.0) * cos_w0),
            a * ((a + 1.0) + (a - 1.0) * cos_w0 - k),
            (a + 1.0) - (a - 1.0) * cos_w0 + k,
            2.0 * ((a - 1.0) - (a + 1.0) * cos_w0),
            (a + 1.0) - (a - 1.0) * cos_w0 - k,
        )
    }

    /// The cookbook's shelf slope S (1 = steepest without overshoot) as the Q the shelf
    /// constructors take: 1/Q = √((A + 1/A)(1/S − 1) + 2).
    pub fn shelf_q_from_slope(slope: f64, gain_db: f64) -> f64 {
        let a = 10f64.powf(gain_db / 40.0);
        1.0 / ((a + 1.0 / a) * (1.0 / slope - 1.0) + 2.0).sqrt()
    }

    /// Second-order low-pass; `q` = 1/√2 is Butterworth (−3 dB at `f0`).
    pub fn low_pass(fs: f64, f0: f64, q: f64) -> Self {
        let (cos_w0, alpha) = cookbook_w0(fs, f0, q);
        BiquadCoefs::normalised(
            (1.0 - cos_w0) / 2.0,
            1.0 - cos_w0,
            (1.0 - cos_w0) / 2.0,
            1.0 + alpha,
            -2.0 * cos_w0,
            1.0 - alpha,
        )
    }

    /// Second-order high-pass; `q` = 1/√2 is Butterworth (−3 dB at `f0`).
    pub fn high_pass(fs: f64, f0: f64, q: f64) -> Self {
        let (cos_w0, alpha) = cookbook_w0(fs, f0, q);
        BiquadCoefs::normalised(
            (1.0 + cos_w0) / 2.0,
            -(1.0 + cos_w0),
            (1.0 + cos_w0) / 2.0,
            1.0 + alpha,
            -2.0 * cos_w0,
            1.0 - alpha,
        )
    }

    /// Second-order all-pass: unit magnitude everywhere, phase −180° at `f0`. With `q` = 1/√2 it
    /// is the sum of a fourth-order Linkwitz–Riley low-pass and high-pass at the same `f0`,
    /// which is what compensates the other bands of a crossover.
    pub fn all_pass(fs: f64, f0: f64, q: f64) -> Self {
        let (cos_w0, alpha) = cookbook_w0(fs, f0, q);
        BiquadCoefs::normalised(
            1.0 - alpha,
            -2.0 * cos_w0,
            1.0 + alpha,
            1.0 + alpha,
            -2.0 * cos_w0,
            1.0 - alpha,
        )
    }

    /// First-order low-pass (bilinear, pre-warped: −3 dB at `f0`), as a section with b2 = a2 = 0.
    pub fn first_order_low_pass(fs: f64, f0: f64) -> Self {
        let k = (PI * f0 / fs).tan();
        BiquadCoefs::normalised(k, k, 0.0, k + 1.0, k - 1.0, 0.0)
    }

    /// First-order high-pass (bilinear, pre-warped: −3 dB at `f0`), as a section with b2 = a2 = 0.
    pub fn first_order_high_pass(fs: f64, f0: f64) -> Self {
        let k = (PI * f0 / fs).tan();
        BiquadCoefs::normalised(1.0, -1.0, 0.0, k + 1.0, k - 1.0, 0.0)
    }
}

/// cos(w0) and the cookbook's alpha = sin(w0) / 2Q for a centre frequency `f0`.
fn cookbook_w0(fs: f64, f0: f64, q: f64) -> (f64, f64) {
    let w0 = 2.0 * PI * f0 / fs;
    (w0.cos(), w0.sin() / (2.0 * q))
}

/// Q of second-order section `section` (0-based) of an `order`-th order Butterworth filter. The
/// poles are spaced π/N apart on the unit circle, symmetric about the negative real axis: pairs
/// at ±(2k + 1)π/2N from it for even N, and a real pole with pairs at ±(k + 1)π/N for odd N. A
/// pair at angle θ has Q = 1 / (2 cos θ); the real pole of an odd order is a first-order section.
pub fn butterworth_q(order: usize, section: usize) -> f64 {
    let theta = (2 * section + 1 + order % 2) as f64 * PI / (2 * order) as f64;
    1.0 / (2.0 * theta.cos())
}

/// Butterworth high-pass of any order ≥ 1 as cascaded sections, −3 dB at `f0` (the sections share
/// the pre-warping frequency, so the cascade is the exact bilinear transform of the analog
/// Butterworth filter). Roll-off: 6·order dB per octave.
pub fn butterworth_high_pass(fs: f64, f0: f64, order: usize) -> Vec<BiquadCoefs> {
    let mut sections: Vec<BiquadCoefs> = (0..order / 2)
        .map(|k| BiquadCoefs::high_pass(fs, f0, butterworth_q(order, k)))
        .collect();
    if order % 2 == 1 {
        sections.push(BiquadCoefs::first_order_high_pass(fs, f0));
    }
    sections
}

/// Butterworth low-pass of any order ≥ 1 as cascaded sections, −3 dB at `f0`.
pub fn butterworth_low_pass(fs: f64, f0: f64, order: usize) -> Vec<BiquadCoefs> {
    let mut sections: Vec<BiquadCoefs> = (0..order / 2)
        .map(|k| BiquadCoefs::low_pass(fs, f0, butterworth_q(order, k)))
        .collect();
    if order % 2 == 1 {
        sections.push(BiquadCoefs::first_order_low_pass(fs, f0));
    }
    sections
}

/// Fourth-order Linkwitz–Riley low-pass (two identical second-order Butterworth sections):
/// −6 dB at `f0`, and in phase with [`linkwitz_riley4_high_pass`] at every frequency, so the two
/// sum to [`BiquadCoefs::all_pass`] at `f0` with Q = 1/√2 (flat magnitude).
pub fn linkwitz_riley4_low_pass(fs: f64, f0: f64) -> [BiquadCoefs; 2] {
    [BiquadCoefs::low_pass(fs, f0, std::f64::consts::FRAC_1_SQRT_2); 2]
}

/// Fourth-order Linkwitz–Riley high-pass; see [`linkwitz_riley4_low_pass`].
pub fn linkwitz_riley4_high_pass(fs: f64, f0: f64) -> [BiquadCoefs; 2] {
    [BiquadCoefs::high_pass(fs, f0, std::f64::consts::FRAC_1_SQRT_2); 2]
}

/// Response of sections in cascade at `freq`, as (magnitude, phase in radians, unwrapped only
/// as far as the sum of the sections' phases).
pub fn cascade_response(sections: &[BiquadCoefs], freq: f64, fs: f64) -> (f64, f64) {
    sections.iter().fold((1.0, 0.0), |(m, p), c| {
        let (mc, pc) = c.response(freq, fs);
        (m * mc, p + pc)
    })
}

/// Per-channel state of one section (transposed direct form II, f64).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BiquadState {
    pub s1: f64,
    pub s2: f64,
}

impl BiquadState {
    #[inline(always)]
    pub fn tick(&mut self, c: &BiquadCoefs, x: f64) -> f64 {
        let y = c.b0 * x + self.s1;
        self.s1 = c.b1 * x - c.a1 * y + self.s2;
        self.s2 = c.b2 * x - c.a2 * y;
        y
    }

    /// Flushes state that has decayed into the denormal range, where x86 arithmetic is slow.
    #[inline]
    pub fn flush_denormals(&mut self) {
        const TINY: f64 = 1e-30;
        if self.s1.abs() < TINY {
            self.s1 = 0.0;
        }
        if self.s2.abs() < TINY {
            self.s2 = 0.0;
        }
    }

    pub fn reset(&mut self) {
        *self = BiquadState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_1_SQRT_2;

    fn complex(c: &[BiquadCoefs], f: f64, fs: f64) -> (f64, f64) {
        let (m, p) = cascade_response(c, f, fs);
        (m * p.cos(), m * p.sin())
    }

    #[test]
    fn bilinear_butterworth_of_any_order_has_its_analytic_magnitude() {
        // The bilinear transform maps analog ω to tan(πf/fs), so a Butterworth pre-warped at f0
        // has |H|² = 1 / (1 + r^(2N)) (low-pass) or r^(2N) / (1 + r^(2N)) (high-pass) with
        // r = tan(πf/fs) / tan(πf0/fs), exactly.
        for fs in [8_000.0, 44_100.0, 384_000.0] {
            let f0 = 0.05 * fs;
            for order in 1..=8 {
                let lp = butterworth_low_pass(fs, f0, order);
                let hp = butterworth_high_pass(fs, f0, order);
                assert_eq!(lp.len(), order.div_ceil(2));
                for k in 1..40 {
                    let f = 0.49 * fs * k as f64 / 40.0;
                    let r = (PI * f / fs).tan() / (PI * f0 / fs).tan();
                    let r2n = r.powi(2 * order as i32);
                    let want_lp = -10.0 * (1.0 + r2n).log10();
                    let want_hp = 10.0 * (r2n / (1.0 + r2n)).log10();
                    let got_lp = 20.0 * cascade_response(&lp, f, fs).0.log10();
                    let got_hp = 20.0 * cascade_response(&hp, f, fs).0.log10();
                    // f64 rounding, relative to how far down the response is.
                    let tol = 1e-9 * (1.0 + want_lp.abs().max(want_hp.abs()));
                    assert!((got_lp - want_lp).abs() < tol, "lp {fs} {order} {f}");
                    assert!((got_hp - want_hp).abs() < tol, "hp {fs} {order} {f}");
                }
            }
        }
    }

    #[test]
    fn linkwitz_riley_bands_sum_to_the_all_pass() {
        for fs in [8_000.0, 48_000.0, 384_000.0] {
            for f0 in [60.0, 1_000.0, 0.3 * fs] {
                let lp = linkwitz_riley4_low_pass(fs, f0);
                let hp = linkwitz_riley4_high_pass(fs, f0);
                let ap = [BiquadCoefs::all_pass(fs, f0, FRAC_1_SQRT_2)];
                for k in 0..200 {
                    let f = 0.499 * fs * k as f64 / 199.0;
                    let (lr, li) = complex(&lp, f, fs);
                    let (hr, hi) = complex(&hp, f, fs);
                    let (ar, ai) = complex(&ap, f, fs);
                    // An identity of the analog prototypes that the bilinear transform keeps;
                    // what is left is f64 rounding.
                    assert!((lr + hr - ar).abs() < 1e-9 && (li + hi - ai).abs() < 1e-9);
                    assert!(((ar * ar + ai * ai).sqrt() - 1.0).abs() < 1e-12);
                    // In phase: the magnitudes add up to one.
                    let sum = cascade_response(&lp, f, fs).0 + cascade_response(&hp, f, fs).0;
                    assert!((sum - 1.0).abs() < 1e-9, "{fs} {f0} {f}");
                }
                // −6 dB each at the crossover. For 60 Hz at 384 kHz, 1 + a1 + a2 is 1e-6, and
                // its cancellation costs ~2e-9 dB of the 1e-6 allowed.
                let at = 20.0 * cascade_response(&lp, f0, fs).0.log10();
                assert!((at + 20.0 * 2f64.log10()).abs() < 1e-6, "{fs} {f0}: {at}");
            }
        }
    }
}
