//! Time-domain analysis of a whole file in one streaming pass, for the analysis view and the QC
//! list: per-channel level statistics (RMS, sample peak, DC offset, crest factor, zero-crossing
//! rate), the stereo image of one pair (correlation, side-to-mid ratio, mono-compatibility loss and
//! a correlation series for the width lane), and the findings an engineer must see before
//! mastering: clipping, samples beyond full scale, DC offset, out-of-phase passages, leading and
//! trailing silence, mono carried as stereo, silent channels and non-finite samples.
//!
//! Conventions: RMS in dBFS is 20·log10(RMS) against a full-scale DC level, so a full-scale sine
//! reads −3.01 dBFS (as sox's "RMS lev dB"; AES17 would call that 0 dBFS). Correlation is the
//! phase-meter figure Σ LR / √(Σ L² · Σ R²), without mean removal. Samples beyond ±1.0 are measured
//! as they are, never clipped.
//!
//! Every sum is an f64 accumulated per 100 ms segment in eight lanes chosen by the sample's
//! position in its segment, so the order of additions, and therefore the report, is bitwise the
//! same whatever the block size, while the inner loops still vectorise.

use crate::error::{check_format, check_planes, DspError};
use crate::qc::{QcFinding, Severity, SpanCollector};
use crate::simd::Simd;

/// Lanes of the segment accumulators: eight f64 sums per quantity fill four SSE2 registers (two
/// AVX), enough independent additions to hide their latency.
const LANES: usize = 8;

/// Segment length and hop of the correlation series: ten values a second is what the width lane
/// can draw, and 100 ms cells let the 400 ms window be built from four of them.
const HOP_SECONDS: f64 = 0.1;
/// The correlation window, in hops (400 ms, the integration time of a phase-correlation meter:
/// long enough to average several periods of bass, short enough to catch a passage). It is
/// centred on its hop: two segments before it and one after.
const WINDOW_HOPS: usize = 4;
const WINDOW_HOPS_BEFORE: u64 = 2;

/// |x| from here up is within 0.0087 dB of full scale: what a clipped fixed-point file holds
/// (32767/32768 = 0.99997 for 16 bit) and what a "normalise to 0 dBFS" after clipping leaves.
const CLIP_LEVEL: f32 = 0.999;
/// Upper edge of the full-scale band (+0.0087 dB). Samples above it are float overs, not flat
/// tops; `over-full-scale` reports them, so a hot lossy decode is not also a wall of clipping.
const CLIP_BAND_HIGH: f32 = 1.001;
/// One or two samples at full scale are what a peak normalised to 0 dBFS looks like; three or
/// more in a row of the same sign are a flat top, at 44.1 and 48 kHz.
const CLIP_MIN_RUN: u64 = 3;
/// At higher rates the run scales to the same 62.5 µs, or every full-scale sine peak would count:
/// a 997 Hz sine stays within 0.0087 dB of its peak for 14 µs, 5.5 samples at 384 kHz.
const CLIP_MIN_RUN_RATE: f64 = 48_000.0;
/// Runs closer than this belong to one clipped transient or phrase and cannot be told apart on
/// the timeline at normal zoom, so they make one finding.
const MERGE_SECONDS: f64 = 0.05;
/// Findings kept per channel and kind; more would bury the list, and the rest are counted.
const MAX_SPANS: usize = 200;
/// A channel with more clipped runs than this has been clipped on purpose or by a broken chain,
/// not by one stray peak: an error rather than a warning.
const CLIP_ERROR_RUNS: u64 = 100;
/// Likewise when clipped samples make up more than 0.1 % of the file (a quarter of a second of a
/// four-minute song): the distortion is audible.
const CLIP_ERROR_FRACTION: f64 = 0.001;
/// Float samples beyond this clip when the file is converted to fixed point.
const OVER_LEVEL: f32 = 1.0;
/// −60 dBFS: a larger mean costs headroom, thumps at edits and makes fades step; converters and
/// dither stay far below it.
const DC_OFFSET_LIMIT: f64 = 0.001;
/// Wide reverbs and stereo effects dip below zero now and then; a window below −0.3 has mostly
/// anti-phase content, which loses level and bass when folded to mono.
const PHASE_CORRELATION_LIMIT: f64 = -0.3;
/// Mean power of the pair (−50 dBFS): the correlation of reverb tails and noise floors means
/// nothing and must not raise findings.
const PHASE_GATE_POWER: f64 = 1e-5;
/// Negative dips on transients and swept effects are normal; a second of them is a wiring or
/// polarity problem.
const PHASE_MIN_SECONDS: f64 = 1.0;
/// Out-of-phase passages closer than this are one problem to fix.
const PHASE_MERGE_SECONDS: f64 = 1.0;
/// When more than half of the file is out of phase, a channel's polarity is inverted: an error.
const PHASE_ERROR_FRACTION: f64 = 0.5;
/// −60 dBFS sample peak: below it nothing but noise floor and fade tails is audible in a master.
const SILENCE_PEAK: f32 = 0.001;
/// Shorter silences at the ends are ordinary handles; longer ones are worth knowing (info).
const SILENCE_INFO_SECONDS: f64 = 0.5;
/// Beyond two seconds the silence will be heard as a gap on a playlist (warning).
const SILENCE_WARNING_SECONDS: f64 = 2.0;
/// Side 60 dB below mid: no stereo information a listener could hear, so the file is mono.
const MONO_SIDE_TO_MID: f64 = 1e-6;
/// −90 dBFS sample peak: a channel below it carries no programme. Silence with 16-bit TPDF dither
/// peaks at one LSB (−90.3 dBFS) and still counts as silent.
const SILENT_CHANNEL_PEAK: f32 = 3.162_277_7e-5;

/// What to analyse besides the per-channel statistics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeDomainOptions {
    /// Per channel: part of the programme (false for LFE), for the overall figures and the
    /// silent-channel check.
    pub included: Vec<bool>,
    /// Indices of left and right, for the stereo image.
    pub stereo_pair: Option<(usize, usize)>,
}

/// Statistics of one channel over the whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelStats {
    /// None for digital silence.
    pub rms_dbfs: Option<f64>,
    /// None for digital silence.
    pub sample_peak_dbfs: Option<f64>,
    /// Mean sample value (linear, full scale = 1).
    pub dc_offset: f64,
    /// Peak over RMS in dB (3.01 dB for a sine); None for digital silence.
    pub crest_factor_db: Option<f64>,
    /// Sign changes per second: twice the frequency for a sine.
    pub zero_crossing_rate_hz: f64,
}

/// The stereo image of the chosen pair.
#[derive(Debug, Clone, PartialEq)]
pub struct StereoReport {
    /// Σ LR / √(Σ L² · Σ R²) over the whole file; None when either channel is silent.
    pub correlation: Option<f64>,
    /// 10·log10(P_S / P_M) with M = (L+R)/2, S = (L−R)/2; None when either is zero.
    pub side_to_mid_db: Option<f64>,
    /// Level lost when folding to mono: 10·log10(((P_L+P_R)/2) / P_M); 0 dB for L = R, 3.01 dB for
    /// uncorrelated equal levels; None for silence or exact anti-phase (P_M = 0).
    pub mono_compatibility_loss_db: Option<f64>,
    /// Correlation over 400 ms windows; value k is centred on k × interval. 0 where a channel
    /// is silent.
    pub correlation_series: Vec<f32>,
    /// Spacing of the series: 0.1 s (as close as the sample rate allows).
    pub width_series_interval_seconds: f64,
}

/// Everything the analyser found.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeDomainReport {
    pub channels: Vec<ChannelStats>,
    /// Over the included channels (their mean power).
    pub rms_dbfs: Option<f64>,
    /// Highest included peak over the included RMS.
    pub crest_factor_db: Option<f64>,
    /// Mean of the included channels' rates.
    pub zero_crossing_rate_hz: f64,
    /// Some when a stereo pair was given.
    pub stereo: Option<StereoReport>,
    /// Time before the first sample at or above −60 dBFS on any channel (the whole file if none).
    pub leading_silence_seconds: f64,
    /// Time after the last sample at or above −60 dBFS on any channel (the whole file if none).
    pub trailing_silence_seconds: f64,
    /// Sorted by start time.
    pub findings: Vec<QcFinding>,
}

/// Streaming analyser: `new`, `process` blocks of any size, then `finish` once.
#[derive(Debug, Clone)]
pub struct TimeDomainAnalyzer {
    sample_rate: f64,
    included: Vec<bool>,
    channels: Vec<ChannelState>,
    pair: Option<PairState>,
    /// Frames per segment (100 ms).
    hop: u64,
    /// Frames into the current segment.
    segment_pos: u64,
    /// Frames processed so far.
    frames: u64,
    finished: bool,
    /// The sums run compiled for this SIMD width (all give the same bits).
    simd: Simd,
}

/// Sums of one 100 ms segment (or of a window of them) for the correlation series.
#[derive(Debug, Clone, Copy, Default)]
struct SegmentSums {
    left_sq: f64,
    right_sq: f64,
    /// Σ (L+R)²: summed directly rather than from Σ LR, so mid power is exact for anti-phase.
    plus_sq: f64,
    /// Σ (L−R)²: summed directly so side power is exact (zero) for mono.
    minus_sq: f64,
    frames: u64,
}

impl SegmentSums {
    fn add(&mut self, other: &SegmentSums) {
        self.left_sq += other.left_sq;
        self.right_sq += other.right_sq;
        self.plus_sq += other.plus_sq;
        self.minus_sq += other.minus_sq;
        self.frames += other.frames;
    }
}

#[derive(Debug, Clone)]
struct ChannelState {
    lane_sum: [f64; LANES],
    lane_sum_sq: [f64; LANES],
    /// Σ x² of the last completed segment, for the stereo pair.
    segment_sum_sq: f64,
    sum: f64,
    sum_sq: f64,
    peak: f32,
    crossings: u64,
    /// Sign of the previous sample; None before the first.
    prev_negative: Option<bool>,
    first_loud: Option<u64>,
    last_loud: Option<u64>,
    full_scale: FullScaleTracker,
    non_finite: u64,
    non_finite_span: (u64, u64),
}

