//! Feed-forward compressor for the mastering chain, single-band or three-band.
//!
//! The design follows Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor Design —
//! A Tutorial and Analysis", J. AES 60(6), 2012:
//!
//! - **Detector.** Peak (the instantaneous square) or RMS (a true moving mean of squares over
//!   `window_ms`), optionally after a 2nd-order Butterworth high-pass so bass does not drive the
//!   gain. Linked channels share one detector: the largest channel level (`Max`) or the sum of
//!   the channel powers (`Sum`, so two identical channels read 3 dB above either alone, as
//!   BS.1770 sums channels).
//! - **Gain computer** in the log domain with a soft knee of width W (their eq. 4), see
//!   [`gain_computer_db`]. The UI's transfer curve comes from the same function.
//! - **Smoothing** of the gain reduction in dB by their "smooth decoupled" peak detector: a
//!   release stage that holds peaks (y₁ = max(x, α_R·y₁ + (1 − α_R)·x)) followed by an attack
//!   one-pole (y = α_A·y + (1 − α_A)·y₁), with α = exp(−1/(τ·fs)). A step into compression
//!   reaches 1 − 1/e = 63 % of its gain change after exactly the attack time; a release step runs
//!   through both stages and reaches 63 % after about the release time plus the attack time. The
//!   hold stage keeps a peak-detected sine's gain steady between its peaks.
//! - **Makeup** in dB, or automatic: −(gain at a 0 dBFS detector level), which brings a
//!   full-scale input back to full scale.
//!
//! **Three bands.** Linkwitz–Riley 4th-order crossovers (two cascaded 2nd-order Butterworth
//! sections per side, bilinear-transformed and pre-warped at the crossover; Linkwitz, "Active
//! Crossover Networks for Noncoincident Drivers", J. AES 24(1), 1976). The low band also passes
//! the 2nd-order all-pass that the upper crossover imposes on the other two bands, so the three
//! bands sum to AP(f₁)·AP(f₂): an all-pass, flat in magnitude, when no band compresses. Each
//! band has its own threshold, ratio, attack, release and makeup; the knee, detection, side-chain
//! filter and link are shared.
//!
//! Processing is sample by sample in f64 with no look-ahead (latency 0), so results do not
//! depend on the block size; filter states are flushed of denormals on the stream's fixed
//! schedule ([`crate::processor::FlushClock`]).

use crate::biquad::{BiquadCoefs, BiquadState};
use crate::error::{check_format, check_planes, DspError};
use crate::processor::{check_frequency, check_output, check_range, FlushClock};
use std::f64::consts::PI;

/// Level in dB given to digital silence, far below any threshold.
const SILENCE_DB: f64 = -300.0;
/// Gain reduction (dB) below which the smoothed detector is set to exactly zero, so release
/// ends at exactly unity gain. 1e-9 dB is a gain error of 1.2e-10, far below f32 resolution.
const GR_FLOOR_DB: f64 = 1e-9;
/// Parameter ranges.
pub const MIN_THRESHOLD_DBFS: f64 = -80.0;
pub const MAX_RATIO: f64 = 20.0;
pub const MAX_KNEE_DB: f64 = 24.0;
pub const MAX_ATTACK_MS: f64 = 500.0;
pub const MIN_RELEASE_MS: f64 = 1.0;
pub const MAX_RELEASE_MS: f64 = 5000.0;
pub const MAX_MAKEUP_DB: f64 = 24.0;
pub const MIN_RMS_WINDOW_MS: f64 = 0.1;
pub const MAX_RMS_WINDOW_MS: f64 = 300.0;
/// The upper crossover must be at least this multiple of the lower one, or the middle band
/// would be little more than the two crossovers' overlap.
pub const MIN_CROSSOVER_RATIO: f64 = 1.5;
const MAX_BANDS: usize = 3;
const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Level detection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detection {
    /// The instantaneous sample level.
    Peak,
    /// Root-mean-square over a moving rectangular window of `window_ms` (0.1–300 ms).
    Rms { window_ms: f64 },
}

/// How channels share the gain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StereoLink {
    /// Every channel is compressed by its own detector.
    Unlinked,
    /// One gain for all channels, from the loudest channel's level.
    Max,
    /// One gain for all channels, from the sum of the channels' powers.
    Sum,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Makeup {
    /// Fixed makeup gain in dB (−24 to +24).
    Db(f64),
    /// −(the static curve's gain at 0 dBFS): a full-scale level comes out at full scale.
    Auto,
}

/// Settings of one band (or of the whole signal in single-band mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandParams {
    /// −80 to 0 dBFS.
    pub threshold_dbfs: f64,
    /// 1 to 20, or `f64::INFINITY` for limiting.
    pub ratio: f64,
    /// 0 (instant) to 500 ms: time to 63 % of a step into compression.
    pub attack_ms: f64,
    /// 1 to 5000 ms.
    pub release_ms: f64,
    pub makeup: Makeup,
}

