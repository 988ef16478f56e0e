//! dsp-core: all of Lathe's signal processing, in pure `std` Rust with no `unsafe` and no
//! dependencies, testable with `cargo test` without Node. The `lathe-dsp` crate next to it exposes
//! it to JavaScript through Node-API.
//!
//! Every processor streams: it is created for a sample rate and channel count, takes planar
//! blocks of any size, and gives the same result whatever the block size.

// `unsafe` appears only to call SIMD kernels compiled for CPU features: detected at run time, or
// SSE2, which every x86_64 CPU has.
#![deny(unsafe_code)]

pub mod analyzer;
pub mod biquad;
pub mod chain;
pub mod compressor;
pub mod demo;
pub mod dither;
pub mod eq;
pub mod error;
pub mod fft;
pub mod imager;
pub mod limiter;
pub mod loudness;
pub mod processor;
pub mod qc;
pub mod saturation;
pub mod sends;
mod simd;
pub mod spectral;
pub mod targeting;
pub mod timedomain;
pub mod truepeak;

pub use error::DspError;
