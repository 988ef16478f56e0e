//! The mastering chain's parametric EQ: input gain, a subsonic high-pass (Butterworth, 12 or
//! 24 dB/oct), a low shelf, four bells, a high shelf and an optional low-pass, in that order.
//! Every band is a second-order section from the RBJ Audio EQ Cookbook (see
//! [`crate::biquad`]), designed for the actual sample rate; the curve the UI draws
//! ([`ParametricEq::response_db`]) is computed from the very coefficients that filter the audio.
//!
//! Sections run in f64 (transposed direct form II). Parameter changes take effect at the next
//! block without smoothing. The filters keep running while the stage is bypassed (the output is
//! then the input, bit for bit), so switching the bypass off never starts from stale state.

use crate::biquad::{butterworth_q, BiquadCoefs, BiquadState};
use crate::error::{check_format, check_planes, DspError};
use crate::processor::{check_frequency, check_output, check_range, copy_planes, FlushClock};
use std::f64::consts::FRAC_1_SQRT_2;

/// Number of bell bands.
pub const PEAK_BANDS: usize = 4;
/// Largest boost or cut of any band, and of the input gain.
pub const MAX_GAIN_DB: f64 = 24.0;
pub const MIN_Q: f64 = 0.1;
pub const MAX_Q: f64 = 30.0;
/// The floor of [`ParametricEq::response_db`], so that the curve stays finite (JSON has no −∞)
/// where a high-pass has an exact zero at DC.
pub const RESPONSE_FLOOR_DB: f64 = -200.0;

/// High-pass or low-pass band: Butterworth of order 2 (12 dB/oct) or 4 (24 dB/oct), −3 dB at
/// `freq_hz`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassBand {
    pub enabled: bool,
    pub freq_hz: f64,
    pub order: u32,
}

/// Shelf or bell band. For shelves `gain_db` is reached at DC (low) or Nyquist (high) and half of
/// it at `freq_hz`; `q` = 1/√2 is the steepest shelf without overshoot. For bells `gain_db` is
/// reached at `freq_hz` and `q` sets the width (the cookbook measures bandwidth between the points
/// at half the gain in dB; f0 over that bandwidth is about `q`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainBand {
    pub enabled: bool,
    pub freq_hz: f64,
    pub q: f64,
    pub gain_db: f64,
}

/// Everything the EQ does, in engineering units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EqParams {
    /// Output is the input, bit for bit.
    pub bypass: bool,
    pub input_gain_db: f64,
    pub high_pass: PassBand,
    pub low_shelf: GainBand,
    pub peaks: [GainBand; PEAK_BANDS],
    pub high_shelf: GainBand,
    pub low_pass: PassBand,
}

impl Default for EqParams {
    /// Flat: every band disabled, at musically typical positions.
    fn default() -> Self {
        let bell = |freq_hz| GainBand {
            enabled: false,
            freq_hz,
            q: 1.0,
            gain_db: 0.0,
        };
        EqParams {
            bypass: false,
            input_gain_db: 0.0,
            high_pass: PassBand {
                enabled: false,
                freq_hz: 20.0,
                order: 4,
            },
            low_shelf: GainBand {
                q: FRAC_1_SQRT_2,
                ..bell(100.0)
            },
            peaks: [bell(200.0), bell(800.0), bell(2500.0), bell(6000.0)],
            high_shelf: GainBand {
                q: FRAC_1_SQRT_2,
                ..bell(10_000.0)
            },
            low_pass: PassBand {
                enabled: false,
                freq_hz: 20_000.0,
                order: 2,
            },
        }
    }
}

/// Section slots in processing order; a slot keeps its place (and its state) whether or not its
/// band is enabled.
const HIGH_PASS_SLOTS: usize = 0; // two slots: a 4th-order Butterworth is two sections
const LOW_SHELF_SLOT: usize = 2;
const PEAK_SLOTS: usize = 3; // PEAK_BANDS slots
const HIGH_SHELF_SLOT: usize = PEAK_SLOTS + PEAK_BANDS;
const LOW_PASS_SLOTS: usize = HIGH_SHELF_SLOT + 1; // two slots
const SLOTS: usize = LOW_PASS_SLOTS + 2;