/// Runs at full scale (clipping) and beyond it (overs) on one channel, across blocks.
#[derive(Debug, Clone)]
struct FullScaleTracker {
    /// Start of the open run at positive full scale, at negative full scale, beyond full scale.
    positive: Option<u64>,
    negative: Option<u64>,
    over: Option<u64>,
    /// Shortest run that counts, in frames at this sample rate.
    min_run: u64,
    clips: SpanCollector,
    clipped_samples: u64,
    longest_clip: u64,
    overs: SpanCollector,
    over_samples: u64,
}

#[derive(Debug, Clone)]
struct PairState {
    left: usize,
    right: usize,
    /// Frames per segment, and the shortest out-of-phase run reported, in frames.
    hop: u64,
    min_phase_run: u64,
    lane_plus_sq: [f64; LANES],
    lane_minus_sq: [f64; LANES],
    plus_sq: f64,
    minus_sq: f64,
    /// The last segments, indexed by segment number modulo the window length.
    recent: [SegmentSums; WINDOW_HOPS],
    segments: u64,
    series: Vec<f32>,
    /// First window and length of the current run of out-of-phase windows.
    phase_run: Option<(u64, u64)>,
    phase_spans: SpanCollector,
    phase_windows: u64,
}

impl TimeDomainAnalyzer {
    pub fn new(
        sample_rate: f64,
        channels: usize,
        options: TimeDomainOptions,
    ) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        if options.included.len() != channels {
            return Err(DspError::Parameter {
                name: "included",
                message: format!(
                    "has {} entries for {channels} channels",
                    options.included.len()
                ),
            });
        }
        if let Some((left, right)) = options.stereo_pair {
            if left >= channels || right >= channels || left == right {
                return Err(DspError::Parameter {
                    name: "stereo_pair",
                    message: format!(
                        "({left}, {right}) must be two different channels below {channels}"
                    ),
                });
            }
        }
        let seconds_to_frames = |s: f64| (s * sample_rate).round().max(1.0) as u64;
        let merge_gap = seconds_to_frames(MERGE_SECONDS);
        let channel = ChannelState {
            lane_sum: [0.0; LANES],
            lane_sum_sq: [0.0; LANES],
            segment_sum_sq: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            peak: 0.0,
            crossings: 0,
            prev_negative: None,
            first_loud: None,
            last_loud: None,
            full_scale: FullScaleTracker {
                positive: None,
                negative: None,
                over: None,
                min_run: ((CLIP_MIN_RUN as f64 * sample_rate / CLIP_MIN_RUN_RATE).round() as u64)
                    .max(CLIP_MIN_RUN),
                clips: SpanCollector::new(merge_gap, MAX_SPANS),
                clipped_samples: 0,
                longest_clip: 0,
                overs: SpanCollector::new(merge_gap, MAX_SPANS),
                over_samples: 0,
            },
            non_finite: 0,
            non_finite_span: (0, 0),
        };
        let hop = seconds_to_frames(HOP_SECONDS);
        let pair = options.stereo_pair.map(|(left, right)| PairState {
            left,
            right,
            hop,
            min_phase_run: seconds_to_frames(PHASE_MIN_SECONDS),
            lane_plus_sq: [0.0; LANES],
            lane_minus_sq: [0.0; LANES],
            plus_sq: 0.0,
            minus_sq: 0.0,
            recent: [SegmentSums::default(); WINDOW_HOPS],
            segments: 0,
            series: Vec::new(),
            phase_run: None,
            phase_spans: SpanCollector::new(seconds_to_frames(PHASE_MERGE_SECONDS), MAX_SPANS),
            phase_windows: 0,
        });
        Ok(Self {
            sample_rate,
            included: options.included,
            channels: vec![channel; channels],
            pair,
            hop,
            segment_pos: 0,
            frames: 0,
            finished: false,
            simd: Simd::detect(),
        })
    }

    /// Analyses one planar block of any length.
    pub fn process(&mut self, planes: &[&[f32]]) -> Result<(), DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let frames = check_planes(planes, self.channels.len())?;
        let mut from = 0;
        while from < frames {
            // Pieces never straddle a segment, so each segment's sums see the same samples in the
            // same lanes whatever the block boundaries.
            let len = ((self.hop - self.segment_pos) as usize).min(frames - from);
            self.process_piece(planes, from, len);
            from += len;
            self.frames += len as u64;
            self.segment_pos += len as u64;
            if self.segment_pos == self.hop {
                self.complete_segment();
            }
        }
        Ok(())
    }

    /// Closes the analysis and returns the report. Later calls return the same report.
    pub fn finish(&mut self) -> TimeDomainReport {
        if !self.finished {
            self.finished = true;
            if self.segment_pos > 0 {
                self.complete_segment();
            }
            for channel in &mut self.channels {
                channel.full_scale.end_runs_at(self.frames);
            }
            if let Some(pair) = &mut self.pair {
                if pair.segments > 0 {
                    pair.window(pair.segments - 1);
                }
                pair.end_phase_run(Some(self.frames));
            }
        }
        self.report()
    }

    /// `process_piece_generic` compiled for the widest SIMD the CPU has. Rust never fuses
    /// `a + b * c` into an FMA instruction, and the lanes are the same, so every build computes
    /// bit-identical sums.
    #[allow(unsafe_code)]
    fn process_piece(&mut self, planes: &[&[f32]], from: usize, len: usize) {
        match self.simd {
            // SAFETY: `Simd::detect` found the features the function is compiled for.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { self.process_piece_avx512(planes, from, len) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { self.process_piece_avx2(planes, from, len) },
            Simd::Baseline => self.process_piece_generic(planes, from, len),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn process_piece_avx512(&mut self, planes: &[&[f32]], from: usize, len: usize) {
        self.process_piece_generic(planes, from, len)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn process_piece_avx2(&mut self, planes: &[&[f32]], from: usize, len: usize) {
        self.process_piece_generic(planes, from, len)
    }

    #[inline(always)]
    fn process_piece_generic(&mut self, planes: &[&[f32]], from: usize, len: usize) {
        let offset = self.segment_pos as usize;
        let base = self.frames;
        let mut sanitize_pair = false;
        for (index, (state, plane)) in self.channels.iter_mut().zip(planes).enumerate() {
            let x = &plane[from..from + len];
            let clean = state.accumulate(x, offset, base);
            if !clean
                && self
                    .pair
                    .as_ref()
                    .is_some_and(|p| p.left == index || p.right == index)
            {
                sanitize_pair = true;
            }
        }
        if let Some(pair) = &mut self.pair {
            let left = &planes[pair.left][from..from + len];
            let right = &planes[pair.right][from..from + len];
            if sanitize_pair {
                accumulate_pair::<true>(
                    left,
                    right,
                    offset,
                    &mut pair.lane_plus_sq,
                    &mut pair.lane_minus_sq,
                );
            } else {
                accumulate_pair::<false>(
                    left,
                    right,
                    offset,
                    &mut pair.lane_plus_sq,
                    &mut pair.lane_minus_sq,
                );
            }
        }
    }

    fn complete_segment(&mut self) {
        for channel in &mut self.channels {
            let sum = reduce(&channel.lane_sum);
            let sum_sq = reduce(&channel.lane_sum_sq);
            channel.sum += sum;
            channel.sum_sq += sum_sq;
            channel.segment_sum_sq = sum_sq;
            channel.lane_sum = [0.0; LANES];
            channel.lane_sum_sq = [0.0; LANES];
        }
        if let Some(pair) = &mut self.pair {
            let segment = SegmentSums {
                left_sq: self.channels[pair.left].segment_sum_sq,
                right_sq: self.channels[pair.right].segment_sum_sq,
                plus_sq: reduce(&pair.lane_plus_sq),
                minus_sq: reduce(&pair.lane_minus_sq),
                frames: self.segment_pos,
            };
            pair.lane_plus_sq = [0.0; LANES];
            pair.lane_minus_sq = [0.0; LANES];
            pair.plus_sq += segment.plus_sq;
            pair.minus_sq += segment.minus_sq;
            pair.push_segment(segment);
        }
        self.segment_pos = 0;
    }

    fn report(&self) -> TimeDomainReport {
        let fs = self.sample_rate;
        let frames = self.frames;
        let channels: Vec<ChannelStats> =
            self.channels.iter().map(|c| c.stats(frames, fs)).collect();

        let included: Vec<usize> = (0..self.channels.len())
            .filter(|&c| self.included[c])
            .collect();
        let included_sum_sq: f64 = included.iter().map(|&c| self.channels[c].sum_sq).sum();
        let included_peak = included
            .iter()
            .map(|&c| self.channels[c].peak)
            .fold(0.0f32, f32::max);
        let included_rms = if frames > 0 && !included.is_empty() {
            (included_sum_sq / (frames as f64 * included.len() as f64)).sqrt()
        } else {
            0.0
        };
        let zero_crossing_rate_hz = if included.is_empty() {
            0.0
        } else {
            included
                .iter()
                .map(|&c| channels[c].zero_crossing_rate_hz)
                .sum::<f64>()
                / included.len() as f64
        };

        let duration = frames as f64 / fs;
        let first_loud = self.channels.iter().filter_map(|c| c.first_loud).min();
        let last_loud = self.channels.iter().filter_map(|c| c.last_loud).max();
        let (leading, trailing) = match (first_loud, last_loud) {
            (Some(first), Some(last)) => (first as f64 / fs, (frames - last - 1) as f64 / fs),
            _ => (duration, duration),
        };

        TimeDomainReport {
            rms_dbfs: amplitude_db(included_rms),
            crest_factor_db: ratio_db(f64::from(included_peak), included_rms),
            zero_crossing_rate_hz,
            stereo: self.pair.as_ref().map(|p| self.stereo_report(p)),
            leading_silence_seconds: leading,
            trailing_silence_seconds: trailing,
            findings: self.findings(first_loud.is_some(), leading, trailing),
            channels,
        }
    }

    fn stereo_report(&self, pair: &PairState) -> StereoReport {
        let left_sq = self.channels[pair.left].sum_sq;
        let right_sq = self.channels[pair.right].sum_sq;
        StereoReport {
            correlation: correlation(left_sq, right_sq, pair.plus_sq, pair.minus_sq),
            side_to_mid_db: (pair.plus_sq > 0.0 && pair.minus_sq > 0.0)
                .then(|| 10.0 * (pair.minus_sq / pair.plus_sq).log10()),
            // P_M = Σ(L+R)²/4n and (P_L+P_R)/2 = (ΣL²+ΣR²)/2n, so the ratio is 2(ΣL²+ΣR²)/Σ(L+R)².
            mono_compatibility_loss_db: (pair.plus_sq > 0.0 && left_sq + right_sq > 0.0)
                .then(|| 10.0 * (2.0 * (left_sq + right_sq) / pair.plus_sq).log10()),
            correlation_series: pair.series.clone(),
            width_series_interval_seconds: self.hop as f64 / self.sample_rate,
        }
    }

    fn findings(&self, has_sound: bool, leading: f64, trailing: f64) -> Vec<QcFinding> {
        let mut findings = Vec::new();
        for (index, channel) in self.channels.iter().enumerate() {
            self.channel_findings(index, channel, &mut findings);
        }
        self.silence_findings(has_sound, leading, trailing, &mut findings);
        self.silent_channel_findings(&mut findings);
        if let Some(pair) = &self.pair {
            self.stereo_findings(pair, &mut findings);
        }
        // Stable, so each channel's capped list keeps its "N more" note last.
        findings.sort_by(|a, b| a.start_seconds.total_cmp(&b.start_seconds));
        findings
    }

    fn seconds(&self, frame: u64) -> f64 {
        frame.min(self.frames) as f64 / self.sample_rate
    }

    fn duration_seconds(&self) -> f64 {
        self.frames as f64 / self.sample_rate
    }

    /// Clipping, overs, DC offset and non-finite samples of one channel.
    fn channel_findings(
        &self,
        index: usize,
        channel: &ChannelState,
        findings: &mut Vec<QcFinding>,
    ) {
        let frames = self.frames;
        let duration = self.duration_seconds();
        let seconds = |frame: u64| self.seconds(frame);
        let name = index + 1;
        let tracker = &channel.full_scale;

        let runs = tracker.clips.total_events();
        let clipped_fraction = tracker.clipped_samples as f64 / frames.max(1) as f64;
        let severity = if runs > CLIP_ERROR_RUNS || clipped_fraction > CLIP_ERROR_FRACTION {
            Severity::Error
        } else {
            Severity::Warning
        };
        let spans = tracker.clips.spans();
        for (i, &(start, end, count)) in spans.iter().enumerate() {
            let mut message = format!(
                "Clipping on channel {name} from {:.3} s to {:.3} s: {count} run(s) of {} or more samples at full scale. \
                 Channel total: {runs} runs, {} clipped samples ({:.3} % of the file), longest run {} samples.",
                seconds(start),
                seconds(end),
                tracker.min_run,
                tracker.clipped_samples,
                100.0 * clipped_fraction,
                tracker.longest_clip,
            );
            if i + 1 == spans.len() && tracker.clips.dropped_spans() > 0 {
                message.push_str(&format!(
                    " {} more clipped runs on this channel are not listed.",
                    tracker.clips.dropped_spans()
                ));
            }
            findings.push(QcFinding {
                kind: "clipping",
                severity,
                start_seconds: seconds(start),
                end_seconds: seconds(end),
                channel: Some(index),
                message,
            });
        }

        let spans = tracker.overs.spans();
        let peak_db = amplitude_db(f64::from(channel.peak)).unwrap_or(0.0);
        for (i, &(start, end, _)) in spans.iter().enumerate() {
            let mut message = format!(
                "Channel {name} goes beyond full scale from {:.3} s to {:.3} s \
                 ({} samples over in the file, peak {peak_db:+.2} dBFS): they will clip when converted \
                 to fixed point; lower the level by at least {peak_db:.2} dB.",
                seconds(start),
                seconds(end),
                tracker.over_samples,
            );
            if i + 1 == spans.len() && tracker.overs.dropped_spans() > 0 {
                message.push_str(&format!(
                    " {} more passages beyond full scale on this channel are not listed.",
                    tracker.overs.dropped_spans()
                ));
            }
            findings.push(QcFinding {
                kind: "over-full-scale",
                severity: Severity::Warning,
                start_seconds: seconds(start),
                end_seconds: seconds(end),
                channel: Some(index),
                message,
            });
        }

        let dc = if frames > 0 {
            channel.sum / frames as f64
        } else {
            0.0
        };
        if dc.abs() > DC_OFFSET_LIMIT {
            findings.push(QcFinding {
                kind: "dc-offset",
                severity: Severity::Warning,
                start_seconds: 0.0,
                end_seconds: duration,
                channel: Some(index),
                message: format!(
                    "Channel {name} has a DC offset of {dc:+.5} ({:.1} dBFS): it costs headroom and thumps at \
                     edits; remove it with a DC filter or a high-pass below 10 Hz.",
                    20.0 * dc.abs().log10()
                ),
            });
        }

        if channel.non_finite > 0 {
            let (start, end) = channel.non_finite_span;
            findings.push(QcFinding {
                kind: "non-finite",
                severity: Severity::Error,
                start_seconds: seconds(start),
                end_seconds: seconds(end + 1),
                channel: Some(index),
                message: format!(
                    "Channel {name} has {} NaN or infinite samples between {:.3} s and {:.3} s; the \
                     statistics read them as silence. The decoder or a plugin produced them.",
                    channel.non_finite,
                    seconds(start),
                    seconds(end + 1)
                ),
            });
        }
    }

    /// Silence at the ends, across all channels.
    fn silence_findings(
        &self,
        has_sound: bool,
        leading: f64,
        trailing: f64,
        findings: &mut Vec<QcFinding>,
    ) {
        let frames = self.frames;
        let duration = self.duration_seconds();
        if !has_sound && frames > 0 && duration > SILENCE_INFO_SECONDS {
            findings.push(QcFinding {
                kind: "leading-silence",
                severity: silence_severity(duration),
                start_seconds: 0.0,
                end_seconds: duration,
                channel: None,
                message: format!(
                    "The whole file ({duration:.2} s) is silent: no sample reaches −60 dBFS."
                ),
            });
        } else if has_sound {
            if leading > SILENCE_INFO_SECONDS {
                findings.push(QcFinding {
                    kind: "leading-silence",
                    severity: silence_severity(leading),
                    start_seconds: 0.0,
                    end_seconds: leading,
                    channel: None,
                    message: format!(
                        "{leading:.2} s of silence (peak below −60 dBFS) before the first sound."
                    ),
                });
            }
            if trailing > SILENCE_INFO_SECONDS {
                findings.push(QcFinding {
                    kind: "trailing-silence",
                    severity: silence_severity(trailing),
                    start_seconds: duration - trailing,
                    end_seconds: duration,
                    channel: None,
                    message: format!(
                        "{trailing:.2} s of silence (peak below −60 dBFS) after the last sound."
                    ),
                });
            }
        }
    }

    /// Programme channels with nothing in them while others carry signal.
    fn silent_channel_findings(&self, findings: &mut Vec<QcFinding>) {
        let duration = self.duration_seconds();
        for (index, channel) in self.channels.iter().enumerate() {
            let others_carry = self
                .channels
                .iter()
                .enumerate()
                .any(|(other, c)| other != index && c.carries_signal());
            if self.included[index] && !channel.carries_signal() && others_carry {
                let peak = amplitude_db(f64::from(channel.peak))
                    .map_or("digital silence".to_string(), |db| {
                        format!("peak {db:.1} dBFS")
                    });
                findings.push(QcFinding {
                    kind: "silent-channel",
                    severity: Severity::Warning,
                    start_seconds: 0.0,
                    end_seconds: duration,
                    channel: Some(index),
                    message: format!(
                        "Channel {} is silent ({peak}, below −90 dBFS) while other channels carry signal.",
                        index + 1
                    ),
                });
            }
        }
    }

    /// Mono carried as stereo, and out-of-phase passages.
    fn stereo_findings(&self, pair: &PairState, findings: &mut Vec<QcFinding>) {
        let fs = self.sample_rate;
        let frames = self.frames;
        let duration = self.duration_seconds();
        let seconds = |frame: u64| self.seconds(frame);
        let pair_carries =
            self.channels[pair.left].carries_signal() || self.channels[pair.right].carries_signal();
        if pair_carries && pair.plus_sq > 0.0 && pair.minus_sq <= MONO_SIDE_TO_MID * pair.plus_sq {
            let how = if pair.minus_sq == 0.0 {
                "identical".to_string()
            } else {
                format!(
                    "nearly identical (side {:.1} dB below mid)",
                    -10.0 * (pair.minus_sq / pair.plus_sq).log10()
                )
            };
            findings.push(QcFinding {
                kind: "mono-as-stereo",
                severity: Severity::Info,
                start_seconds: 0.0,
                end_seconds: duration,
                channel: None,
                message: format!(
                    "Channels {} and {} are {how} over the whole file: the stereo file carries mono.",
                    pair.left + 1,
                    pair.right + 1
                ),
            });
        }

        let out_of_phase = pair.phase_windows * self.hop;
        let severity = if out_of_phase as f64 > PHASE_ERROR_FRACTION * frames as f64 {
            Severity::Error
        } else {
            Severity::Warning
        };
        let whole = correlation(
            self.channels[pair.left].sum_sq,
            self.channels[pair.right].sum_sq,
            pair.plus_sq,
            pair.minus_sq,
        )
        .unwrap_or(0.0);
        let spans = pair.phase_spans.spans();
        for (i, &(start, end, _)) in spans.iter().enumerate() {
            let mut message = format!(
                "Channels {} and {} are out of phase from {:.2} s to {:.2} s (400 ms correlation below \
                 {PHASE_CORRELATION_LIMIT:.1}; {:.1} s of the file in all, whole-file correlation {whole:+.2}): \
                 the mix loses level and bass in mono. Check the polarity of one channel.",
                pair.left + 1,
                pair.right + 1,
                seconds(start),
                seconds(end),
                out_of_phase as f64 / fs,
            );
            if i + 1 == spans.len() && pair.phase_spans.dropped_spans() > 0 {
                message.push_str(&format!(
                    " {} more out-of-phase passages are not listed.",
                    pair.phase_spans.dropped_spans()
                ));
            }
            findings.push(QcFinding {
                kind: "phase",
                severity,
                start_seconds: seconds(start),
                end_seconds: seconds(end),
                channel: None,
                message,
            });
        }
    }
}

impl ChannelState {
    /// Adds one piece (within one segment) to the statistics and scans it for events. Returns
    /// false when it held non-finite samples, which were then read as zero.
    #[inline(always)]
    fn accumulate(&mut self, x: &[f32], offset: usize, base: u64) -> bool {
        let (saved_sum, saved_sum_sq) = (self.lane_sum, self.lane_sum_sq);
        let mut peak =
            accumulate_channel::<false>(x, offset, &mut self.lane_sum, &mut self.lane_sum_sq);
        // A NaN or infinity anywhere in the piece leaves a non-finite square in its lane, which
        // is cheaper to test than every sample; such pieces are redone reading them as zero.
        let clean = self.lane_sum_sq.iter().all(|s| s.is_finite());
        if !clean {
            self.lane_sum = saved_sum;
            self.lane_sum_sq = saved_sum_sq;
            peak = accumulate_channel::<true>(x, offset, &mut self.lane_sum, &mut self.lane_sum_sq);
            for (i, v) in x.iter().enumerate() {
                if !v.is_finite() {
                    let frame = base + i as u64;
                    if self.non_finite == 0 {
                        self.non_finite_span.0 = frame;
                    }
                    self.non_finite_span.1 = frame;
                    self.non_finite += 1;
                }
            }
        }
        self.peak = self.peak.max(peak);

        self.crossings += count_crossings(x, self.prev_negative);
        if let Some(&last) = x.last() {
            self.prev_negative = Some(last < 0.0);
        }

        if peak >= CLIP_LEVEL {
            self.full_scale.scan(x, base);
        } else {
            self.full_scale.end_runs_at(base);
        }

        if peak >= SILENCE_PEAK {
            let loud = |v: &f32| v.abs() >= SILENCE_PEAK && v.is_finite();
            if self.first_loud.is_none() {
                self.first_loud = x.iter().position(loud).map(|i| base + i as u64);
            }
            if let Some(i) = x.iter().rposition(loud) {
                self.last_loud = Some(base + i as u64);
            }
        }
        clean
    }

    fn carries_signal(&self) -> bool {
        self.peak >= SILENT_CHANNEL_PEAK
    }

    fn stats(&self, frames: u64, fs: f64) -> ChannelStats {
        let n = frames.max(1) as f64;
        let rms = (self.sum_sq / n).sqrt();
        let peak = f64::from(self.peak);
        ChannelStats {
            rms_dbfs: amplitude_db(rms),
            sample_peak_dbfs: amplitude_db(peak),
            dc_offset: self.sum / n,
            crest_factor_db: ratio_db(peak, rms),
            zero_crossing_rate_hz: self.crossings as f64 * fs / n,
        }
    }
}

impl FullScaleTracker {
    /// Follows runs through a piece whose peak reached the clipping level, 64 samples at a time:
    /// each chunk becomes bit masks (vectorised compares), and only the bits where a mask
    /// changes, the starts and ends of runs, are visited. A branch per sample would cost 5 ns a
    /// sample on a master clipped throughout, where the sign flips every few samples.
    fn scan(&mut self, x: &[f32], base: u64) {
        for (i, chunk) in x.chunks(MASK_BITS).enumerate() {
            let start = base + (i * MASK_BITS) as u64;
            let (positive, negative, over) = full_scale_masks(chunk);
            let valid = u64::MAX >> (MASK_BITS - chunk.len());
            let changes = |mask: u64, open: &Option<u64>| {
                (mask ^ ((mask << 1) | u64::from(open.is_some()))) & valid
            };
            let positive_changes = changes(positive, &self.positive);
            let negative_changes = changes(negative, &self.negative);
            let over_changes = changes(over, &self.over);
            // Both signs in one pass in time order, so runs reach the collector in order. At a
            // frame where one sign's run ends and the other's starts, only one of them adds.
            let mut bits = positive_changes | negative_changes;
            while bits != 0 {
                let k = bits.trailing_zeros();
                bits &= bits - 1;
                let frame = start + u64::from(k);
                if (positive_changes >> k) & 1 == 1 {
                    match self.positive.take() {
                        Some(run_start) => self.add_clip(run_start, frame),
                        None => self.positive = Some(frame),
                    }
                }
                if (negative_changes >> k) & 1 == 1 {
                    match self.negative.take() {
                        Some(run_start) => self.add_clip(run_start, frame),
                        None => self.negative = Some(frame),
                    }
                }
            }
            let mut bits = over_changes;
            while bits != 0 {
                let k = bits.trailing_zeros();
                bits &= bits - 1;
                let frame = start + u64::from(k);
                match self.over.take() {
                    Some(run_start) => self.overs.add(run_start, frame),
                    None => self.over = Some(frame),
                }
            }
            self.over_samples += u64::from(over.count_ones());
        }
    }

    fn add_clip(&mut self, start: u64, end: u64) {
        let len = end - start;
        if len >= self.min_run {
            self.clips.add(start, end);
            self.clipped_samples += len;
            self.longest_clip = self.longest_clip.max(len);
        }
    }

    fn end_runs_at(&mut self, frame: u64) {
        if let Some(start) = self.positive.take() {
            self.add_clip(start, frame);
        }
        if let Some(start) = self.negative.take() {
            self.add_clip(start, frame);
        }
        if let Some(start) = self.over.take() {
            self.overs.add(start, frame);
        }
    }
}

/// Chunk length of the run scanner: one bit per sample in a u64.
const MASK_BITS: usize = 64;

/// Bit k set where sample k is at positive full scale, at negative full scale, beyond full scale.
// `&` of two compares rather than `RangeInclusive::contains`, whose `&&` measured 15 % slower on
// a master clipped throughout.
#[allow(clippy::manual_range_contains)]
fn full_scale_masks(chunk: &[f32]) -> (u64, u64, u64) {
    // One byte of flags per sample first: compares producing bytes vectorise, building the
    // u64 masks bit by bit does not (2 ns a sample).
    let mut flags = [0u8; MASK_BITS];
    for (flag, &v) in flags.iter_mut().zip(chunk) {
        let positive = (v >= CLIP_LEVEL) & (v <= CLIP_BAND_HIGH);
        let negative = (v <= -CLIP_LEVEL) & (v >= -CLIP_BAND_HIGH);
        let magnitude = v.abs();
        // Infinity is left to the non-finite finding.
        let over = (magnitude > OVER_LEVEL) & (magnitude <= f32::MAX);
        // Combined in 32-bit lanes, narrowed to a byte once.
        let code = u32::from(positive) | (u32::from(negative) << 1) | (u32::from(over) << 2);
        *flag = code as u8;
    }
    let (mut positive, mut negative, mut over) = (0u64, 0u64, 0u64);
    for (group, bytes) in flags.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
        let shift = 8 * group;
        positive |= gather_bits(word) << shift;
        negative |= gather_bits(word >> 1) << shift;
        over |= gather_bits(word >> 2) << shift;
    }
    (positive, negative, over)
}

/// The low bit of each of the eight bytes of `word`, byte i to bit i. The multiplier moves byte
/// i's bit to bit 56 + i without carries; the product's other bits are discarded.
#[inline(always)]
fn gather_bits(word: u64) -> u64 {
    ((word & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

impl PairState {
    fn push_segment(&mut self, segment: SegmentSums) {
        self.recent[(self.segments % WINDOW_HOPS as u64) as usize] = segment;
        self.segments += 1;
        // Window k reaches one segment past its centre, so it is complete with segment k + 1.
        if self.segments >= 2 {
            self.window(self.segments - 2);
        }
    }

    /// Evaluates the window centred on segment `k`, over the segments available up to now.
    fn window(&mut self, k: u64) {
        let first = k.saturating_sub(WINDOW_HOPS_BEFORE);
        let last = (k + WINDOW_HOPS as u64 - 1 - WINDOW_HOPS_BEFORE).min(self.segments - 1);
        let mut sums = SegmentSums::default();
        for j in first..=last {
            sums.add(&self.recent[(j % WINDOW_HOPS as u64) as usize]);
        }
        let value = correlation(sums.left_sq, sums.right_sq, sums.plus_sq, sums.minus_sq);
        self.series.push(value.unwrap_or(0.0) as f32);

        let power = (sums.left_sq + sums.right_sq) / (2 * sums.frames.max(1)) as f64;
        let out_of_phase =
            power > PHASE_GATE_POWER && value.is_some_and(|c| c < PHASE_CORRELATION_LIMIT);
        if out_of_phase {
            let run = self.phase_run.get_or_insert((k, 0));
            run.1 += 1;
        } else {
            self.end_phase_run(None);
        }
    }

    /// Closes a run of out-of-phase windows; `file_end` is given when the run reaches the last
    /// window, which stands for the rest of the file.
    fn end_phase_run(&mut self, file_end: Option<u64>) {
        let hop = self.hop;
        if let Some((first, count)) = self.phase_run.take() {
            if count * hop >= self.min_phase_run {
                // Each window stands for the hop around its centre.
                let start = (first * hop).saturating_sub(hop / 2);
                let end = file_end.unwrap_or((first + count) * hop - hop / 2);
                self.phase_spans.add(start, end);
                self.phase_windows += count;
            }
        }
    }
}

/// Phase-meter correlation from the sums; None when either channel is silent.
fn correlation(left_sq: f64, right_sq: f64, plus_sq: f64, minus_sq: f64) -> Option<f64> {
    let denominator = (left_sq * right_sq).sqrt();
    // Σ LR = (Σ(L+R)² − Σ(L−R)²) / 4; rounding can push the ratio a hair past ±1.
    (denominator > 0.0).then(|| ((plus_sq - minus_sq) / (4.0 * denominator)).clamp(-1.0, 1.0))
}

fn amplitude_db(linear: f64) -> Option<f64> {
    (linear > 0.0 && linear.is_finite()).then(|| 20.0 * linear.log10())
}

fn ratio_db(peak: f64, rms: f64) -> Option<f64> {
    (peak > 0.0 && rms > 0.0).then(|| 20.0 * (peak / rms).log10())
}

fn silence_severity(seconds: f64) -> Severity {
    if seconds > SILENCE_WARNING_SECONDS {
        Severity::Warning
    } else {
        Severity::Info
    }
}

/// Sums the lanes in a fixed order, so the result does not depend on how the lanes were filled.
fn reduce(lanes: &[f64; LANES]) -> f64 {
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

#[inline(always)]
fn finite_or_zero<const SANITIZE: bool>(v: f32) -> f32 {
    if SANITIZE && !v.is_finite() {
        0.0
    } else {
        v
    }
}

#[inline(always)]
fn add_sample<const SANITIZE: bool>(v: f32, sum: &mut f64, sum_sq: &mut f64, peak: &mut f32) {
    let v = finite_or_zero::<SANITIZE>(v);
    let d = f64::from(v);
    *sum += d;
    *sum_sq += d * d;
    let magnitude = v.abs();
    // A comparison rather than f32::max, which must order NaN and does not vectorise as well.
    *peak = if magnitude > *peak { magnitude } else { *peak };
}

/// Adds `x`, which starts `offset` frames into its segment, to the lane sums, sample i going to
/// lane (offset + i) mod 8; returns the largest |x|.
#[inline(always)]
fn accumulate_channel<const SANITIZE: bool>(
    x: &[f32],
    offset: usize,
    lane_sum: &mut [f64; LANES],
    lane_sum_sq: &mut [f64; LANES],
) -> f32 {
    let (mut sum, mut sum_sq) = (*lane_sum, *lane_sum_sq);
    let mut peak = [0.0f32; LANES];
    let head = ((LANES - offset % LANES) % LANES).min(x.len());
    let (head_x, body) = x.split_at(head);
    for (i, &v) in head_x.iter().enumerate() {
        let lane = (offset + i) % LANES;
        add_sample::<SANITIZE>(v, &mut sum[lane], &mut sum_sq[lane], &mut peak[lane]);
    }
    let chunks = body.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            add_sample::<SANITIZE>(chunk[k], &mut sum[k], &mut sum_sq[k], &mut peak[k]);
        }
    }
    for (k, &v) in tail.iter().enumerate() {
        add_sample::<SANITIZE>(v, &mut sum[k], &mut sum_sq[k], &mut peak[k]);
    }
    *lane_sum = sum;
    *lane_sum_sq = sum_sq;
    peak.iter().fold(0.0, |m, &p| if p > m { p } else { m })
}

#[inline(always)]
fn add_frame<const SANITIZE: bool>(l: f32, r: f32, plus_sq: &mut f64, minus_sq: &mut f64) {
    let l = f64::from(finite_or_zero::<SANITIZE>(l));
    let r = f64::from(finite_or_zero::<SANITIZE>(r));
    let (plus, minus) = (l + r, l - r);
    *plus_sq += plus * plus;
    *minus_sq += minus * minus;
}

/// The stereo pair's counterpart of `accumulate_channel`.
#[inline(always)]
fn accumulate_pair<const SANITIZE: bool>(
    left: &[f32],
    right: &[f32],
    offset: usize,
    lane_plus_sq: &mut [f64; LANES],
    lane_minus_sq: &mut [f64; LANES],
) {
    let (mut plus_sq, mut minus_sq) = (*lane_plus_sq, *lane_minus_sq);
    let head = ((LANES - offset % LANES) % LANES).min(left.len());
    let (head_l, body_l) = left.split_at(head);
    let (head_r, body_r) = right.split_at(head);
    for (i, (&l, &r)) in head_l.iter().zip(head_r).enumerate() {
        let lane = (offset + i) % LANES;
        add_frame::<SANITIZE>(l, r, &mut plus_sq[lane], &mut minus_sq[lane]);
    }
    let chunks_l = body_l.chunks_exact(LANES);
    let chunks_r = body_r.chunks_exact(LANES);
    let (tail_l, tail_r) = (chunks_l.remainder(), chunks_r.remainder());
    for (cl, cr) in chunks_l.zip(chunks_r) {
        for k in 0..LANES {
            add_frame::<SANITIZE>(cl[k], cr[k], &mut plus_sq[k], &mut minus_sq[k]);
        }
    }
    for (k, (&l, &r)) in tail_l.iter().zip(tail_r).enumerate() {
        add_frame::<SANITIZE>(l, r, &mut plus_sq[k], &mut minus_sq[k]);
    }
    *lane_plus_sq = plus_sq;
    *lane_minus_sq = minus_sq;
}

/// Sign changes in `x`, including the one from the previous piece's last sample. Integer
/// counts, so the lanes may be filled in any order.
#[inline(always)]
fn count_crossings(x: &[f32], prev_negative: Option<bool>) -> u64 {
    let Some(&first) = x.first() else {
        return 0;
    };
    let mut count = u64::from(prev_negative.is_some_and(|p| p != (first < 0.0)));
    let before = x[..x.len() - 1].chunks_exact(LANES);
    let after = x[1..].chunks_exact(LANES);
    let (tail_before, tail_after) = (before.remainder(), after.remainder());
    let mut lanes = [0u32; LANES];
    for (b, a) in before.zip(after) {
        for k in 0..LANES {
            lanes[k] += u32::from((b[k] < 0.0) != (a[k] < 0.0));
        }
    }
    for (b, a) in tail_before.iter().zip(tail_after) {
        count += u64::from((*b < 0.0) != (*a < 0.0));
    }
    count + lanes.iter().map(|&c| u64::from(c)).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten-line xorshift64 (Marsaglia's 13/7/17 triple): reproducible noise without a crate.
    struct XorShift(u64);
    impl XorShift {
        fn new(seed: u64) -> Self {
            Self(seed.max(1))
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Uniform in [−1, 1), 24 bits so every value is exact in f32.
        fn uniform(&mut self) -> f32 {
            (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    /// First difference of uniform noise: white noise has real energy at DC (its mean wanders
    /// by 1/√N and would trip the DC check), the difference telescopes to a mean of ~1/N.
    /// Peak below `amplitude`; adjacent samples correlate by −0.5.
    fn noise(seed: u64, amplitude: f32, frames: usize) -> Vec<f32> {
        let mut rng = XorShift::new(seed);
        let mut previous = rng.uniform();
        (0..frames)
            .map(|_| {
                let next = rng.uniform();
                let v = amplitude * 0.5 * (next - previous);
                previous = next;
                v
            })
            .collect()
    }

    fn sine(fs: f64, freq: f64, amplitude: f64, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|n| (amplitude * (std::f64::consts::TAU * freq * n as f64 / fs).sin()) as f32)
            .collect()
    }

    fn stereo() -> TimeDomainOptions {
        TimeDomainOptions {
            included: vec![true, true],
            stereo_pair: Some((0, 1)),
        }
    }

    fn mono() -> TimeDomainOptions {
        TimeDomainOptions {
            included: vec![true],
            stereo_pair: None,
        }
    }

    fn analyze(
        fs: f64,
        planes: &[Vec<f32>],
        options: TimeDomainOptions,
        block: usize,
    ) -> TimeDomainReport {
        let mut analyzer = TimeDomainAnalyzer::new(fs, planes.len(), options).unwrap();
        let frames = planes[0].len();
        let mut from = 0;
        while from < frames {
            let to = (from + block).min(frames);
            let views: Vec<&[f32]> = planes.iter().map(|p| &p[from..to]).collect();
            analyzer.process(&views).unwrap();
            from = to;
        }
        analyzer.finish()
    }

    fn of_kind<'a>(report: &'a TimeDomainReport, kind: &str) -> Vec<&'a QcFinding> {
        report.findings.iter().filter(|f| f.kind == kind).collect()
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{what}: {actual} vs {expected} (tolerance {tolerance})"
        );
    }

    /// A report must never carry NaN or infinity, whatever the input.
    fn assert_finite(report: &TimeDomainReport) {
        let mut values = vec![
            report.rms_dbfs,
            report.crest_factor_db,
            Some(report.zero_crossing_rate_hz),
            Some(report.leading_silence_seconds),
            Some(report.trailing_silence_seconds),
        ];
        for c in &report.channels {
            values.extend([
                c.rms_dbfs,
                c.sample_peak_dbfs,
                Some(c.dc_offset),
                c.crest_factor_db,
                Some(c.zero_crossing_rate_hz),
            ]);
        }
        if let Some(s) = &report.stereo {
            values.extend([
                s.correlation,
                s.side_to_mid_db,
                s.mono_compatibility_loss_db,
                Some(s.width_series_interval_seconds),
            ]);
            values.extend(s.correlation_series.iter().map(|&v| Some(f64::from(v))));
        }
        for f in &report.findings {
            values.extend([Some(f.start_seconds), Some(f.end_seconds)]);
            for bad in ["NaN dB", "NaN s", "NaN %", "inf dB", "inf s", "inf %"] {
                assert!(!f.message.contains(bad), "{}", f.message);
            }
        }
        assert!(
            values.iter().flatten().all(|v| v.is_finite()),
            "non-finite value in {report:?}"
        );
    }

    #[test]
    fn sine_rms_peak_and_crest_match_analytic_values() {
        for fs in [8_000.0, 44_100.0, 48_000.0, 384_000.0] {
            // 2.0 goes 6 dB beyond full scale: it must be measured, not clipped.
            for amplitude in [1.0, 0.5, 0.1, 2.0] {
                let frames = (2.0 * fs) as usize;
                let x = sine(fs, 997.0, amplitude, frames);
                let report = analyze(fs, &[x], mono(), 4096);
                let stats = &report.channels[0];
                let rms_expected = 20.0 * (amplitude / 2f64.sqrt()).log10();
                // Σ sin² over a non-integer number of periods is off by at most
                // 1 / (2N |sin ω|) relative (≤ 1e-4 here at 8 kHz) plus f32 rounding (6e-8):
                // 0.001 dB leaves a margin of two.
                assert_close(stats.rms_dbfs.unwrap(), rms_expected, 1e-3, "rms");
                assert_close(report.rms_dbfs.unwrap(), rms_expected, 1e-3, "overall rms");
                // 997 and fs are coprime, so the samples visit phases 2π/fs apart: the sample
                // peak is within 1 − cos(π/fs) (< 1e-7) of the amplitude.
                let peak_expected = 20.0 * amplitude.log10();
                assert_close(stats.sample_peak_dbfs.unwrap(), peak_expected, 1e-3, "peak");
                assert_close(stats.crest_factor_db.unwrap(), 3.0103, 2e-3, "crest");
                assert_close(
                    report.crest_factor_db.unwrap(),
                    3.0103,
                    2e-3,
                    "overall crest",
                );
                assert!(
                    of_kind(&report, "clipping").is_empty(),
                    "fs {fs} a {amplitude}"
                );
                assert_eq!(
                    of_kind(&report, "over-full-scale").is_empty(),
                    amplitude <= 1.0,
                    "fs {fs} a {amplitude}"
                );
            }
        }
    }

    #[test]
    fn zero_crossing_rate_of_a_sine_is_twice_its_frequency() {
        let fs = 48_000.0;
        let seconds = 3.0;
        for freq in [50.3, 997.0, 3_001.0] {
            let x = sine(fs, freq, 0.5, (seconds * fs) as usize);
            let report = analyze(fs, &[x], mono(), 1000);
            // The count can be one off at each end of the file: ±2 crossings over 3 s.
            assert_close(
                report.channels[0].zero_crossing_rate_hz,
                2.0 * freq,
                2.0 / seconds,
                "zcr",
            );
            assert_eq!(
                report.zero_crossing_rate_hz,
                report.channels[0].zero_crossing_rate_hz
            );
        }
    }

    #[test]
    fn dc_offset_is_measured_exactly() {
        let fs = 48_000.0;
        let frames = 96_000;
        // 0.25 and its multiples up to 24 000 are exact in f64: the mean must be exact.
        let constant = vec![0.25f32; frames];
        // 0.01 + a sine: 2 s hold exactly 1994 periods, so the sine sums to zero but for
        // rounding, and rounding each sample to f32 moves the mean by at most 3e-8 (half an ulp
        // of 0.51): 1e-6 is a wide margin.
        let dc: f64 = 0.01;
        let with_sine: Vec<f32> = sine(fs, 997.0, 0.5, frames)
            .iter()
            .map(|&s| (f64::from(s) + dc) as f32)
            .collect();
        let clean = sine(fs, 997.0, 0.5, frames);
        let report = analyze(
            fs,
            &[constant, with_sine, clean],
            TimeDomainOptions {
                included: vec![true; 3],
                stereo_pair: None,
            },
            333,
        );
        assert_eq!(report.channels[0].dc_offset, 0.25);
        assert_close(
            report.channels[0].rms_dbfs.unwrap(),
            20.0 * 0.25f64.log10(),
            1e-12,
            "dc rms",
        );
        assert_eq!(report.channels[0].zero_crossing_rate_hz, 0.0);
        assert_close(report.channels[1].dc_offset, dc, 1e-6, "dc + sine");
        let found: Vec<_> = of_kind(&report, "dc-offset")
            .iter()
            .map(|f| f.channel)
            .collect();
        assert_eq!(found, vec![Some(0), Some(1)]);
        let finding = of_kind(&report, "dc-offset")[1];
        assert_eq!((finding.start_seconds, finding.end_seconds), (0.0, 2.0));
        assert!(finding.message.contains("+0.01000"), "{}", finding.message);
    }

    #[test]
    fn correlation_and_mono_loss_of_identical_opposite_and_independent_channels() {
        let fs = 48_000.0;
        let frames = 480_000;
        let seed = 0x5EED_0001;
        let a = noise(seed, 0.5, frames);
        let b = noise(seed ^ 0xABCDEF, 0.5, frames);

        // Identical: Σ(L+R)² is exactly 4 ΣL², so only the final sqrt can cost an ulp or two.
        let report = analyze(fs, &[a.clone(), a.clone()], stereo(), 4096);
        let s = report.stereo.as_ref().unwrap();
        assert_close(s.correlation.unwrap(), 1.0, 1e-12, "L = R correlation");
        assert_close(
            s.mono_compatibility_loss_db.unwrap(),
            0.0,
            1e-12,
            "L = R loss",
        );
        assert_eq!(s.side_to_mid_db, None, "side is exactly zero");
        assert!(s.correlation_series.iter().all(|&c| (c - 1.0).abs() < 1e-6));
        assert_eq!(of_kind(&report, "mono-as-stereo").len(), 1);
        assert!(of_kind(&report, "phase").is_empty());

        // Opposite: the mid is exactly zero, so the loss is undefined.
        let inverted: Vec<f32> = a.iter().map(|v| -v).collect();
        let report = analyze(fs, &[a.clone(), inverted], stereo(), 4096);
        let s = report.stereo.as_ref().unwrap();
        assert_close(s.correlation.unwrap(), -1.0, 1e-12, "L = −R correlation");
        assert_eq!(s.mono_compatibility_loss_db, None);
        assert_eq!(s.side_to_mid_db, None);
        let phase = of_kind(&report, "phase");
        assert_eq!(phase.len(), 1);
        assert_eq!(
            phase[0].severity,
            Severity::Error,
            "the whole file is inverted"
        );
        assert_eq!((phase[0].start_seconds, phase[0].end_seconds), (0.0, 10.0));

        // Independent: the correlation of N pairs of independent first-difference noises has a
        // standard deviation of √((1 + 2 × 0.5²)/N) = 1.22/√N; 6σ is never exceeded by chance.
        // The loss is −10 log10(1 + 2ΣLR/(ΣL²+ΣR²)) and |2ΣLR/(ΣL²+ΣR²)| ≤ |correlation|, so it
        // is within 4.35 × 6σ dB of 3.0103; side-to-mid likewise within 8.7 × 6σ dB of 0.
        let report = analyze(fs, &[a, b], stereo(), 4096);
        let s = report.stereo.as_ref().unwrap();
        let bound = 6.0 * 1.5f64.sqrt() / (frames as f64).sqrt();
        assert!(
            s.correlation.unwrap().abs() < bound,
            "seed {seed:#x}: correlation {:?}",
            s.correlation
        );
        assert_close(
            s.mono_compatibility_loss_db.unwrap(),
            10.0 * 2f64.log10(),
            4.35 * bound,
            &format!("seed {seed:#x}: independent loss"),
        );
        assert_close(s.side_to_mid_db.unwrap(), 0.0, 8.7 * bound, "side to mid");
        assert!(
            report.findings.is_empty(),
            "seed {seed:#x}: {:?}",
            report.findings
        );
    }

    #[test]
    fn silence_gives_none_and_no_nan() {
        let fs = 44_100.0;
        let frames = 3 * 44_100;
        let options = TimeDomainOptions {
            included: vec![true, true, false],
            stereo_pair: Some((0, 1)),
        };
        let report = analyze(fs, &vec![vec![0.0; frames]; 3], options.clone(), 512);
        assert_finite(&report);
        for stats in &report.channels {
            assert_eq!(stats.rms_dbfs, None);
            assert_eq!(stats.sample_peak_dbfs, None);
            assert_eq!(stats.crest_factor_db, None);
            assert_eq!(stats.dc_offset, 0.0);
            assert_eq!(stats.zero_crossing_rate_hz, 0.0);
        }
        assert_eq!((report.rms_dbfs, report.crest_factor_db), (None, None));
        let s = report.stereo.as_ref().unwrap();
        assert_eq!(s.correlation, None);
        assert_eq!(s.side_to_mid_db, None);
        assert_eq!(s.mono_compatibility_loss_db, None);
        assert_eq!(s.correlation_series, vec![0.0; 30]);
        assert_eq!(report.leading_silence_seconds, 3.0);
        assert_eq!(report.trailing_silence_seconds, 3.0);
        // One finding for the silent file; a channel is not "silent while others play".
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert_eq!(report.findings[0].kind, "leading-silence");
        assert_eq!(report.findings[0].severity, Severity::Warning);

        // No frames at all.
        let mut analyzer = TimeDomainAnalyzer::new(fs, 3, options).unwrap();
        analyzer.process(&[&[], &[], &[]]).unwrap();
        let report = analyzer.finish();
        assert_finite(&report);
        assert!(report.findings.is_empty());
        assert!(report.stereo.unwrap().correlation_series.is_empty());
        assert_eq!(report.leading_silence_seconds, 0.0);
    }

    /// 100 Hz sine at 0.5, with 2.0–2.5 s driven to amplitude 2 and clipped at ±1.
    fn clipped_burst(fs: f64) -> Vec<f32> {
        let frames = (5.0 * fs) as usize;
        (0..frames)
            .map(|n| {
                let t = n as f64 / fs;
                let gain = if (2.0..2.5).contains(&t) { 2.0 } else { 0.5 };
                (gain * (std::f64::consts::TAU * 100.0 * t).sin()).clamp(-1.0, 1.0) as f32
            })
            .collect()
    }

    #[test]
    fn clipped_burst_is_reported_where_it_happens() {
        for fs in [8_000.0, 44_100.0, 384_000.0] {
            let clean = sine(fs, 440.0, 0.5, (5.0 * fs) as usize);
            let report = analyze(fs, &[clipped_burst(fs), clean], stereo(), 4096);
            let clips = of_kind(&report, "clipping");
            // Runs every 5 ms (each half period) merge into one span. The first flat top starts
            // 0.83 ms after 2.0 s and the last ends 0.83 ms before 2.5 s; 10 ms is the brief.
            assert_eq!(clips.len(), 1, "fs {fs}: {clips:?}");
            assert_close(clips[0].start_seconds, 2.0, 0.01, "clip start");
            assert_close(clips[0].end_seconds, 2.5, 0.01, "clip end");
            assert_eq!(clips[0].channel, Some(0));
            // A third of 0.5 s is clipped: far above 0.1 % of the file.
            assert_eq!(clips[0].severity, Severity::Error);
            assert!(
                clips[0].message.contains("100 run(s)"),
                "{}",
                clips[0].message
            );
            assert!(of_kind(&report, "over-full-scale").is_empty());
            assert_eq!(report.channels[0].sample_peak_dbfs, Some(0.0));
        }
    }

    #[test]
    fn a_few_clips_warn_many_are_an_error_and_the_list_is_capped() {
        let fs = 8_000.0;
        let seed = 0xC11F;
        let mut x = noise(seed, 0.25, 80_000);
        for second in [1usize, 2, 3] {
            x[second * 8_000..second * 8_000 + 5].fill(-1.0);
        }
        // Two samples at full scale are a normalised peak, not a clip.
        x[5 * 8_000..5 * 8_000 + 2].fill(1.0);
        let report = analyze(fs, &[x], mono(), 64);
        let clips = of_kind(&report, "clipping");
        let starts: Vec<f64> = clips.iter().map(|f| f.start_seconds).collect();
        assert_eq!(starts, vec![1.0, 2.0, 3.0], "seed {seed:#x}");
        assert!(clips.iter().all(|f| f.severity == Severity::Warning));
        assert_eq!(clips[0].end_seconds, 1.0 + 5.0 / fs);

        // 1000 runs 100 ms apart: too far apart to merge, so 200 are listed and 800 counted.
        let mut x = noise(seed, 0.25, 800_000);
        for run in 0..1000 {
            x[run * 800 + 100..run * 800 + 104].fill(1.0);
        }
        let report = analyze(fs, &[x], mono(), 4096);
        let clips = of_kind(&report, "clipping");
        assert_eq!(clips.len(), MAX_SPANS);
        assert!(clips.iter().all(|f| f.severity == Severity::Error));
        assert!(
            clips[MAX_SPANS - 1]
                .message
                .contains("800 more clipped runs"),
            "{}",
            clips[MAX_SPANS - 1].message
        );
    }

    #[test]
    fn samples_beyond_full_scale_are_reported_not_clipped() {
        let fs = 48_000.0;
        let x: Vec<f32> = sine(fs, 997.0, 1.0, 4 * 48_000)
            .iter()
            .enumerate()
            .map(|(n, &s)| {
                let t = n as f64 / fs;
                s * if (1.0..1.5).contains(&t) { 2.0 } else { 0.5 }
            })
            .collect();
        let report = analyze(fs, &[x], mono(), 4096);
        let overs = of_kind(&report, "over-full-scale");
        assert_eq!(overs.len(), 1);
        // The first sample beyond 1.0 comes within a quarter period (0.25 ms) of 1.0 s.
        assert_close(overs[0].start_seconds, 1.0, 0.01, "over start");
        assert_close(overs[0].end_seconds, 1.5, 0.01, "over end");
        assert_eq!(overs[0].severity, Severity::Warning);
        assert!(
            overs[0].message.contains("+6.02 dBFS"),
            "{}",
            overs[0].message
        );
        assert_close(
            report.channels[0].sample_peak_dbfs.unwrap(),
            6.0206,
            1e-3,
            "peak",
        );
        assert!(of_kind(&report, "clipping").is_empty());
    }

    /// Correlated stereo noise (correlation ≈ 0.8) with R inverted over `inverted`.
    fn with_inverted_right(
        fs: f64,
        seconds: f64,
        inverted: std::ops::Range<f64>,
        amplitude: f32,
    ) -> [Vec<f32>; 2] {
        let frames = (seconds * fs) as usize;
        let common = noise(0xFA5E, amplitude, frames);
        let own = noise(0xFA5E ^ 77, amplitude * 0.5, frames);
        let left = common.clone();
        let right = (0..frames)
            .map(|n| {
                let r = common[n] + own[n];
                if inverted.contains(&(n as f64 / fs)) {
                    -r
                } else {
                    r
                }
            })
            .collect();
        [left, right]
    }

    #[test]
    fn sustained_phase_inversion_is_found_and_short_or_quiet_ones_are_not() {
        for fs in [8_000.0, 44_100.0, 96_000.0] {
            let report = analyze(
                fs,
                &with_inverted_right(fs, 10.0, 4.0..6.0, 0.3),
                stereo(),
                4096,
            );
            let phase = of_kind(&report, "phase");
            assert_eq!(phase.len(), 1, "fs {fs}: {:?}", report.findings);
            // Windows centred within 60 ms of an edge still see mostly the other side: the
            // span is accurate to about a hop.
            assert_close(phase[0].start_seconds, 4.0, 0.1, "phase start");
            assert_close(phase[0].end_seconds, 6.0, 0.1, "phase end");
            assert_eq!(phase[0].severity, Severity::Warning);
            let series = &report.stereo.as_ref().unwrap().correlation_series;
            assert!(series[50] < -0.5 && series[20] > 0.5, "fs {fs}");
            assert!(of_kind(&report, "clipping").is_empty());
        }
        let fs = 44_100.0;
        let short = analyze(
            fs,
            &with_inverted_right(fs, 10.0, 4.0..4.6, 0.3),
            stereo(),
            4096,
        );
        assert!(of_kind(&short, "phase").is_empty(), "{:?}", short.findings);
        // 0.001 uniform is about −65 dBFS: below the gate.
        let quiet = analyze(
            fs,
            &with_inverted_right(fs, 10.0, 2.0..8.0, 0.001),
            stereo(),
            4096,
        );
        assert!(of_kind(&quiet, "phase").is_empty(), "{:?}", quiet.findings);
    }

    #[test]
    fn silence_at_the_ends_is_measured_and_reported() {
        for fs in [8_000.0, 48_000.0, 384_000.0] {
            let lead = (1.0 * fs) as usize;
            let body = (3.0 * fs) as usize;
            let tail = (2.5 * fs) as usize;
            // A cosine starts at its peak, so the first loud sample is exactly at 1.0 s; noise
            // at −70 dBFS in the gaps is still silence.
            let mut x = noise(0x51, 0.0003, lead + body + tail);
            for n in 0..body {
                x[lead + n] = (0.5 * (std::f64::consts::TAU * 1000.0 * n as f64 / fs).cos()) as f32;
            }
            let report = analyze(fs, &[x], mono(), 4096);
            assert_eq!(report.leading_silence_seconds, 1.0);
            // The last loud sample is within a few samples of the end of the cosine.
            assert_close(report.trailing_silence_seconds, 2.5, 1e-3, "trailing");
            let lead_finding = of_kind(&report, "leading-silence");
            assert_eq!(lead_finding.len(), 1);
            assert_eq!(lead_finding[0].severity, Severity::Info);
            assert_eq!(
                (lead_finding[0].start_seconds, lead_finding[0].end_seconds),
                (0.0, 1.0)
            );
            let tail_finding = of_kind(&report, "trailing-silence");
            assert_eq!(tail_finding.len(), 1);
            assert_eq!(tail_finding[0].severity, Severity::Warning);
            assert_close(tail_finding[0].start_seconds, 4.0, 1e-3, "trailing start");
            assert_eq!(tail_finding[0].end_seconds, 6.5);
        }
        // 0.4 s is an ordinary handle: measured, not reported.
        let fs = 48_000.0;
        let mut x = vec![0.0; 19_200];
        x.extend(
            (0..48_000)
                .map(|n| (0.5 * (std::f64::consts::TAU * 1000.0 * n as f64 / fs).cos()) as f32),
        );
        let report = analyze(fs, &[x], mono(), 4096);
        assert_eq!(report.leading_silence_seconds, 0.4);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }

    #[test]
    fn mono_carried_as_stereo_is_found() {
        let fs = 44_100.0;
        let frames = 441_000;
        let seed = 0x1234;
        let a = noise(seed, 0.5, frames);
        let whisper = noise(seed + 1, 0.5 * 10f32.powf(-70.0 / 20.0), frames);
        let breath = noise(seed + 1, 0.5 * 10f32.powf(-40.0 / 20.0), frames);
        let plus = |d: &[f32]| -> Vec<f32> { a.iter().zip(d).map(|(x, y)| x + y).collect() };
        for (right, expected) in [
            (a.clone(), true),
            (plus(&whisper), true),
            (plus(&breath), false),
        ] {
            let report = analyze(fs, &[a.clone(), right], stereo(), 4096);
            let found = of_kind(&report, "mono-as-stereo");
            assert_eq!(found.len(), usize::from(expected), "seed {seed:#x}");
            if expected {
                assert_eq!(found[0].severity, Severity::Info);
                assert!(found[0].message.contains("carries mono"));
            }
        }
    }

    #[test]
    fn a_silent_programme_channel_is_found_but_a_silent_lfe_is_not() {
        let fs = 48_000.0;
        let frames = 96_000;
        let l = sine(fs, 997.0, 0.5, frames);
        let r = sine(fs, 501.0, 0.5, frames);
        let options = TimeDomainOptions {
            included: vec![true, true, true, false],
            stereo_pair: Some((0, 1)),
        };
        let report = analyze(
            fs,
            &[l, r, vec![0.0; frames], vec![1e-6; frames]],
            options,
            4096,
        );
        let silent = of_kind(&report, "silent-channel");
        assert_eq!(silent.len(), 1, "{:?}", report.findings);
        assert_eq!(silent[0].channel, Some(2));
        assert_eq!(silent[0].severity, Severity::Warning);
        // Two sines at −9.03 dBFS RMS and one silent channel: mean power over three channels,
        // the LFE left out.
        let expected = 10.0 * ((2.0 * 0.125) / 3.0f64).log10();
        assert_close(report.rms_dbfs.unwrap(), expected, 1e-3, "overall rms");
    }

    #[test]
    fn a_clean_programme_raises_no_findings() {
        let seed = 0xC1EA2;
        for fs in [8_000.0, 44_100.0, 192_000.0] {
            let frames = (6.0 * fs) as usize;
            let common = noise(seed, 0.25, frames);
            let own = noise(seed + 1, 0.2, frames);
            let tone = sine(fs, 220.0, 0.3, frames);
            let left: Vec<f32> = (0..frames).map(|n| common[n] + tone[n]).collect();
            let right: Vec<f32> = (0..frames)
                .map(|n| common[n] + own[n] + tone[n] * 0.5)
                .collect();
            let report = analyze(fs, &[left, right], stereo(), 4096);
            assert!(
                report.findings.is_empty(),
                "seed {seed:#x} fs {fs}: {:?}",
                report.findings
            );
            assert_eq!(report.leading_silence_seconds, 0.0);
            assert_finite(&report);
        }
    }

    /// Everything at once: clipping, overs, DC, inversion, silences, a NaN, a silent channel.
    fn everything(fs: f64) -> Vec<Vec<f32>> {
        let frames = (6.0 * fs) as usize;
        let [mut left, mut right] = with_inverted_right(fs, 6.0, 3.0..4.5, 0.3);
        let burst = clipped_burst(fs);
        for n in 0..frames {
            let t = n as f64 / fs;
            if !(0.7..=5.2).contains(&t) {
                left[n] = 0.0;
                right[n] = 0.0;
            }
            if (2.0..2.5).contains(&t) {
                left[n] = burst[n];
                right[n] = 1.5 * burst[n] + 0.01;
            }
        }
        left[(1.3 * fs) as usize] = f32::NAN;
        vec![left, right, vec![0.0; frames]]
    }

    #[test]
    fn every_simd_build_gives_the_same_report() {
        // The signal with clipping, overs, phase inversion, silence and a NaN, plus noise at
        // full scale, through the sums compiled for each SIMD width this CPU has.
        let fs = 48_000.0;
        let mut planes = everything(fs);
        planes[2] = noise(0x51d, 1.0, planes[0].len());
        let options = TimeDomainOptions {
            included: vec![true; 3],
            stereo_pair: Some((0, 1)),
        };
        let run = |simd: Simd| {
            let mut analyzer = TimeDomainAnalyzer::new(fs, 3, options.clone()).unwrap();
            analyzer.simd = simd;
            for start in (0..planes[0].len()).step_by(3_001) {
                let end = (start + 3_001).min(planes[0].len());
                let views: Vec<&[f32]> = planes.iter().map(|p| &p[start..end]).collect();
                analyzer.process(&views).unwrap();
            }
            format!("{:?}", analyzer.finish())
        };
        let baseline = run(Simd::Baseline);
        for simd in Simd::available().into_iter().skip(1) {
            assert!(run(simd) == baseline, "{simd:?} differs from the baseline");
        }
    }

    #[test]
    fn reports_are_bitwise_identical_for_any_block_size() {
        let fs = 44_100.0;
        let planes = everything(fs);
        let options = TimeDomainOptions {
            included: vec![true; 3],
            stereo_pair: Some((0, 1)),
        };
        let reference = analyze(fs, &planes, options.clone(), 4096);
        // The signal must exercise every kind for the comparison to mean something.
        for kind in [
            "clipping",
            "over-full-scale",
            "phase",
            "leading-silence",
            "trailing-silence",
            "silent-channel",
            "non-finite",
        ] {
            assert!(!of_kind(&reference, kind).is_empty(), "{kind} missing");
        }
        assert_finite(&reference);
        // Debug prints every f64 in its shortest round-trip form, so equal text is equal bits.
        let expected = format!("{reference:?}");
        for block in [1, 7, 64, 4410, 4096] {
            let report = analyze(fs, &planes, options.clone(), block);
            assert!(format!("{report:?}") == expected, "block {block} differs");
        }
        let seed = 0xB10C;
        let mut rng = XorShift::new(seed);
        let mut analyzer = TimeDomainAnalyzer::new(fs, 3, options).unwrap();
        let mut from = 0;
        while from < planes[0].len() {
            let to = (from + 1 + (rng.next_u64() % 9000) as usize).min(planes[0].len());
            let views: Vec<&[f32]> = planes.iter().map(|p| &p[from..to]).collect();
            analyzer.process(&views).unwrap();
            from = to;
        }
        assert!(
            format!("{:?}", analyzer.finish()) == expected,
            "seed {seed:#x}: random blocks differ"
        );
    }

    #[test]
    fn streaming_sums_match_a_slow_reference() {
        let fs = 48_000.0;
        let planes = everything(fs);
        let planes: Vec<Vec<f32>> = planes
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|v| if v.is_finite() { v } else { 0.0 })
                    .collect()
            })
            .collect();
        let report = analyze(
            fs,
            &planes,
            TimeDomainOptions {
                included: vec![true; 3],
                stereo_pair: Some((0, 1)),
            },
            999,
        );
        let n = planes[0].len() as f64;
        let mut sums = Vec::new();
        for (c, plane) in planes.iter().enumerate() {
            let (mut sum, mut sum_sq, mut peak, mut crossings) = (0.0f64, 0.0f64, 0.0f64, 0u64);
            for (i, &v) in plane.iter().enumerate() {
                let v = f64::from(v);
                sum += v;
                sum_sq += v * v;
                peak = peak.max(v.abs());
                if i > 0 && (plane[i - 1] < 0.0) != (v < 0.0) {
                    crossings += 1;
                }
            }
            let stats = &report.channels[c];
            let tolerance = 1e-9; // f64 sums of 3e5 terms in a different order: ≤ 1e-11 relative
            if sum_sq > 0.0 {
                assert_close(
                    stats.rms_dbfs.unwrap(),
                    10.0 * (sum_sq / n).log10(),
                    tolerance,
                    "rms",
                );
                assert_eq!(stats.sample_peak_dbfs.unwrap(), 20.0 * peak.log10());
            }
            assert_close(stats.dc_offset, sum / n, tolerance, "dc");
            assert_eq!(stats.zero_crossing_rate_hz, crossings as f64 * fs / n);
            sums.push(sum_sq);
        }
        let lr: f64 = planes[0]
            .iter()
            .zip(&planes[1])
            .map(|(&l, &r)| f64::from(l) * f64::from(r))
            .sum();
        let s = report.stereo.unwrap();
        assert_close(
            s.correlation.unwrap(),
            lr / (sums[0] * sums[1]).sqrt(),
            1e-9,
            "correlation",
        );
        let mid = sums[0] + sums[1] + 2.0 * lr;
        let side = sums[0] + sums[1] - 2.0 * lr;
        assert_close(
            s.side_to_mid_db.unwrap(),
            10.0 * (side / mid).log10(),
            1e-9,
            "side/mid",
        );
    }

    #[test]
    fn non_finite_samples_are_reported_and_read_as_zero() {
        let fs = 48_000.0;
        let clean = sine(fs, 997.0, 0.5, 96_000);
        let mut broken = clean.clone();
        for (n, v) in [
            (48_000, f32::NAN),
            (60_000, f32::INFINITY),
            (72_000, f32::NEG_INFINITY),
        ] {
            broken[n] = v;
        }
        let mut zeroed = clean.clone();
        for n in [48_000, 60_000, 72_000] {
            zeroed[n] = 0.0;
        }
        let report = analyze(fs, &[broken.clone(), clean.clone()], stereo(), 4096);
        let reference = analyze(fs, &[zeroed, clean], stereo(), 4096);
        assert_finite(&report);
        assert_eq!(report.channels, reference.channels);
        assert_eq!(report.stereo, reference.stereo);
        let found = of_kind(&report, "non-finite");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].start_seconds, 1.0);
        assert_eq!(found[0].end_seconds, 72_001.0 / fs);
        assert!(found[0].message.contains("3 NaN or infinite"));
    }

    #[test]
    fn correlation_series_has_ten_values_a_second() {
        for (fs, frames, expected_len) in [(44_100.0, 441_000, 100), (48_000.0, 48_001, 11)] {
            let x = sine(fs, 300.0, 0.5, frames);
            let report = analyze(fs, &[x.clone(), x], stereo(), 1024);
            let s = report.stereo.unwrap();
            assert_eq!(s.width_series_interval_seconds, 0.1);
            assert_eq!(s.correlation_series.len(), expected_len);
        }
        // 11025 Hz has no whole number of frames in 100 ms: the interval says what was used.
        let report = analyze(
            11_025.0,
            &[vec![0.1; 11_025], vec![0.1; 11_025]],
            stereo(),
            64,
        );
        let s = report.stereo.unwrap();
        assert_eq!(s.width_series_interval_seconds, 1103.0 / 11_025.0);
        assert_eq!(s.correlation_series.len(), 10);
    }

    #[test]
    fn invalid_arguments_are_rejected() {
        let bad_included = TimeDomainOptions {
            included: vec![true],
            stereo_pair: None,
        };
        assert!(matches!(
            TimeDomainAnalyzer::new(48_000.0, 2, bad_included),
            Err(DspError::Parameter {
                name: "included",
                ..
            })
        ));
        for pair in [(0, 2), (1, 1)] {
            let options = TimeDomainOptions {
                included: vec![true; 2],
                stereo_pair: Some(pair),
            };
            assert!(matches!(
                TimeDomainAnalyzer::new(48_000.0, 2, options),
                Err(DspError::Parameter {
                    name: "stereo_pair",
                    ..
                })
            ));
        }
        assert!(matches!(
            TimeDomainAnalyzer::new(1_000.0, 2, stereo()),
            Err(DspError::SampleRate { .. })
        ));
        let mut analyzer = TimeDomainAnalyzer::new(48_000.0, 2, stereo()).unwrap();
        assert!(matches!(
            analyzer.process(&[&[0.0; 4]]),
            Err(DspError::ChannelMismatch { .. })
        ));
        assert!(matches!(
            analyzer.process(&[&[0.0; 4], &[0.0; 3]]),
            Err(DspError::UnequalPlanes { .. })
        ));
        analyzer.process(&[&[0.5; 4], &[0.5; 4]]).unwrap();
        let first = analyzer.finish();
        assert_eq!(
            analyzer.process(&[&[0.0; 4], &[0.0; 4]]),
            Err(DspError::Finished)
        );
        assert_eq!(analyzer.finish(), first, "finish is idempotent");
    }

    /// Times the whole module on a 4-minute 44.1 kHz stereo file:
    /// `cargo test --release -- --ignored --nocapture timing`.
    #[test]
    #[ignore]
    fn timing_four_minutes_of_stereo() {
        let fs = 44_100.0;
        let frames = 240 * 44_100;
        let seed = 0x7141;
        let common = noise(seed, 0.35, frames);
        let own = noise(seed + 1, 0.25, frames);
        let tone = sine(fs, 110.0, 0.3, frames);
        let mut left: Vec<f32> = (0..frames).map(|n| common[n] + tone[n]).collect();
        let mut right: Vec<f32> = (0..frames).map(|n| common[n] + own[n] - tone[n]).collect();
        // A clipped 50 ms passage every 10 s, so the run scanner is exercised too.
        for start in (0..frames).step_by(441_000) {
            for n in start..(start + 2205).min(frames) {
                left[n] = (left[n] * 2.0).clamp(-1.0, 1.0);
                right[n] = (right[n] * 2.0).clamp(-1.0, 1.0);
            }
        }
        let time = |planes: &[Vec<f32>]| {
            let mut times = Vec::new();
            for _ in 0..7 {
                let started = std::time::Instant::now();
                let report = analyze(fs, planes, stereo(), 4096);
                times.push(started.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(report);
            }
            times.sort_by(f64::total_cmp);
            (times[0], times[3])
        };
        let (min, median) = time(&[left.clone(), right.clone()]);
        println!(
            "time-domain analysis of 4 min stereo 44.1 kHz: min {min:.1} ms, median {median:.1} ms"
        );
        // A master clipped throughout: bass and kick flat-topped, every chunk scanned.
        let bass = sine(fs, 55.0, 0.6, frames);
        let crushed: Vec<Vec<f32>> = [&left, &right]
            .iter()
            .map(|p| {
                p.iter()
                    .zip(&bass)
                    .map(|(v, b)| (2.5 * (0.5 * v + b)).clamp(-1.0, 1.0))
                    .collect()
            })
            .collect();
        let (min, median) = time(&crushed);
        println!("clipped throughout: min {min:.1} ms, median {median:.1} ms");
        // Pathological: broadband noise clipped hard, a run boundary every few samples.
        let noisy: Vec<Vec<f32>> = [left, right]
            .iter()
            .map(|p| p.iter().map(|v| (v * 4.0).clamp(-1.0, 1.0)).collect())
            .collect();
        let (min, median) = time(&noisy);
        println!("hard-clipped noise: min {min:.1} ms, median {median:.1} ms");
    }
}
