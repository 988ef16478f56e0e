//! Loudness targeting: what a programme will measure after the true-peak limiter at any input
//! gain, from one pass over it.
//!
//! Finding the limiter input gain that lands a master on −14 LUFS means evaluating loudness as a
//! function of gain, which bends as the limiter works harder. Rendering the limiter for every
//! trial costs a full pass each; instead, one pass over the limiter's input keeps, on a grid of
//! `step` frames (about 0.2 ms), the largest detector peak ([`PeakDetector`], linear in the input
//! gain) and the K-weighted, channel-weighted energy. For a trial gain, stage 1 of the limiter is
//! modelled on that grid ([`model_stage_one_streaming`]) and the gated integrated loudness (BS.1770: 400 ms
//! blocks every 100 ms, −70 LUFS and −10 LU gates) is taken from the energies scaled by the
//! squared gains. The model is an estimate — K-weighting does not commute exactly with a changing
//! gain, and the guard is left out — so the caller renders the chosen gain for real, measures it,
//! and corrects by the model's measured offset. A trial costs about 1/100 of a render.
//!
//! The grid divides the 100 ms hop exactly, so the blocks are those of the meter. Memory: 8 bytes
//! per grid point (2 × f32), about 140 MB for an hour at 48 kHz; an estimate adds only its
//! 100 ms hops (the gains are modelled piece by piece, `model_stage_one_streaming`).

use crate::biquad::BiquadCoefs;
use crate::error::{check_format, check_planes, DspError};
#[cfg(test)]
#[cfg(test)]
use crate::limiter::model_stage_one;
use crate::limiter::{model_stage_one_streaming, LimiterParams, PeakDetector};
use crate::loudness::{gated_integrated, k_weighting, ChannelRole, KState};

/// The largest grid step: about 0.2 ms at 44.1–48 kHz.
const MAX_STEP: usize = 10;

/// Largest input magnitude taken (+120 dBFS), as the chain's input.
const INPUT_LIMIT: f32 = 1.0e6;

/// A prediction for one input gain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetEstimate {
    pub integrated_lufs: Option<f64>,
    /// The largest gain reduction the limiter's stage 1 would apply, in dB.
    pub max_gain_reduction_db: f64,
}

/// Collects the grid of peaks and energies of a limiter's input.
#[derive(Debug, Clone)]
pub struct TargetModel {
    sample_rate: f64,
    step: usize,
    /// Grid points per 100 ms hop.
    points_per_hop: usize,
    weights: Vec<f64>,
    coefs: [BiquadCoefs; 2],
    states: Vec<KState>,
    detector: PeakDetector,
    peaks: Vec<f32>,
    energies: Vec<f32>,
    /// The grid point being filled.
    partial_peak: f32,
    partial_energy: f64,
    partial_frames: usize,
    scratch: Vec<f32>,
    frames: u64,
}

/// The largest divisor of `hop` not above `MAX_STEP`.
fn grid_step(hop: usize) -> usize {
    (1..=MAX_STEP.min(hop))
        .rev()
        .find(|d| hop.is_multiple_of(*d))
        .unwrap_or(1)
}

