//! What every streaming processor of the mastering chain shares: validating parameters (errors
//! name the field and the reason) and output planes, and the fixed schedule on which recursive
//! state is flushed of denormals.

use crate::error::DspError;

/// Frames between denormal flushes. Flushing at multiples of this stream position, and never at
/// block boundaries, keeps the output identical whatever the block size.
pub const FLUSH_INTERVAL_FRAMES: usize = 1024;

/// Lowest centre or corner frequency any processor accepts.
pub const MIN_FREQUENCY_HZ: f64 = 10.0;
/// Highest centre or corner frequency, as a fraction of the sample rate: the bilinear transform
/// squeezes everything above into the last few per cent below Nyquist, where a design is no
/// longer the filter the user asked for.
pub const MAX_FREQUENCY_FRACTION: f64 = 0.49;

/// Checks that an output has `channels` planes of `frames` frames each.
pub fn check_output(output: &[&mut [f32]], channels: usize, frames: usize) -> Result<(), DspError> {
    if output.len() != channels {
        return Err(DspError::ChannelMismatch {
            expected: channels,
            actual: output.len(),
        });
    }
    for (channel, plane) in output.iter().enumerate() {
        if plane.len() != frames {
            return Err(DspError::UnequalPlanes {
                expected: frames,
                actual: plane.len(),
                channel,
            });
        }
    }
    Ok(())
}

/// Checks that `value` is finite and within `min..=max`.
pub fn check_range(
    name: &'static str,
    value: f64,
    min: f64,
    max: f64,
    unit: &str,
) -> Result<(), DspError> {
    if !value.is_finite() || value < min || value > max {
        return Err(DspError::Parameter {
            name,
            message: format!("{value} is outside {min}..={max}{unit}"),
        });
    }
    Ok(())
}

/// Checks a centre or corner frequency against the sample rate it will be designed for.
pub fn check_frequency(name: &'static str, hz: f64, sample_rate: f64) -> Result<(), DspError> {
    let max = (MAX_FREQUENCY_FRACTION * sample_rate).floor();
    if !hz.is_finite() || hz < MIN_FREQUENCY_HZ || hz > max {
        return Err(DspError::Parameter {
            name,
            message: format!(
                "{hz} Hz is outside {MIN_FREQUENCY_HZ}..={max} Hz \
                 ({MAX_FREQUENCY_FRACTION} of the {sample_rate} Hz sample rate)"
            ),
        });
    }
    Ok(())
}

/// Where the stream is relative to the next denormal flush.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushClock {
    frames_since_flush: usize,
}

impl FlushClock {
    /// How many of the `remaining` frames can be processed before the next flush is due.
    #[inline]
    pub fn span(&self, remaining: usize) -> usize {
        remaining.min(FLUSH_INTERVAL_FRAMES - self.frames_since_flush)
    }

    /// Counts `frames` processed; true when the stream has reached a flush position.
    #[inline]
    pub fn advance(&mut self, frames: usize) -> bool {
        self.frames_since_flush += frames;
        if self.frames_since_flush == FLUSH_INTERVAL_FRAMES {
            self.frames_since_flush = 0;
            true
        } else {
            false
        }
    }

    pub fn reset(&mut self) {
        self.frames_since_flush = 0;
    }
}

/// Copies input planes to output planes (already validated to match).
pub fn copy_planes(input: &[&[f32]], output: &mut [&mut [f32]]) {
    for (o, i) in output.iter_mut().zip(input) {
        o.copy_from_slice(i);
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers the processors' tests share: noise, sine fits and block-size runs.

    use std::f64::consts::PI;

    /// Ten-line xorshift64* PRNG: reproducible noise without dependencies.
    pub struct XorShift(pub u64);
    impl XorShift {
        pub fn next_f32(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32) * 2.0
                - 1.0
        }
    }

    pub fn noise(seed: u64, len: usize, amplitude: f32) -> Vec<f32> {
        let mut rng = XorShift(seed);
        (0..len).map(|_| amplitude * rng.next_f32()).collect()
    }

    pub fn sine(freq: f64, fs: f64, amplitude: f64, phase: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| (amplitude * (2.0 * PI * freq * n as f64 / fs + phase).sin()) as f32)
            .collect()
    }

    /// Least-squares fit of a·sin + b·cos at `freq` over `x` (n counted from `start`); returns
    /// (amplitude, phase). Exact for a pure sinusoid whatever the number of periods, so a
    /// steady-state gain needs no window and no integer period count.
    pub fn fit_sine(x: &[f32], start: usize, freq: f64, fs: f64) -> (f64, f64) {
        let (mut ss, mut cc, mut sc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let w = 2.0 * PI * freq * (start + i) as f64 / fs;
            let (s, c) = w.sin_cos();
            ss += s * s;
            cc += c * c;
            sc += s * c;
            xs += v as f64 * s;
            xc += v as f64 * c;
        }
        let det = ss * cc - sc * sc;
        let a = (xs * cc - xc * sc) / det;
        let b = (xc * ss - xs * sc) / det;
        ((a * a + b * b).sqrt(), b.atan2(a))
    }

    pub fn energy(x: &[f32]) -> f64 {
        x.iter().map(|&v| v as f64 * v as f64).sum()
    }

    /// Runs `process` over `input` in blocks of `block` frames and returns the output planes.
    pub fn run_blocks<F>(input: &[Vec<f32>], block: usize, mut process: F) -> Vec<Vec<f32>>
    where
        F: FnMut(&[&[f32]], &mut [&mut [f32]]),
    {
        let frames = input[0].len();
        let mut output = vec![vec![0f32; frames]; input.len()];
        let mut pos = 0;
        while pos < frames {
            let n = block.min(frames - pos);
            let ins: Vec<&[f32]> = input.iter().map(|p| &p[pos..pos + n]).collect();
            let mut outs: Vec<&mut [f32]> =
                output.iter_mut().map(|p| &mut p[pos..pos + n]).collect();
            process(&ins, &mut outs);
            pos += n;
        }
        output
    }

    /// The block sizes every processor is checked with: one frame, an odd size that straddles
    /// every internal boundary, a typical host block, and more than a flush interval.
    pub const BLOCK_SIZES: [usize; 4] = [1, 7, 64, 4096];

    /// Asserts planes are bit-identical (f32 bit patterns, so −0.0 ≠ +0.0 and NaN is caught).
    pub fn assert_bit_identical(what: &str, a: &[Vec<f32>], b: &[Vec<f32>]) {
        for (c, (pa, pb)) in a.iter().zip(b).enumerate() {
            for (n, (x, y)) in pa.iter().zip(pb).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "{what}: channel {c} frame {n}: {x} vs {y}"
                );
            }
        }
    }
}
