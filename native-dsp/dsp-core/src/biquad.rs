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