impl TargetModel {
    pub fn new(sample_rate: f64, roles: &[ChannelRole]) -> Result<Self, DspError> {
        check_format(sample_rate, roles.len())?;
        let hop = (sample_rate / 10.0).round() as usize;
        let step = grid_step(hop);
        Ok(TargetModel {
            sample_rate,
            step,
            points_per_hop: hop / step,
            weights: roles.iter().map(|r| r.weight()).collect(),
            coefs: k_weighting(sample_rate),
            states: vec![KState::default(); roles.len()],
            detector: PeakDetector::new(sample_rate, roles.len())?,
            peaks: Vec::new(),
            energies: Vec::new(),
            partial_peak: 0.0,
            partial_energy: 0.0,
            partial_frames: 0,
            scratch: Vec::new(),
            frames: 0,
        })
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Adds a block of the limiter's input (planar, any size).
    pub fn process(&mut self, planes: &[&[f32]]) -> Result<(), DspError> {
        check_planes(planes, self.weights.len())?;
        // NaN, ±Inf and magnitudes beyond +120 dBFS are not audio: taken as the chain takes them
        // (silence, clamped), or the detector's interpolation overflows into NaN gains. Copied
        // only when such a sample is present.
        let bad = |x: &f32| !x.is_finite() || x.abs() > INPUT_LIMIT;
        if planes.iter().any(|p| p.iter().any(bad)) {
            let clean: Vec<Vec<f32>> = planes
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|&x| {
                            if x.is_finite() {
                                x.clamp(-INPUT_LIMIT, INPUT_LIMIT)
                            } else {
                                0.0
                            }
                        })
                        .collect()
                })
                .collect();
            let views: Vec<&[f32]> = clean.iter().map(|p| p.as_slice()).collect();
            return self.process_clean(&views);
        }
        self.process_clean(planes)
    }

    fn process_clean(&mut self, planes: &[&[f32]]) -> Result<(), DspError> {
        let frames = check_planes(planes, self.weights.len())?;
        self.scratch.resize(frames, 0.0);
        self.detector.process(planes, &mut self.scratch)?;
        let mut start = 0;
        while start < frames {
            let n = (self.step - self.partial_frames).min(frames - start);
            let mut energy = 0.0;
            for ((plane, state), &w) in planes.iter().zip(&mut self.states).zip(&self.weights) {
                let mut e = 0.0;
                for &x in &plane[start..start + n] {
                    let x = if x.is_finite() { x as f64 } else { 0.0 };
                    let y = state.tick(&self.coefs, x);
                    e += y * y;
                }
                energy += w * e;
            }
            let peak = self.scratch[start..start + n]
                .iter()
                .fold(self.partial_peak, |m, &p| m.max(p));
            self.partial_peak = peak;
            self.partial_energy += energy;
            self.partial_frames += n;
            if self.partial_frames == self.step {
                self.peaks.push(self.partial_peak);
                self.energies.push(self.partial_energy as f32);
                self.partial_peak = 0.0;
                self.partial_energy = 0.0;
                self.partial_frames = 0;
            }
            start += n;
        }
        self.frames += frames as u64;
        Ok(())
    }

    /// The integrated loudness and peak reduction the limiter with `params` would give. The
    /// gains are modelled piece by piece and folded into 100 ms hops as they come, so an
    /// estimate needs memory for the hops only, not for another copy of the grid.
    pub fn estimate(&self, params: &LimiterParams) -> Result<TargetEstimate, DspError> {
        // The grid, with the point still being filled as its last.
        let partial = self.partial_frames > 0;
        let len = self.peaks.len() + usize::from(partial);
        let peak = |k: usize| self.peaks.get(k).copied().unwrap_or(self.partial_peak);
        let energy = |k: usize| {
            self.energies
                .get(k)
                .copied()
                .unwrap_or(self.partial_energy as f32)
        };
        let input_gain = 10f64.powf(params.input_gain_db / 20.0);
        let g2 = input_gain * input_gain;
        // Energy per 100 ms hop (whole hops only, as the meter's gating blocks).
        let whole_hops = len / self.points_per_hop;
        let mut hops: Vec<f64> = Vec::with_capacity(whole_hops);
        let mut in_hop: Vec<f64> = Vec::with_capacity(self.points_per_hop);
        let mut k = 0;
        let max_gr =
            model_stage_one_streaming(params, self.sample_rate, self.step, len, peak, |gains| {
                for &g in gains {
                    if hops.len() == whole_hops {
                        break;
                    }
                    in_hop.push(energy(k) as f64 * g * g);
                    k += 1;
                    if in_hop.len() == self.points_per_hop {
                        hops.push(in_hop.iter().sum::<f64>() * g2);
                        in_hop.clear();
                    }
                }
            })?;
        let block_frames = 4.0 * (self.points_per_hop * self.step) as f64;
        let blocks: Vec<f64> = hops
            .windows(4)
            .map(|w| w.iter().sum::<f64>() / block_frames)
            .collect();
        Ok(TargetEstimate {
            integrated_lufs: gated_integrated(&blocks).map(|(l, _)| l),
            max_gain_reduction_db: max_gr,
        })
    }

    /// The estimate as first written (the whole grid copied and modelled at once): kept to
    /// check that `estimate` gives the same, bit for bit.
    #[cfg(test)]
    fn estimate_whole(&self, params: &LimiterParams) -> Result<TargetEstimate, DspError> {
        let mut peaks = self.peaks.clone();
        let mut energies = self.energies.clone();
        if self.partial_frames > 0 {
            peaks.push(self.partial_peak);
            energies.push(self.partial_energy as f32);
        }
        let mut gains = Vec::new();
        let max_gr = model_stage_one(params, self.sample_rate, self.step, &peaks, &mut gains)?;
        let input_gain = 10f64.powf(params.input_gain_db / 20.0);
        let g2 = input_gain * input_gain;
        let hops: Vec<f64> = energies
            .chunks_exact(self.points_per_hop)
            .zip(gains.chunks_exact(self.points_per_hop))
            .map(|(e, g)| {
                e.iter()
                    .zip(g)
                    .map(|(&e, &g)| e as f64 * g * g)
                    .sum::<f64>()
                    * g2
            })
            .collect();
        let block_frames = 4.0 * (self.points_per_hop * self.step) as f64;
        let blocks: Vec<f64> = hops
            .windows(4)
            .map(|w| w.iter().sum::<f64>() / block_frames)
            .collect();
        Ok(TargetEstimate {
            integrated_lufs: gated_integrated(&blocks).map(|(l, _)| l),
            max_gain_reduction_db: max_gr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{Chain, ChainParams, OfflineRender};
    use crate::loudness::LoudnessMeter;

    #[test]
    fn the_streaming_estimate_is_the_whole_one_bit_for_bit() {
        // Programmes long enough for several pieces, odd lengths (a partial grid point and a
        // partial hop), and limiter settings from gentle to hard.
        for (fs, seconds, seed) in [(48_000.0, 7.3, 1), (44_100.0, 9.05, 2), (96_000.0, 3.31, 3)] {
            let planes = programme(fs, seconds, seed);
            let mut model = TargetModel::new(fs, &[ChannelRole::Front; 2]).unwrap();
            let views: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
            model.process(&views).unwrap();
            for (gain, ceiling, auto) in [
                (0.0, -1.0, true),
                (9.0, -1.0, true),
                (16.0, -2.0, false),
                (-6.0, -0.1, true),
            ] {
                let params = LimiterParams {
                    input_gain_db: gain,
                    ceiling_dbtp: ceiling,
                    auto_release: auto,
                    ..LimiterParams::default()
                };
                let a = model.estimate(&params).unwrap();
                let b = model.estimate_whole(&params).unwrap();
                assert_eq!(a, b, "fs {fs}, gain {gain}, ceiling {ceiling}");
            }
        }
    }

    #[test]
    fn hostile_samples_give_finite_estimates() {
        let mut x: Vec<f32> = (0..48_000)
            .map(|i| (0.5 * (i as f64 / 10.0).sin()) as f32)
            .collect();
        x[100] = 1.0e30;
        x[200] = f32::NAN;
        x[300] = f32::INFINITY;
        let mut model = TargetModel::new(48_000.0, &[ChannelRole::Front; 2]).unwrap();
        model.process(&[&x, &x]).unwrap();
        let e = model.estimate(&LimiterParams::default()).unwrap();
        assert!(e.max_gain_reduction_db.is_finite());
        assert!(e.integrated_lufs.is_some_and(f64::is_finite));
    }

    /// Noise bursts with a slow envelope and sharp transients: a limiter's everyday work.
    fn programme(fs: f64, seconds: f64, seed: u64) -> Vec<Vec<f32>> {
        let n = (fs * seconds) as usize;
        let mut state = seed;
        let mut rnd = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f64 / (1u64 << 31) as f64) - 1.0
        };
        let mut l = vec![0f32; n];
        let mut r = vec![0f32; n];
        for i in 0..n {
            let t = i as f64 / fs;
            let beat = (t * 2.0).fract();
            let env = 0.15 + 0.6 * (-beat * 12.0).exp();
            let tone = (2.0 * std::f64::consts::PI * 110.0 * t).sin();
            l[i] = (env * (0.6 * tone + 0.4 * rnd())) as f32;
            r[i] = (env * (0.5 * tone + 0.5 * rnd())) as f32;
        }
        vec![l, r]
    }

    fn measured(fs: f64, planes: &[Vec<f32>], limiter: LimiterParams) -> f64 {
        let chain = Chain::new(
            fs,
            2,
            &ChainParams {
                limiter: Some(limiter),
                ..Default::default()
            },
        )
        .unwrap();
        let mut render = OfflineRender::new(chain);
        let mut meter = LoudnessMeter::new(fs, &[ChannelRole::Front; 2]).unwrap();
        let views: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        let mut sink = |v: &[&[f32]]| meter.process(v);
        render.push(&views, &mut sink).unwrap();
        render.finish(&mut sink).unwrap();
        meter.integrated_lufs().unwrap()
    }

    #[test]
    fn the_grid_divides_the_hop() {
        for fs in [
            22050.0, 32000.0, 44100.0, 48000.0, 88200.0, 96000.0, 192000.0,
        ] {
            let hop = (fs / 10.0_f64).round() as usize;
            let step = grid_step(hop);
            assert_eq!(hop % step, 0, "{fs}");
            assert!(step >= 7, "{fs}: step {step}");
        }
    }

    #[test]
    fn without_limiting_the_estimate_is_the_meter_reading_plus_the_gain() {
        // Below the ceiling the limiter passes samples bit for bit, so the loudness is the
        // input's plus the gain: the model must agree with the meter, whatever the gain.
        let fs = 48000.0;
        let planes = programme(fs, 12.0, 3);
        let mut model = TargetModel::new(fs, &[ChannelRole::Front; 2]).unwrap();
        let views: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        for piece in 0..7 {
            // Odd block sizes: the grid must not depend on them.
            let a = piece * views[0].len() / 7;
            let b = (piece + 1) * views[0].len() / 7;
            model.process(&[&views[0][a..b], &views[1][a..b]]).unwrap();
        }
        let mut meter = LoudnessMeter::new(fs, &[ChannelRole::Front; 2]).unwrap();
        meter.process(&views).unwrap();
        let input = meter.integrated_lufs().unwrap();
        for gain in [-12.0, -6.0] {
            let p = LimiterParams {
                input_gain_db: gain,
                ceiling_dbtp: 0.0,
                ..Default::default()
            };
            let e = model.estimate(&p).unwrap();
            assert_eq!(e.max_gain_reduction_db, 0.0);
            assert!(
                (e.integrated_lufs.unwrap() - (input + gain)).abs() < 1e-6,
                "{gain}: {:?} vs {}",
                e.integrated_lufs,
                input + gain
            );
        }
    }

    #[test]
    fn with_limiting_the_estimate_tracks_a_real_render() {
        // Against the real limiter over a range of drives: the estimate must be close (the
        // caller corrects the rest) and rise with the gain as the real loudness does.
        let fs = 44100.0;
        let planes = programme(fs, 10.0, 7);
        let mut model = TargetModel::new(fs, &[ChannelRole::Front; 2]).unwrap();
        let views: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        model.process(&views).unwrap();
        let mut last = f64::NEG_INFINITY;
        for (gain, auto) in [(0.0, false), (4.0, true), (8.0, false), (12.0, true)] {
            let p = LimiterParams {
                input_gain_db: gain,
                ceiling_dbtp: -1.0,
                auto_release: auto,
                ..Default::default()
            };
            let e = model.estimate(&p).unwrap();
            let real = measured(fs, &planes, p);
            let est = e.integrated_lufs.unwrap();
            assert!(
                (est - real).abs() < 0.05,
                "gain {gain}: model {est}, real {real}"
            );
            assert!(est > last);
            last = est;
            if gain >= 8.0 {
                assert!(e.max_gain_reduction_db > 3.0, "{gain}: {e:?}");
            }
        }
    }
}
