//! The mastering chain: the processors in the order a mastering engineer runs them — input gain,
//! high-pass and EQ; compressor; stereo imager; saturation; reverb and delay sends; true-peak
//! limiter; dither — as one streaming processor with one latency. Stages left out of the
//! parameters are not instantiated and cost nothing. `OfflineRender` wraps a chain for file
//! rendering: it drops the chain's latency at the start and flushes it at the end, so the output
//! lines up with the input sample for sample and has the same length.

use crate::compressor::{Compressor, CompressorParams};
use crate::dither::{Dither, DitherParams};
use crate::eq::{EqParams, ParametricEq};
use crate::error::{check_format, check_planes, DspError};
use crate::imager::{ImagerParams, StereoImager};
use crate::limiter::{LimiterParams, TruePeakLimiter};
use crate::processor::check_output;
use crate::saturation::{Saturator, SaturatorParams};
use crate::sends::{Delay, DelayParams, Reverb, ReverbParams};

/// Frames processed per pass through the stages (the scratch buffers' size).
const CHUNK: usize = 4096;

/// Parameters of every stage; `None` leaves a stage out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainParams {
    pub eq: Option<EqParams>,
    pub compressor: Option<CompressorParams>,
    pub imager: Option<ImagerParams>,
    pub saturator: Option<SaturatorParams>,
    pub reverb: Option<ReverbParams>,
    pub delay: Option<DelayParams>,
    pub limiter: Option<LimiterParams>,
    pub dither: Option<DitherParams>,
}

enum Stage {
    Eq(Box<ParametricEq>),
    Compressor(Box<Compressor>),
    Imager(Box<StereoImager>),
    Saturator(Box<Saturator>),
    Reverb(Box<Reverb>),
    Delay(Box<Delay>),
    Limiter(Box<TruePeakLimiter>),
    Dither(Box<Dither>),
}

impl Stage {
    fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        match self {
            Stage::Eq(p) => p.process(input, output),
            Stage::Compressor(p) => p.process(input, output),
            Stage::Imager(p) => p.process(input, output),
            Stage::Saturator(p) => p.process(input, output),
            Stage::Reverb(p) => p.process(input, output),
            Stage::Delay(p) => p.process(input, output),
            Stage::Limiter(p) => p.process(input, output),
            Stage::Dither(p) => p.process(input, output),
        }
    }

    fn latency_frames(&self) -> usize {
        match self {
            Stage::Eq(p) => p.latency_frames(),
            Stage::Compressor(p) => p.latency_frames(),
            Stage::Imager(p) => p.latency_frames(),
            Stage::Saturator(p) => p.latency_frames(),
            Stage::Reverb(p) => p.latency_frames(),
            Stage::Delay(p) => p.latency_frames(),
            Stage::Limiter(p) => p.latency_frames(),
            Stage::Dither(p) => p.latency_frames(),
        }
    }
}

/// Gain reduction the dynamics stages applied since the last read, in dB (positive numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChainMeters {
    pub compressor_max_gr_db: f64,
    pub limiter_max_gr_db: f64,
}

pub struct Chain {
    channels: usize,
    stages: Vec<Stage>,
    a: Vec<Vec<f32>>,
    b: Vec<Vec<f32>>,
    /// Frames that have entered the limiter, and where the programme ends at its input (set by
    /// `end_programme_at`): from there on the limiter is fed silence.
    limiter_input: u64,
    limiter_input_end: Option<u64>,
}