/// Field names for errors, per bell.
const PEAK_NAMES: [[&str; 3]; PEAK_BANDS] = [
    ["peaks[0].freq_hz", "peaks[0].q", "peaks[0].gain_db"],
    ["peaks[1].freq_hz", "peaks[1].q", "peaks[1].gain_db"],
    ["peaks[2].freq_hz", "peaks[2].q", "peaks[2].gain_db"],
    ["peaks[3].freq_hz", "peaks[3].q", "peaks[3].gain_db"],
];

/// Streaming parametric EQ.
#[derive(Debug, Clone)]
pub struct ParametricEq {
    sample_rate: f64,
    params: EqParams,
    gain: f64,
    coefs: [BiquadCoefs; SLOTS],
    /// Indices of the enabled slots, in order; `active_len` of them are valid.
    active: [usize; SLOTS],
    active_len: usize,
    /// Per channel, per slot.
    states: Vec<[BiquadState; SLOTS]>,
    clock: FlushClock,
}

impl ParametricEq {
    pub fn new(sample_rate: f64, channels: usize, params: EqParams) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        let mut eq = ParametricEq {
            sample_rate,
            params,
            gain: 1.0,
            coefs: [BiquadCoefs::IDENTITY; SLOTS],
            active: [0; SLOTS],
            active_len: 0,
            states: vec![[BiquadState::default(); SLOTS]; channels],
            clock: FlushClock::default(),
        };
        eq.set_params(params)?;
        Ok(eq)
    }

    /// Validates and applies new settings. On error nothing changes.
    pub fn set_params(&mut self, params: EqParams) -> Result<(), DspError> {
        let fs = self.sample_rate;
        check_range(
            "input_gain_db",
            params.input_gain_db,
            -MAX_GAIN_DB,
            MAX_GAIN_DB,
            " dB",
        )?;
        // Only enabled bands are checked: a disabled one may hold a frequency this sample rate
        // cannot have (a preset made at 96 kHz, opened at 44.1 kHz).
        check_pass(
            ["high_pass.freq_hz", "high_pass.order"],
            &params.high_pass,
            fs,
        )?;
        check_gain_band(
            ["low_shelf.freq_hz", "low_shelf.q", "low_shelf.gain_db"],
            &params.low_shelf,
            fs,
        )?;
        for (band, names) in params.peaks.iter().zip(PEAK_NAMES) {
            check_gain_band(names, band, fs)?;
        }
        check_gain_band(
            ["high_shelf.freq_hz", "high_shelf.q", "high_shelf.gain_db"],
            &params.high_shelf,
            fs,
        )?;
        check_pass(["low_pass.freq_hz", "low_pass.order"], &params.low_pass, fs)?;

        let mut coefs = [BiquadCoefs::IDENTITY; SLOTS];
        let mut enabled = [false; SLOTS];
        let hp = &params.high_pass;
        if hp.enabled {
            let order = hp.order as usize;
            for k in 0..order / 2 {
                coefs[HIGH_PASS_SLOTS + k] =
                    BiquadCoefs::high_pass(fs, hp.freq_hz, butterworth_q(order, k));
                enabled[HIGH_PASS_SLOTS + k] = true;
            }
        }
        let ls = &params.low_shelf;
        if ls.enabled {
            coefs[LOW_SHELF_SLOT] = BiquadCoefs::low_shelf(fs, ls.freq_hz, ls.q, ls.gain_db);
            enabled[LOW_SHELF_SLOT] = true;
        }
        for (k, pk) in params.peaks.iter().enumerate() {
            if pk.enabled {
                coefs[PEAK_SLOTS + k] = BiquadCoefs::peaking(fs, pk.freq_hz, pk.q, pk.gain_db);
                enabled[PEAK_SLOTS + k] = true;
            }
        }
        let hs = &params.high_shelf;
        if hs.enabled {
            coefs[HIGH_SHELF_SLOT] = BiquadCoefs::high_shelf(fs, hs.freq_hz, hs.q, hs.gain_db);
            enabled[HIGH_SHELF_SLOT] = true;
        }
        let lp = &params.low_pass;
        if lp.enabled {
            let order = lp.order as usize;
            for k in 0..order / 2 {
                coefs[LOW_PASS_SLOTS + k] =
                    BiquadCoefs::low_pass(fs, lp.freq_hz, butterworth_q(order, k));
                enabled[LOW_PASS_SLOTS + k] = true;
            }
        }

        // A section that was idle holds state from long ago; it starts from silence instead.
        let was_enabled = self.enabled_slots();
        for slot in 0..SLOTS {
            if enabled[slot] && !was_enabled[slot] {
                for state in &mut self.states {
                    state[slot].reset();
                }
            }
        }
        self.active_len = 0;
        for (slot, _) in enabled.iter().enumerate().filter(|(_, &on)| on) {
            self.active[self.active_len] = slot;
            self.active_len += 1;
        }
        self.coefs = coefs;
        self.gain = 10f64.powf(params.input_gain_db / 20.0);
        self.params = params;
        Ok(())
    }

    fn enabled_slots(&self) -> [bool; SLOTS] {
        let mut enabled = [false; SLOTS];
        for &slot in &self.active[..self.active_len] {
            enabled[slot] = true;
        }
        enabled
    }

    pub fn params(&self) -> &EqParams {
        &self.params
    }

    pub fn reset(&mut self) {
        for state in &mut self.states {
            *state = [BiquadState::default(); SLOTS];
        }
        self.clock.reset();
    }

    /// IIR sections add no delay (their phase shift is the sound of the EQ).
    pub fn latency_frames(&self) -> usize {
        0
    }

    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.states.len())?;
        check_output(output, self.states.len(), frames)?;
        let active = &self.active[..self.active_len];
        let mut pos = 0;
        while pos < frames {
            let n = self.clock.span(frames - pos);
            for ((inp, out), state) in input.iter().zip(output.iter_mut()).zip(&mut self.states) {
                let inp = &inp[pos..pos + n];
                let out = &mut out[pos..pos + n];
                let mut s = *state;
                for (o, &x) in out.iter_mut().zip(inp) {
                    let mut y = x as f64 * self.gain;
                    for &slot in active {
                        y = s[slot].tick(&self.coefs[slot], y);
                    }
                    *o = y as f32;
                }
                *state = s;
            }
            if self.clock.advance(n) {
                for state in &mut self.states {
                    for section in state.iter_mut() {
                        section.flush_denormals();
                    }
                }
            }
            pos += n;
        }
        if self.params.bypass {
            copy_planes(input, output);
        }
        Ok(())
    }

    /// Magnitude response in dB at each of `freqs` (Hz) of what `process` does now: 0 dB when
    /// bypassed. Floored at [`RESPONSE_FLOOR_DB`].
    pub fn response_db(&self, freqs: &[f64]) -> Vec<f64> {
        if self.params.bypass {
            return vec![0.0; freqs.len()];
        }
        self.curve_db(freqs)
    }

    /// The settings' curve in dB, whether or not the stage is bypassed (for drawing a bypassed
    /// EQ greyed out). Floored at [`RESPONSE_FLOOR_DB`].
    pub fn curve_db(&self, freqs: &[f64]) -> Vec<f64> {
        freqs
            .iter()
            .map(|&f| {
                let magnitude = self.active[..self.active_len]
                    .iter()
                    .fold(self.gain, |m, &slot| {
                        m * self.coefs[slot].response(f, self.sample_rate).0
                    });
                (20.0 * magnitude.log10()).max(RESPONSE_FLOOR_DB)
            })
            .collect()
    }
}

