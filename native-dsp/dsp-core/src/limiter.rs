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
//!
//! **Implementation.** The definitions above go frame by frame; the limiter computes exactly
//! the same values (the tests keep the frame-by-frame version as a reference and compare bit
//! for bit) in chunks of 256 frames, one step over the whole chunk before the next, so that
//! the interpolation runs as SIMD over consecutive frames (AVX-512 or AVX2 where the CPU has
//! them, detected once; otherwise the baseline) and only the recursions (plateau, release,
//! moving sums) go frame by frame. The guard's points are first interpolated in f32, as the
//! detector does, and evaluated exactly only where that, with its rounding bound, cannot clear
//! a frame, or where the guard acts. The release's exponential is estimated to 2.5e-13, and
//! the library's `powf` asked only where the estimate cannot decide the fixed-point gain.

use crate::compressor::GainReduction;
use crate::error::{check_format, check_planes, DspError};
use crate::processor::{check_output, check_range};
use crate::simd::Simd;
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
/// The largest |sample| the detector takes (+600 dBFS): times the largest input gain (+24 dB)
/// and the sum of a phase's |taps| (< 2), still far inside f32.
const DETECT_LIMIT: f32 = 1e30;
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
/// Frames per pass: each step runs over a chunk of frames before the next, so the
/// interpolation runs as SIMD over consecutive outputs. The scratch is sized for it in `reset`.
const CHUNK: usize = 256;
/// Frames before a chunk that its first window reaches back over.
const HISTORY: usize = TAPS_PER_PHASE - 1;
/// Per phase, the points buffer holds the 8 points before a chunk and the chunk's.
const POINTS: usize = KERNEL_HALF + CHUNK;
/// Samples of the output sequence before a chunk: the windows of the 8 points before it.
const SEQ_HISTORY: usize = HISTORY + KERNEL_HALF;

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

/// Running minimum over the last `window` values (van Herk / Gil-Werman): the stream is cut
/// into blocks of `window` values, and the window ending at a value covers a suffix of the
/// previous block and a prefix of the current one. Two comparisons per value, plus one when a
/// block completes, and no branch on the data.
#[derive(Debug, Clone)]
struct RunningMin {
    /// The current block's values so far.
    block: Vec<f64>,
    /// suffix[k]: the minimum of the previous block's values k.. (+∞ past its end, and before
    /// the stream).
    suffix: Vec<f64>,
    /// The minimum of the current block's values so far.
    prefix: f64,
    filled: usize,
}

impl RunningMin {
    fn new(window: usize) -> Self {
        RunningMin {
            block: vec![f64::INFINITY; window],
            suffix: vec![f64::INFINITY; window + 1],
            prefix: f64::INFINITY,
            filled: 0,
        }
    }

    /// Replaces each of `values` (not NaN) by the minimum over the last `window` values up
    /// to it. The state is held in locals: stores through the slices cannot then be taken to
    /// change it, and the chains of minima stay in registers.
    fn run(&mut self, values: &mut [f64]) {
        let window = self.block.len();
        let (mut prefix, mut filled) = (self.prefix, self.filled);
        let (block, suffix) = (&mut self.block[..], &mut self.suffix[..]);
        for v in values.iter_mut() {
            block[filled] = *v;
            prefix = min_of(prefix, *v);
            *v = min_of(suffix[filled + 1], prefix);
            filled += 1;
            if filled == window {
                let mut s = f64::INFINITY;
                for (out, &x) in suffix.iter_mut().zip(block.iter()).rev() {
                    s = min_of(s, x);
                    *out = s;
                }
                prefix = f64::INFINITY;
                filled = 0;
            }
        }
        self.prefix = prefix;
        self.filled = filled;
    }
}

/// Moves buffer[n..n + K] to the front: the K values the next chunk reaches back over. A copy
/// of known size, done in a few moves where `copy_within` calls the library.
#[inline(always)]
fn keep_last<const K: usize, T: Copy + Default>(buffer: &mut [T], n: usize) {
    let mut last = [T::default(); K];
    last.copy_from_slice(&buffer[n..n + K]);
    buffer[..K].copy_from_slice(&last);
}