impl Default for BandParams {
    fn default() -> Self {
        BandParams {
            threshold_dbfs: -18.0,
            ratio: 2.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            makeup: Makeup::Db(0.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bands {
    Single(BandParams),
    /// Low, mid and high bands split at `crossovers_hz` (10 Hz to 0.49·fs, the upper at least
    /// 1.5 × the lower).
    Three {
        crossovers_hz: [f64; 2],
        bands: [BandParams; 3],
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorParams {
    pub bands: Bands,
    /// Soft-knee width, 0 (hard knee) to 24 dB.
    pub knee_db: f64,
    pub detection: Detection,
    /// Side-chain high-pass corner (10 Hz to 0.49·fs), or None for no filter.
    pub sidechain_high_pass_hz: Option<f64>,
    pub link: StereoLink,
}

impl Default for CompressorParams {
    fn default() -> Self {
        CompressorParams {
            bands: Bands::Single(BandParams::default()),
            knee_db: 6.0,
            detection: Detection::Rms { window_ms: 10.0 },
            sidechain_high_pass_hz: None,
            link: StereoLink::Max,
        }
    }
}

/// Gain reduction in dB (positive numbers: 3.0 means the gain is −3 dB).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GainReduction {
    /// At the last processed frame (largest over channels).
    pub current_db: f64,
    /// Largest since the previous reading.
    pub max_db: f64,
}

/// The static compression curve: output level for a detector level `input_db`, with threshold
/// T, ratio R (∞ allowed) and knee width W (Giannoulis, Massberg & Reiss 2012, eq. 4):
///
/// ```text
/// x                                   2(x − T) < −W
/// x + (1/R − 1)(x − T + W/2)² / (2W)  2|x − T| ≤ W
/// T + (x − T)/R                       2(x − T) > W
/// ```
pub fn gain_computer_db(input_db: f64, threshold_db: f64, ratio: f64, knee_db: f64) -> f64 {
    let slope = 1.0 / ratio - 1.0;
    let over = input_db - threshold_db;
    if 2.0 * over < -knee_db {
        input_db
    } else if 2.0 * over.abs() <= knee_db && knee_db > 0.0 {
        let d = over + knee_db / 2.0;
        input_db + slope * d * d / (2.0 * knee_db)
    } else {
        threshold_db + over / ratio
    }
}

/// Coefficients for 2nd-order Butterworth sections and the matching all-pass (bilinear,
/// pre-warped at `f0`), written here so the crossover does not depend on other filter designs.
fn butterworth(fs: f64, f0: f64, pass: Pass) -> BiquadCoefs {
    let k = (PI * f0 / fs).tan();
    let q = BUTTERWORTH_Q;
    let norm = 1.0 / (1.0 + k / q + k * k);
    let a1 = 2.0 * (k * k - 1.0) * norm;
    let a2 = (1.0 - k / q + k * k) * norm;
    let (b0, b1, b2) = match pass {
        Pass::Low => (k * k * norm, 2.0 * k * k * norm, k * k * norm),
        Pass::High => (norm, -2.0 * norm, norm),
        // (s² − s/Q + 1)/(s² + s/Q + 1): the sum of the Linkwitz–Riley low- and high-pass.
        Pass::All => (a2, a1, 1.0),
    };
    BiquadCoefs { b0, b1, b2, a1, a2 }
}

#[derive(Debug, Clone, Copy)]
/// Which response of a Butterworth section.
enum Pass {
    Low,
    High,
    All,
}

/// Linkwitz–Riley 3-band split coefficients.
#[derive(Debug, Clone, Copy)]
struct Crossover {
    low_lp: BiquadCoefs,
    low_hp: BiquadCoefs,
    high_lp: BiquadCoefs,
    high_hp: BiquadCoefs,
    high_ap: BiquadCoefs,
}

impl Crossover {
    fn new(fs: f64, f: [f64; 2]) -> Self {
        Crossover {
            low_lp: butterworth(fs, f[0], Pass::Low),
            low_hp: butterworth(fs, f[0], Pass::High),
            high_lp: butterworth(fs, f[1], Pass::Low),
            high_hp: butterworth(fs, f[1], Pass::High),
            high_ap: butterworth(fs, f[1], Pass::All),
        }
    }
}

/// A Linkwitz–Riley 4th-order filter: the same Butterworth section twice.
#[inline(always)]
fn lr4(s: &mut [BiquadState; 2], c: &BiquadCoefs, x: f64) -> f64 {
    let y = s[0].tick(c, x);
    s[1].tick(c, y)
}

/// One channel's crossover state: each LR4 filter is two identical Butterworth sections.
#[derive(Debug, Clone, Copy, Default)]
struct SplitState {
    low_lp: [BiquadState; 2],
    low_hp: [BiquadState; 2],
    high_lp: [BiquadState; 2],
    high_hp: [BiquadState; 2],
    high_ap: BiquadState,
}

impl SplitState {
    #[inline]
    fn split(&mut self, c: &Crossover, x: f64) -> [f64; 3] {
        let low = lr4(&mut self.low_lp, &c.low_lp, x);
        let rest = lr4(&mut self.low_hp, &c.low_hp, x);
        let mid = lr4(&mut self.high_lp, &c.high_lp, rest);
        let high = lr4(&mut self.high_hp, &c.high_hp, rest);
        [self.high_ap.tick(&c.high_ap, low), mid, high]
    }

    fn flush_denormals(&mut self) {
        for s in self
            .low_lp
            .iter_mut()
            .chain(&mut self.low_hp)
            .chain(&mut self.high_lp)
            .chain(&mut self.high_hp)
        {
            s.flush_denormals();
        }
        self.high_ap.flush_denormals();
    }
}

/// A band's settings turned into per-sample constants.
#[derive(Debug, Clone, Copy)]
struct BandCoefs {
    threshold_db: f64,
    ratio: f64,
    attack: f64,
    release: f64,
    makeup_db: f64,
}

/// The smooth decoupled detector's two stages, in dB of gain reduction.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Smoother {
    hold: f64,
    gr: f64,
}

impl Smoother {
    #[inline]
    fn tick(&mut self, target: f64, c: &BandCoefs) -> f64 {
        self.hold = target.max(c.release * self.hold + (1.0 - c.release) * target);
        self.gr = c.attack * self.gr + (1.0 - c.attack) * self.hold;
        // A per-sample rule, so it does not depend on block boundaries.
        if self.hold < GR_FLOOR_DB && self.gr < GR_FLOOR_DB {
            self.hold = 0.0;
            self.gr = 0.0;
        }
        self.gr
    }
}

/// One band's streaming state.
#[derive(Debug, Clone)]
struct Band {
    coefs: BandCoefs,
    /// Per channel.
    sidechain: Vec<BiquadState>,
    /// Per channel: the last `window` squares (RMS detection only) and their running sum.
    rings: Vec<Vec<f64>>,
    sums: Vec<f64>,
    /// Per detector (one when linked, one per channel otherwise).
    smoothers: Vec<Smoother>,
    gains: Vec<f64>,
    current_gr: f64,
    max_gr: f64,
}

/// Streaming compressor.
#[derive(Debug, Clone)]
pub struct Compressor {
    sample_rate: f64,
    channels: usize,
    params: CompressorParams,
    bands: Vec<Band>,
    crossover: Option<Crossover>,
    splits: Vec<SplitState>,
    sidechain: Option<BiquadCoefs>,
    /// RMS window in frames; 0 for peak detection.
    window: usize,
    ring_pos: usize,
    clock: FlushClock,
    /// Per-frame scratch: band samples and detector powers per channel.
    band_samples: Vec<[f64; MAX_BANDS]>,
    powers: Vec<f64>,
}

impl Compressor {
    pub fn new(
        sample_rate: f64,
        channels: usize,
        params: CompressorParams,
    ) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        validate(&params, sample_rate)?;
        let mut c = Compressor {
            sample_rate,
            channels,
            params,
            bands: Vec::new(),
            crossover: None,
            splits: vec![SplitState::default(); channels],
            sidechain: None,
            window: 0,
            ring_pos: 0,
            clock: FlushClock::default(),
            band_samples: vec![[0.0; MAX_BANDS]; channels],
            powers: vec![0.0; channels],
        };
        c.configure(params, true);
        Ok(c)
    }

    /// Changes parameters. Levels, times and filters change without interrupting the signal;
    /// switching between one and three bands, the detection mode, the RMS window or the link
    /// mode restarts the detectors.
    pub fn set_params(&mut self, params: CompressorParams) -> Result<(), DspError> {
        validate(&params, self.sample_rate)?;
        let old = self.params;
        let restart = band_count(&old.bands) != band_count(&params.bands)
            || old.detection != params.detection
            || old.link != params.link
            || old.sidechain_high_pass_hz.is_some() != params.sidechain_high_pass_hz.is_some();
        self.configure(params, restart);
        Ok(())
    }

    fn configure(&mut self, params: CompressorParams, restart: bool) {
        let fs = self.sample_rate;
        self.params = params;
        let band_params: Vec<BandParams> = match params.bands {
            Bands::Single(b) => vec![b],
            Bands::Three { bands, .. } => bands.to_vec(),
        };
        self.crossover = match params.bands {
            Bands::Single(_) => None,
            Bands::Three { crossovers_hz, .. } => Some(Crossover::new(fs, crossovers_hz)),
        };
        self.sidechain = params
            .sidechain_high_pass_hz
            .map(|f| butterworth(fs, f, Pass::High));
        self.window = match params.detection {
            Detection::Peak => 0,
            Detection::Rms { window_ms } => ((window_ms * 1e-3 * fs).round() as usize).max(1),
        };
        let detectors = match params.link {
            StereoLink::Unlinked => self.channels,
            StereoLink::Max | StereoLink::Sum => 1,
        };
        let coefs: Vec<BandCoefs> = band_params
            .iter()
            .map(|b| band_coefs(b, params.knee_db, fs))
            .collect();
        if restart {
            self.bands = coefs
                .iter()
                .map(|&coefs| Band {
                    coefs,
                    sidechain: vec![BiquadState::default(); self.channels],
                    rings: vec![vec![0.0; self.window]; self.channels],
                    sums: vec![0.0; self.channels],
                    smoothers: vec![Smoother::default(); detectors],
                    gains: vec![1.0; detectors],
                    current_gr: 0.0,
                    max_gr: 0.0,
                })
                .collect();
            self.splits.fill(SplitState::default());
            self.ring_pos = 0;
        } else {
            for (band, coefs) in self.bands.iter_mut().zip(coefs) {
                band.coefs = coefs;
            }
        }
    }

    pub fn reset(&mut self) {
        self.configure(self.params, true);
        self.clock.reset();
    }

    /// No look-ahead.
    pub fn latency_frames(&self) -> usize {
        0
    }

    pub fn params(&self) -> CompressorParams {
        self.params
    }

    /// Number of bands (1 or 3).
    pub fn band_count(&self) -> usize {
        self.bands.len()
    }

    /// The transfer curve of `band` including makeup: output level (dB) for a detector level
    /// `input_db`. None when `band` does not exist.
    pub fn static_curve_db(&self, band: usize, input_db: f64) -> Option<f64> {
        let c = &self.bands.get(band)?.coefs;
        Some(gain_computer_db(input_db, c.threshold_db, c.ratio, self.params.knee_db) + c.makeup_db)
    }

    /// Gain reduction per band since the previous call; starts a new interval.
    pub fn take_gain_reduction(&mut self) -> Vec<GainReduction> {
        self.bands
            .iter_mut()
            .map(|b| {
                let r = GainReduction {
                    current_db: b.current_gr,
                    max_db: b.max_gr,
                };
                b.max_gr = b.current_gr;
                r
            })
            .collect()
    }

    pub fn process(&mut self, input: &[&[f32]], output: &mut [&mut [f32]]) -> Result<(), DspError> {
        let frames = check_planes(input, self.channels)?;
        check_output(output, self.channels, frames)?;
        for n in 0..frames {
            self.frame(input, output, n);
        }
        Ok(())
    }

    /// One frame: split, detect, compute and smooth the gain, apply and sum the bands.
    #[inline]
    fn frame(&mut self, input: &[&[f32]], output: &mut [&mut [f32]], n: usize) {
        let knee = self.params.knee_db;
        for (c, plane) in input.iter().enumerate() {
            let x = plane[n] as f64;
            self.band_samples[c] = match &self.crossover {
                Some(xo) => self.splits[c].split(xo, x),
                None => [x, 0.0, 0.0],
            };
        }
        let window = self.window;
        let ring_pos = self.ring_pos;
        let at_ring_end = window > 0 && ring_pos + 1 == window;
        for (k, band) in self.bands.iter_mut().enumerate() {
            for c in 0..self.channels {
                let mut s = self.band_samples[c][k];
                if let Some(hp) = &self.sidechain {
                    s = band.sidechain[c].tick(hp, s);
                }
                let square = s * s;
                self.powers[c] = if window == 0 {
                    square
                } else {
                    let ring = &mut band.rings[c];
                    band.sums[c] += square - ring[ring_pos];
                    ring[ring_pos] = square;
                    if at_ring_end {
                        // An exact sum once per window keeps rounding from accumulating.
                        band.sums[c] = ring.iter().sum();
                    }
                    band.sums[c].max(0.0) / window as f64
                };
            }
            let linked = match self.params.link {
                StereoLink::Unlinked => None,
                StereoLink::Max => Some(self.powers.iter().fold(0.0f64, |m, &p| m.max(p))),
                StereoLink::Sum => Some(self.powers.iter().sum()),
            };
            let mut current = 0.0f64;
            for d in 0..band.smoothers.len() {
                let power = linked.unwrap_or(self.powers[d]);
                let level_db = if power > 0.0 {
                    (10.0 * power.log10()).max(SILENCE_DB)
                } else {
                    SILENCE_DB
                };
                let co = &band.coefs;
                let target = level_db - gain_computer_db(level_db, co.threshold_db, co.ratio, knee);
                let gr = band.smoothers[d].tick(target.max(0.0), co);
                current = current.max(gr);
                let gain_db = co.makeup_db - gr;
                band.gains[d] = if gain_db == 0.0 {
                    1.0
                } else {
                    10f64.powf(gain_db / 20.0)
                };
            }
            band.current_gr = current;
            band.max_gr = band.max_gr.max(current);
        }
        for (c, out) in output.iter_mut().enumerate() {
            let mut y = 0.0;
            for (k, band) in self.bands.iter().enumerate() {
                let g = if band.gains.len() == 1 {
                    band.gains[0]
                } else {
                    band.gains[c]
                };
                y += self.band_samples[c][k] * g;
            }
            out[n] = y as f32;
        }
        if window > 0 {
            self.ring_pos = if at_ring_end { 0 } else { ring_pos + 1 };
        }
        if self.clock.advance(1) {
            for s in &mut self.splits {
                s.flush_denormals();
            }
            for band in &mut self.bands {
                for s in &mut band.sidechain {
                    s.flush_denormals();
                }
            }
        }
    }
}

fn band_count(b: &Bands) -> usize {
    match b {
        Bands::Single(_) => 1,
        Bands::Three { .. } => 3,
    }
}

/// One-pole coefficient for time constant `ms` (0 → instant).
fn time_constant(ms: f64, fs: f64) -> f64 {
    if ms <= 0.0 {
        0.0
    } else {
        (-1.0 / (ms * 1e-3 * fs)).exp()
    }
}

fn band_coefs(b: &BandParams, knee_db: f64, fs: f64) -> BandCoefs {
    let makeup_db = match b.makeup {
        Makeup::Db(db) => db,
        Makeup::Auto => -gain_computer_db(0.0, b.threshold_dbfs, b.ratio, knee_db),
    };
    BandCoefs {
        threshold_db: b.threshold_dbfs,
        ratio: b.ratio,
        attack: time_constant(b.attack_ms, fs),
        release: time_constant(b.release_ms, fs),
        makeup_db,
    }
}

/// Error names of a band's fields: the single band's, then the three bands'.
const BAND_FIELDS: [[&str; 5]; 4] = [
    [
        "threshold_dbfs",
        "ratio",
        "attack_ms",
        "release_ms",
        "makeup_db",
    ],
    [
        "bands[0].threshold_dbfs",
        "bands[0].ratio",
        "bands[0].attack_ms",
        "bands[0].release_ms",
        "bands[0].makeup_db",
    ],
    [
        "bands[1].threshold_dbfs",
        "bands[1].ratio",
        "bands[1].attack_ms",
        "bands[1].release_ms",
        "bands[1].makeup_db",
    ],
    [
        "bands[2].threshold_dbfs",
        "bands[2].ratio",
        "bands[2].attack_ms",
        "bands[2].release_ms",
        "bands[2].makeup_db",
    ],
];

fn validate_band(b: &BandParams, names: &[&'static str; 5]) -> Result<(), DspError> {
    check_range(names[0], b.threshold_dbfs, MIN_THRESHOLD_DBFS, 0.0, " dBFS")?;
    if b.ratio != f64::INFINITY {
        check_range(names[1], b.ratio, 1.0, MAX_RATIO, " (or ∞)")?;
    }
    check_range(names[2], b.attack_ms, 0.0, MAX_ATTACK_MS, " ms")?;
    check_range(
        names[3],
        b.release_ms,
        MIN_RELEASE_MS,
        MAX_RELEASE_MS,
        " ms",
    )?;
    if let Makeup::Db(db) = b.makeup {
        check_range(names[4], db, -MAX_MAKEUP_DB, MAX_MAKEUP_DB, " dB")?;
    }
    Ok(())
}

fn validate(p: &CompressorParams, fs: f64) -> Result<(), DspError> {
    match &p.bands {
        Bands::Single(b) => validate_band(b, &BAND_FIELDS[0])?,
        Bands::Three {
            crossovers_hz,
            bands,
        } => {
            for (b, names) in bands.iter().zip(&BAND_FIELDS[1..]) {
                validate_band(b, names)?;
            }
            let [f1, f2] = *crossovers_hz;
            check_frequency("crossovers_hz[0]", f1, fs)?;
            check_frequency("crossovers_hz[1]", f2, fs)?;
            if f2 < f1 * MIN_CROSSOVER_RATIO {
                return Err(DspError::Parameter {
                    name: "crossovers_hz[1]",
                    message: format!(
                        "{f2} Hz must be at least {MIN_CROSSOVER_RATIO} × the lower crossover ({f1} Hz)"
                    ),
                });
            }
        }
    }
    check_range("knee_db", p.knee_db, 0.0, MAX_KNEE_DB, " dB")?;
    if let Detection::Rms { window_ms } = p.detection {
        check_range(
            "rms_window_ms",
            window_ms,
            MIN_RMS_WINDOW_MS,
            MAX_RMS_WINDOW_MS,
            " ms",
        )?;
    }
    if let Some(f) = p.sidechain_high_pass_hz {
        check_frequency("sidechain_high_pass_hz", f, fs)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::testing::{assert_bit_identical, run_blocks, XorShift, BLOCK_SIZES};

    fn run(comp: &mut Compressor, input: &[Vec<f32>], block: usize) -> Vec<Vec<f32>> {
        run_blocks(input, block, |i, o| comp.process(i, o).unwrap())
    }

    fn single(band: BandParams, detection: Detection) -> CompressorParams {
        CompressorParams {
            bands: Bands::Single(band),
            knee_db: 6.0,
            detection,
            sidechain_high_pass_hz: None,
            link: StereoLink::Max,
        }
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    #[test]
    fn static_curve_is_the_textbook_soft_knee() {
        // The reference is written from the paper's description rather than its equation:
        // identity below the knee, the ratio line above it, and in between the quadratic that
        // joins them with matching value and slope at both knee edges.
        fn reference(x: f64, t: f64, r: f64, w: f64) -> f64 {
            let (lo, hi) = (t - w / 2.0, t + w / 2.0);
            if x <= lo {
                x
            } else if x >= hi {
                t + (x - t) / r
            } else {
                // y = x + a (x − lo)², with y'(hi) = 1/R → 1 + 2aW = 1/R.
                let a = (1.0 / r - 1.0) / (2.0 * w);
                x + a * (x - lo) * (x - lo)
            }
        }
        for &(t, r, w) in &[
            (-20.0, 4.0, 6.0),
            (-10.0, 2.0, 12.0),
            (-30.0, f64::INFINITY, 10.0),
            (-6.0, 20.0, 0.0),
            (-40.0, 1.0, 24.0),
        ] {
            for i in 0..=400 {
                let x = -80.0 + 0.2 * i as f64;
                let got = gain_computer_db(x, t, r, w);
                let want = if w == 0.0 {
                    if x <= t {
                        x
                    } else {
                        t + (x - t) / r
                    }
                } else {
                    reference(x, t, r, w)
                };
                // Same arithmetic up to rounding: 1e-9 dB.
                assert!(
                    (got - want).abs() < 1e-9,
                    "T {t} R {r} W {w} x {x}: {got} vs {want}"
                );
            }
            // Continuity at the knee edges.
            for edge in [t - w / 2.0, t + w / 2.0] {
                let a = gain_computer_db(edge - 1e-9, t, r, w);
                let b = gain_computer_db(edge + 1e-9, t, r, w);
                assert!((a - b).abs() < 1e-8, "jump at {edge}");
            }
        }
        // The curve the UI draws includes the makeup.
        let band = BandParams {
            threshold_dbfs: -20.0,
            ratio: 4.0,
            makeup: Makeup::Auto,
            ..BandParams::default()
        };
        let comp = Compressor::new(48_000.0, 2, single(band, Detection::Peak)).unwrap();
        // Auto makeup: 0 dBFS in, 0 dBFS out.
        assert!(comp.static_curve_db(0, 0.0).unwrap().abs() < 1e-12);
        assert_eq!(comp.static_curve_db(1, 0.0), None);
    }

    /// Gain (dB) of a steady cosine at `peak_dbfs` after 1.5 s, from the output/input peaks of
    /// the last 100 ms.
    fn steady_gain_db(params: CompressorParams, peak_dbfs: f64) -> f64 {
        let fs = 48_000.0;
        // 1 kHz at 48 kHz: 48 samples a cycle, the peak lands on a sample.
        let amp = 10f64.powf(peak_dbfs / 20.0);
        let n = 72_000;
        let x: Vec<f32> = (0..n)
            .map(|i| (amp * (2.0 * PI * i as f64 / 48.0).cos()) as f32)
            .collect();
        let mut comp = Compressor::new(fs, 1, params).unwrap();
        let y = run(&mut comp, std::slice::from_ref(&x), 4096);
        let tail = n - 4800..n;
        let peak = |v: &[f32]| v[tail.clone()].iter().fold(0f32, |m, s| m.max(s.abs())) as f64;
        db(peak(&y[0]) / peak(&x))
    }

    #[test]
    fn steady_state_gain_of_a_sine_follows_the_static_curve() {
        let band = BandParams {
            threshold_dbfs: -20.0,
            ratio: 4.0,
            attack_ms: 5.0,
            release_ms: 200.0,
            makeup: Makeup::Db(0.0),
        };
        for &peak_dbfs in &[-40.0, -24.0, -20.0, -17.0, -10.0, -3.0, 0.0] {
            // Peak detection sees the sine's peak; RMS detection (10 ms: 10 whole cycles, so the
            // moving mean has no ripple) sees the peak minus the sine's 3.01 dB crest factor.
            for (detection, level) in [
                (Detection::Peak, peak_dbfs),
                (
                    Detection::Rms { window_ms: 10.0 },
                    peak_dbfs - 10.0 * 2f64.log10(),
                ),
            ] {
                let params = single(band, detection);
                let expected = gain_computer_db(level, -20.0, 4.0, 6.0) - level;
                let got = steady_gain_db(params, peak_dbfs);
                // The release stage sags by ≤ 0.25 % of the gain reduction between peaks
                // (24 samples at τ = 200 ms), about 0.04 dB at 15 dB: 0.1 dB holds with margin.
                assert!(
                    (got - expected).abs() < 0.1,
                    "{detection:?} at {peak_dbfs} dBFS: gain {got:.3} dB, curve says {expected:.3}"
                );
            }
        }
    }

    /// Time (ms) at which the gain, starting at `from_db`, first covers 63.2 % of the way to
    /// `to_db`, from a per-sample gain trace.
    fn time_to_63_percent(gains_db: &[f64], from_db: f64, to_db: f64, fs: f64) -> f64 {
        let target = from_db + (1.0 - (-1f64).exp()) * (to_db - from_db);
        let i = gains_db
            .iter()
            .position(|&g| (g - target) * (to_db - from_db).signum() >= 0.0)
            .expect("the gain reaches 63 %");
        i as f64 / fs * 1e3
    }

    #[test]
    fn attack_and_release_reach_63_percent_at_their_time_constants() {
        let fs = 44_100.0;
        for &(attack_ms, release_ms) in &[(10.0, 100.0), (2.0, 300.0), (50.0, 1000.0)] {
            let band = BandParams {
                threshold_dbfs: -30.0,
                ratio: 4.0,
                attack_ms,
                release_ms,
                makeup: Makeup::Db(0.0),
            };
            let mut comp = Compressor::new(fs, 1, single(band, Detection::Peak)).unwrap();
            // DC steps: the peak detector sees a constant level, so the gain is y/x exactly.
            let quiet = 0.001; // −60 dBFS, below the knee
            let loud = 0.5; // −6 dBFS
            let step = (release_ms * 5e-3 * fs) as usize + (attack_ms * 10e-3 * fs) as usize;
            let mut x = vec![quiet as f32; 1000];
            x.extend(vec![loud as f32; step]);
            x.extend(vec![quiet as f32; step]);
            let y = run(&mut comp, std::slice::from_ref(&x), 64);
            let g: Vec<f64> = x
                .iter()
                .zip(&y[0])
                .map(|(&a, &b)| db(b as f64 / a as f64))
                .collect();
            let level = db(loud);
            let full = gain_computer_db(level, -30.0, 4.0, 6.0) - level;
            let attack = time_to_63_percent(&g[1000..], 0.0, full, fs);
            let release = time_to_63_percent(&g[1000 + step..], g[1000 + step - 1], 0.0, fs);
            // ±10 % as specified; the discrete one-pole is exact to a sample (0.02 ms).
            assert!(
                (attack / attack_ms - 1.0).abs() < 0.1,
                "attack {attack:.3} ms for {attack_ms} ms"
            );
            // The release step passes the attack stage too, adding about the attack time.
            assert!(
                (release / (release_ms + attack_ms) - 1.0).abs() < 0.1,
                "release {release:.3} ms for {release_ms} ms (+ attack {attack_ms} ms)"
            );
        }
    }

    #[test]
    fn linked_channels_get_identical_gain() {
        let fs = 48_000.0;
        let seed = 0xfeed;
        let mut rng = XorShift(seed);
        let n = 20_000;
        // A loud left channel and a quiet right one; both never zero so y/x is the gain.
        let left: Vec<f32> = (0..n)
            .map(|_| (0.3 + 0.6 * rng.next_f32().abs() as f64) as f32)
            .collect();
        let right: Vec<f32> = (0..n)
            .map(|_| (0.01 + 0.01 * rng.next_f32().abs() as f64) as f32)
            .collect();
        for link in [StereoLink::Max, StereoLink::Sum, StereoLink::Unlinked] {
            let mut params = single(
                BandParams {
                    threshold_dbfs: -20.0,
                    ratio: 8.0,
                    attack_ms: 1.0,
                    release_ms: 50.0,
                    makeup: Makeup::Db(0.0),
                },
                Detection::Rms { window_ms: 5.0 },
            );
            params.link = link;
            let mut comp = Compressor::new(fs, 2, params).unwrap();
            let y = run(&mut comp, &[left.clone(), right.clone()], 100);
            let mut max_diff = 0f64;
            let mut right_gr = 0f64;
            for i in 0..n {
                let gl = y[0][i] as f64 / left[i] as f64;
                let gr = y[1][i] as f64 / right[i] as f64;
                max_diff = max_diff.max((gl / gr).ln().abs());
                right_gr = right_gr.max(-db(gr));
            }
            match link {
                // The same f64 gain multiplies both; only the f32 rounding of the outputs
                // (2^-24 relative each) separates the measured ratios.
                StereoLink::Max | StereoLink::Sum => {
                    assert!(
                        max_diff < 2.5e-7,
                        "seed {seed}: {link:?}: gains differ by {max_diff}"
                    )
                }
                // Unlinked, the quiet channel (−34 dBFS or so) is left alone.
                StereoLink::Unlinked => {
                    assert!(right_gr < 1e-6, "seed {seed}: right GR {right_gr}")
                }
            }
        }
    }

    fn three_band(threshold: f64) -> CompressorParams {
        let band = BandParams {
            threshold_dbfs: threshold,
            ratio: 4.0,
            attack_ms: 5.0,
            release_ms: 100.0,
            makeup: Makeup::Db(0.0),
        };
        CompressorParams {
            bands: Bands::Three {
                crossovers_hz: [200.0, 3000.0],
                bands: [band; 3],
            },
            knee_db: 6.0,
            detection: Detection::Rms { window_ms: 10.0 },
            sidechain_high_pass_hz: None,
            link: StereoLink::Max,
        }
    }

    #[test]
    fn three_bands_sum_flat_when_nothing_compresses() {
        for fs in [44_100.0, 96_000.0] {
            let mut comp = Compressor::new(fs, 1, three_band(0.0)).unwrap();
            let n = 1 << 15;
            let mut x = vec![0f32; n];
            x[0] = 0.1; // far below every threshold
            let y = run(&mut comp, &[x], 4096);
            for i in 0..60 {
                // 10 Hz to 20 kHz, logarithmically.
                let f = 10.0 * 2000f64.powf(i as f64 / 59.0);
                let (mut re, mut im) = (0.0, 0.0);
                for (k, &v) in y[0].iter().enumerate() {
                    let ph = 2.0 * PI * f * k as f64 / fs;
                    re += v as f64 * ph.cos();
                    im -= v as f64 * ph.sin();
                }
                let mag_db = db((re * re + im * im).sqrt() / 0.1);
                // All-pass in exact arithmetic; the f32 output and the truncated tail (the
                // 10 Hz-wide all-pass rings for < 0.1 s, far shorter than 0.34 s) stay far
                // inside 0.01 dB.
                assert!(mag_db.abs() < 0.01, "{fs} Hz: {f:.1} Hz is {mag_db:.4} dB");
            }
        }
    }

    #[test]
    fn three_bands_compress_only_the_band_that_is_loud() {
        let fs = 48_000.0;
        let mut params = three_band(-30.0);
        if let Bands::Three { bands, .. } = &mut params.bands {
            bands[1].threshold_dbfs = 0.0;
            bands[2].threshold_dbfs = 0.0;
        }
        let mut comp = Compressor::new(fs, 1, params).unwrap();
        let x: Vec<f32> = (0..24_000)
            .map(|i| (0.5 * (2.0 * PI * 60.0 * i as f64 / fs).sin()) as f32)
            .collect();
        run(&mut comp, &[x], 512);
        let gr = comp.take_gain_reduction();
        assert_eq!(gr.len(), 3);
        assert!(gr[0].current_db > 5.0, "low band GR {:?}", gr[0]);
        assert!(gr[1].max_db == 0.0 && gr[2].max_db == 0.0, "{gr:?}");
    }

    #[test]
    fn sidechain_high_pass_ignores_a_loud_30_hz_tone() {
        let fs = 48_000.0;
        let x: Vec<f32> = (0..48_000)
            .map(|i| (0.5 * (2.0 * PI * 30.0 * i as f64 / fs).sin()) as f32)
            .collect();
        let band = BandParams {
            threshold_dbfs: -20.0,
            ratio: 4.0,
            ..BandParams::default()
        };
        let mut params = single(band, Detection::Rms { window_ms: 50.0 });
        let mut plain = Compressor::new(fs, 1, params).unwrap();
        run(&mut plain, std::slice::from_ref(&x), 4096);
        // −9 dB RMS is 11 dB over the threshold: several dB of reduction.
        assert!(plain.take_gain_reduction()[0].max_db > 5.0);
        // A 12 dB/oct high-pass at 120 Hz takes 30 Hz down by 24 dB, to −33 dB RMS: below
        // the knee, so no reduction at all.
        params.sidechain_high_pass_hz = Some(120.0);
        let mut filtered = Compressor::new(fs, 1, params).unwrap();
        let y = run(&mut filtered, std::slice::from_ref(&x), 4096);
        assert_eq!(filtered.take_gain_reduction()[0].max_db, 0.0);
        assert_eq!(y[0], x);
    }

    #[test]
    fn gain_reduction_meter_reports_and_restarts() {
        let fs = 48_000.0;
        let band = BandParams {
            threshold_dbfs: -20.0,
            ratio: f64::INFINITY,
            attack_ms: 0.0,
            release_ms: 10.0,
            makeup: Makeup::Db(0.0),
        };
        let mut comp = Compressor::new(fs, 1, single(band, Detection::Peak)).unwrap();
        let mut x = vec![0.5f32; 100];
        x.extend(vec![0.0f32; 48_000]);
        run(&mut comp, &[x], 64);
        let first = comp.take_gain_reduction()[0];
        // Limiting −6.02 dBFS to −20 dBFS (above the 6 dB knee): 13.98 dB, instantly (attack 0).
        assert!((first.max_db - (20.0 + db(0.5))).abs() < 1e-9, "{first:?}");
        // After 100 release time constants the reduction is gone.
        assert_eq!(first.current_db, 0.0);
        assert_eq!(comp.take_gain_reduction()[0].max_db, 0.0);
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let fs = 44_100.0;
        let seed = 0x5eed_1234;
        let mut rng = XorShift(seed);
        let n = 30_000;
        let input: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..n)
                    .map(|i| {
                        // Noise with level jumps every 5000 frames, so the gain moves.
                        let level = [0.05, 0.8, 0.2, 1.0, 0.01, 0.6][i / 5000];
                        (level * rng.next_f32() as f64) as f32
                    })
                    .collect()
            })
            .collect();
        let mut configs = vec![three_band(-24.0)];
        let mut p = single(BandParams::default(), Detection::Peak);
        p.sidechain_high_pass_hz = Some(80.0);
        p.link = StereoLink::Unlinked;
        configs.push(p);
        configs[0].link = StereoLink::Sum;
        configs[0].sidechain_high_pass_hz = Some(40.0);
        for params in configs {
            let reference = run(&mut Compressor::new(fs, 2, params).unwrap(), &input, n);
            for block in BLOCK_SIZES {
                let y = run(&mut Compressor::new(fs, 2, params).unwrap(), &input, block);
                assert_bit_identical(&format!("seed {seed}: block {block}"), &y, &reference);
            }
        }
    }

    #[test]
    fn rejects_out_of_range_parameters_by_name() {
        let bad = |f: &dyn Fn(&mut CompressorParams)| {
            let mut p = CompressorParams::default();
            f(&mut p);
            match Compressor::new(48_000.0, 2, p) {
                Err(DspError::Parameter { name, .. }) => name,
                other => panic!("expected a parameter error, got {other:?}"),
            }
        };
        let set_band = |f: fn(&mut BandParams)| {
            move |p: &mut CompressorParams| {
                if let Bands::Single(b) = &mut p.bands {
                    f(b)
                }
            }
        };
        assert_eq!(bad(&set_band(|b| b.ratio = 0.5)), "ratio");
        assert_eq!(bad(&set_band(|b| b.ratio = 40.0)), "ratio");
        assert_eq!(
            bad(&set_band(|b| b.threshold_dbfs = f64::NAN)),
            "threshold_dbfs"
        );
        assert_eq!(bad(&set_band(|b| b.attack_ms = -1.0)), "attack_ms");
        assert_eq!(bad(&set_band(|b| b.makeup = Makeup::Db(40.0))), "makeup_db");
        assert_eq!(bad(&|p| p.knee_db = 30.0), "knee_db");
        assert_eq!(
            bad(&|p| p.sidechain_high_pass_hz = Some(5.0)),
            "sidechain_high_pass_hz"
        );
        assert_eq!(
            bad(&|p| p.detection = Detection::Rms { window_ms: 0.0 }),
            "rms_window_ms"
        );
        let three = |crossovers_hz: [f64; 2], mid_ratio: f64| {
            move |p: &mut CompressorParams| {
                let mut bands = [BandParams::default(); 3];
                bands[1].ratio = mid_ratio;
                p.bands = Bands::Three {
                    crossovers_hz,
                    bands,
                };
            }
        };
        assert_eq!(bad(&three([1000.0, 1200.0], 2.0)), "crossovers_hz[1]");
        assert_eq!(bad(&three([5.0, 1200.0], 2.0)), "crossovers_hz[0]");
        assert_eq!(bad(&three([200.0, 30_000.0], 2.0)), "crossovers_hz[1]");
        assert_eq!(bad(&three([200.0, 3000.0], 0.0)), "bands[1].ratio");
        // ∞ is limiting, not an error; a valid three-band setting is accepted.
        assert!(Compressor::new(
            48_000.0,
            2,
            single(
                BandParams {
                    ratio: f64::INFINITY,
                    ..BandParams::default()
                },
                Detection::Peak
            )
        )
        .is_ok());
        assert!(Compressor::new(48_000.0, 2, three_band(-20.0)).is_ok());
        // set_params rejects without changing anything.
        let mut comp = Compressor::new(48_000.0, 2, three_band(-20.0)).unwrap();
        let mut p = three_band(-20.0);
        p.knee_db = -1.0;
        assert!(comp.set_params(p).is_err());
        assert_eq!(comp.params(), three_band(-20.0));
    }
}
