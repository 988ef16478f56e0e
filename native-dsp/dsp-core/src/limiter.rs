//! True-peak look-ahead limiter: the last gain stage of the mastering chain. Its output stays
//! within the ceiling as measured by Lathe's ITU-R BS.1770-5 Annex 2 true-peak meter
//! ([`crate::truepeak::TruePeakMeter`]), and it checks every interpolated point of what it emits.
//!
//! Two stages, both linked across channels (one gain for all, so the stereo image never moves):
//!
//! 1. **Smooth look-ahead gain.** Peaks are detected on the oversampled input with the meter's
//!    own interpolator (same factor: 4× below 96 kHz, 2× above; same Kaiser-windowed-sinc phases,
//!    [`truepeak::phase_taps`]). Each interval between two input samples asks for the gain
//!    r = min(1, target / its true peak), the target being the ceiling less `MAIN_MARGIN_DB`.
//!    A running minimum over H = S + 2K frames (S the look-ahead in frames, K = 8 half the
//!    kernel) turns that into a plateau, a release follower lets it recover, and two cascaded
//!    moving averages (lengths summing to S + 1) shape an S-curve attack that completes within
//!    the look-ahead. Every value the averages mix is at most the minimum over the window, so
//!    the gain at sample n is at most the r of every interval within K frames of n: all 16
//!    samples under the kernel of a peak are turned down at least as far as the peak needs.
//!
//! 2. **Exact true-peak guard.** Stage 1 is not exact by construction: where the gain still
//!    changes under the 16-tap kernel, an interpolated value Σ hₘ·gₘ·xₘ is not g·Σ hₘ·xₘ. (In
//!    a search over hostile signals — near-Nyquist tones cut off by impulses 60 dB louder, at
//!    the shortest look-ahead — the largest such excess was 0.008 dB.) The guard runs 8 frames
//!    behind stage 1 and evaluates, in f64, every interpolated point of the f32 output exactly
//!    as the meter will, each point from the samples already emitted and stage 1's samples
//!    still to come. A point is enforced from the moment its first centre sample (tap 7, of
//!    weight 0.29–0.90) is emitted until its last: that sample is scaled (all channels alike)
//!    to the largest value that keeps every enforced point and itself within the ceiling. A
//!    point enforced earlier admits the unscaled next sample, since its value already counts
//!    it, so the constraints can only conflict when a new point is over and an older one would
//!    rise if the sample fell. The guard then takes the scale with the smallest worst excess
//!    and counts an unresolved over ([`TruePeakLimiter::unresolved_overs`]); with no
//!    unresolved over, no interpolated point and no sample of the output exceeds the ceiling.
//!    None has occurred in the tests, and stage 1 aiming `MAIN_MARGIN_DB` low means the guard
//!    seldom has to act at all.
//!
//! **Safety margins.** Stage 1 aims 0.02 dB below the ceiling, 2.5 times the largest excess
//! found above. The guard holds points to c·(1 − ε): its own sums are exact but for ~1e-16
//! (f32 × f32 products are exact in f64), while the meter sums 16 products in f32, erring by at
//! most (16 + 15)·2⁻²⁴·Σ|hₘ·yₘ| ≤ 31·2⁻²⁴·L1·c with L1 ≤ 1.95 the largest sum of |taps| of a
//! phase; ε is twice that plus one f32 rounding of the scaled sample (about −0.00007 dB).
//! Meters with other interpolators (the Annex's 48-tap example, more oversampling) can read
//! higher for content near Nyquist, where even 4× sampling of the ideal interpolation
//! under-reads by up to 0.7 dB (BS.1770-5 Annex 2); the customary −1 dBTP ceiling covers that.
//!
//! **Release.** Gain reduction recovers exponentially in dB with time constant `release_ms`.
//! With `auto_release` the release is program dependent: a fast follower (release_ms / 4) lets
//! isolated peaks recover quickly, and a slow envelope (attack and release 2 × release_ms)
//! holds the reduction that persists, so dense material does not pump; the larger is used.
//!
//! **Latency** = look-ahead S + 23 frames: 8 for the detector to see a point's last sample, 7
//! (K − 1) for the plateau to reach back over the kernel before a peak, 8 for the guard to see
//! the last sample of a point it enforces. Gains are summed in 30-bit fixed point, so the
//! moving averages are exact and the gain is exactly 1 whenever the window holds no reduction:
//! material below the ceiling passes bit for bit.

use crate::compressor::GainReduction;
use crate::error::{check_format, check_planes, DspError};
use crate::processor::{check_output, check_range};
use crate::truepeak::{oversampling_factor, phase_taps, TAPS_PER_PHASE};

/// Parameter ranges.
pub const MIN_CEILING_DBTP: f64 = -24.0;
pub const MIN_LOOKAHEAD_MS: f64 = 0.5;
pub const MAX_LOOKAHEAD_MS: f64 = 20.0;
pub const MIN_RELEASE_MS: f64 = 1.0;
pub const MAX_RELEASE_MS: f64 = 2000.0;
pub const MAX_INPUT_GAIN_DB: f64 = 24.0;
/// How far below the ceiling stage 1 aims, so the guard seldom has to act.
pub const MAIN_MARGIN_DB: f64 = 0.02;
/// Half the interpolation kernel: tap 7 and tap 8 weigh the samples either side of a point.
const KERNEL_HALF: usize = TAPS_PER_PHASE / 2;
/// One in fixed point: gains are summed as integers so the moving averages are exact.
const FIXED_ONE: f64 = (1u64 << 30) as f64;
/// Gain reduction (dB) below which the release followers are set to zero (a gain error of
/// 1.2e-8, below f32 resolution at 1.0), so release ends at exactly unity gain.
const GR_FLOOR_DB: f64 = 1e-7;
const AUTO_FAST_FACTOR: f64 = 0.25;
const AUTO_SLOW_FACTOR: f64 = 2.0;
/// Most interpolated points between two samples (4× oversampling: three).
const MAX_PHASES: usize = 3;
/// Rings indexed by stream position modulo this (a power of two covering the kernel).
const RING: usize = TAPS_PER_PHASE;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterParams {
    /// −24 to 0 dBTP.
    pub ceiling_dbtp: f64,
    /// 0.5 to 20 ms: the attack ramp's length.
    pub lookahead_ms: f64,
    /// 1 to 2000 ms: time constant of the recovery, in dB.
    pub release_ms: f64,
    /// Program-dependent release (see the module documentation).
    pub auto_release: bool,
    /// −24 to +24 dB applied before limiting.
    pub input_gain_db: f64,
}

