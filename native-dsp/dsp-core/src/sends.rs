//! The chain's optional reverb and delay sends (off by default in a mastering chain, kept because
//! the mixing chain Lathe grew out of had them). The reverb is a feedback delay network (Jot &
//! Chaigne 1991): eight mutually prime delay lines mixed by a Householder matrix, with a one-pole
//! damping filter per line set so the low band decays in `decay_seconds` (RT60) and the highs
//! faster. The delay is a stereo feedback delay with a high-cut in its loop and optional
//! ping-pong. Both add their wet signal to the dry one (`mix` = wet level, 0 = bypass).

use crate::error::{check_format, check_planes, DspError};
use crate::processor::{check_output, check_range};

const LINES: usize = 8;
/// Delay-line lengths in ms at any rate: mutually prime in samples at common rates and spread
/// over 29–67 ms, so the echo density builds quickly without audible periodicity.
const LINE_MS: [f64; LINES] = [29.7, 37.1, 41.1, 43.7, 47.9, 53.3, 59.9, 67.1];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverbParams {
    /// Wet level, 0 (off) to 1.
    pub mix: f64,
    /// RT60 of the low band, 0.1–20 s.
    pub decay_seconds: f64,
    /// Frequency above which the decay is faster (damping), 500 Hz – 20 kHz.
    pub damping_hz: f64,
    /// Delay before the reverb starts, 0–200 ms.
    pub pre_delay_ms: f64,
}

impl Default for ReverbParams {
    fn default() -> Self {
        ReverbParams {
            mix: 0.0,
            decay_seconds: 1.5,
            damping_hz: 6000.0,
            pre_delay_ms: 10.0,
        }
    }
}

impl ReverbParams {
    fn validate(&self) -> Result<(), DspError> {
        check_range("reverb.mix", self.mix, 0.0, 1.0, "")?;
        check_range("reverb.decaySeconds", self.decay_seconds, 0.1, 20.0, " s")?;
        check_range("reverb.dampingHz", self.damping_hz, 500.0, 20_000.0, " Hz")?;
        check_range("reverb.preDelayMs", self.pre_delay_ms, 0.0, 200.0, " ms")
    }
}

/// A delay line with a fixed capacity and a read position `len` samples behind the write.
#[derive(Debug, Clone)]
struct Line {
    buf: Vec<f64>,
    pos: usize,
}

impl Line {
    fn new(len: usize) -> Self {
        Line {
            buf: vec![0.0; len.max(1)],
            pos: 0,
        }
    }
    #[inline]
    fn read(&self) -> f64 {
        self.buf[self.pos]
    }
    #[inline]
    fn write_advance(&mut self, x: f64) {
        self.buf[self.pos] = x;
        self.pos = (self.pos + 1) % self.buf.len();
    }
    fn clear(&mut self) {
        self.buf.fill(0.0);
        self.pos = 0;
    }
}

#[derive(Debug, Clone)]
pub struct Reverb {
    sample_rate: f64,
    channels: usize,
    params: ReverbParams,
    pre: Vec<Line>,
    lines: Vec<Line>,
    /// Per line: feedback gain for the low band and the damping filter's coefficient.
    gain: [f64; LINES],
    damp_coef: [f64; LINES],
    damp_state: [f64; LINES],
    frames: u64,
}

