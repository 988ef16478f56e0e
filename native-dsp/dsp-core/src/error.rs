//! Typed errors for every constructor and entry point of dsp-core.

use std::fmt;

/// What went wrong, with the expected and actual values where there are any.
#[derive(Debug, Clone, PartialEq)]
pub enum DspError {
    /// A sample rate outside what the processors are designed for.
    SampleRate { actual: f64, min: f64, max: f64 },
    /// A channel count of zero or beyond the supported maximum.
    Channels { actual: usize, max: usize },
    /// The planar input did not have the channel count the processor was created with.
    ChannelMismatch { expected: usize, actual: usize },
    /// Planes of one block had different lengths.
    UnequalPlanes {
        expected: usize,
        actual: usize,
        channel: usize,
    },
    /// A parameter out of its range or not finite.
    Parameter { name: &'static str, message: String },
    /// The processor was used after `finish`.
    Finished,
}

impl fmt::Display for DspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DspError::SampleRate { actual, min, max } => {
                write!(f, "sample rate {actual} Hz is outside {min}..{max} Hz")
            }
            DspError::Channels { actual, max } => {
                write!(f, "channel count {actual} is outside 1..{max}")
            }
            DspError::ChannelMismatch { expected, actual } => {
                write!(f, "expected {expected} channel planes, got {actual}")
            }
            DspError::UnequalPlanes {
                expected,
                actual,
                channel,
            } => write!(
                f,
                "channel {channel} has {actual} frames, channel 0 has {expected}: planes must have equal lengths"
            ),
            DspError::Parameter { name, message } => write!(f, "parameter {name}: {message}"),
            DspError::Finished => write!(f, "the processor has already been finished"),
        }
    }
}

impl std::error::Error for DspError {}

/// Highest channel count any processor accepts (7.1.4 immersive beds and a margin).
pub const MAX_CHANNELS: usize = 32;
/// Lowest and highest sample rates the processors are designed for.
pub const MIN_SAMPLE_RATE: f64 = 8_000.0;
pub const MAX_SAMPLE_RATE: f64 = 768_000.0;

/// Validates a sample rate and channel count the way every constructor does.
pub fn check_format(sample_rate: f64, channels: usize) -> Result<(), DspError> {
    if !sample_rate.is_finite() || !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(DspError::SampleRate {
            actual: sample_rate,
            min: MIN_SAMPLE_RATE,
            max: MAX_SAMPLE_RATE,
        });
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(DspError::Channels {
            actual: channels,
            max: MAX_CHANNELS,
        });
    }
    Ok(())
}

/// Validates one planar block: the channel count and equal plane lengths. Returns the frame count.
pub fn check_planes(planes: &[&[f32]], channels: usize) -> Result<usize, DspError> {
    if planes.len() != channels {
        return Err(DspError::ChannelMismatch {
            expected: channels,
            actual: planes.len(),
        });
    }
    let frames = planes[0].len();
    for (channel, plane) in planes.iter().enumerate() {
        if plane.len() != frames {
            return Err(DspError::UnequalPlanes {
                expected: frames,
                actual: plane.len(),
                channel,
            });
        }
    }
    Ok(frames)
}