impl Default for LimiterParams {
    fn default() -> Self {
        LimiterParams {
            ceiling_dbtp: -1.0,
            lookahead_ms: 3.0,
            release_ms: 100.0,
            auto_release: false,
            input_gain_db: 0.0,
        }
    }
}

/// Running minimum over the last `window` values (a monotonic deque in fixed rings).
#[derive(Debug, Clone)]
struct RunningMin {
    index: Vec<u64>,
    value: Vec<f64>,
    head: usize,
    len: usize,
    window: u64,
}

impl RunningMin {
    fn new(window: usize) -> Self {
        RunningMin {
            index: vec![0; window + 1],
            value: vec![0.0; window + 1],
            head: 0,
            len: 0,
            window: window as u64,
        }
    }

    /// Adds value `v` at stream index `i`, returns the minimum over indices i−window+1..=i.
    #[inline]
    fn push(&mut self, i: u64, v: f64) -> f64 {
        let cap = self.index.len();
        // Indices stay below 2·cap, so one subtraction wraps them (no division per sample).
        let wrap = |k: usize| if k >= cap { k - cap } else { k };
        while self.len > 0 {
            let back = wrap(self.head + self.len - 1);
            if self.value[back] >= v {
                self.len -= 1;
            } else {
                break;
            }
        }
        let slot = wrap(self.head + self.len);
        self.index[slot] = i;
        self.value[slot] = v;
        self.len += 1;
        while self.index[self.head] + self.window <= i {
            self.head = wrap(self.head + 1);
            self.len -= 1;
        }
        self.value[self.head]
    }
}

/// Moving sum of the last `len` integers.
#[derive(Debug, Clone)]
struct MovingSum {
    ring: Vec<u64>,
    pos: usize,
    sum: u64,
}

impl MovingSum {
    fn new(len: usize, fill: u64) -> Self {
        MovingSum {
            ring: vec![fill; len],
            pos: 0,
            sum: fill * len as u64,
        }
    }

    #[inline]
    fn push(&mut self, v: u64) -> u64 {
        self.sum = self.sum - self.ring[self.pos] + v;
        self.ring[self.pos] = v;
        self.pos += 1;
        if self.pos == self.ring.len() {
            self.pos = 0;
        }
        self.sum
    }
}

/// Per channel: what the detector and the guard remember.
#[derive(Debug, Clone)]
struct ChannelState {
    /// The last 16 input samples (input gain applied), twice over so a window is one slice.
    detect: [f32; 2 * RING],
    /// Raw input, delayed until stage 1's gain for it is known.
    delay: Vec<f32>,
    /// The last 16 samples of the output sequence (8 emitted, 8 still stage 1's), twice over.
    seq: [f32; 2 * RING],
    /// Interpolated values of the points enforced or about to be, by slot and phase.
    points: [[f64; MAX_PHASES]; RING],
}

impl ChannelState {
    fn set_seq(&mut self, slot: usize, v: f32) {
        self.seq[slot] = v;
        self.seq[slot + RING] = v;
    }
}

/// Streaming true-peak limiter.
#[derive(Debug, Clone)]
pub struct TruePeakLimiter {
    sample_rate: f64,
    channels: usize,
    params: LimiterParams,
    factor: usize,
    /// Interpolator phases (meter's taps) for detection, and the same in f64 for the guard.
    phases: Vec<[f32; TAPS_PER_PHASE]>,
    phases_f64: Vec<[f64; TAPS_PER_PHASE]>,
    /// Look-ahead S in frames and the two moving-average lengths (summing to S + 1).
    lookahead: usize,
    box_lengths: [usize; 2],
    /// Frames from input to stage 1's candidate output.
    stage1_delay: usize,
    input_gain: f64,
    ceiling: f64,
    main_ceiling: f64,
    guard_ceiling: f64,
    margin_db: f64,
    /// Off only in tests, to show what stage 1 alone would emit.
    guard_enabled: bool,
    fast_release: f64,
    slow_attack: f64,
    slow_release: f64,
    states: Vec<ChannelState>,
    hold: RunningMin,
    boxes: [MovingSum; 2],
    fast_gr_db: f64,
    slow_gr_db: f64,
    /// Frames consumed, and where the newest input sits in the delay line.
    position: u64,
    delay_write: usize,
    /// The last plateau and its reduction in dB (the plateau changes seldom: saves a log).
    last_plateau: f64,
    last_target_db: f64,
    /// Stage 1's gain for each of the last 16 candidates, for the meter.
    stage1_gains: [f64; RING],
    /// Total gain (stage 1 × guard) of the last emitted frame, and the lowest since the
    /// last reading; kept linear so metering costs no logarithm per frame.
    current_gain: f64,
    min_gain: f64,
    guard_actions: u64,
    unresolved: u64,
}