impl Reverb {
    pub fn new(sample_rate: f64, channels: usize, params: ReverbParams) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        params.validate()?;
        let lines = LINE_MS
            .iter()
            .map(|ms| Line::new((ms * 1e-3 * sample_rate).round() as usize))
            .collect();
        let mut r = Reverb {
            sample_rate,
            channels,
            params,
            pre: vec![Line::new(1); channels],
            lines,
            gain: [0.0; LINES],
            damp_coef: [0.0; LINES],
            damp_state: [0.0; LINES],
            frames: 0,
        };
        r.set_params(params)?;
        Ok(r)
    }

    pub fn set_params(&mut self, params: ReverbParams) -> Result<(), DspError> {
        params.validate()?;
        let pre_len = ((params.pre_delay_ms * 1e-3 * self.sample_rate).round() as usize).max(1);
        if self.pre.first().map(|l| l.buf.len()) != Some(pre_len) {
            self.pre = vec![Line::new(pre_len); self.channels];
        }
        // A line of d samples must lose 60 dB over decay_seconds: g = 10^(−3 d / (T60 fs)).
        // The damping pole makes the same line lose more at high frequencies.
        let pole = (-2.0 * std::f64::consts::PI * params.damping_hz / self.sample_rate).exp();
        for (i, line) in self.lines.iter().enumerate() {
            let d = line.buf.len() as f64;
            self.gain[i] = 10f64.powf(-3.0 * d / (params.decay_seconds * self.sample_rate));
            self.damp_coef[i] = pole;
        }
        self.params = params;
        Ok(())
    }

    pub fn reset(&mut self) {
        self.pre.iter_mut().for_each(Line::clear);
        self.lines.iter_mut().for_each(Line::clear);
        self.damp_state = [0.0; LINES];
        self.frames = 0;
    }

    pub fn latency_frames(&self) -> usize {
        0
    }

    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.channels)?;
        check_output(output, self.channels, frames)?;
        let mix = self.params.mix;
        if mix == 0.0 {
            for (o, i) in output.iter_mut().zip(input) {
                o[..frames].copy_from_slice(i);
            }
            return Ok(());
        }
        let ch = self.channels;
        for n in 0..frames {
            // Mono sum into the network through the pre-delay; each channel reads its own taps.
            let mut inject = 0.0;
            for (pre, plane) in self.pre.iter_mut().zip(input) {
                inject += pre.read();
                pre.write_advance(plane[n] as f64);
            }
            inject /= ch as f64;
            let mut outs = [0.0; LINES];
            for (i, line) in self.lines.iter().enumerate() {
                // One-pole low-pass in each loop: y = (1 − p)·x + p·y₁.
                let raw = line.read() * self.gain[i];
                let s = &mut self.damp_state[i];
                *s = (1.0 - self.damp_coef[i]) * raw + self.damp_coef[i] * *s;
                outs[i] = *s;
            }
            // Householder feedback: x − (2/N)·Σx keeps the network lossless before the gains.
            let sum: f64 = outs.iter().sum::<f64>() * (2.0 / LINES as f64);
            for (i, line) in self.lines.iter_mut().enumerate() {
                line.write_advance(outs[i] - sum + inject);
            }
            for c in 0..ch {
                // Alternate line signs per channel to decorrelate the outputs.
                let wet: f64 = outs
                    .iter()
                    .enumerate()
                    .map(|(i, v)| if (i + c) % 2 == 0 { *v } else { -*v })
                    .sum::<f64>()
                    / (LINES as f64).sqrt();
                output[c][n] = (input[c][n] as f64 + mix * wet) as f32;
            }
            self.frames += 1;
            if self.frames.is_multiple_of(4096) {
                for s in self.damp_state.iter_mut() {
                    if s.abs() < 1e-30 {
                        *s = 0.0;
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelayParams {
    /// Wet level, 0 (off) to 1.
    pub mix: f64,
    /// 1–2000 ms.
    pub time_ms: f64,
    /// 0–0.95: how much of each echo returns.
    pub feedback: f64,
    /// High-cut in the feedback loop, 500 Hz – 20 kHz.
    pub high_cut_hz: f64,
    /// Echoes alternate between the channels of a stereo pair.
    pub ping_pong: bool,
}

impl Default for DelayParams {
    fn default() -> Self {
        DelayParams {
            mix: 0.0,
            time_ms: 375.0,
            feedback: 0.3,
            high_cut_hz: 8000.0,
            ping_pong: false,
        }
    }
}

impl DelayParams {
    fn validate(&self) -> Result<(), DspError> {
        check_range("delay.mix", self.mix, 0.0, 1.0, "")?;
        check_range("delay.timeMs", self.time_ms, 1.0, 2000.0, " ms")?;
        check_range("delay.feedback", self.feedback, 0.0, 0.95, "")?;
        check_range("delay.highCutHz", self.high_cut_hz, 500.0, 20_000.0, " Hz")
    }
}

#[derive(Debug, Clone)]
pub struct Delay {
    sample_rate: f64,
    channels: usize,
    params: DelayParams,
    lines: Vec<Line>,
    lp_state: Vec<f64>,
    lp_coef: f64,
    frames: u64,
}

impl Delay {
    pub fn new(sample_rate: f64, channels: usize, params: DelayParams) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        params.validate()?;
        let mut d = Delay {
            sample_rate,
            channels,
            params,
            lines: Vec::new(),
            lp_state: vec![0.0; channels],
            lp_coef: 0.0,
            frames: 0,
        };
        d.set_params(params)?;
        Ok(d)
    }

    pub fn set_params(&mut self, params: DelayParams) -> Result<(), DspError> {
        params.validate()?;
        let len = ((params.time_ms * 1e-3 * self.sample_rate).round() as usize).max(1);
        if self.lines.first().map(|l| l.buf.len()) != Some(len) {
            self.lines = vec![Line::new(len); self.channels];
        }
        self.lp_coef = (-2.0 * std::f64::consts::PI * params.high_cut_hz / self.sample_rate).exp();
        self.params = params;
        Ok(())
    }

    pub fn reset(&mut self) {
        self.lines.iter_mut().for_each(Line::clear);
        self.lp_state.fill(0.0);
        self.frames = 0;
    }

    pub fn latency_frames(&self) -> usize {
        0
    }

    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.channels)?;
        check_output(output, self.channels, frames)?;
        let p = self.params;
        if p.mix == 0.0 {
            for (o, i) in output.iter_mut().zip(input) {
                o[..frames].copy_from_slice(i);
            }
            return Ok(());
        }
        let ping_pong = p.ping_pong && self.channels == 2;
        for n in 0..frames {
            for c in 0..self.channels {
                let echo = self.lines[c].read();
                let s = &mut self.lp_state[c];
                *s = (1.0 - self.lp_coef) * echo + self.lp_coef * *s;
                output[c][n] = (input[c][n] as f64 + p.mix * echo) as f32;
            }
            for c in 0..self.channels {
                let x = input[c][n] as f64;
                // Ping-pong: the pair's sum enters the left line and each line's (high-cut) echo
                // feeds the other, so the repeats alternate sides.
                let (feed, back) = match (ping_pong, c) {
                    (true, 0) => (x + input[1][n] as f64, self.lp_state[1]),
                    (true, _) => (0.0, self.lp_state[0]),
                    (false, _) => (x, self.lp_state[c]),
                };
                self.lines[c].write_advance(feed + p.feedback * back);
            }
            self.frames += 1;
            if self.frames.is_multiple_of(4096) {
                for s in self.lp_state.iter_mut() {
                    if s.abs() < 1e-30 {
                        *s = 0.0;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::testing::{noise, run_blocks as run};

    fn impulse(fs: f64, seconds: f64) -> Vec<Vec<f32>> {
        let mut x = vec![0f32; (fs * seconds) as usize];
        x[0] = 1.0;
        vec![x.clone(), x]
    }

    #[test]
    fn mix_zero_is_an_exact_bypass() {
        let x = vec![
            (0..1000)
                .map(|i| (i as f32 * 0.01).sin())
                .collect::<Vec<f32>>();
            2
        ];
        let mut r = Reverb::new(48_000.0, 2, ReverbParams::default()).unwrap();
        assert_eq!(run(&x, 64, |i, o| r.process(i, o).unwrap()), x);
        let mut d = Delay::new(48_000.0, 2, DelayParams::default()).unwrap();
        assert_eq!(run(&x, 64, |i, o| d.process(i, o).unwrap()), x);
    }

    #[test]
    fn reverb_tail_decays_at_the_requested_rate() {
        // Energy decay of the impulse response between 0.2 s and 1.2 s: a 60 dB-per-RT60 slope.
        // The damping filter removes highs faster, so the measured (broadband) slope is at least
        // the requested one; with damping at 20 kHz the two agree within 15 %.
        for fs in [44_100.0, 96_000.0] {
            let params = ReverbParams {
                mix: 1.0,
                decay_seconds: 2.0,
                damping_hz: 20_000.0,
                pre_delay_ms: 0.0,
            };
            let mut r = Reverb::new(fs, 2, params).unwrap();
            let x = impulse(fs, 1.5);
            let y = run(&x, 4096, |i, o| r.process(i, o).unwrap());
            let energy = |a: f64, b: f64| -> f64 {
                y[0][(a * fs) as usize..(b * fs) as usize]
                    .iter()
                    .map(|v| (*v as f64).powi(2))
                    .sum::<f64>()
            };
            let drop_db = 10.0 * (energy(0.2, 0.3) / energy(1.1, 1.2)).log10();
            let expected = 60.0 * 0.9 / 2.0; // 0.9 s apart
            assert!(
                (drop_db - expected).abs() < expected * 0.15,
                "{drop_db} dB over 0.9 s at {fs}, expected {expected}"
            );
        }
    }

    #[test]
    fn reverb_stays_bounded_on_long_loud_noise() {
        let fs = 44_100.0;
        let params = ReverbParams {
            mix: 1.0,
            decay_seconds: 20.0,
            damping_hz: 20_000.0,
            pre_delay_ms: 0.0,
        };
        let mut r = Reverb::new(fs, 2, params).unwrap();
        let loud = noise(99, fs as usize * 10, 1.0);
        let y = run(&[loud.clone(), loud], 4096, |i, o| r.process(i, o).unwrap());
        assert!(y.iter().flatten().all(|v| v.is_finite() && v.abs() < 100.0));
    }

    #[test]
    fn delay_repeats_at_its_time_with_its_feedback() {
        let fs = 48_000.0;
        let params = DelayParams {
            mix: 1.0,
            time_ms: 100.0,
            feedback: 0.5,
            high_cut_hz: 20_000.0,
            ping_pong: false,
        };
        let mut d = Delay::new(fs, 2, params).unwrap();
        let y = run(&impulse(fs, 0.5), 333, |i, o| d.process(i, o).unwrap());
        let at = |ms: f64| (ms * 1e-3 * fs) as usize;
        let window = |ms: f64| {
            y[0][at(ms) - 10..at(ms) + 40]
                .iter()
                .map(|v| v.abs())
                .fold(0f32, f32::max)
        };
        assert!(window(100.0) > 0.5, "first echo at 100 ms");
        let ratio = window(200.0) / window(100.0);
        assert!(
            (ratio - 0.5).abs() < 0.1,
            "second echo {ratio} of the first"
        );
    }

    #[test]
    fn ping_pong_alternates_sides() {
        let fs = 48_000.0;
        let params = DelayParams {
            mix: 1.0,
            time_ms: 50.0,
            feedback: 0.6,
            high_cut_hz: 20_000.0,
            ping_pong: true,
        };
        let mut d = Delay::new(fs, 2, params).unwrap();
        let mut x = impulse(fs, 0.3);
        x[1].fill(0.0); // the impulse on the left only
        let y = run(&x, 100, |i, o| d.process(i, o).unwrap());
        let peak = |c: usize, ms: f64| {
            let a = (ms * 1e-3 * fs) as usize;
            y[c][a - 5..a + 30]
                .iter()
                .map(|v| v.abs())
                .fold(0f32, f32::max)
        };
        assert!(peak(0, 50.0) > 10.0 * peak(1, 50.0), "first echo left");
        assert!(peak(1, 100.0) > 10.0 * peak(0, 100.0), "second echo right");
    }

    #[test]
    fn block_size_invariance() {
        let fs = 44_100.0;
        let x = impulse(fs, 0.5);
        let rp = ReverbParams {
            mix: 0.3,
            ..ReverbParams::default()
        };
        let dp = DelayParams {
            mix: 0.4,
            ping_pong: true,
            ..DelayParams::default()
        };
        let reference_r = {
            let mut r = Reverb::new(fs, 2, rp).unwrap();
            run(&x, 4096, |i, o| r.process(i, o).unwrap())
        };
        let reference_d = {
            let mut d = Delay::new(fs, 2, dp).unwrap();
            run(&x, 4096, |i, o| d.process(i, o).unwrap())
        };
        for block in [1, 7, 64] {
            let mut r = Reverb::new(fs, 2, rp).unwrap();
            assert_eq!(
                run(&x, block, |i, o| r.process(i, o).unwrap()),
                reference_r,
                "reverb, block {block}"
            );
            let mut d = Delay::new(fs, 2, dp).unwrap();
            assert_eq!(
                run(&x, block, |i, o| d.process(i, o).unwrap()),
                reference_d,
                "delay, block {block}"
            );
        }
    }

    #[test]
    fn parameters_out_of_range_are_refused_with_the_field() {
        let bad = ReverbParams {
            decay_seconds: 0.0,
            ..ReverbParams::default()
        };
        let e = Reverb::new(48_000.0, 2, bad).unwrap_err();
        assert!(e.to_string().contains("reverb.decaySeconds"), "{e}");
        let bad = DelayParams {
            feedback: 1.2,
            ..DelayParams::default()
        };
        let e = Delay::new(48_000.0, 2, bad).unwrap_err();
        assert!(e.to_string().contains("delay.feedback"), "{e}");
    }
}