impl Chain {
    pub fn new(sample_rate: f64, channels: usize, params: &ChainParams) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        let mut stages = Vec::new();
        if let Some(p) = params.eq {
            stages.push(Stage::Eq(Box::new(ParametricEq::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.compressor {
            stages.push(Stage::Compressor(Box::new(Compressor::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.imager {
            stages.push(Stage::Imager(Box::new(StereoImager::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.saturator {
            stages.push(Stage::Saturator(Box::new(Saturator::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.reverb {
            stages.push(Stage::Reverb(Box::new(Reverb::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.delay {
            stages.push(Stage::Delay(Box::new(Delay::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.limiter {
            stages.push(Stage::Limiter(Box::new(TruePeakLimiter::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        if let Some(p) = params.dither {
            stages.push(Stage::Dither(Box::new(Dither::new(
                sample_rate,
                channels,
                p,
            )?)));
        }
        Ok(Chain {
            channels,
            stages,
            a: vec![vec![0.0; CHUNK]; channels],
            b: vec![vec![0.0; CHUNK]; channels],
            limiter_input: 0,
            limiter_input_end: None,
        })
    }

    /// Says the programme is `input_frames` long. The flush that follows feeds silence, but the
    /// stages before the limiter answer it with tails (EQ ringing, reverb, delay) that the aligned
    /// output then cuts off; the limiter must see what the meter sees after the last sample,
    /// silence, or its look-ahead protects a continuation that never reaches the file and the cut
    /// itself overshoots the ceiling.
    pub fn end_programme_at(&mut self, input_frames: u64) {
        let before: usize = self
            .stages
            .iter()
            .take_while(|s| !matches!(s, Stage::Limiter(_)))
            .map(Stage::latency_frames)
            .sum();
        self.limiter_input_end = Some(input_frames + before as u64);
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Total delay of the chain in frames.
    pub fn latency_frames(&self) -> usize {
        self.stages.iter().map(Stage::latency_frames).sum()
    }

    /// Peak gain reduction since the last call.
    pub fn take_meters(&mut self) -> ChainMeters {
        let mut m = ChainMeters::default();
        for s in self.stages.iter_mut() {
            match s {
                Stage::Compressor(c) => {
                    m.compressor_max_gr_db = c
                        .take_gain_reduction()
                        .iter()
                        .map(|g| g.max_db)
                        .fold(0.0, f64::max)
                }
                Stage::Limiter(l) => m.limiter_max_gr_db = l.take_gain_reduction().max_db,
                _ => {}
            }
        }
        m
    }

    /// Runs every stage over a block of any size; the output is delayed by `latency_frames`.
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.channels)?;
        check_output(output, self.channels, frames)?;
        let mut pos = 0;
        while pos < frames {
            let n = CHUNK.min(frames - pos);
            for (a, i) in self.a.iter_mut().zip(input) {
                a[..n].copy_from_slice(&i[pos..pos + n]);
                sanitize(&mut a[..n]);
            }
            // Each stage reads `a` and writes `b`, then the two swap.
            for stage in self.stages.iter_mut() {
                if let Stage::Limiter(_) = stage {
                    if let Some(end) = self.limiter_input_end {
                        let from = end.saturating_sub(self.limiter_input).min(n as u64) as usize;
                        for a in self.a.iter_mut() {
                            a[from..n].fill(0.0);
                        }
                    }
                    self.limiter_input += n as u64;
                }
                let ins: Vec<&[f32]> = self.a.iter().map(|p| &p[..n]).collect();
                let mut outs: Vec<&mut [f32]> = self.b.iter_mut().map(|p| &mut p[..n]).collect();
                stage.process(&ins, &mut outs)?;
                std::mem::swap(&mut self.a, &mut self.b);
            }
            for (o, a) in output.iter_mut().zip(&self.a) {
                o[pos..pos + n].copy_from_slice(&a[..n]);
            }
            pos += n;
        }
        Ok(())
    }
}

/// Largest input magnitude the chain accepts (+120 dBFS): beyond it samples are not audio, and
/// the stages' gains could overflow f32 into infinities.
const INPUT_LIMIT: f32 = 1.0e6;

/// NaN and ±Inf become silence and absurd magnitudes are clamped on the way in, so one bad
/// sample in a float source cannot poison the filters' state (a NaN in a biquad's memory stays
/// there, and the limiter would then silence the rest of the programme).
fn sanitize(block: &mut [f32]) {
    for v in block.iter_mut() {
        *v = if v.is_finite() {
            v.clamp(-INPUT_LIMIT, INPUT_LIMIT)
        } else {
            0.0
        };
    }
}

/// Where `OfflineRender` hands its output: one call per ready piece of aligned frames.
pub type Sink<'a> = dyn FnMut(&[&[f32]]) -> Result<(), DspError> + 'a;

/// A chain rendering a whole file: output aligned with the input and of the same length.
pub struct OfflineRender {
    chain: Chain,
    /// Output frames still to drop (the chain's latency, at the start).
    skip: usize,
    out: Vec<Vec<f32>>,
    input_frames: u64,
    output_frames: u64,
    finished: bool,
}

impl OfflineRender {
    pub fn new(chain: Chain) -> Self {
        let channels = chain.channels();
        OfflineRender {
            skip: chain.latency_frames(),
            chain,
            out: vec![vec![0.0; CHUNK]; channels],
            input_frames: 0,
            output_frames: 0,
            finished: false,
        }
    }

    pub fn chain_mut(&mut self) -> &mut Chain {
        &mut self.chain
    }

    pub fn output_frames(&self) -> u64 {
        self.output_frames
    }

    /// Renders `input` and hands the aligned output to `sink` (possibly in several pieces).
    pub fn push(&mut self, input: &[&[f32]], sink: &mut Sink) -> Result<(), DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let frames = check_planes(input, self.chain.channels())?;
        self.input_frames += frames as u64;
        let mut pos = 0;
        while pos < frames {
            let n = CHUNK.min(frames - pos);
            let ins: Vec<&[f32]> = input.iter().map(|p| &p[pos..pos + n]).collect();
            self.run(&ins, n, sink)?;
            pos += n;
        }
        Ok(())
    }

    /// Flushes the chain's latency with silence so every input frame has its output frame.
    pub fn finish(&mut self, sink: &mut Sink) -> Result<(), DspError> {
        if self.finished {
            return Ok(());
        }
        self.chain.end_programme_at(self.input_frames);
        let zeros = vec![0f32; CHUNK];
        while self.output_frames < self.input_frames {
            let owed = (self.input_frames - self.output_frames) as usize + self.skip;
            let n = CHUNK.min(owed);
            let ins: Vec<&[f32]> = (0..self.chain.channels()).map(|_| &zeros[..n]).collect();
            self.run(&ins, n, sink)?;
        }
        self.finished = true;
        Ok(())
    }

    fn run(&mut self, ins: &[&[f32]], n: usize, sink: &mut Sink) -> Result<(), DspError> {
        let mut outs: Vec<&mut [f32]> = self.out.iter_mut().map(|p| &mut p[..n]).collect();
        self.chain.process(ins, &mut outs)?;
        let drop = self.skip.min(n);
        self.skip -= drop;
        // Never emit more than was put in (the flush feeds a little extra silence).
        let owed = (self.input_frames - self.output_frames) as usize;
        let emit = (n - drop).min(owed);
        if emit > 0 {
            let views: Vec<&[f32]> = self.out.iter().map(|p| &p[drop..drop + emit]).collect();
            sink(&views)?;
            self.output_frames += emit as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::testing::noise;

    fn render(params: &ChainParams, input: &[Vec<f32>], block: usize) -> Vec<Vec<f32>> {
        let chain = Chain::new(48_000.0, input.len(), params).unwrap();
        let mut r = OfflineRender::new(chain);
        let mut out = vec![Vec::new(); input.len()];
        let mut sink = |v: &[&[f32]]| {
            for (o, p) in out.iter_mut().zip(v) {
                o.extend_from_slice(p);
            }
            Ok(())
        };
        let frames = input[0].len();
        let mut pos = 0;
        while pos < frames {
            let n = block.min(frames - pos);
            let views: Vec<&[f32]> = input.iter().map(|p| &p[pos..pos + n]).collect();
            r.push(&views, &mut sink).unwrap();
            pos += n;
        }
        r.finish(&mut sink).unwrap();
        out
    }

    #[test]
    fn the_offline_render_is_aligned_and_as_long_as_its_input() {
        // Quiet material passes the limiter bit-exact (its gain stays exactly 1), so after the
        // latency is compensated the output must be the input itself, frame for frame.
        let params = ChainParams {
            limiter: Some(LimiterParams::default()),
            ..ChainParams::default()
        };
        let input = vec![noise(1, 30_001, 0.1), noise(2, 30_001, 0.1)];
        let out = render(&params, &input, 4096);
        assert_eq!(out, input);
    }

    #[test]
    fn every_stage_together_is_block_size_invariant() {
        let params = ChainParams {
            eq: Some(EqParams::default()),
            compressor: Some(CompressorParams::default()),
            imager: Some(ImagerParams::default()),
            saturator: Some(SaturatorParams::default()),
            reverb: Some(ReverbParams {
                mix: 0.2,
                ..ReverbParams::default()
            }),
            delay: Some(DelayParams {
                mix: 0.2,
                ..DelayParams::default()
            }),
            limiter: Some(LimiterParams::default()),
            dither: Some(DitherParams::default()),
        };
        let input = vec![noise(3, 20_000, 0.8), noise(4, 20_000, 0.8)];
        let reference = render(&params, &input, 4096);
        assert_eq!(reference[0].len(), 20_000);
        for block in [1, 7, 64, 5000] {
            assert_eq!(render(&params, &input, block), reference, "block {block}");
        }
    }

    #[test]
    fn one_non_finite_input_sample_does_not_silence_the_rest() {
        // A NaN kept in a biquad's memory would stay there for good; the chain takes NaN and
        // ±Inf as silence, so the programme after them comes through as without them.
        let mut eq = EqParams::default();
        eq.high_pass.enabled = true;
        eq.peaks[1].enabled = true;
        eq.peaks[1].gain_db = 3.0;
        let params = ChainParams {
            eq: Some(eq),
            compressor: Some(CompressorParams::default()),
            limiter: Some(LimiterParams::default()),
            ..ChainParams::default()
        };
        let clean = vec![noise(5, 24_000, 0.3), noise(6, 24_000, 0.3)];
        let mut hostile = clean.clone();
        hostile[0][1000] = f32::NAN;
        hostile[1][2000] = f32::INFINITY;
        hostile[0][3000] = f32::NEG_INFINITY;
        let a = render(&params, &clean, 4096);
        let b = render(&params, &hostile, 4096);
        assert!(b.iter().flatten().all(|v| v.is_finite()));
        // A sample near f32's largest value stays finite through every stage's gain.
        let mut huge = clean.clone();
        huge[1][4000] = 3.0e38;
        assert!(render(&params, &huge, 4096)
            .iter()
            .flatten()
            .all(|v| v.is_finite()));
        // The last half second is still there, four bad samples earlier.
        let tail = |x: &[f32]| x[20_000..].iter().map(|v| v * v).sum::<f32>();
        for c in 0..2 {
            assert!(tail(&b[c]) > 0.5 * tail(&a[c]), "channel {c} went quiet");
        }
    }

    #[test]
    fn a_programme_cut_under_a_delay_tail_stays_under_the_ceiling() {
        // A sine ending at its peak, with a delay whose echoes go on past the end: the file ends
        // with a cut, and the limiter must have limited for that cut, not for the echoes.
        let params = ChainParams {
            delay: Some(DelayParams {
                mix: 0.3,
                ..DelayParams::default()
            }),
            reverb: Some(ReverbParams {
                mix: 0.2,
                ..ReverbParams::default()
            }),
            limiter: Some(LimiterParams {
                input_gain_db: 6.0,
                ..LimiterParams::default()
            }),
            ..ChainParams::default()
        };
        let ceiling = 10f64.powf(LimiterParams::default().ceiling_dbtp / 20.0);
        for len in [36_000, 36_012, 36_024, 36_036] {
            let x: Vec<f32> = (0..len)
                .map(|i| {
                    (0.5 * (2.0 * std::f64::consts::PI * 997.0 * i as f64 / 48_000.0).sin()) as f32
                })
                .collect();
            let out = render(&params, &[x.clone(), x], 4096);
            let mut meter = crate::truepeak::TruePeakMeter::new(48_000.0, 2).unwrap();
            meter.process(&[&out[0], &out[1]]).unwrap();
            meter.flush();
            let peak = meter.true_peaks().into_iter().fold(0.0, f64::max);
            assert!(
                peak <= ceiling * 1.0001,
                "length {len}: {peak} over {ceiling}"
            );
        }
    }

    #[test]
    fn latency_is_the_sum_of_the_stages() {
        let params = ChainParams {
            saturator: Some(SaturatorParams::default()),
            limiter: Some(LimiterParams::default()),
            ..ChainParams::default()
        };
        let chain = Chain::new(48_000.0, 2, &params).unwrap();
        let sat = Saturator::new(48_000.0, 2, SaturatorParams::default()).unwrap();
        let lim = TruePeakLimiter::new(48_000.0, 2, LimiterParams::default()).unwrap();
        assert_eq!(
            chain.latency_frames(),
            sat.latency_frames() + lim.latency_frames()
        );
    }
}