impl TruePeakLimiter {
    pub fn new(sample_rate: f64, channels: usize, params: LimiterParams) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        validate(&params)?;
        let factor = oversampling_factor(sample_rate);
        let phases: Vec<[f32; TAPS_PER_PHASE]> = (1..factor)
            .map(|p| phase_taps(p as f64 / factor as f64))
            .collect();
        let phases_f64 = phases.iter().map(|t| t.map(|v| v as f64)).collect();
        let mut limiter = TruePeakLimiter {
            sample_rate,
            channels,
            params,
            factor,
            phases,
            phases_f64,
            lookahead: 0,
            box_lengths: [1, 1],
            stage1_delay: 0,
            input_gain: 1.0,
            ceiling: 1.0,
            main_ceiling: 1.0,
            guard_ceiling: 1.0,
            margin_db: MAIN_MARGIN_DB,
            guard_enabled: true,
            fast_release: 0.0,
            slow_attack: 0.0,
            slow_release: 0.0,
            states: Vec::new(),
            hold: RunningMin::new(1),
            boxes: [MovingSum::new(1, 0), MovingSum::new(1, 0)],
            fast_gr_db: 0.0,
            slow_gr_db: 0.0,
            position: 0,
            delay_write: 0,
            last_plateau: 1.0,
            last_target_db: 0.0,
            stage1_gains: [1.0; RING],
            current_gain: 1.0,
            min_gain: 1.0,
            guard_actions: 0,
            unresolved: 0,
        };
        limiter.apply(params);
        limiter.reset();
        Ok(limiter)
    }

    /// Changes parameters. A new look-ahead changes the latency and restarts the limiter;
    /// everything else takes effect without a break (a lowered ceiling binds points already
    /// in flight, which may count as unresolved overs for the next 16 frames).
    pub fn set_params(&mut self, params: LimiterParams) -> Result<(), DspError> {
        validate(&params)?;
        let old_lookahead = self.lookahead;
        self.apply(params);
        if self.lookahead != old_lookahead {
            self.reset();
        }
        Ok(())
    }

    fn apply(&mut self, params: LimiterParams) {
        let fs = self.sample_rate;
        self.params = params;
        self.lookahead = ((params.lookahead_ms * 1e-3 * fs).round() as usize).max(2);
        let second = self.lookahead / 2;
        self.box_lengths = [self.lookahead + 1 - second, second];
        // Detector (8) plus the plateau's reach back over the kernel (K − 1).
        self.stage1_delay = self.lookahead + KERNEL_HALF + KERNEL_HALF - 1;
        self.input_gain = 10f64.powf(params.input_gain_db / 20.0);
        self.ceiling = 10f64.powf(params.ceiling_dbtp / 20.0);
        self.main_ceiling = self.ceiling * 10f64.powf(-self.margin_db / 20.0);
        let l1 = self
            .phases
            .iter()
            .map(|t| t.iter().map(|v| v.abs() as f64).sum::<f64>())
            .fold(1.0, f64::max);
        let unit_roundoff = f32::EPSILON as f64 / 2.0;
        let meter_error = (2 * TAPS_PER_PHASE - 1) as f64 * unit_roundoff * l1;
        self.guard_ceiling = self.ceiling * (1.0 - 2.0 * meter_error - 2.0 * unit_roundoff);
        let coef = |ms: f64| (-1.0 / (ms * 1e-3 * fs)).exp();
        let release = params.release_ms;
        if params.auto_release {
            self.fast_release = coef(release * AUTO_FAST_FACTOR);
            self.slow_attack = coef(release * AUTO_SLOW_FACTOR);
            self.slow_release = coef(release * AUTO_SLOW_FACTOR);
        } else {
            self.fast_release = coef(release);
            self.slow_attack = 1.0;
            self.slow_release = 0.0;
        }
    }

    /// Clears all state (silence before the stream) and the meters.
    pub fn reset(&mut self) {
        self.states = (0..self.channels)
            .map(|_| ChannelState {
                detect: [0.0; 2 * RING],
                delay: vec![0.0; self.stage1_delay + 1],
                seq: [0.0; 2 * RING],
                points: [[0.0; MAX_PHASES]; RING],
            })
            .collect();
        self.hold = RunningMin::new(self.lookahead + 2 * KERNEL_HALF);
        let one = FIXED_ONE as u64;
        self.boxes = [
            MovingSum::new(self.box_lengths[0], one),
            MovingSum::new(self.box_lengths[1], one * self.box_lengths[0] as u64),
        ];
        self.fast_gr_db = 0.0;
        self.slow_gr_db = 0.0;
        self.position = 0;
        self.delay_write = 0;
        self.last_plateau = 1.0;
        self.last_target_db = 0.0;
        self.stage1_gains = [1.0; RING];
        self.current_gain = 1.0;
        self.min_gain = 1.0;
        self.guard_actions = 0;
        self.unresolved = 0;
    }

    /// Look-ahead plus 23 frames (see the module documentation).
    pub fn latency_frames(&self) -> usize {
        self.stage1_delay + KERNEL_HALF
    }

    pub fn params(&self) -> LimiterParams {
        self.params
    }

    /// The oversampling factor of detection and guard (the meter's).
    pub fn oversampling_factor(&self) -> usize {
        self.factor
    }

    /// Gain reduction since the previous call (input gain not counted); starts a new interval.
    pub fn take_gain_reduction(&mut self) -> GainReduction {
        let db = |gain: f64| {
            if gain < 1.0 {
                -20.0 * gain.log10()
            } else {
                0.0
            }
        };
        let r = GainReduction {
            current_db: db(self.current_gain),
            max_db: db(self.min_gain),
        };
        self.min_gain = self.current_gain;
        r
    }

    /// Stage 1's margin below the ceiling and the guard: tests aim stage 1 at the ceiling to
    /// make the guard work, or switch the guard off to see what stage 1 alone emits.
    #[cfg(test)]
    fn set_stage_one_only(&mut self, margin_db: f64, guard: bool) {
        self.margin_db = margin_db;
        self.guard_enabled = guard;
        self.apply(self.params);
    }

    /// Interpolated points the guard could not bring within the ceiling since the last reset.
    /// Zero means the output so far is within the ceiling on the true-peak meter.
    pub fn unresolved_overs(&self) -> u64 {
        self.unresolved
    }

    /// Limits one block. The output lags the input by `latency_frames()`; to end a stream,
    /// feed that many frames of silence, after which the output is complete (the guard's
    /// points assume the samples still in flight are emitted).
    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.channels)?;
        check_output(output, self.channels, frames)?;
        for n in 0..frames {
            let gain = self.detect(input, n);
            self.candidate(gain);
            self.commit(output, n);
            self.position += 1;
        }
        Ok(())
    }

    /// Takes in frame `n` of the block and returns stage 1's gain for the frame leaving the
    /// delay line now.
    #[inline]
    fn detect(&mut self, input: &[&[f32]], n: usize) -> f64 {
        let write = self.delay_write;
        let slot = (self.position % RING as u64) as usize;
        let gain_in = self.input_gain as f32;
        let mut peak = 0f32;
        for (state, plane) in self.states.iter_mut().zip(input) {
            // Non-finite input would defeat every bound below: it is treated as silence.
            let x = if plane[n].is_finite() { plane[n] } else { 0.0 };
            state.delay[write] = x;
            let xg = x * gain_in;
            state.detect[slot] = xg;
            state.detect[slot + RING] = xg;
            // The last 16 samples, oldest first: the kernel of the interval after the 8th.
            let w: &[f32; TAPS_PER_PHASE] = state.detect[slot + 1..slot + 1 + RING]
                .try_into()
                .expect("window length");
            peak = peak.max(w[KERNEL_HALF - 1].abs());
            for taps in &self.phases {
                peak = peak.max(dot_f32(taps, w).abs());
            }
        }
        let need = if peak as f64 > self.main_ceiling {
            self.main_ceiling / peak as f64
        } else {
            1.0
        };
        let plateau = self.hold.push(self.position, need);
        let gain = self.release(plateau);
        // Floor to fixed point: never above the plateau.
        let fixed = (gain * FIXED_ONE).floor() as u64;
        let first = self.boxes[0].push(fixed);
        let second = self.boxes[1].push(first);
        let norm = FIXED_ONE * (self.box_lengths[0] * self.box_lengths[1]) as f64;
        second as f64 / norm
    }

    /// Release followers in dB of reduction; returns a gain no larger than `plateau`.
    #[inline]
    fn release(&mut self, plateau: f64) -> f64 {
        if plateau != self.last_plateau {
            self.last_plateau = plateau;
            self.last_target_db = if plateau < 1.0 {
                -20.0 * plateau.log10()
            } else {
                0.0
            };
        }
        let target_db = self.last_target_db;
        self.fast_gr_db = target_db.max(self.fast_gr_db * self.fast_release);
        let fast = self.fast_gr_db;
        self.slow_gr_db = if fast > self.slow_gr_db {
            fast + (self.slow_gr_db - fast) * self.slow_attack
        } else {
            fast.max(self.slow_gr_db * self.slow_release)
        };
        if self.fast_gr_db < GR_FLOOR_DB && self.slow_gr_db < GR_FLOOR_DB {
            self.fast_gr_db = 0.0;
            self.slow_gr_db = 0.0;
            return plateau;
        }
        let held_db = self.fast_gr_db.max(self.slow_gr_db);
        if held_db <= target_db {
            // Holding at the plateau (the common case under load): no exponential needed.
            return plateau;
        }
        plateau.min(10f64.powf(-held_db / 20.0))
    }

    /// Applies stage 1's gain to the frame leaving the delay line, appends it to the output
    /// sequence, and evaluates the points whose last sample it is.
    #[inline]
    fn candidate(&mut self, gain: f64) {
        // The slot after the newest holds the oldest: the sample leaving the delay line.
        let read = if self.delay_write == self.stage1_delay {
            0
        } else {
            self.delay_write + 1
        };
        self.delay_write = read;
        let slot = (self.position % RING as u64) as usize;
        let g = gain * self.input_gain;
        self.stage1_gains[slot] = gain;
        // The point after sample position − 8 has the new sample under its last tap.
        let point = (slot + KERNEL_HALF) % RING;
        for state in &mut self.states {
            let y = (g * state.delay[read] as f64) as f32;
            state.set_seq(slot, y);
            let w: &[f32; TAPS_PER_PHASE] = state.seq[slot + 1..slot + 1 + RING]
                .try_into()
                .expect("window length");
            let w = w.map(|v| v as f64);
            for (p, taps) in self.phases_f64.iter().enumerate() {
                state.points[point][p] = dot_f64(taps, &w);
            }
        }
    }

    /// Emits the sample 8 frames behind the newest candidate (the first centre sample of the
    /// point just evaluated), scaled if needed so every enforced point stays within the
    /// ceiling.
    #[inline]
    fn commit(&mut self, output: &mut [&mut [f32]], n: usize) {
        let newest = (self.position % RING as u64) as usize;
        let slot = (newest + KERNEL_HALF) % RING;
        let limit = self.guard_ceiling;
        let np = self.phases.len();
        let mut ok = true;
        for state in &self.states {
            let y = state.seq[slot] as f64;
            ok &= y.abs() <= limit && state.points[slot][..np].iter().all(|v| v.abs() <= limit);
        }
        let mut scale = 1.0;
        if !ok && self.guard_enabled {
            scale = self.solve_scale(slot);
            self.guard_actions += 1;
        }
        for (c, state) in self.states.iter_mut().enumerate() {
            let y = state.seq[slot];
            let out = if scale < 1.0 {
                let scaled = (scale * y as f64) as f32;
                let delta = scaled as f64 - y as f64;
                // Enforced points i = n−8..=n hold this sample under tap n − i + 7.
                for back in 0..=KERNEL_HALF {
                    let point = (slot + RING - back) % RING;
                    let m = KERNEL_HALF - 1 + back;
                    for (p, taps) in self.phases_f64.iter().enumerate() {
                        state.points[point][p] += taps[m] * delta;
                    }
                }
                state.set_seq(slot, scaled);
                scaled
            } else {
                y
            };
            output[c][n] = out;
        }
        self.current_gain = self.stage1_gains[slot] * scale;
        self.min_gain = self.min_gain.min(self.current_gain);
    }

    /// The largest scale λ ∈ [0, 1] of the sample in `slot` (all channels) that keeps the sample
    /// and every enforced point within the ceiling; if none does, the one with the smallest
    /// worst excess (counted as unresolved).
    fn solve_scale(&mut self, slot: usize) -> f64 {
        let limit = self.guard_ceiling;
        let np = self.phases.len();
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        // Each constraint |v + (λ − 1)·b| ≤ limit is an interval of λ.
        let mut constrain = |v: f64, b: f64| {
            if b != 0.0 {
                let a = (-limit - v) / b + 1.0;
                let z = (limit - v) / b + 1.0;
                lo = lo.max(a.min(z));
                hi = hi.min(a.max(z));
            } else if v.abs() > limit {
                hi = -1.0;
            }
        };
        for state in &self.states {
            let y = state.seq[slot] as f64;
            constrain(y, y);
            for back in 0..=KERNEL_HALF {
                let point = (slot + RING - back) % RING;
                let m = KERNEL_HALF - 1 + back;
                for (p, taps) in self.phases_f64.iter().enumerate().take(np) {
                    constrain(state.points[point][p], taps[m] * y);
                }
            }
        }
        if lo <= hi {
            return hi;
        }
        self.unresolved += 1;
        // The worst excess is convex in λ: ternary search.
        let worst = |lambda: f64| {
            let mut w = f64::NEG_INFINITY;
            for state in &self.states {
                let y = state.seq[slot] as f64;
                w = w.max((lambda * y).abs() - limit);
                for back in 0..=KERNEL_HALF {
                    let point = (slot + RING - back) % RING;
                    let m = KERNEL_HALF - 1 + back;
                    for (p, taps) in self.phases_f64.iter().enumerate() {
                        let v = state.points[point][p] + (lambda - 1.0) * taps[m] * y;
                        w = w.max(v.abs() - limit);
                    }
                }
            }
            w
        };
        let (mut a, mut b) = (0.0f64, 1.0f64);
        for _ in 0..60 {
            let m1 = a + (b - a) / 3.0;
            let m2 = b - (b - a) / 3.0;
            if worst(m1) <= worst(m2) {
                b = m2;
            } else {
                a = m1;
            }
        }
        a
    }
}