fn check_pass(names: [&'static str; 2], band: &PassBand, fs: f64) -> Result<(), DspError> {
    if !band.enabled {
        return Ok(());
    }
    let [freq_name, order_name] = names;
    check_frequency(freq_name, band.freq_hz, fs)?;
    if band.order != 2 && band.order != 4 {
        return Err(DspError::Parameter {
            name: order_name,
            message: format!(
                "{} is not a supported order: 2 (12 dB/oct) or 4 (24 dB/oct)",
                band.order
            ),
        });
    }
    Ok(())
}

fn check_gain_band(names: [&'static str; 3], band: &GainBand, fs: f64) -> Result<(), DspError> {
    if !band.enabled {
        return Ok(());
    }
    check_frequency(names[0], band.freq_hz, fs)?;
    check_range(names[1], band.q, MIN_Q, MAX_Q, "")?;
    check_range(names[2], band.gain_db, -MAX_GAIN_DB, MAX_GAIN_DB, " dB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::testing::*;

    type Breakage = Box<dyn Fn(&mut EqParams)>;

    const RATES: [f64; 3] = [44_100.0, 48_000.0, 96_000.0];

    /// Every kind of band on at once, with values that make each band visible in the curve.
    fn busy_params() -> EqParams {
        let mut p = EqParams {
            input_gain_db: -1.5,
            ..EqParams::default()
        };
        p.high_pass = PassBand {
            enabled: true,
            freq_hz: 30.0,
            order: 4,
        };
        p.low_shelf = GainBand {
            enabled: true,
            freq_hz: 120.0,
            q: FRAC_1_SQRT_2,
            gain_db: 3.0,
        };
        p.peaks = [
            GainBand {
                enabled: true,
                freq_hz: 250.0,
                q: 4.0,
                gain_db: -6.0,
            },
            GainBand {
                enabled: true,
                freq_hz: 1000.0,
                q: 0.7,
                gain_db: 2.5,
            },
            GainBand {
                enabled: true,
                freq_hz: 3500.0,
                q: 2.0,
                gain_db: -4.0,
            },
            GainBand {
                enabled: true,
                freq_hz: 9000.0,
                q: 1.0,
                gain_db: 5.0,
            },
        ];
        p.high_shelf = GainBand {
            enabled: true,
            freq_hz: 12_000.0,
            q: 0.9,
            gain_db: 2.0,
        };
        p.low_pass = PassBand {
            enabled: true,
            freq_hz: 19_000.0,
            order: 2,
        };
        p
    }

    /// Steady-state gain in dB of `eq` for a sine at `freq`, from least-squares fits of input and
    /// output after the filters have settled.
    fn measured_gain_db(eq: &mut ParametricEq, freq: f64) -> f64 {
        let fs = eq.sample_rate;
        // The slowest pole here (the 30 Hz 4th-order high-pass, Q 1.31) decays with a time
        // constant of 2Q / ω0 ≈ 14 ms; 0.4 s leaves its transient below 1e-12.
        let settle = (0.4 * fs) as usize;
        // At least two periods at the lowest frequency, so the fit is well conditioned.
        let window = ((2.0 * fs / freq) as usize).max(2048);
        let x = sine(freq, fs, 0.25, 0.3, settle + window);
        let mut y = vec![0f32; x.len()];
        eq.reset();
        eq.process(&[&x], &mut [&mut y]).unwrap();
        let (a_in, _) = fit_sine(&x[settle..], settle, freq, fs);
        let (a_out, _) = fit_sine(&y[settle..], settle, freq, fs);
        20.0 * (a_out / a_in).log10()
    }

    fn log_frequencies(lo: f64, hi: f64, count: usize) -> Vec<f64> {
        (0..count)
            .map(|i| lo * (hi / lo).powf(i as f64 / (count - 1) as f64))
            .collect()
    }

    #[test]
    fn measured_response_matches_the_cookbook_formulas() {
        for fs in RATES {
            let mut eq = ParametricEq::new(fs, 1, busy_params()).unwrap();
            let freqs = log_frequencies(20.0, 0.45 * fs, 48);
            let want = eq.response_db(&freqs);
            for (&f, &w) in freqs.iter().zip(&want) {
                let got = measured_gain_db(&mut eq, f);
                // 0.05 dB is the brief's tolerance. What remains is f32 rounding of input and
                // output (about 1e-6 dB at these levels, more only deep in the high-pass stopband
                // where the signal is 90 dB down) and the transient left after settling. The
                // largest error seen is 1e-7 dB.
                assert!(
                    (got - w).abs() < 0.05,
                    "fs {fs} f {f:.1}: measured {got:.4} dB, formula {w:.4} dB"
                );
            }
        }
    }

    #[test]
    fn measured_response_matches_at_the_extreme_sample_rates() {
        for fs in [8_000.0, 384_000.0] {
            // The busy settings with every frequency brought below 0.45 fs.
            let mut p = busy_params();
            let limit = 0.45 * fs;
            p.high_shelf.freq_hz = p.high_shelf.freq_hz.min(0.8 * limit);
            p.low_pass.freq_hz = p.low_pass.freq_hz.min(0.9 * limit);
            for b in &mut p.peaks {
                b.freq_hz = b.freq_hz.min(0.7 * limit);
            }
            let mut eq = ParametricEq::new(fs, 1, p).unwrap();
            let freqs = log_frequencies(20.0, limit, 24);
            for (&f, w) in freqs.iter().zip(eq.response_db(&freqs)) {
                let got = measured_gain_db(&mut eq, f);
                // As in the test above.
                assert!(
                    (got - w).abs() < 0.05,
                    "fs {fs} f {f:.1}: {got:.4} vs {w:.4}"
                );
            }
        }
    }

    #[test]
    fn response_is_the_product_of_the_enabled_sections() {
        let fs = 48_000.0;
        let p = busy_params();
        let eq = ParametricEq::new(fs, 2, p).unwrap();
        let mut sections = vec![
            BiquadCoefs::high_pass(fs, 30.0, butterworth_q(4, 0)),
            BiquadCoefs::high_pass(fs, 30.0, butterworth_q(4, 1)),
            BiquadCoefs::low_shelf(fs, 120.0, FRAC_1_SQRT_2, 3.0),
        ];
        for b in p.peaks {
            sections.push(BiquadCoefs::peaking(fs, b.freq_hz, b.q, b.gain_db));
        }
        sections.push(BiquadCoefs::high_shelf(fs, 12_000.0, 0.9, 2.0));
        sections.push(BiquadCoefs::low_pass(fs, 19_000.0, butterworth_q(2, 0)));
        let freqs = log_frequencies(5.0, 23_000.0, 200);
        for (&f, got) in freqs.iter().zip(eq.response_db(&freqs)) {
            let want = p.input_gain_db + sections.iter().map(|c| c.response_db(f, fs)).sum::<f64>();
            // Same arithmetic in a different order: rounding only.
            assert!((got - want).abs() < 1e-9, "f {f}: {got} vs {want}");
        }
    }

    #[test]
    fn bell_reaches_its_gain_at_f0() {
        for fs in [8_000.0, 44_100.0, 48_000.0, 96_000.0, 384_000.0] {
            for f0 in [40.0, 1000.0, 3000.0] {
                for q in [0.3, 1.0, 8.0] {
                    for gain_db in [-18.0, -3.0, 0.5, 12.0] {
                        let c = BiquadCoefs::peaking(fs, f0, q, gain_db);
                        let at_f0 = c.response_db(f0, fs);
                        // Exact in the cookbook's algebra; f64 rounding of coefficients only.
                        assert!((at_f0 - gain_db).abs() < 1e-9, "{fs} {f0} {q} {gain_db}");
                        // A bell leaves DC alone. At DC numerator and denominator are both
                        // 2 − 2cos(w0), which for 40 Hz at 384 kHz is 4e-7: cancellation costs
                        // about 1e-9 dB of the 1e-6 allowed.
                        assert!(c.response_db(0.0, fs).abs() < 1e-6);
                    }
                }
            }
        }
    }

    #[test]
    fn shelves_reach_their_gain() {
        for fs in RATES {
            for gain_db in [-12.0, -2.0, 4.0, 15.0] {
                let low = BiquadCoefs::low_shelf(fs, 150.0, FRAC_1_SQRT_2, gain_db);
                let high = BiquadCoefs::high_shelf(fs, 8_000.0, FRAC_1_SQRT_2, gain_db);
                // The cookbook's shelves are exact at DC / Nyquist and half-way (in dB) at f0;
                // the tolerance is f64 rounding.
                assert!((low.response_db(0.0, fs) - gain_db).abs() < 1e-9);
                assert!(low.response_db(fs / 2.0, fs).abs() < 1e-9);
                assert!((low.response_db(150.0, fs) - gain_db / 2.0).abs() < 1e-9);
                assert!((high.response_db(fs / 2.0, fs) - gain_db).abs() < 1e-9);
                assert!(high.response_db(0.0, fs).abs() < 1e-9);
                assert!((high.response_db(8_000.0, fs) - gain_db / 2.0).abs() < 1e-9);
                // Audibly "reached" two octaves beyond the corner: within 0.5 dB (S = 1 shelf).
                assert!((low.response_db(150.0 / 4.0, fs) - gain_db).abs() < 0.5);
            }
        }
        // Slope 1 is Q = 1/√2 whatever the gain.
        let q = BiquadCoefs::shelf_q_from_slope(1.0, 9.0);
        assert!((q - FRAC_1_SQRT_2).abs() < 1e-12);
    }

    #[test]
    fn high_pass_is_3_db_down_at_its_frequency_with_12_or_24_db_per_octave() {
        let minus_3db = -10.0 * 2f64.log10(); // −3.0103 dB: half the power
        for fs in RATES {
            for order in [2u32, 4] {
                let p = EqParams {
                    high_pass: PassBand {
                        enabled: true,
                        freq_hz: 40.0,
                        order,
                    },
                    ..EqParams::default()
                };
                let mut eq = ParametricEq::new(fs, 1, p).unwrap();
                let curve = eq.response_db(&[40.0, 2.5, 1.25]);
                // Butterworth by construction; f64 rounding.
                assert!((curve[0] - minus_3db).abs() < 1e-9, "{fs} {order}");
                // Four octaves below the corner the asymptote (20·log10(2) = 6.02 dB per octave
                // per order) holds to 0.01 dB/oct.
                let slope = curve[1] - curve[2];
                let asymptote = 20.0 * 2f64.log10() * order as f64;
                assert!((slope - asymptote).abs() < 0.01, "{slope}");
                // And the audio agrees (0.05 dB: see the measured-response test).
                assert!((measured_gain_db(&mut eq, 40.0) - minus_3db).abs() < 0.05);
            }
        }
        let c = BiquadCoefs::high_pass(44_100.0, 1000.0, FRAC_1_SQRT_2);
        assert!((c.response_db(1000.0, 44_100.0) - minus_3db).abs() < 1e-9);
    }

    #[test]
    fn input_gain_and_low_pass() {
        let fs = 44_100.0;
        let p = EqParams {
            input_gain_db: 6.0,
            low_pass: PassBand {
                enabled: true,
                freq_hz: 5_000.0,
                order: 4,
            },
            ..EqParams::default()
        };
        let mut eq = ParametricEq::new(fs, 1, p).unwrap();
        assert!((measured_gain_db(&mut eq, 100.0) - 6.0).abs() < 0.05);
        assert!((measured_gain_db(&mut eq, 5_000.0) - (6.0 - 3.0103)).abs() < 0.05);
        assert!(measured_gain_db(&mut eq, 10_000.0) < 6.0 - 23.0);
    }

    #[test]
    fn bypass_and_flat_settings_are_bit_exact() {
        let x = noise(0xB1A5, 5000, 0.9);
        let planes = vec![x.clone(), x.iter().map(|v| -v * 0.5).collect::<Vec<_>>()];
        let mut p = busy_params();
        p.bypass = true;
        let mut eq = ParametricEq::new(48_000.0, 2, p).unwrap();
        let out = run_blocks(&planes, 333, |i, o| eq.process(i, o).unwrap());
        assert_bit_identical("bypass", &planes, &out);
        assert!(eq.response_db(&[100.0, 1000.0]).iter().all(|&d| d == 0.0));
        assert!(eq.curve_db(&[100.0])[0] != 0.0);

        let mut flat = ParametricEq::new(48_000.0, 2, EqParams::default()).unwrap();
        let out = run_blocks(&planes, 4096, |i, o| flat.process(i, o).unwrap());
        assert_bit_identical("flat", &planes, &out);
    }

    #[test]
    fn leaving_bypass_continues_from_current_state() {
        // The filters run while bypassed, so un-bypassing mid-stream gives exactly what an EQ
        // that was never bypassed gives.
        let x = vec![noise(0x5EED, 6000, 0.5)];
        let mut always = ParametricEq::new(44_100.0, 1, busy_params()).unwrap();
        let want = run_blocks(&x, 6000, |i, o| always.process(i, o).unwrap());
        let mut toggled = ParametricEq::new(
            44_100.0,
            1,
            EqParams {
                bypass: true,
                ..busy_params()
            },
        )
        .unwrap();
        let mut got = [vec![0f32; 6000]];
        toggled
            .process(&[&x[0][..3000]], &mut [&mut got[0][..3000]])
            .unwrap();
        toggled.set_params(busy_params()).unwrap();
        toggled
            .process(&[&x[0][3000..]], &mut [&mut got[0][3000..]])
            .unwrap();
        assert_bit_identical(
            "after bypass",
            &[want[0][3000..].to_vec()],
            &[got[0][3000..].to_vec()],
        );
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        for seed in [0x1234_5678u64, 0xDEAD_BEEF] {
            let frames = 10_000;
            let planes = vec![noise(seed, frames, 0.8), noise(seed ^ 0xFF, frames, 0.3)];
            let mut reference = None;
            for block in BLOCK_SIZES {
                let mut eq = ParametricEq::new(44_100.0, 2, busy_params()).unwrap();
                let out = run_blocks(&planes, block, |i, o| eq.process(i, o).unwrap());
                match &reference {
                    None => reference = Some(out),
                    Some(r) => {
                        assert_bit_identical(&format!("block {block} seed {seed:#x}"), r, &out)
                    }
                }
            }
        }
    }

    #[test]
    fn decays_to_exact_silence() {
        // Denormal flushing: after the input stops the state must reach exact zero, not creep
        // through the denormal range.
        let mut eq = ParametricEq::new(44_100.0, 1, busy_params()).unwrap();
        let mut x = noise(7, 4410, 0.9);
        x.resize(44_100 * 3, 0.0);
        let mut y = vec![0f32; x.len()];
        eq.process(&[&x], &mut [&mut y]).unwrap();
        assert!(y[y.len() - 1024..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn reset_restarts_from_silence() {
        let x = noise(99, 3000, 0.7);
        let mut eq = ParametricEq::new(48_000.0, 1, busy_params()).unwrap();
        let mut a = vec![0f32; 3000];
        let mut b = vec![0f32; 3000];
        eq.process(&[&x], &mut [&mut a]).unwrap();
        eq.reset();
        eq.process(&[&x], &mut [&mut b]).unwrap();
        assert_bit_identical("reset", &[a], &[b]);
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let fs = 44_100.0;
        let cases: Vec<(&str, Breakage)> = vec![
            ("input_gain_db", Box::new(|p| p.input_gain_db = 30.0)),
            ("high_pass.order", Box::new(|p| p.high_pass.order = 3)),
            ("high_pass.freq_hz", Box::new(|p| p.high_pass.freq_hz = 5.0)),
            ("low_shelf.q", Box::new(|p| p.low_shelf.q = 0.0)),
            (
                "peaks[2].gain_db",
                Box::new(|p| p.peaks[2].gain_db = f64::NAN),
            ),
            (
                "peaks[3].freq_hz",
                Box::new(|p| p.peaks[3].freq_hz = 30_000.0),
            ),
            (
                "high_shelf.freq_hz",
                Box::new(|p| p.high_shelf.freq_hz = f64::INFINITY),
            ),
            (
                "low_pass.freq_hz",
                Box::new(|p| p.low_pass.freq_hz = 22_000.0),
            ),
        ];
        let mut eq = ParametricEq::new(fs, 2, busy_params()).unwrap();
        for (name, break_it) in cases {
            let mut p = busy_params();
            break_it(&mut p);
            match eq.set_params(p) {
                Err(DspError::Parameter { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}: {other:?}"),
            }
            assert!(ParametricEq::new(fs, 2, p).is_err());
        }
        // A rejected update leaves the previous settings in place.
        assert_eq!(*eq.params(), busy_params());
        assert!(ParametricEq::new(fs, 0, busy_params()).is_err());
        // Frequencies are checked against the actual sample rate: fine at 96 kHz.
        let mut p = busy_params();
        p.peaks[3].freq_hz = 30_000.0;
        assert!(ParametricEq::new(96_000.0, 2, p).is_ok());
        // Disabled bands are not checked.
        p.peaks[3].enabled = false;
        p.low_pass.enabled = false;
        p.low_pass.order = 3;
        assert!(ParametricEq::new(fs, 2, p).is_ok());
        // The defaults are valid at every sample rate.
        for fs in [8_000.0, 32_000.0, 384_000.0] {
            assert!(ParametricEq::new(fs, 1, EqParams::default()).is_ok());
        }
    }

    #[test]
    fn mismatched_planes_are_rejected() {
        let mut eq = ParametricEq::new(44_100.0, 2, EqParams::default()).unwrap();
        let a = [0f32; 8];
        let mut o1 = [0f32; 8];
        let mut o2 = [0f32; 7];
        assert!(matches!(
            eq.process(&[&a, &a], &mut [&mut o1, &mut o2]),
            Err(DspError::UnequalPlanes { channel: 1, .. })
        ));
        assert!(matches!(
            eq.process(&[&a], &mut [&mut o1]),
            Err(DspError::ChannelMismatch { .. })
        ));
    }
}