/// The smaller of `a` and `b`, neither NaN: as `f64::min`, but one instruction, where
/// `f64::min` adds a test for NaN to each step of a chain of minima.
#[inline(always)]
fn min_of(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// The smallest of `values` (none NaN; +∞ if none), in eight independent lanes rather than
/// one chain of dependent minima.
#[inline(always)]
fn smallest(values: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut lanes = [f64::INFINITY; LANES];
    let mut runs = values.chunks_exact(LANES);
    for run in &mut runs {
        for (m, &v) in lanes.iter_mut().zip(run) {
            *m = min_of(*m, v);
        }
    }
    let rest = runs
        .remainder()
        .iter()
        .fold(f64::INFINITY, |m, &v| min_of(m, v));
    lanes.iter().fold(rest, |m, &v| min_of(m, v))
}

/// Whether every flag is set, without stopping early, so that it runs as SIMD.
#[inline(always)]
fn all_set(flags: &[bool]) -> bool {
    flags.iter().fold(true, |all, &f| all & f)
}

/// The larger of `a` and `b` where `a` is never NaN, as `a.max(b)`: a NaN `b` loses.
#[inline(always)]
fn max_of(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Two cascaded moving sums of integers: the first over the last `lengths[0]` values, the
/// second over the last `lengths[1]` first sums.
#[derive(Debug, Clone)]
struct MovingSums {
    rings: [Vec<u64>; 2],
    positions: [usize; 2],
    sums: [u64; 2],
}

impl MovingSums {
    /// As if `fill` had always been the input.
    fn new(lengths: [usize; 2], fill: u64) -> Self {
        let first = fill * lengths[0] as u64;
        MovingSums {
            rings: [vec![fill; lengths[0]], vec![first; lengths[1]]],
            positions: [0; 2],
            sums: [first, first * lengths[1] as u64],
        }
    }

    /// The second sum after each of `values`, as f64 (the sums stay far below 2⁶³: the signed
    /// conversion is exact, and one instruction where the unsigned one is several). The state
    /// is held in locals, as in `RunningMin::run`. Kept out of line: inlined into the SIMD
    /// chunk, the compiler made it half as fast.
    #[inline(never)]
    fn run(&mut self, values: &[u64], out: &mut [f64]) {
        let [first, second] = &mut self.rings;
        let [mut p0, mut p1] = self.positions;
        let [mut s0, mut s1] = self.sums;
        for (&v, o) in values.iter().zip(out) {
            s0 = s0 - first[p0] + v;
            first[p0] = v;
            p0 += 1;
            if p0 == first.len() {
                p0 = 0;
            }
            s1 = s1 - second[p1] + s0;
            second[p1] = s0;
            p1 += 1;
            if p1 == second.len() {
                p1 = 0;
            }
            *o = s1 as i64 as f64;
        }
        self.positions = [p0, p1];
        self.sums = [s0, s1];
    }
}

/// Per channel: what the detector and the guard remember. Each buffer holds the frames a
/// chunk's windows reach back over, then the chunk's own, so every window is one slice.
#[derive(Debug, Clone)]
struct ChannelState {
    /// Input with the input gain applied, from 15 frames before the chunk.
    detect: Vec<f32>,
    /// Raw input from `stage1_delay` frames before the chunk: the delay line.
    delay: Vec<f32>,
    /// The output sequence from 23 candidates before the chunk: those more than 8 frames old
    /// are emitted (scaled if the guard acted), the newer ones still stage 1's. Frame j's
    /// window is seq[j + 8..j + 24]; it emits seq[j + 15].
    seq: Vec<f32>,
    /// Interpolated points by phase (`POINTS` apart): the 8 before the chunk, still enforced,
    /// then the chunk's, where evaluated (`exact`). The point of frame j lies after the
    /// sample it emits.
    points: Vec<f64>,
}

/// Stage 1's release: followers in dB of reduction (see the module documentation).
#[derive(Debug, Clone, Copy)]
struct Release {
    fast_release: f64,
    slow_attack: f64,
    slow_release: f64,
    fast_gr_db: f64,
    slow_gr_db: f64,
    /// The last plateau and its reduction in dB (the plateau changes seldom: saves a log).
    last_plateau: f64,
    last_target_db: f64,
}

impl Release {
    fn new() -> Self {
        Release {
            fast_release: 0.0,
            slow_attack: 0.0,
            slow_release: 0.0,
            fast_gr_db: 0.0,
            slow_gr_db: 0.0,
            last_plateau: 1.0,
            last_target_db: 0.0,
        }
    }

    fn reset(&mut self) {
        self.fast_gr_db = 0.0;
        self.slow_gr_db = 0.0;
        self.last_plateau = 1.0;
        self.last_target_db = 0.0;
    }

    /// `advance` for each of `plateaus`, into `held_db`. The state is copied into a local for
    /// the loop, so that it stays in registers (as in `RunningMin::run`).
    fn run(&mut self, plateaus: &[f64], held_db: &mut [f64]) {
        let mut release = *self;
        let done = release.run_manual(plateaus, held_db);
        for (&plateau, held) in plateaus[done..].iter().zip(&mut held_db[done..]) {
            *held = release.advance(plateau);
        }
        *self = release;
    }

    /// `advance` for as many of `plateaus` as it can where the release is manual (slow attack
    /// 1, slow release 0) and the slow follower is at 0: then it stays at 0 while the fast
    /// one is finite (fast + (0 − fast)·1 and max(fast, 0·0) with fast ≥ 0 are exactly 0, or
    /// fast where fast is 0), and the reduction held is the fast follower's. Only that one's
    /// recursion is left, with half the latency. Returns how many frames it did; it stops
    /// before a frame whose fast follower would be infinite.
    fn run_manual(&mut self, plateaus: &[f64], held_db: &mut [f64]) -> usize {
        if !(self.slow_attack == 1.0 && self.slow_release == 0.0 && self.slow_gr_db == 0.0) {
            return 0;
        }
        let mut fast = self.fast_gr_db;
        for (j, (&plateau, held)) in plateaus.iter().zip(held_db.iter_mut()).enumerate() {
            if plateau != self.last_plateau {
                self.last_plateau = plateau;
                self.last_target_db = if plateau < 1.0 {
                    -20.0 * plateau.log10()
                } else {
                    0.0
                };
            }
            let target_db = self.last_target_db;
            let next = max_of(target_db, fast * self.fast_release);
            if !next.is_finite() {
                // `advance` takes this frame from the same state (the plateau is noted).
                self.fast_gr_db = fast;
                return j;
            }
            // Choices rather than branches: whether the gain follows the plateau changes
            // from frame to frame unpredictably.
            let floored = next < GR_FLOOR_DB;
            fast = if floored { 0.0 } else { next };
            *held = if floored || fast <= target_db {
                0.0
            } else {
                fast
            };
        }
        self.fast_gr_db = fast;
        plateaus.len()
    }

    /// Advances the followers by a frame under `plateau` and returns the reduction in dB the
    /// gain follows, or 0 where the gain is the plateau itself (a reduction it follows is
    /// larger than the plateau's, so never 0).
    #[inline(always)]
    fn advance(&mut self, plateau: f64) -> f64 {
        if plateau != self.last_plateau {
            self.last_plateau = plateau;
            self.last_target_db = if plateau < 1.0 {
                -20.0 * plateau.log10()
            } else {
                0.0
            };
        }
        // The target and the fast follower are never NaN; the slow follower is, for a frame,
        // where the reduction is infinite (a peak beyond f32): `max_of` keeps `f64::max`'s
        // answer throughout.
        let target_db = self.last_target_db;
        self.fast_gr_db = max_of(target_db, self.fast_gr_db * self.fast_release);
        let fast = self.fast_gr_db;
        self.slow_gr_db = if fast > self.slow_gr_db {
            fast + (self.slow_gr_db - fast) * self.slow_attack
        } else {
            max_of(fast, self.slow_gr_db * self.slow_release)
        };
        if self.fast_gr_db < GR_FLOOR_DB && self.slow_gr_db < GR_FLOOR_DB {
            self.fast_gr_db = 0.0;
            self.slow_gr_db = 0.0;
            return 0.0;
        }
        let held_db = max_of(self.fast_gr_db, self.slow_gr_db);
        if held_db <= target_db {
            // Holding at the plateau (the common case under load): no exponential needed.
            return 0.0;
        }
        held_db
    }
}

/// A gain in 0..=1 in fixed point, floored, as `(gain * FIXED_ONE).floor() as u64`. Adding
/// 2⁵² rounds to the nearest integer, which lands in the low bits of the mantissa; one less
/// where that rounded up. No conversion instruction and no branch, so it runs as SIMD (the
/// conversions to integers are SIMD only from AVX-512DQ on).
#[inline(always)]
fn to_fixed(gain: f64) -> u64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let x = gain * FIXED_ONE;
    let shifted = x + TWO_52;
    let nearest = shifted - TWO_52;
    let rounded = shifted.to_bits() - TWO_52.to_bits();
    rounded - (nearest > x) as u64
}

/// The gain in fixed point under `plateau` where the release holds `held_db` of reduction
/// (0: none beyond the plateau), as `to_fixed(plateau.min(10f64.powf(-held_db / 20.0)))`
/// gives it, and whether that is certain. The exponential is estimated (`gain_estimate`);
/// when every number within `EXP10_TOLERANCE` of the estimate has the same fixed-point value,
/// so has the library's `powf`, whose result lies among them. Otherwise (about 2 frames in
/// 1000 that release, where the interval straddles a step of 2⁻³⁰) the caller asks `powf`.
#[inline(always)]
fn release_gain(plateau: f64, held_db: f64) -> (u64, bool) {
    // Both ways, then a choice, so that a run of frames becomes SIMD without branches.
    let (estimate, in_range) = gain_estimate(held_db);
    // As f64::min, for values that are never NaN.
    let below = |v: f64| if v < plateau { v } else { plateau };
    let low = to_fixed(below(estimate * (1.0 - EXP10_TOLERANCE)));
    let high = to_fixed(below(estimate * (1.0 + EXP10_TOLERANCE)));
    let releasing = held_db != 0.0;
    let fixed = if releasing { low } else { to_fixed(plateau) };
    (fixed, !releasing || (in_range && low == high))
}

/// What `release_gain` leaves uncertain, with the library's exponential.
#[cold]
fn release_gain_exact(plateau: f64, held_db: f64) -> u64 {
    to_fixed(plateau.min(10f64.powf(-held_db / 20.0)))
}

/// Relative error allowed between `gain_estimate` and the library's `powf`: the estimate is
/// within 2.5e-13 of the exact value (see there), the library within an ulp or so (2.2e-16).
const EXP10_TOLERANCE: f64 = 1e-12;

/// The gain 10^(−reduction_db / 20) for a reduction ≥ 0, and whether the reduction is within
/// the range where the estimate holds to a relative 2.5e-13 (up to 6000 dB, y ≥ −1000 below;
/// beyond, the gain is meaningless). 10^(−r/20) = 2^y = 2^k · e^x, with y = r·(−log₂10 / 20),
/// k the integer nearest y and x = (y − k)·ln 2, |x| ≤ ln2/2. The constant and the product
/// round by up to 3·2⁻⁵³ of y: at most 3.3e-13 in the exponent, 2.3e-13 relative at the end
/// of the range (far less at any real reduction); the degree-11 Taylor series of e^x errs by
/// under 1.3e-14 and its evaluation by a few ulps; the scaling by 2^k is exact. No branches,
/// so it runs as SIMD.
#[inline(always)]
fn gain_estimate(reduction_db: f64) -> (f64, bool) {
    const DB_TO_LOG2: f64 = -std::f64::consts::LOG2_10 / 20.0;
    let y = reduction_db * DB_TO_LOG2;
    let in_range = y >= -1000.0;
    let y = if in_range { y } else { 0.0 };
    // Adding 1.5·2⁵² rounds y to an integer k in the low bits (`round` is a library call on
    // baseline x86-64); y − k is then exact.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    let shifted = y + SHIFTER;
    let k = shifted - SHIFTER;
    let x = (y - k) * std::f64::consts::LN_2;
    const INV_FACTORIALS: [f64; 12] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
        1.0 / 40320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
    ];
    // Estrin's scheme: the same polynomial with a quarter of Horner's chain of dependent
    // steps, so that successive frames overlap.
    let c = INV_FACTORIALS;
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let pair = |k: usize| c[k] + c[k + 1] * x;
    let low = (pair(0) + pair(2) * x2) + (pair(4) + pair(6) * x2) * x4;
    let high = pair(8) + pair(10) * x2;
    let e = low + high * x8;
    // k + 1023 (−1000 ≤ k ≤ 0) in the exponent field: 2^k.
    let k_bits = shifted.to_bits().wrapping_sub(SHIFTER.to_bits());
    let two_k = f64::from_bits(k_bits.wrapping_add(1023) << 52);
    (e * two_k, in_range)
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
    states: Vec<ChannelState>,
    /// The widest SIMD the chunks are processed with, detected once.
    simd: Simd,
    /// L1 norm of the largest phase, with room for the f32 rounding of the detector's sums:
    /// no interpolated value exceeds it times the largest |x| under the kernel.
    detect_l1: f64,
    /// Per frame of the chunk: the detector's peak over channels, the gain it needs (then
    /// the plateau), the reduction the release holds, and stage 1's gain in fixed point.
    peaks: Vec<f32>,
    plateaus: Vec<f64>,
    held_db: Vec<f64>,
    fixed: Vec<u64>,
    /// Per frame of the chunk: the fixed-point gain is certain; later, the frame's emitted
    /// sample and new point pass the guard unscaled.
    flags: Vec<bool>,
    /// Stage 1's gains: of the 8 frames before the chunk, then of the chunk's frames. The
    /// sample emitted at frame j has the gain at j.
    gains: Vec<f64>,
    /// Per frame, the 8 before the chunk then the chunk's: its points hold their exact values.
    exact: Vec<bool>,
    /// The guard's last scale, and the total gain of the chunk's last frame where the guard
    /// acted on it.
    last_scale: f64,
    scaled_last: Option<f64>,
    hold: RunningMin,
    release: Release,
    boxes: MovingSums,
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
        // 1e-4 covers the f32 rounding of a 16-term sum (about 1e-6) many times over.
        let detect_l1 = phases
            .iter()
            .map(|t| t.iter().map(|v| v.abs() as f64).sum::<f64>())
            .fold(1.0, f64::max)
            * 1.0001;
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
            states: Vec::new(),
            simd: Simd::detect(),
            detect_l1,
            peaks: vec![0.0; CHUNK],
            plateaus: vec![0.0; CHUNK],
            held_db: vec![0.0; CHUNK],
            fixed: vec![0; CHUNK],
            flags: vec![true; CHUNK],
            gains: vec![1.0; KERNEL_HALF + CHUNK],
            exact: vec![true; KERNEL_HALF + CHUNK],
            last_scale: 1.0,
            scaled_last: None,
            hold: RunningMin::new(1),
            release: Release::new(),
            boxes: MovingSums::new([1, 1], 0),
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
            self.release.fast_release = coef(release * AUTO_FAST_FACTOR);
            self.release.slow_attack = coef(release * AUTO_SLOW_FACTOR);
            self.release.slow_release = coef(release * AUTO_SLOW_FACTOR);
        } else {
            self.release.fast_release = coef(release);
            self.release.slow_attack = 1.0;
            self.release.slow_release = 0.0;
        }
    }

    /// Clears all state (silence before the stream) and the meters.
    pub fn reset(&mut self) {
        self.states = (0..self.channels)
            .map(|_| ChannelState {
                detect: vec![0.0; HISTORY + CHUNK],
                delay: vec![0.0; self.stage1_delay + CHUNK],
                seq: vec![0.0; SEQ_HISTORY + CHUNK],
                points: vec![0.0; MAX_PHASES * POINTS],
            })
            .collect();
        self.gains.fill(1.0);
        // The points before the stream are those of silence, 0.
        self.exact.fill(true);
        self.hold = RunningMin::new(self.lookahead + 2 * KERNEL_HALF);
        self.release.reset();
        self.boxes = MovingSums::new(self.box_lengths, FIXED_ONE as u64);
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
        let mut start = 0;
        while start < frames {
            let n = CHUNK.min(frames - start);
            self.dispatch_chunk(input, output, start, n);
            start += n;
        }
        Ok(())
    }

    /// Runs `chunk` compiled for the widest SIMD the CPU has. Rust never fuses `a + b * c`
    /// into an FMA instruction, so every build computes bit-identical results.
    #[allow(unsafe_code)]
    fn dispatch_chunk(
        &mut self,
        input: &[&[f32]],
        output: &mut [&mut [f32]],
        start: usize,
        n: usize,
    ) {
        match self.simd {
            // SAFETY: `Simd::detect` found the features the function is compiled for.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { self.chunk_avx512(input, output, start, n) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { self.chunk_avx2(input, output, start, n) },
            Simd::Baseline => self.chunk::<8>(input, output, start, n),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn chunk_avx512(
        &mut self,
        input: &[&[f32]],
        output: &mut [&mut [f32]],
        start: usize,
        n: usize,
    ) {
        self.chunk::<32>(input, output, start, n)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn chunk_avx2(&mut self, input: &[&[f32]], output: &mut [&mut [f32]], start: usize, n: usize) {
        self.chunk::<16>(input, output, start, n)
    }

    /// Limits frames `start..start + n` (n ≤ CHUNK) of the block. The steps run one after
    /// the other over the whole chunk (take in, detect, stage 1, candidates, guard, emit), so
    /// that all but the recursive parts run over consecutive frames as SIMD (LANES f32 at a
    /// time). Every value is computed exactly as frame-by-frame processing computes it, so the
    /// output does not depend on the block size.
    #[inline(always)]
    fn chunk<const LANES: usize>(
        &mut self,
        input: &[&[f32]],
        output: &mut [&mut [f32]],
        start: usize,
        n: usize,
    ) {
        self.take_in(input, start, n);
        self.detect::<LANES>(n);
        self.stage_one(n);
        self.candidates::<LANES>(n);
        self.guard(n);
        self.emit(output, start, n);
    }

    /// The detector's copy of the input, with the input gain applied, and the delay line.
    #[inline(always)]
    fn take_in(&mut self, input: &[&[f32]], start: usize, n: usize) {
        let gain_in = self.input_gain as f32;
        let delay = self.stage1_delay;
        for (state, plane) in self.states.iter_mut().zip(input) {
            let detect = &mut state.detect[HISTORY..HISTORY + n];
            let line = &mut state.delay[delay..delay + n];
            for ((&x, d), l) in plane[start..start + n].iter().zip(detect).zip(line) {
                // Non-finite input would defeat every bound below: it is treated as silence.
                let x = if x.is_finite() { x } else { 0.0 };
                // A finite sample that the input gain would carry past f32 (or whose
                // interpolated points would overflow) is detected as ±DETECT_LIMIT: its
                // reduction stays finite, so the release recovers from it.
                *d = x.clamp(-DETECT_LIMIT, DETECT_LIMIT) * gain_in;
                *l = x;
            }
        }
    }

    /// Each frame's need r = min(1, target / peak), the peak being the largest over channels
    /// of the interval's interpolated points and the sample before it (the 8th of the window
    /// of the last 16 samples).
    #[inline(always)]
    fn detect<const LANES: usize>(&mut self, n: usize) {
        let peaks = &mut self.peaks[..n];
        peaks.fill(0.0);
        for state in &self.states {
            detect_peaks::<LANES>(
                &self.phases,
                &state.detect[..n + HISTORY],
                self.detect_l1,
                self.main_ceiling,
                peaks,
                |_, _, _| {},
            );
        }
        let target = self.main_ceiling;
        for (need, &peak) in self.plateaus.iter_mut().zip(peaks.iter()) {
            let peak = peak as f64;
            *need = if peak > target { target / peak } else { 1.0 };
        }
    }

    /// Stage 1's gain for each frame leaving the delay line: plateau and release followers
    /// (recursive, frame by frame), the gain in fixed point (SIMD, and the library's
    /// exponential where the estimate cannot decide), the moving averages (frame by frame, in
    /// integers) and their normalisation (SIMD).
    #[inline(always)]
    fn stage_one(&mut self, n: usize) {
        self.hold.run(&mut self.plateaus[..n]);
        self.release
            .run(&self.plateaus[..n], &mut self.held_db[..n]);
        let plateaus = &self.plateaus[..n];
        let held_db = &self.held_db[..n];
        let fixed = &mut self.fixed[..n];
        let certain = &mut self.flags[..n];
        for (((f, c), &plateau), &held) in fixed.iter_mut().zip(certain).zip(plateaus).zip(held_db)
        {
            (*f, *c) = release_gain(plateau, held);
        }
        // Most chunks have no uncertain frame: one SIMD test rather than a branch per frame.
        if !all_set(&self.flags[..n]) {
            for j in 0..n {
                if !self.flags[j] {
                    self.fixed[j] = release_gain_exact(plateaus[j], held_db[j]);
                }
            }
        }
        let gains = &mut self.gains[KERNEL_HALF..KERNEL_HALF + n];
        self.boxes.run(&self.fixed[..n], gains);
        let norm = FIXED_ONE * (self.box_lengths[0] * self.box_lengths[1]) as f64;
        for g in gains.iter_mut() {
            *g /= norm;
        }
    }

    /// Applies stage 1's gain to the samples leaving the delay line, which join the output
    /// sequence, and screens the point whose last sample each is: the frames whose emitted
    /// sample and new point are certainly within the ceiling are flagged (see `screen`).
    #[inline(always)]
    fn candidates<const LANES: usize>(&mut self, n: usize) {
        let gains = &self.gains[KERNEL_HALF..KERNEL_HALF + n];
        let ok = &mut self.flags[..n];
        ok.fill(true);
        for state in &mut self.states {
            let seq = &mut state.seq[SEQ_HISTORY..SEQ_HISTORY + n];
            for ((y, &x), &gain) in seq.iter_mut().zip(&state.delay[..n]).zip(gains) {
                let g = gain * self.input_gain;
                *y = (g * x as f64) as f32;
            }
            screen::<LANES>(
                &self.phases,
                &state.seq[KERNEL_HALF..KERNEL_HALF + n + HISTORY],
                self.detect_l1,
                self.guard_ceiling,
                &mut self.peaks[..n],
                ok,
            );
        }
    }

    /// The exact true-peak guard, frame by frame in the order of emission: where the sample
    /// emitted at frame j or the point after it is over, the sample is scaled (all channels
    /// alike) so that every enforced point stays within the ceiling.
    ///
    /// The guard's points are evaluated exactly (in f64) only where needed: for frames the
    /// screening could not clear, for the 7 frames after a scaled sample (whose screening saw
    /// its stage 1 value), and for the enforced points when the guard acts (`exact_point`).
    #[inline(always)]
    fn guard(&mut self, n: usize) {
        self.scaled_last = None;
        self.exact[KERNEL_HALF..KERNEL_HALF + n].fill(false);
        if !self.guard_enabled || all_set(&self.flags[..n]) {
            return;
        }
        let mut recheck_until = 0;
        for j in 0..n {
            if self.flags[j] && j >= recheck_until {
                continue;
            }
            if self.check_exactly(j) {
                continue;
            }
            if self.guard_frame(j) {
                recheck_until = j + KERNEL_HALF;
            }
            if j + 1 == n {
                self.scaled_last = Some(self.gains[j] * self.last_scale);
            }
        }
    }

    /// Evaluates frame `j`'s point exactly, from the sequence as it is now (the samples
    /// before the emitted one as emitted, the others stage 1's: as when the point was formed),
    /// and whether it and the emitted sample are within the ceiling in every channel.
    #[inline(never)]
    fn check_exactly(&mut self, j: usize) -> bool {
        let limit = self.guard_ceiling;
        let mut ok = true;
        for state in &mut self.states {
            let w: &[f32; TAPS_PER_PHASE] = state.seq
                [j + KERNEL_HALF..j + KERNEL_HALF + TAPS_PER_PHASE]
                .try_into()
                .expect("window length");
            let w = w.map(|v| v as f64);
            ok &= w[KERNEL_HALF - 1].abs() <= limit;
            for (p, taps) in self.phases_f64.iter().enumerate() {
                let v = dot_f64(taps, &w);
                state.points[p * POINTS + KERNEL_HALF + j] = v;
                ok &= v.abs() <= limit;
            }
        }
        self.exact[KERNEL_HALF + j] = true;
        ok
    }

    /// Makes the point of frame `i` (counted from the chunk; the 8 before it are kept) exact,
    /// for the guard acting at a frame within 8 after it. Evaluated from the sequence as it is
    /// now, it has the value it had when formed: no sample under it has been scaled since it
    /// was emitted (a scaling makes exact every point that holds the sample, and points formed
    /// later see the scaled sample).
    fn exact_point(&mut self, i: isize) {
        let slot = (KERNEL_HALF as isize + i) as usize;
        if self.exact[slot] {
            return;
        }
        for state in &mut self.states {
            let w: &[f32; TAPS_PER_PHASE] = state.seq[slot..slot + TAPS_PER_PHASE]
                .try_into()
                .expect("window length");
            let w = w.map(|v| v as f64);
            for (p, taps) in self.phases_f64.iter().enumerate() {
                state.points[p * POINTS + slot] = dot_f64(taps, &w);
            }
        }
        self.exact[slot] = true;
    }

    /// The guard acting at frame `j`: solves for the scale, applies it; returns whether the
    /// sample was scaled.
    #[inline(never)]
    fn guard_frame(&mut self, j: usize) -> bool {
        for back in 1..=KERNEL_HALF {
            self.exact_point(j as isize - back as isize);
        }
        let scale = self.solve_scale(j);
        self.guard_actions += 1;
        self.last_scale = scale;
        let scaled = scale < 1.0;
        if scaled {
            self.scale_sample(j, scale);
        }
        self.min_gain = min_of(self.min_gain, self.gains[j] * scale);
        scaled
    }

    /// Scales the sample emitted at frame `j` by `scale` and updates the enforced points that
    /// hold it (all exact by now).
    fn scale_sample(&mut self, j: usize, scale: f64) {
        let at = j + SEQ_HISTORY - KERNEL_HALF;
        for state in &mut self.states {
            let y = state.seq[at] as f64;
            let scaled = (scale * y) as f32;
            let delta = scaled as f64 - y;
            // Enforced points i = n−8..=n hold this sample under tap n − i + 7.
            for back in 0..=KERNEL_HALF {
                let m = KERNEL_HALF - 1 + back;
                for (p, taps) in self.phases_f64.iter().enumerate() {
                    state.points[p * POINTS + KERNEL_HALF + j - back] += taps[m] * delta;
                }
            }
            state.seq[at] = scaled;
        }
    }

    /// Writes the chunk's output (the sequence 8 frames behind its candidates), updates the
    /// gain-reduction meter and keeps what the next chunk's windows reach back over.
    #[inline(always)]
    fn emit(&mut self, output: &mut [&mut [f32]], start: usize, n: usize) {
        let delay = self.stage1_delay;
        let first = SEQ_HISTORY - KERNEL_HALF;
        for (state, out) in self.states.iter_mut().zip(output.iter_mut()) {
            out[start..start + n].copy_from_slice(&state.seq[first..first + n]);
            keep_last::<HISTORY, _>(&mut state.detect, n);
            keep_last::<SEQ_HISTORY, _>(&mut state.seq, n);
            state.delay.copy_within(n..n + delay, 0);
            for p in 0..self.phases.len() {
                keep_last::<KERNEL_HALF, _>(&mut state.points[p * POINTS..], n);
            }
        }
        keep_last::<KERNEL_HALF, _>(&mut self.exact, n);
        // Stage 1's gain of each emitted sample; where the guard scaled one, it has already
        // counted the lower total gain.
        let gains = &self.gains[..n];
        self.min_gain = min_of(self.min_gain, smallest(gains));
        self.current_gain = self.scaled_last.unwrap_or(gains[n - 1]);
        keep_last::<KERNEL_HALF, _>(&mut self.gains, n);
    }

    /// The largest scale λ ∈ [0, 1] of the sample emitted at frame `j` (all channels) that
    /// keeps the sample and every enforced point within the ceiling; if none does, the one
    /// with the smallest worst excess (counted as unresolved).
    fn solve_scale(&mut self, j: usize) -> f64 {
        let at = j + SEQ_HISTORY - KERNEL_HALF;
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
            let y = state.seq[at] as f64;
            constrain(y, y);
            for back in 0..=KERNEL_HALF {
                let m = KERNEL_HALF - 1 + back;
                for (p, taps) in self.phases_f64.iter().enumerate().take(np) {
                    constrain(
                        state.points[p * POINTS + KERNEL_HALF + j - back],
                        taps[m] * y,
                    );
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
                let y = state.seq[at] as f64;
                w = w.max((lambda * y).abs() - limit);
                for back in 0..=KERNEL_HALF {
                    let m = KERNEL_HALF - 1 + back;
                    for (p, taps) in self.phases_f64.iter().enumerate() {
                        let v = state.points[p * POINTS + KERNEL_HALF + j - back]
                            + (lambda - 1.0) * taps[m] * y;
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

/// Frames whose bound is checked together before the detector interpolates them.
const SKIP_GROUP: usize = 64;

/// The largest |x| of `x` (none NaN). The bit patterns of absolute values order as the values
/// do, so this is an integer maximum, which runs as SIMD.
#[inline(always)]
fn largest_abs(x: &[f32]) -> f32 {
    f32::from_bits(x.iter().fold(0, |m, v| m.max(v.to_bits() & 0x7fff_ffff)))
}

/// For each frame j of `peaks` (window[j..j + 16] its last 16 samples), raises peaks[j] to the
/// largest of |window[j + 7]| and every phase's |interpolated value|, each summed as
/// `dot_f32` does. A group of frames whose bound (`l1` × the largest |x| under their kernels)
/// is within `ceiling` is skipped: nothing in it can ask for gain reduction, whatever the
/// other channels hold. After each group, `done(frames, largest |x|, their peaks)`.
#[inline(always)]
fn detect_peaks<const LANES: usize>(
    phases: &[[f32; TAPS_PER_PHASE]],
    window: &[f32],
    l1: f64,
    ceiling: f64,
    peaks: &mut [f32],
    mut done: impl FnMut(std::ops::Range<usize>, f32, &[f32]),
) {
    let len = peaks.len();
    let mut group = 0;
    while group < len {
        let end = len.min(group + SKIP_GROUP);
        let largest = largest_abs(&window[group..end + HISTORY]);
        if largest as f64 * l1 > ceiling {
            let window = &window[group..end + HISTORY];
            let peaks = &mut peaks[group..end];
            // The phases as an array of known length, so that each window sample is loaded
            // once for all of them.
            let done = match phases.len() {
                3 => detect_lanes::<LANES, 3>(phases.try_into().expect("3"), window, peaks),
                1 => detect_lanes::<LANES, 1>(phases.try_into().expect("1"), window, peaks),
                _ => 0,
            };
            for (j, p) in peaks.iter_mut().enumerate().skip(done) {
                let w: &[f32; TAPS_PER_PHASE] = window[j..j + TAPS_PER_PHASE]
                    .try_into()
                    .expect("window length");
                let mut peak = w[KERNEL_HALF - 1].abs();
                for taps in phases {
                    peak = peak.max(dot_f32(taps, w).abs());
                }
                *p = p.max(peak);
            }
        }
        done(group..end, largest, &peaks[group..end]);
        group = end;
    }
}

/// `detect_peaks` for the first frames of `peaks` in whole runs of LANES, with the sums held
/// in registers across the taps; returns how many frames it did.
#[inline(always)]
fn detect_lanes<const LANES: usize, const NP: usize>(
    phases: &[[f32; TAPS_PER_PHASE]; NP],
    window: &[f32],
    peaks: &mut [f32],
) -> usize {
    let mut j = 0;
    while j + LANES <= peaks.len() {
        // One slice per run: the indices below are then known to be in bounds.
        let win = &window[j..j + LANES + HISTORY];
        // dot_f32's eight partial sums (taps k and k + 8), added in order. Its sums start
        // from 0.0, which differs from starting with the first partial sum only in the sign
        // of a zero, and the sign goes with the absolute value.
        let mut sums = [[0f32; LANES]; NP];
        let (near, far) = (&win[..LANES], &win[KERNEL_HALF..KERNEL_HALF + LANES]);
        for (sum, taps) in sums.iter_mut().zip(phases) {
            for l in 0..LANES {
                sum[l] = taps[0] * near[l] + taps[KERNEL_HALF] * far[l];
            }
        }
        for k in 1..KERNEL_HALF {
            let near = &win[k..k + LANES];
            let far = &win[k + KERNEL_HALF..k + KERNEL_HALF + LANES];
            for (sum, taps) in sums.iter_mut().zip(phases) {
                for l in 0..LANES {
                    sum[l] += taps[k] * near[l] + taps[k + KERNEL_HALF] * far[l];
                }
            }
        }
        let out = &mut peaks[j..j + LANES];
        for l in 0..LANES {
            let mut peak = win[l + KERNEL_HALF - 1].abs();
            for sum in &sums {
                // As f32::max: a NaN value is dropped (the peak itself never is NaN).
                let v = sum[l].abs();
                peak = if v > peak { v } else { peak };
            }
            out[l] = out[l].max(peak);
        }
        j += LANES;
    }
    j
}

/// Screens the guard's points: `ok[j]` stays true only where the sample emitted at frame j
/// (window[j + 7]) and frame j's points over window[j..j + 16] are certainly within `limit`.
/// The points are interpolated in f32 as the detector does (`detect_peaks`, into `peaks`);
/// each differs from the exact value by less than 1e-6 · l1 · the largest |x| under the
/// kernel (9 roundings deep, 9 · 2⁻²⁴ = 5.4e-7 of the sum of |tap · x|, and the f64 sums
/// err by 1e-16), which is added before comparing. Only frames that fail are evaluated
/// exactly.
#[inline(always)]
fn screen<const LANES: usize>(
    phases: &[[f32; TAPS_PER_PHASE]],
    window: &[f32],
    l1: f64,
    limit: f64,
    peaks: &mut [f32],
    ok: &mut [bool],
) {
    peaks.fill(0.0);
    detect_peaks::<LANES>(
        phases,
        window,
        l1,
        limit,
        peaks,
        |frames, largest, peaks| {
            let error = largest as f64 * l1 * 1e-6;
            for (o, &peak) in ok[frames].iter_mut().zip(peaks) {
                *o &= peak as f64 + error <= limit;
            }
        },
    );
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

/// The limiter's detector on its own, at unity gain: for each frame, the largest over channels
/// of the sample before the frame's interval and that interval's interpolated points, exactly
/// as stage 1 computes them before it divides the target by them. Detection is linear, so the
/// peaks of the input turned up by g are g times these (to f32 rounding): one pass over a
/// programme serves every input gain a loudness search tries ([`crate::targeting`]).
#[derive(Debug, Clone)]
pub struct PeakDetector {
    phases: Vec<[f32; TAPS_PER_PHASE]>,
    simd: Simd,
    /// Per channel: the last `HISTORY` samples, then the chunk's.
    windows: Vec<Vec<f32>>,
}

impl PeakDetector {
    pub fn new(sample_rate: f64, channels: usize) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        let factor = oversampling_factor(sample_rate);
        Ok(PeakDetector {
            phases: (1..factor)
                .map(|p| phase_taps(p as f64 / factor as f64))
                .collect(),
            simd: Simd::detect(),
            windows: vec![vec![0.0; HISTORY + CHUNK]; channels],
        })
    }

    /// Writes each frame's peak into `peaks` (as long as the planes). Non-finite samples count
    /// as silence, as the limiter treats them.
    pub fn process(&mut self, planes: &[&[f32]], peaks: &mut [f32]) -> Result<(), DspError> {
        let frames = check_planes(planes, self.windows.len())?;
        check_output(&[peaks], 1, frames)?;
        let mut start = 0;
        while start < frames {
            let n = CHUNK.min(frames - start);
            for (window, plane) in self.windows.iter_mut().zip(planes) {
                for (w, &x) in window[HISTORY..HISTORY + n]
                    .iter_mut()
                    .zip(&plane[start..start + n])
                {
                    *w = if x.is_finite() {
                        x.clamp(-DETECT_LIMIT, DETECT_LIMIT)
                    } else {
                        0.0
                    };
                }
            }
            let out = &mut peaks[start..start + n];
            out.fill(0.0);
            self.dispatch(out);
            for window in &mut self.windows {
                keep_last::<HISTORY, _>(window, n);
            }
            start += n;
        }
        Ok(())
    }

    #[allow(unsafe_code)]
    fn dispatch(&mut self, out: &mut [f32]) {
        match self.simd {
            // SAFETY: `Simd::detect` found the features the function is compiled for.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { self.detect_avx512(out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { self.detect_avx2(out) },
            Simd::Baseline => self.detect::<8>(out),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn detect_avx512(&mut self, out: &mut [f32]) {
        self.detect::<32>(out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn detect_avx2(&mut self, out: &mut [f32]) {
        self.detect::<16>(out)
    }

    #[inline(always)]
    fn detect<const LANES: usize>(&mut self, out: &mut [f32]) {
        let n = out.len();
        for window in &self.windows {
            // A ceiling of 0 skips only groups that are entirely silent (whose peaks are 0).
            detect_peaks::<LANES>(
                &self.phases,
                &window[..n + HISTORY],
                1.0,
                0.0,
                out,
                |_, _, _| {},
            );
        }
    }
}

/// Stage 1's lengths and time constants scaled to a model grid of `step` frames per point (see
/// [`model_stage_one_streaming`]).
struct StageOneModel {
    /// The S-curve's two moving averages, in grid points.
    boxes: [usize; 2],
    /// The plateau's hold, in grid points.
    hold_len: usize,
    /// The gain of the input point at k is decided when the detector is `delay` points further.
    delay: usize,
    input_gain: f64,
    target: f64,
    release: Release,
}

impl StageOneModel {
    fn new(params: &LimiterParams, sample_rate: f64, step: usize) -> Result<Self, DspError> {
        validate(params)?;
        check_format(sample_rate, 1)?;
        let step = step.max(1);
        let fs = sample_rate / step as f64;
        let grid = |frames: usize| ((frames as f64 / step as f64).round() as usize).max(1);
        let lookahead = ((params.lookahead_ms * 1e-3 * sample_rate).round() as usize).max(2);
        let second = lookahead / 2;
        let coef = |ms: f64| (-1.0 / (ms * 1e-3 * fs)).exp();
        let mut release = Release::new();
        if params.auto_release {
            release.fast_release = coef(params.release_ms * AUTO_FAST_FACTOR);
            release.slow_attack = coef(params.release_ms * AUTO_SLOW_FACTOR);
            release.slow_release = coef(params.release_ms * AUTO_SLOW_FACTOR);
        } else {
            release.fast_release = coef(params.release_ms);
            release.slow_attack = 1.0;
            release.slow_release = 0.0;
        }
        Ok(Self {
            boxes: [grid(lookahead + 1 - second), grid(second)],
            hold_len: grid(lookahead + 2 * KERNEL_HALF),
            delay: grid(lookahead + 2 * KERNEL_HALF - 1),
            input_gain: 10f64.powf(params.input_gain_db / 20.0),
            target: 10f64.powf((params.ceiling_dbtp - MAIN_MARGIN_DB) / 20.0),
            release,
        })
    }
}

/// Stage 1's gain, modelled on a coarser grid for searching the input gain: `peaks[k]` is the
/// largest detector peak (at unity gain, [`PeakDetector`]) of frames `k·step..(k + 1)·step`,
/// and `gains[k]` receives the gain stage 1 applies to those frames of the input at the
/// limiter's `params` (input gain and ceiling included). The plateau, release and S-curve run
/// as in the limiter with their lengths and time constants scaled to the grid; the guard is
/// left out (it acts seldom and by hundredths of a dB). The gains line up with the input the
/// peaks came from (the limiter's latency is taken out). Returns the largest reduction in dB.
/// Kept as the reference that `model_stage_one_streaming` must match bit for bit.
#[cfg(test)]
pub fn model_stage_one(
    params: &LimiterParams,
    sample_rate: f64,
    step: usize,
    peaks: &[f32],
    gains: &mut Vec<f64>,
) -> Result<f64, DspError> {
    let StageOneModel {
        boxes,
        hold_len,
        delay,
        input_gain,
        target,
        mut release,
    } = StageOneModel::new(params, sample_rate, step)?;
    let total = peaks.len() + delay;
    let mut plateau: Vec<f64> = (0..total)
        .map(|k| {
            let peak = peaks.get(k).map_or(0.0, |&p| p as f64) * input_gain;
            if peak > target {
                target / peak
            } else {
                1.0
            }
        })
        .collect();
    RunningMin::new(hold_len).run(&mut plateau);
    let mut held = vec![0.0; total];
    release.run(&plateau, &mut held);
    // Two cascaded moving averages (f64: the model need not be exact to the last bit).
    let smooth = |values: &mut [f64], len: usize| {
        let mut ring = vec![1.0; len];
        let mut sum = len as f64;
        for (i, v) in values.iter_mut().enumerate() {
            let slot = i % len;
            sum += *v - ring[slot];
            ring[slot] = *v;
            *v = sum / len as f64;
        }
    };
    let mut g: Vec<f64> = plateau
        .iter()
        .zip(&held)
        .map(|(&p, &h)| {
            if h == 0.0 {
                p
            } else {
                p.min(10f64.powf(-h / 20.0))
            }
        })
        .collect();
    smooth(&mut g, boxes[0]);
    smooth(&mut g, boxes[1]);
    gains.clear();
    gains.extend_from_slice(&g[delay..]);
    let lowest = smallest(gains);
    Ok(if lowest < 1.0 {
        -20.0 * lowest.log10()
    } else {
        0.0
    })
}

/// `model_stage_one` in pieces of bounded size: the same gains, bit for bit, handed to `visit`
/// in order (a few thousand at a time) instead of collected, so the memory it needs does not
/// grow with the programme. `peak(k)` is the grid's peak k for k < `len`. Returns the largest
/// reduction in dB.
pub fn model_stage_one_streaming(
    params: &LimiterParams,
    sample_rate: f64,
    step: usize,
    len: usize,
    peak: impl Fn(usize) -> f32,
    mut visit: impl FnMut(&[f64]),
) -> Result<f64, DspError> {
    let StageOneModel {
        boxes,
        hold_len,
        delay,
        input_gain,
        target,
        mut release,
    } = StageOneModel::new(params, sample_rate, step)?;
    let total = len + delay;
    let mut running_min = RunningMin::new(hold_len);
    // The two moving averages, their rings and sums carried from piece to piece.
    let mut rings = [vec![1.0; boxes[0]], vec![1.0; boxes[1]]];
    let mut sums = [boxes[0] as f64, boxes[1] as f64];
    const PIECE: usize = 1 << 14;
    let mut plateau = vec![0.0; PIECE];
    let mut held = vec![0.0; PIECE];
    let mut lowest = f64::INFINITY;
    let mut at = 0;
    while at < total {
        let n = PIECE.min(total - at);
        for (i, p) in plateau[..n].iter_mut().enumerate() {
            let k = at + i;
            let pk = if k < len { peak(k) as f64 } else { 0.0 } * input_gain;
            *p = if pk > target { target / pk } else { 1.0 };
        }
        running_min.run(&mut plateau[..n]);
        release.run(&plateau[..n], &mut held[..n]);
        for (p, &h) in plateau[..n].iter_mut().zip(&held[..n]) {
            if h != 0.0 {
                *p = p.min(10f64.powf(-h / 20.0));
            }
        }
        for (b, (ring, sum)) in rings.iter_mut().zip(sums.iter_mut()).enumerate() {
            let len = boxes[b];
            for (i, v) in plateau[..n].iter_mut().enumerate() {
                let slot = (at + i) % len;
                *sum += *v - ring[slot];
                ring[slot] = *v;
                *v = *sum / len as f64;
            }
        }
        // The first `delay` values precede the programme (the limiter's latency taken out).
        let skip = delay.saturating_sub(at).min(n);
        let out = &plateau[skip..n];
        if !out.is_empty() {
            lowest = lowest.min(smallest(out));
            visit(out);
        }
        at += n;
    }
    Ok(if lowest < 1.0 {
        -20.0 * lowest.log10()
    } else {
        0.0
    })
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
    fn a_sample_beyond_f32_after_the_input_gain_does_not_silence_what_follows() {
        // 3e38 is finite, but 3e38 × +24 dB is not: the detector must still see a finite peak,
        // or the release would hold an infinite reduction and mute the rest of the stream.
        let fs = 48_000.0;
        let n = 3 * 48_000;
        let mut x: Vec<f32> = (0..n)
            .map(|i| (0.05 * (2.0 * PI * 440.0 * i as f64 / fs).sin()) as f32)
            .collect();
        x[1_000] = 3e38;
        x[1_001] = -f32::MAX;
        let mut p = LimiterParams {
            input_gain_db: 24.0,
            ..LimiterParams::default()
        };
        for auto in [false, true] {
            p.auto_release = auto;
            let mut lim = TruePeakLimiter::new(fs, 1, p).unwrap();
            let y = run_flushed(&mut lim, std::slice::from_ref(&x));
            assert!(y[0].iter().all(|v| v.is_finite()));
            assert!(db(true_peak(fs, &y)) <= -1.0);
            // A 600 dB reduction takes the release about 1.4 s to undo (in dB, with its time
            // constant): in the last second the tone is back at its level, 0.05 × 15.85.
            let tail = &y[0][2 * n / 3..];
            let peak = tail.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(
                (peak as f64 - 0.05 * 10f64.powf(24.0 / 20.0)).abs() < 0.01,
                "auto {auto}: {peak}"
            );
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

    /// Runs the limiter and the reference side by side over `input` and then silence to flush
    /// it, in blocks of `block`, with `change` made to both after the fifth block; requires
    /// every output sample, the meter and the guard's counts to be identical. Returns the
    /// guard's actions.
    fn assert_matches_reference(
        what: &str,
        fs: f64,
        input: &[Vec<f32>],
        p: LimiterParams,
        stage_one: Option<(f64, bool)>,
        block: usize,
        change: Option<LimiterParams>,
    ) -> u64 {
        let mut lim = TruePeakLimiter::new(fs, input.len(), p).unwrap();
        if let Some((margin_db, guard)) = stage_one {
            lim.set_stage_one_only(margin_db, guard);
        }
        let mut reference = reference::Reference::new(&lim);
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
        let frames = padded[0].len();
        let mut actual = vec![vec![0f32; frames]; input.len()];
        let mut expected = actual.clone();
        let (mut start, mut blocks) = (0, 0);
        while start < frames {
            let end = frames.min(start + block);
            if blocks == 5 {
                if let Some(c) = change {
                    lim.set_params(c).unwrap();
                    reference.configure(&lim);
                }
            }
            blocks += 1;
            let ins: Vec<&[f32]> = padded.iter().map(|c| &c[start..end]).collect();
            let mut outs: Vec<&mut [f32]> = actual.iter_mut().map(|c| &mut c[start..end]).collect();
            lim.process(&ins, &mut outs).unwrap();
            let mut outs: Vec<&mut [f32]> =
                expected.iter_mut().map(|c| &mut c[start..end]).collect();
            reference.process(&ins, &mut outs);
            if blocks % 3 == 0 {
                // The meter, read now and then (a reading starts the next from the current gain).
                assert_eq!(
                    lim.current_gain.to_bits(),
                    reference.current_gain.to_bits(),
                    "{what}"
                );
                assert_eq!(
                    lim.min_gain.to_bits(),
                    reference.min_gain.to_bits(),
                    "{what}"
                );
                lim.take_gain_reduction();
                reference.min_gain = reference.current_gain;
            }
            start = end;
        }
        assert_bit_identical(what, &actual, &expected);
        assert_eq!(
            lim.current_gain.to_bits(),
            reference.current_gain.to_bits(),
            "{what}"
        );
        assert_eq!(
            lim.min_gain.to_bits(),
            reference.min_gain.to_bits(),
            "{what}"
        );
        assert_eq!(lim.guard_actions, reference.guard_actions, "{what}");
        assert_eq!(lim.unresolved, reference.unresolved, "{what}");
        lim.guard_actions
    }

    #[test]
    fn output_is_bit_identical_to_the_frame_by_frame_reference() {
        // Every optimisation (chunks, SIMD, the release's estimated exponential, the guard's
        // screening and points evaluated when needed) keeps the values of the definition.
        let seed = 0x5eed_2024;
        let mut rng = XorShift(seed);
        let mut guard_actions = 0;
        let mut case = 0;
        for fs in [44_100.0, 96_000.0] {
            let n = (0.3 * fs) as usize;
            let mut signals: Vec<(String, Vec<Vec<f32>>)> = hostile_signals(fs, seed)
                .into_iter()
                .map(|(name, s)| (name.to_string(), s))
                .collect();
            // Music-like: bass, melody and noise, with bursts 10 dB up and near-silent gaps.
            let music = (0..2)
                .map(|c| {
                    (0..n)
                        .map(|i| {
                            let t = i as f64 / fs;
                            let level = match (i / 3000) % 4 {
                                1 => 3.0,
                                3 => 0.001,
                                _ => 1.0,
                            };
                            let v = 0.5 * (2.0 * PI * 55.0 * t).sin()
                                + 0.3 * (2.0 * PI * (440.0 + 10.0 * c as f64) * t).sin()
                                + 0.2 * rng.next_f32() as f64;
                            (level * v) as f32
                        })
                        .collect()
                })
                .collect();
            signals.push(("music-like bursts".into(), music));
            // Beyond f32 after the input gain, and not finite at all.
            let mut huge: Vec<f32> = (0..n).map(|i| 0.3 * (i as f32 * 0.01).sin()).collect();
            huge[n / 4] = f32::NAN;
            huge[n / 3] = f32::INFINITY;
            huge[n / 2] = f32::MAX;
            huge[n / 2 + 1] = -f32::MAX;
            signals.push(("huge and non-finite".into(), vec![huge.clone(), huge]));
            for (name, input) in &signals {
                for (k, &(ceiling, lookahead_ms, release_ms, auto, gain_db)) in [
                    (-1.0, 3.0, 100.0, false, 0.0),
                    (0.0, 0.5, 20.0, true, 6.0),
                    (-6.0, 5.0, 1.0, false, 24.0),
                ]
                .iter()
                .enumerate()
                {
                    let p = LimiterParams {
                        input_gain_db: gain_db,
                        ..params(ceiling, lookahead_ms, release_ms, auto)
                    };
                    // As made, with stage 1 aimed at the ceiling so that the guard works
                    // hard, and with stage 1 alone.
                    for stage_one in [None, Some((0.0, true)), Some((0.0, false))] {
                        let block = [1, 7, 64, 333, 4096][case % 5];
                        let change = (case % 4 == 1).then_some(LimiterParams {
                            ceiling_dbtp: ceiling - 1.5,
                            input_gain_db: gain_db - 3.0,
                            auto_release: !auto,
                            ..p
                        });
                        case += 1;
                        let what = format!(
                            "seed {seed:#x}: {name} at {fs} Hz, parameters {k}, {stage_one:?}, \
                             block {block}, change {change:?}"
                        );
                        guard_actions +=
                            assert_matches_reference(&what, fs, input, p, stage_one, block, change);
                    }
                }
            }
        }
        // The comparison covers the guard's scaling (thousands of frames), not only stage 1.
        assert!(guard_actions > 1000, "guard acted {guard_actions} times");
    }

    #[test]
    fn every_simd_build_gives_the_same_output() {
        let fs = 48_000.0;
        let seed = 0x51d;
        let input: Vec<Vec<f32>> = (0..2)
            .map(|c| crate::processor::testing::noise(seed + c, 20_000, 3.0))
            .collect();
        let p = params(-1.0, 1.0, 30.0, true);
        let run_with = |simd: Simd| {
            let mut lim = TruePeakLimiter::new(fs, 2, p).unwrap();
            lim.set_stage_one_only(0.0, true);
            lim.simd = simd;
            run(&mut lim, &input, 999)
        };
        let baseline = run_with(Simd::Baseline);
        for simd in Simd::available().into_iter().skip(1) {
            assert_bit_identical(&format!("seed 0x51d: {simd:?}"), &run_with(simd), &baseline);
        }
    }

    #[test]
    fn to_fixed_is_the_floor() {
        let mut rng = XorShift(0xf1_00);
        let mut gains: Vec<f64> = (0..100_000)
            .map(|_| (rng.next_f32() as f64 * 0.5 + 0.5) * rng.next_f32().abs() as f64)
            .collect();
        for k in [0u64, 1, 2, 12_345, (1 << 29) + 1, (1 << 30) - 1, 1 << 30] {
            let g = k as f64 / FIXED_ONE;
            gains.extend([g, g.next_down(), g.next_up()]);
        }
        for g in gains.into_iter().filter(|g| (0.0..=1.0).contains(g)) {
            assert_eq!(to_fixed(g), (g * FIXED_ONE).floor() as u64, "gain {g:e}");
        }
    }

    #[test]
    fn the_estimated_exponential_is_within_its_tolerance() {
        // Its error bound (2.5e-13) is what makes the fixed-point gain certain.
        let mut rng = XorShift(0xe10);
        for i in 0..200_000 {
            let held_db = match i % 3 {
                0 => 40.0 * rng.next_f32().abs() as f64,
                1 => 1e-6 * rng.next_f32().abs() as f64,
                _ => 6000.0 * rng.next_f32().abs() as f64,
            };
            let (estimate, in_range) = gain_estimate(held_db);
            assert!(in_range, "{held_db} dB");
            let exact = 10f64.powf(-held_db / 20.0);
            assert!(
                (estimate / exact - 1.0).abs() < 2.5e-13,
                "{held_db} dB: {estimate:e} vs {exact:e}"
            );
        }
        assert!(!gain_estimate(20_000.0).1);
        assert!(!gain_estimate(f64::INFINITY).1);
    }

    #[test]
    fn the_release_gain_is_the_library_exponential_in_fixed_point() {
        let mut rng = XorShift(0x9a1);
        let mut uncertain = 0;
        let trials = 300_000;
        for i in 0..trials {
            let plateau = if i % 7 == 0 {
                1.0
            } else {
                rng.next_f32().abs() as f64
            };
            let held_db = if i % 5 == 0 {
                0.0
            } else {
                60.0 * rng.next_f32().abs() as f64
            };
            let (fixed, certain) = release_gain(plateau, held_db);
            let exact = if held_db == 0.0 {
                to_fixed(plateau)
            } else {
                release_gain_exact(plateau, held_db)
            };
            if certain {
                assert_eq!(fixed, exact, "plateau {plateau}, {held_db} dB");
            } else {
                uncertain += 1;
            }
        }
        // The library is asked in about 2 of 1000 frames.
        assert!(uncertain < trials / 100, "{uncertain} uncertain");
    }

    #[test]
    fn running_minimum_matches_the_naive_one() {
        let mut rng = XorShift(0x3117);
        for window in [1, 2, 5, 148, 1000] {
            let values: Vec<f64> = (0..5_000)
                .map(|_| (rng.next_f32().abs() as f64 * 8.0).floor() / 8.0)
                .collect();
            let mut hold = RunningMin::new(window);
            let mut out = values.clone();
            let mut start = 0;
            while start < out.len() {
                let end = out
                    .len()
                    .min(start + 1 + (rng.next_f32().abs() * 300.0) as usize);
                hold.run(&mut out[start..end]);
                start = end;
            }
            for (i, &m) in out.iter().enumerate() {
                let naive = values[i.saturating_sub(window - 1)..=i]
                    .iter()
                    .fold(f64::INFINITY, |a, &b| a.min(b));
                assert_eq!(m, naive, "seed 0x3117: window {window}, value {i}");
            }
        }
    }

    #[test]
    fn screening_never_clears_a_point_over_the_limit() {
        // Windows scaled so that their largest point lands within a few parts per million of
        // the limit, either side: where the screening clears a frame, the exact points agree.
        let phases: Vec<[f32; TAPS_PER_PHASE]> =
            (1..4).map(|p| phase_taps(p as f64 / 4.0)).collect();
        let phases_f64: Vec<[f64; TAPS_PER_PHASE]> =
            phases.iter().map(|t| t.map(|v| v as f64)).collect();
        let l1 = phases
            .iter()
            .map(|t| t.iter().map(|v| v.abs() as f64).sum::<f64>())
            .fold(1.0, f64::max)
            * 1.0001;
        let limit = 0.89;
        let mut rng = XorShift(0x5c4e);
        let (mut cleared, mut refused) = (0, 0);
        for trial in 0..2_000 {
            let n = 100;
            let raw: Vec<f32> = (0..n + HISTORY).map(|_| rng.next_f32()).collect();
            let exact = |w: &[f32]| -> f64 {
                let w: [f64; TAPS_PER_PHASE] = std::array::from_fn(|m| w[m] as f64);
                phases_f64
                    .iter()
                    .map(|t| dot_f64(t, &w).abs())
                    .fold(w[KERNEL_HALF - 1].abs(), f64::max)
            };
            let loudest = (0..n).map(|j| exact(&raw[j..j + 16])).fold(0.0, f64::max);
            let target = limit * (1.0 + 4e-6 * rng.next_f32() as f64);
            let window: Vec<f32> = raw
                .iter()
                .map(|&x| (x as f64 * target / loudest) as f32)
                .collect();
            let mut ok = vec![true; n];
            let mut peaks = vec![0f32; n];
            match trial % 3 {
                0 => screen::<8>(&phases, &window, l1, limit, &mut peaks, &mut ok),
                1 => screen::<16>(&phases, &window, l1, limit, &mut peaks, &mut ok),
                _ => screen::<32>(&phases, &window, l1, limit, &mut peaks, &mut ok),
            }
            for j in 0..n {
                let within = exact(&window[j..j + 16]) <= limit;
                assert!(!ok[j] || within, "seed 0x5c4e: trial {trial}, frame {j}");
                if ok[j] {
                    cleared += 1;
                } else {
                    refused += within as usize;
                }
            }
        }
        // It refuses only where it cannot tell (about 1e-6 of the limit).
        assert!(
            refused < cleared / 100,
            "{refused} refused, {cleared} cleared"
        );
    }

    /// The limiter as defined, one frame at a time, with the library's exponential and
    /// `f64::min`/`max` throughout: what `TruePeakLimiter` computed before it worked in SIMD
    /// chunks, kept to check that it still computes exactly that. Its parameters are taken
    /// from a `TruePeakLimiter` (after `apply`), its state is its own.
    mod reference {
        use super::super::*;

        /// Running minimum over the last `window` values (a monotonic deque).
        struct Deque {
            index: Vec<u64>,
            value: Vec<f64>,
            head: usize,
            len: usize,
            window: u64,
        }

        impl Deque {
            fn new(window: usize) -> Self {
                Deque {
                    index: vec![0; window + 1],
                    value: vec![0.0; window + 1],
                    head: 0,
                    len: 0,
                    window: window as u64,
                }
            }

            fn push(&mut self, i: u64, v: f64) -> f64 {
                let cap = self.index.len();
                while self.len > 0 && self.value[(self.head + self.len - 1) % cap] >= v {
                    self.len -= 1;
                }
                let slot = (self.head + self.len) % cap;
                self.index[slot] = i;
                self.value[slot] = v;
                self.len += 1;
                while self.index[self.head] + self.window <= i {
                    self.head = (self.head + 1) % cap;
                    self.len -= 1;
                }
                self.value[self.head]
            }
        }

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

            fn push(&mut self, v: u64) -> u64 {
                self.sum = self.sum - self.ring[self.pos] + v;
                self.ring[self.pos] = v;
                self.pos = (self.pos + 1) % self.ring.len();
                self.sum
            }
        }

        const RING: usize = TAPS_PER_PHASE;

        struct Channel {
            detect: [f32; 2 * RING],
            delay: Vec<f32>,
            seq: [f32; 2 * RING],
            points: [[f64; MAX_PHASES]; RING],
        }

        pub struct Reference {
            lim: TruePeakLimiter,
            channels: Vec<Channel>,
            hold: Deque,
            boxes: [MovingSum; 2],
            fast_gr_db: f64,
            slow_gr_db: f64,
            position: u64,
            delay_write: usize,
            stage1_gains: [f64; RING],
            pub current_gain: f64,
            pub min_gain: f64,
            pub guard_actions: u64,
            pub unresolved: u64,
        }

        impl Reference {
            /// Configured as `lim` (parameters, stage 1 margin, guard on or off), fresh.
            pub fn new(lim: &TruePeakLimiter) -> Self {
                let lim = lim.clone();
                let one = FIXED_ONE as u64;
                Reference {
                    channels: (0..lim.channels)
                        .map(|_| Channel {
                            detect: [0.0; 2 * RING],
                            delay: vec![0.0; lim.stage1_delay + 1],
                            seq: [0.0; 2 * RING],
                            points: [[0.0; MAX_PHASES]; RING],
                        })
                        .collect(),
                    hold: Deque::new(lim.lookahead + 2 * KERNEL_HALF),
                    boxes: [
                        MovingSum::new(lim.box_lengths[0], one),
                        MovingSum::new(lim.box_lengths[1], one * lim.box_lengths[0] as u64),
                    ],
                    lim,
                    fast_gr_db: 0.0,
                    slow_gr_db: 0.0,
                    position: 0,
                    delay_write: 0,
                    stage1_gains: [1.0; RING],
                    current_gain: 1.0,
                    min_gain: 1.0,
                    guard_actions: 0,
                    unresolved: 0,
                }
            }

            /// New parameters from `lim` (the same look-ahead), the state kept.
            pub fn configure(&mut self, lim: &TruePeakLimiter) {
                self.lim = lim.clone();
            }

            pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) {
                for n in 0..input[0].len() {
                    let gain = self.detect(input, n);
                    self.candidate(gain);
                    self.commit(output, n);
                    self.position += 1;
                }
            }

            fn detect(&mut self, input: &[&[f32]], n: usize) -> f64 {
                let write = self.delay_write;
                let slot = (self.position % RING as u64) as usize;
                let gain_in = self.lim.input_gain as f32;
                let mut peak = 0f32;
                for (ch, plane) in self.channels.iter_mut().zip(input) {
                    let x = if plane[n].is_finite() { plane[n] } else { 0.0 };
                    ch.delay[write] = x;
                    ch.detect[slot] = x.clamp(-DETECT_LIMIT, DETECT_LIMIT) * gain_in;
                    ch.detect[slot + RING] = x.clamp(-DETECT_LIMIT, DETECT_LIMIT) * gain_in;
                    let w: &[f32; TAPS_PER_PHASE] =
                        ch.detect[slot + 1..slot + 1 + RING].try_into().unwrap();
                    peak = peak.max(w[KERNEL_HALF - 1].abs());
                    for taps in &self.lim.phases {
                        peak = peak.max(dot_f32(taps, w).abs());
                    }
                }
                let main = self.lim.main_ceiling;
                let need = if peak as f64 > main {
                    main / peak as f64
                } else {
                    1.0
                };
                let plateau = self.hold.push(self.position, need);
                let gain = self.release(plateau);
                let fixed = (gain * FIXED_ONE).floor() as u64;
                let first = self.boxes[0].push(fixed);
                let second = self.boxes[1].push(first);
                let [a, b] = self.lim.box_lengths;
                second as f64 / (FIXED_ONE * (a * b) as f64)
            }

            fn release(&mut self, plateau: f64) -> f64 {
                let r = &self.lim.release;
                let target_db = if plateau < 1.0 {
                    -20.0 * plateau.log10()
                } else {
                    0.0
                };
                self.fast_gr_db = target_db.max(self.fast_gr_db * r.fast_release);
                let fast = self.fast_gr_db;
                self.slow_gr_db = if fast > self.slow_gr_db {
                    fast + (self.slow_gr_db - fast) * r.slow_attack
                } else {
                    fast.max(self.slow_gr_db * r.slow_release)
                };
                if self.fast_gr_db < GR_FLOOR_DB && self.slow_gr_db < GR_FLOOR_DB {
                    self.fast_gr_db = 0.0;
                    self.slow_gr_db = 0.0;
                    return plateau;
                }
                let held_db = self.fast_gr_db.max(self.slow_gr_db);
                if held_db <= target_db {
                    return plateau;
                }
                plateau.min(10f64.powf(-held_db / 20.0))
            }

            fn candidate(&mut self, gain: f64) {
                let len = self.lim.stage1_delay + 1;
                let read = (self.delay_write + 1) % len;
                self.delay_write = read;
                let slot = (self.position % RING as u64) as usize;
                let g = gain * self.lim.input_gain;
                self.stage1_gains[slot] = gain;
                let point = (slot + KERNEL_HALF) % RING;
                for ch in &mut self.channels {
                    let y = (g * ch.delay[read] as f64) as f32;
                    ch.seq[slot] = y;
                    ch.seq[slot + RING] = y;
                    let w: &[f32; TAPS_PER_PHASE] =
                        ch.seq[slot + 1..slot + 1 + RING].try_into().unwrap();
                    let w = w.map(|v| v as f64);
                    for (p, taps) in self.lim.phases_f64.iter().enumerate() {
                        ch.points[point][p] = dot_f64(taps, &w);
                    }
                }
            }

            fn commit(&mut self, output: &mut [&mut [f32]], n: usize) {
                let newest = (self.position % RING as u64) as usize;
                let slot = (newest + KERNEL_HALF) % RING;
                let limit = self.lim.guard_ceiling;
                let np = self.lim.phases.len();
                let mut ok = true;
                for ch in &self.channels {
                    let y = ch.seq[slot] as f64;
                    ok &=
                        y.abs() <= limit && ch.points[slot][..np].iter().all(|v| v.abs() <= limit);
                }
                let mut scale = 1.0;
                if !ok && self.lim.guard_enabled {
                    scale = self.solve_scale(slot);
                    self.guard_actions += 1;
                }
                for (c, ch) in self.channels.iter_mut().enumerate() {
                    let y = ch.seq[slot];
                    output[c][n] = if scale < 1.0 {
                        let scaled = (scale * y as f64) as f32;
                        let delta = scaled as f64 - y as f64;
                        for back in 0..=KERNEL_HALF {
                            let point = (slot + RING - back) % RING;
                            for (p, taps) in self.lim.phases_f64.iter().enumerate() {
                                ch.points[point][p] += taps[KERNEL_HALF - 1 + back] * delta;
                            }
                        }
                        ch.seq[slot] = scaled;
                        ch.seq[slot + RING] = scaled;
                        scaled
                    } else {
                        y
                    };
                }
                self.current_gain = self.stage1_gains[slot] * scale;
                self.min_gain = self.min_gain.min(self.current_gain);
            }

            fn solve_scale(&mut self, slot: usize) -> f64 {
                let limit = self.lim.guard_ceiling;
                let taps = &self.lim.phases_f64;
                let (mut lo, mut hi) = (0.0f64, 1.0f64);
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
                for ch in &self.channels {
                    let y = ch.seq[slot] as f64;
                    constrain(y, y);
                    for back in 0..=KERNEL_HALF {
                        let point = (slot + RING - back) % RING;
                        for (p, t) in taps.iter().enumerate() {
                            constrain(ch.points[point][p], t[KERNEL_HALF - 1 + back] * y);
                        }
                    }
                }
                if lo <= hi {
                    return hi;
                }
                self.unresolved += 1;
                let worst = |lambda: f64| {
                    let mut w = f64::NEG_INFINITY;
                    for ch in &self.channels {
                        let y = ch.seq[slot] as f64;
                        w = w.max((lambda * y).abs() - limit);
                        for back in 0..=KERNEL_HALF {
                            let point = (slot + RING - back) % RING;
                            for (p, t) in taps.iter().enumerate() {
                                let v = ch.points[point][p]
                                    + (lambda - 1.0) * t[KERNEL_HALF - 1 + back] * y;
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
    }
}