/// Σ taps·w with independent partial sums, so the products run as SIMD lanes rather than
/// one 16-long chain of dependent additions.
#[inline(always)]
fn dot_f32(taps: &[f32; TAPS_PER_PHASE], w: &[f32; TAPS_PER_PHASE]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0f32; LANES];
    for (t, x) in taps.chunks_exact(LANES).zip(w.chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += t[k] * x[k];
        }
    }
    acc.iter().sum()
}

/// As `dot_f32` in f64. The products of f32 taps and f32 samples are exact; the sums err by
/// ~1e-16 relative, in a fixed order.
#[inline(always)]
fn dot_f64(taps: &[f64; TAPS_PER_PHASE], w: &[f64; TAPS_PER_PHASE]) -> f64 {
    const LANES: usize = 4;
    let mut acc = [0f64; LANES];
    for (t, x) in taps.chunks_exact(LANES).zip(w.chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += t[k] * x[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

fn validate(p: &LimiterParams) -> Result<(), DspError> {
    check_range(
        "ceiling_dbtp",
        p.ceiling_dbtp,
        MIN_CEILING_DBTP,
        0.0,
        " dBTP",
    )?;
    check_range(
        "lookahead_ms",
        p.lookahead_ms,
        MIN_LOOKAHEAD_MS,
        MAX_LOOKAHEAD_MS,
        " ms",
    )?;
    check_range(
        "release_ms",
        p.release_ms,
        MIN_RELEASE_MS,
        MAX_RELEASE_MS,
        " ms",
    )?;
    check_range(
        "input_gain_db",
        p.input_gain_db,
        -MAX_INPUT_GAIN_DB,
        MAX_INPUT_GAIN_DB,
        " dB",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::testing::{assert_bit_identical, run_blocks, XorShift, BLOCK_SIZES};
    use crate::truepeak::TruePeakMeter;
    use std::f64::consts::PI;

    fn run(lim: &mut TruePeakLimiter, input: &[Vec<f32>], block: usize) -> Vec<Vec<f32>> {
        run_blocks(input, block, |i, o| lim.process(i, o).unwrap())
    }

    /// Runs `lim` over `input` and then enough silence to flush its delay line.
    fn run_flushed(lim: &mut TruePeakLimiter, input: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let tail = lim.latency_frames();
        let padded: Vec<Vec<f32>> = input
            .iter()
            .map(|c| {
                c.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0.0, tail))
                    .collect()
            })
            .collect();
        run(lim, &padded, 1000)
    }

    fn true_peak(fs: f64, planes: &[Vec<f32>]) -> f64 {
        let mut meter = TruePeakMeter::new(fs, planes.len()).unwrap();
        let refs: Vec<&[f32]> = planes.iter().map(|c| c.as_slice()).collect();
        meter.process(&refs).unwrap();
        meter.flush();
        meter.true_peaks().into_iter().fold(0.0, f64::max)
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    fn params(ceiling_dbtp: f64, lookahead_ms: f64, release_ms: f64, auto: bool) -> LimiterParams {
        LimiterParams {
            ceiling_dbtp,
            lookahead_ms,
            release_ms,
            auto_release: auto,
            input_gain_db: 0.0,
        }
    }

    /// The hostile signals of the test plan, two channels each, half a second long.
    fn hostile_signals(fs: f64, seed: u64) -> Vec<(&'static str, Vec<Vec<f32>>)> {
        let mut rng = XorShift(seed);
        let n = (0.5 * fs) as usize;
        let t = |i: usize| i as f64 / fs;
        let mut signals = Vec::new();
        // Full-scale squares (their Gibbs overshoot puts the true peak above 0 dBTP); the second
        // channel inverted and at another frequency.
        for &f in &[50.0, 997.0, 5_000.0, fs / 6.0] {
            let sq = |i: usize, f: f64| {
                if (t(i) * f).fract() < 0.5 {
                    1.0f32
                } else {
                    -1.0
                }
            };
            let left = (0..n).map(|i| sq(i, f)).collect();
            let right = (0..n).map(|i| -sq(i, f * 1.37)).collect();
            signals.push(("full-scale square", vec![left, right]));
        }
        // fs/4 at +3 dBTP with 45° phase: every sample is ±1.0, the true peak 1.41 between them.
        let quarter: Vec<f32> = (0..n)
            .map(|i| (2f64.sqrt() * (PI / 2.0 * i as f64 + PI / 4.0).sin()) as f32)
            .collect();
        signals.push(("fs/4 at +3 dBTP", vec![quarter.clone(), quarter]));
        // White noise at +12 dBFS peak (uniform in ±4).
        let noise = (0..2)
            .map(|_| {
                (0..n)
                    .map(|_| (4.0 * rng.next_f32() as f64) as f32)
                    .collect()
            })
            .collect();
        signals.push(("white noise at +12 dBFS", noise));
        // Isolated single-sample impulses up to +18 dBFS, some followed by their opposite.
        let mut imp = vec![vec![0f32; n]; 2];
        let mut i = 100;
        while i + 2 < n {
            let v = (rng.next_f32() as f64 * 8.0) as f32;
            imp[0][i] = v;
            imp[1][i + 1] = -v;
            if rng.next_f32() < -1.0 / 3.0 {
                imp[0][i + 1] = -v;
            }
            i += 200 + (1500.0 * (1.0 + rng.next_f32())) as usize;
        }
        signals.push(("single-sample impulses", imp));
        // Sine bursts at +6 dBFS starting at their steepest point after silence, in the
        // midrange and near Nyquist.
        for &f in &[1_000.0, 0.45 * fs] {
            let burst: Vec<f32> = (0..n)
                .map(|i| {
                    if i < n / 3 {
                        0.0
                    } else {
                        (2.0 * (2.0 * PI * f * t(i - n / 3)).sin()) as f32
                    }
                })
                .collect();
            signals.push(("sine burst with sudden onset", vec![burst.clone(), burst]));
        }
        signals
    }

    #[test]
    fn hostile_signals_never_exceed_the_ceiling_on_the_true_peak_meter() {
        let seed = 0x11a7_4e0d;
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            for (name, input) in hostile_signals(fs, seed) {
                for &(ceiling, lookahead_ms, auto) in
                    &[(-1.0, 3.0, false), (0.0, 0.5, true), (-6.0, 5.0, false)]
                {
                    let mut lim =
                        TruePeakLimiter::new(fs, 2, params(ceiling, lookahead_ms, 50.0, auto))
                            .unwrap();
                    let out = run_flushed(&mut lim, &input);
                    let tp = db(true_peak(fs, &out));
                    let what = format!("seed {seed:#x}: {name} at {fs} Hz, ceiling {ceiling}");
                    // No tolerance: the guard's margin covers the meter's f32 arithmetic.
                    assert!(tp <= ceiling, "{what}: {tp:.6} dBTP");
                    assert_eq!(lim.unresolved_overs(), 0, "{what}");
                    // And it limits rather than crushes: the loudest point lands where stage 1
                    // aims, 0.02 dB under the ceiling (0.001 dB allows for the f32 output).
                    assert!(
                        tp > ceiling - MAIN_MARGIN_DB - 0.001,
                        "{what}: only {tp:.4} dBTP"
                    );
                }
            }
        }
    }

    #[test]
    fn random_hostile_mixtures_never_exceed_the_ceiling() {
        // Near-Nyquist tones, alternating-sign noise and impulses with jumping envelopes,
        // random look-ahead and release: the cases where gain changes under the kernel most.
        let fs = 44_100.0;
        for seed in 1..=24u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let n = 6_000;
            let f0 = (0.30 + 0.18 * rng.next_f32().abs() as f64) * fs;
            let mut amp = 1.0;
            let x: Vec<f32> = (0..n)
                .map(|i| {
                    if rng.next_f32() < -0.95 {
                        amp = 0.2 + 4.0 * rng.next_f32().abs() as f64;
                    }
                    let tone = (2.0 * PI * f0 * i as f64 / fs).sin();
                    let alt = if i % 2 == 0 { 1.0 } else { -1.0 };
                    let imp = if rng.next_f32() < -0.98 {
                        30.0 * rng.next_f32() as f64
                    } else {
                        0.0
                    };
                    (amp * (tone + 0.5 * alt * rng.next_f32() as f64) + imp) as f32
                })
                .collect();
            let p = params(
                -1.0,
                0.5 + 4.5 * rng.next_f32().abs() as f64,
                5.0 + 200.0 * rng.next_f32().abs() as f64,
                seed % 2 == 0,
            );
            let mut lim = TruePeakLimiter::new(fs, 1, p).unwrap();
            let out = run_flushed(&mut lim, &[x]);
            let tp = db(true_peak(fs, &out));
            assert!(tp <= -1.0, "seed {seed}: {tp:.6} dBTP with {p:?}");
            assert_eq!(lim.unresolved_overs(), 0, "seed {seed}");
        }
    }

    #[test]
    fn the_guard_removes_what_stage_one_leaves() {
        // A near-Nyquist tone cut off by an impulse 60 dB louder, at the shortest look-ahead:
        // the gain plunges under the kernel of the tone's last peaks. Stage 1 aimed at the
        // ceiling itself (no margin) overshoots it; the guard brings every point back.
        let fs = 44_100.0;
        let n = 3_000;
        let mut x: Vec<f32> = (0..n)
            .map(|i| (1.5 * (2.0 * PI * 0.35 * i as f64 + PI / 4.0).sin()) as f32)
            .collect();
        x[1515] = -1000.0;
        x[1516..].fill(0.0);
        let p = params(-1.0, 0.5, 50.0, false);
        let mut alone = TruePeakLimiter::new(fs, 1, p).unwrap();
        alone.set_stage_one_only(0.0, false);
        let tp_alone = db(true_peak(
            fs,
            &run_flushed(&mut alone, std::slice::from_ref(&x)),
        ));
        assert!(tp_alone > -1.0 + 0.005, "stage 1 alone: {tp_alone:.6} dBTP");
        let mut guarded = TruePeakLimiter::new(fs, 1, p).unwrap();
        guarded.set_stage_one_only(0.0, true);
        let tp = db(true_peak(fs, &run_flushed(&mut guarded, &[x])));
        assert!(tp <= -1.0, "guarded: {tp:.6} dBTP");
        assert!(guarded.guard_actions > 0);
        assert_eq!(guarded.unresolved_overs(), 0);
    }

    #[test]
    fn quiet_material_passes_unchanged_after_the_latency() {
        let seed = 99;
        let mut rng = XorShift(seed);
        for fs in [44_100.0, 96_000.0, 192_000.0] {
            // Music-like: a tone and noise, true peak well under a −1 dBTP ceiling.
            let n = 20_000;
            let x: Vec<f32> = (0..n)
                .map(|i| {
                    (0.5 * (2.0 * PI * 440.0 * i as f64 / fs).sin() + 0.2 * rng.next_f32() as f64)
                        as f32
                })
                .collect();
            let mut lim = TruePeakLimiter::new(fs, 1, LimiterParams::default()).unwrap();
            let latency = lim.latency_frames();
            let y = run(&mut lim, std::slice::from_ref(&x), 333);
            assert!(y[0][..latency].iter().all(|&v| v == 0.0));
            assert!(
                y[0][latency..] == x[..n - latency],
                "seed {seed}: {fs} Hz changed the signal"
            );
            assert_eq!(lim.take_gain_reduction().max_db, 0.0);
        }
    }

    #[test]
    fn latency_is_the_look_ahead_plus_23_frames() {
        for (fs, lookahead_ms) in [(44_100.0, 1.5), (48_000.0, 5.0), (96_000.0, 3.0)] {
            let mut lim =
                TruePeakLimiter::new(fs, 1, params(-1.0, lookahead_ms, 100.0, false)).unwrap();
            let lookahead = (lookahead_ms * 1e-3 * fs).round() as usize;
            assert_eq!(lim.latency_frames(), lookahead + 23);
            let mut x = vec![0f32; 2_000];
            x[10] = 0.25;
            let y = run(&mut lim, &[x], 64);
            let at = y[0].iter().position(|&v| v != 0.0).unwrap();
            assert_eq!(at, 10 + lim.latency_frames());
            assert_eq!(y[0][at], 0.25);
        }
    }

    /// Gain reduction (dB) per output frame for a DC input: loud for `loud` frames, then quiet.
    fn dc_gain_trace(lim: &mut TruePeakLimiter, loud: usize, quiet: usize) -> Vec<f64> {
        let (hi, lo) = (2.0f32, 0.05f32);
        let mut x = vec![hi; loud];
        x.extend(vec![lo; quiet]);
        let latency = lim.latency_frames();
        let y = run(lim, std::slice::from_ref(&x), 4096);
        (latency..x.len())
            .map(|i| -db(y[0][i] as f64 / x[i - latency] as f64))
            .collect()
    }

    #[test]
    fn release_recovers_with_its_time_constant_and_returns_to_unity() {
        let fs = 48_000.0;
        let release_ms = 80.0;
        let mut lim = TruePeakLimiter::new(fs, 1, params(-1.0, 2.0, release_ms, false)).unwrap();
        let loud = 10_000;
        let gr = dc_gain_trace(&mut lim, loud, 100_000);
        // DC at 2.0 under a −1 dBTP ceiling (less the 0.02 dB margin): 7.04 dB of reduction.
        let full = db(2.0) + 1.0 + MAIN_MARGIN_DB;
        // To 1e-5 dB: the f32 output and the f32 detector each round by up to 5e-7 dB.
        assert!(
            (gr[loud / 2] - full).abs() < 1e-5,
            "plateau {} dB",
            gr[loud / 2]
        );
        // After the last loud frame the reduction holds for the plateau, then decays in dB as
        // exp(−t/τ); the moving averages (2 ms) delay it a little more. Find 1/e of it.
        let start = gr[loud..].iter().position(|&g| g < full - 1e-9).unwrap() + loud;
        let at = gr[start..]
            .iter()
            .position(|&g| g < full / std::f64::consts::E)
            .unwrap();
        let tau_ms = at as f64 / fs * 1e3;
        // ±10 %: the averages' smoothing shifts the curve by ~1 ms of 80.
        assert!(
            (tau_ms / release_ms - 1.0).abs() < 0.1,
            "1/e after {tau_ms:.2} ms"
        );
        // Back to exactly unity: the quiet DC passes bit for bit.
        assert_eq!(*gr.last().unwrap(), 0.0);
        assert_eq!(lim.take_gain_reduction().current_db, 0.0);
    }

    #[test]
    fn auto_release_recovers_fast_from_peaks_and_slowly_from_sustained_limiting() {
        let fs = 48_000.0;
        // Frames until the reduction has fallen below 1 dB, after `loud` frames of overload.
        let recovery = |auto: bool, loud: usize| {
            let mut lim = TruePeakLimiter::new(fs, 1, params(-1.0, 2.0, 100.0, auto)).unwrap();
            let gr = dc_gain_trace(&mut lim, loud, 100_000);
            gr[loud..].iter().position(|&g| g < 1.0).unwrap()
        };
        let short = 240; // 5 ms
        let long = 96_000; // 2 s
        let manual = recovery(false, short);
        assert!(
            recovery(true, short) < manual / 2,
            "a short peak recovers faster in auto"
        );
        assert!(
            recovery(true, long) > 2 * recovery(true, short),
            "sustained reduction holds"
        );
        // Manual release does not depend on the programme.
        assert!(recovery(false, long).abs_diff(manual) < manual / 50);
    }

    #[test]
    fn gain_reduction_meter_reads_current_and_max_since_last_read() {
        let fs = 44_100.0;
        let mut lim = TruePeakLimiter::new(fs, 1, params(-1.0, 1.0, 20.0, false)).unwrap();
        let gr = dc_gain_trace(&mut lim, 5_000, 40_000);
        let reading = lim.take_gain_reduction();
        let max = gr.iter().fold(0.0f64, |m, &g| m.max(g));
        assert!((reading.max_db - max).abs() < 1e-6, "{reading:?} vs {max}");
        assert_eq!(reading.current_db, 0.0);
        // The next reading starts from the current value.
        assert_eq!(lim.take_gain_reduction().max_db, 0.0);
    }

    #[test]
    fn input_gain_drives_the_limiter() {
        let fs = 48_000.0;
        let x: Vec<f32> = (0..20_000)
            .map(|i| (0.25 * (2.0 * PI * 100.0 * i as f64 / fs).sin()) as f32)
            .collect();
        let mut p = params(-3.0, 2.0, 50.0, false);
        p.input_gain_db = 18.0;
        let mut lim = TruePeakLimiter::new(fs, 1, p).unwrap();
        let y = run_flushed(&mut lim, &[x]);
        // −12 dBFS + 18 dB = +6 dBTP into a −3 dBTP ceiling: about 9 dB of reduction.
        let gr = lim.take_gain_reduction().max_db;
        assert!((gr - 9.02).abs() < 0.1, "{gr} dB");
        assert!(db(true_peak(fs, &y)) <= -3.0);
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let fs = 44_100.0;
        let seed = 0xb10c;
        let mut rng = XorShift(seed);
        let n = 30_000;
        let input: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..n)
                    .map(|i| {
                        ([0.3, 3.0, 0.8, 6.0, 0.05, 2.0][i / 5000] * rng.next_f32() as f64) as f32
                    })
                    .collect()
            })
            .collect();
        for auto in [false, true] {
            let p = params(-1.0, 1.5, 30.0, auto);
            let reference = run(&mut TruePeakLimiter::new(fs, 2, p).unwrap(), &input, n);
            for block in BLOCK_SIZES {
                let y = run(&mut TruePeakLimiter::new(fs, 2, p).unwrap(), &input, block);
                let what = format!("seed {seed}: block {block}, auto release {auto}");
                assert_bit_identical(&what, &y, &reference);
            }
            // reset() gives the same output again.
            let mut lim = TruePeakLimiter::new(fs, 2, p).unwrap();
            run(&mut lim, &input, 512);
            lim.reset();
            assert!(run(&mut lim, &input, 512) == reference);
        }
    }

    #[test]
    fn rejects_out_of_range_parameters_by_name() {
        let bad = |p: LimiterParams| match TruePeakLimiter::new(48_000.0, 2, p) {
            Err(DspError::Parameter { name, .. }) => name,
            other => panic!("expected a parameter error, got {other:?}"),
        };
        let d = LimiterParams::default();
        assert_eq!(
            bad(LimiterParams {
                ceiling_dbtp: 0.5,
                ..d
            }),
            "ceiling_dbtp"
        );
        assert_eq!(
            bad(LimiterParams {
                lookahead_ms: 0.1,
                ..d
            }),
            "lookahead_ms"
        );
        assert_eq!(
            bad(LimiterParams {
                release_ms: f64::NAN,
                ..d
            }),
            "release_ms"
        );
        assert_eq!(
            bad(LimiterParams {
                input_gain_db: 30.0,
                ..d
            }),
            "input_gain_db"
        );
        let mut lim = TruePeakLimiter::new(48_000.0, 2, d).unwrap();
        assert!(lim
            .set_params(LimiterParams {
                lookahead_ms: 50.0,
                ..d
            })
            .is_err());
        assert_eq!(lim.params(), d);
    }

    /// `cargo test --release limiter_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn limiter_speed_on_four_minutes_of_stereo() {
        let fs = 44_100.0;
        let n = (240.0 * fs) as usize;
        let mut rng = XorShift(0x5eed);
        // Music-like load: bass, a melody and noise under a slow envelope, driven 6 dB into a
        // −1 dBTP ceiling so the limiter works throughout.
        let input: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..n)
                    .map(|i| {
                        let t = i as f64 / fs;
                        let env = 0.6 + 0.4 * (2.0 * PI * 0.5 * t).sin().abs();
                        let v = 0.5 * (2.0 * PI * 55.0 * t).sin()
                            + 0.3 * (2.0 * PI * (440.0 + 10.0 * c as f64) * t).sin()
                            + 0.2 * rng.next_f32() as f64;
                        (env * v) as f32
                    })
                    .collect()
            })
            .collect();
        let p = LimiterParams {
            input_gain_db: 6.0,
            ..LimiterParams::default()
        };
        let mut lim = TruePeakLimiter::new(fs, 2, p).unwrap();
        let start = std::time::Instant::now();
        let out = run(&mut lim, &input, 4096);
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "limiter: 4 min stereo 44.1 kHz in {secs:.3} s ({:.0}× real time), max GR {:.2} dB, guard acted on {} frames",
            240.0 / secs,
            lim.take_gain_reduction().max_db,
            lim.guard_actions
        );
        assert!(db(true_peak(fs, &out)) <= -1.0);
    }
}
