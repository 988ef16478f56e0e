//! Long-term spectral analysis for the mastering report: the 1/3-octave band spectrum, a smoothed
//! curve for plots, the side-to-mid ratio per band, spectral centroid and 85 % roll-off, the
//! harmonic-to-noise ratio, detection of a lossy codec's brick-wall low-pass, and a bounded
//! log-frequency spectrogram of the whole file.
//!
//! Bands follow IEC 61260-1 / ANSI S1.11 (base-10 1/3-octave bands: centre 1000·10^(x/10) Hz,
//! edges at centre·10^(±1/20)), labelled with their nominal frequencies 20 Hz … 20 kHz.
//!
//! The long-term spectrum is a Welch estimate: Hann-windowed frames of n samples, n the power of
//! two at or above fs / 3 Hz (16384 at 44.1 and 48 kHz), so bins are at most 3 Hz wide and the
//! 20, 25 and 31.5 Hz bands are resolved at every rate. Frames do not overlap and every other
//! one is analysed (frames start at multiples of 2n): half the signal enters the average, which
//! for a long-term spectrum is statistically plenty (a 4-minute song gives ~320 frames) and
//! halves the cost. Bin powers are normalised by the window's energy, so a band's power is the
//! signal's mean square in that band and a sine of peak amplitude A reads 20·log10(A) dB in the
//! band that contains it. A band integrates the bins it overlaps, each in proportion to the part
//! of its width inside the band. Channels are averaged in power; two channels share one complex
//! FFT (the stereo pair always together, which also gives mid and side).
//!
//! The spectrogram uses frames of n/8 (about 46 ms). A column spans a power of two of frames and
//! is represented by the analysed frame at its start; when the columns fill up, adjacent pairs
//! are averaged in power and the column span doubles. Memory is fixed, and the number of
//! spectrogram FFTs grows only with the logarithm of the file's length.
//!
//! The harmonic-to-noise ratio follows Boersma (1993), "Accurate short-term analysis of the
//! fundamental frequency and the harmonics-to-noise ratio of a sampled sound": the autocorrelation
//! of a Hann-windowed frame of 4.5 periods of the 70 Hz pitch floor, divided by the window's own
//! autocorrelation, gives r(τ); its highest local maximum over lags of 1–14.3 ms (1000–70 Hz),
//! refined by a parabola, gives HNR = 10·log10(r / (1 − r)). Boersma interpolates with a sinc;
//! the parabola reads a peak at most 0.08 % low for a 3 kHz component at 44.1 kHz, which only
//! matters for tones cleaner than ~30 dB. One frame of the mean of the included channels is
//! analysed every 0.5 s; frames quieter than −60 dBFS RMS are skipped, and the result is the mean
//! in dB over the others (as Praat's mean harmonicity is).
//!
//! A lossy source shows as a wall in the long-term spectrum: ~100 Hz cells that fall by 30 dB or
//! more from the 800 Hz below an edge to the 2 kHz above it, somewhere between 4 kHz and 90 % of
//! Nyquist (above that every resampler's anti-alias filter would count).
//!
//! Everything is positioned in absolute frames and accumulated in a fixed order, so the report is
//! bit-identical whatever the block size. Nothing allocates in `process`.

use crate::error::{check_format, check_planes, DspError};
use crate::fft::{split_two_real, FftPlan, RealFftPlan};

/// Nominal labels of the 31 bands; band i has exact centre 1000·10^((i − 17)/10) Hz.
pub const THIRD_OCTAVE_NOMINAL_HZ: [f64; 31] = [
    20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0,
    500.0, 630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
];
/// Band number (IEC 61260's x) of the first band, 20 Hz.
const FIRST_BAND_INDEX: i32 = -17;

/// The widest bin the long-term spectrum may have: the 20 Hz band is only 4.6 Hz wide.
const MAX_BIN_SPACING_HZ: f64 = 3.0;
/// Long frames start at multiples of this many frame lengths (2: every other frame analysed).
const LONG_FRAME_HOP_FACTOR: u64 = 2;
/// Spectrogram frames are this many times shorter than long frames (~46 ms at 44.1 kHz).
const SPECTROGRAM_FRAME_DIVISOR: usize = 8;
/// Spectrogram cells below this level, silence included, read this value instead of −∞.
pub const SPECTROGRAM_FLOOR_DB: f32 = -180.0;

const AUDIBLE_LOW_HZ: f64 = 20.0;
const AUDIBLE_HIGH_HZ: f64 = 20_000.0;
const CURVE_POINTS: usize = 256;
/// The curve's smoothing: each point is the power in a 1/6-octave band around it.
const CURVE_BANDWIDTH_OCTAVES: f64 = 1.0 / 6.0;
const ROLLOFF_FRACTION: f64 = 0.85;
/// Side/mid ratios are bounded to ±100 dB where one of the two is (numerically) zero.
const SIDE_TO_MID_LIMIT_RATIO: f64 = 1e-10;

const HNR_PITCH_FLOOR_HZ: f64 = 70.0;
const HNR_PITCH_CEILING_HZ: f64 = 1000.0;
/// Praat's default for harmonicity: long enough for the window correction to hold at the floor.
const HNR_PERIODS_PER_WINDOW: f64 = 4.5;
const HNR_INTERVAL_SECONDS: f64 = 0.5;
/// Frames below −60 dBFS RMS (mean square 1e-6) carry no signal worth a harmonicity.
const HNR_GATE_MEAN_SQUARE: f64 = 1e-6;
/// r is kept in [0.001, 1 − 1e-6] so one odd frame cannot drag the mean beyond −30…+60 dB.
const HNR_R_MIN: f64 = 1e-3;
const HNR_R_MAX: f64 = 1.0 - 1e-6;

/// Cutoff detection works on cells of about this width, averaged in power.
const CUTOFF_CELL_HZ: f64 = 100.0;
/// The lowest cutoff searched: below it a "low-pass" is a musical choice, not a codec's.
const CUTOFF_MIN_HZ: f64 = 4_000.0;
/// The highest cutoff searched, as a fraction of Nyquist: above it every resampler's
/// anti-alias filter would count.
const CUTOFF_MAX_NYQUIST_FRACTION: f64 = 0.9;
/// Cells compared below and above a candidate edge, and the cell left out on the edge.
const CUTOFF_BELOW_CELLS: usize = 8;
const CUTOFF_ABOVE_CELLS: usize = 20;
/// A codec's low-pass removes essentially everything above it; a natural roll-off, even a steep
/// one, loses a few dB over the same 2 kHz.
const CUTOFF_MIN_DROP_DB: f64 = 30.0;
/// The band below the edge must carry content within this much of the loudest cell, so the
/// edge of a noise floor does not count.
const CUTOFF_MAX_DEPTH_DB: f64 = 90.0;
/// Width of the running mean used to place the edge precisely.
const CUTOFF_REFINE_SMOOTHING_HZ: f64 = 30.0;

/// Which channels the analysis uses, and the spectrogram's size.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralOptions {
    /// Display width (time); must be even (columns merge in pairs). Default 1024.
    pub spectrogram_columns: usize,
    /// Log-frequency rows from 20 Hz to min(20 kHz, Nyquist). Default 160.
    pub spectrogram_rows: usize,
    /// Per channel: included in the spectrum (false for LFE). Empty means all channels.
    pub included: Vec<bool>,
    /// Indices of L and R, for the side-to-mid ratio.
    pub stereo_pair: Option<(usize, usize)>,
}

impl Default for SpectralOptions {
    fn default() -> Self {
        SpectralOptions {
            spectrogram_columns: 1024,
            spectrogram_rows: 160,
            included: Vec::new(),
            stereo_pair: None,
        }
    }
}

/// One 1/3-octave band. `db` is None above Nyquist or without energy.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub nominal_hz: f64,
    pub centre_hz: f64,
    pub low_hz: f64,
    pub high_hz: f64,
    pub db: Option<f64>,
}

/// A log-frequency spectrogram of the whole file; `db[column * rows + row]`. Each cell is the
/// power in the row's band (the same convention as the 1/3-octave bands); rows narrower than a
/// bin show the interpolated bin power instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    pub columns: usize,
    pub rows: usize,
    pub row_hz: Vec<f64>,
    pub seconds_per_column: f64,
    pub db: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpectralReport {
    /// The 31 bands, 20 Hz … 20 kHz; power average of the included channels.
    pub third_octave: Vec<Band>,
    /// (Hz, dB) on a log grid of 256 points from 20 Hz to min(20 kHz, Nyquist), each the power in
    /// a 1/6-octave band around the point. Empty for silence.
    pub curve: Vec<(f64, f64)>,
    /// Per band, 10·log10(P_side / P_mid) with M = (L + R)/2, S = (L − R)/2, bounded to ±100 dB;
    /// empty without a stereo pair, None where both are zero or the band is above Nyquist.
    pub side_to_mid_db: Vec<Option<f64>>,
    /// Power-weighted mean frequency of the long-term spectrum from 20 Hz to Nyquist (the
    /// subsonic range is left out so a DC offset cannot pull it down).
    pub spectral_centroid_hz: Option<f64>,
    /// Frequency below which 85 % of the power from 20 Hz to Nyquist lies.
    pub rolloff_hz: Option<f64>,
    /// Harmonic-to-noise ratio (Boersma 1993), mean in dB over 0.5 s-spaced frames with signal.
    pub hnr_db: Option<f64>,
    /// The edge of a brick-wall low-pass (lossy source, upsampled file) well below Nyquist.
    pub cutoff_hz: Option<f64>,
    pub spectrogram: Spectrogram,
}

/// Streaming spectral analyser: `new`, `process` blocks of any size, then `finish` once.
#[derive(Debug, Clone)]
pub struct SpectralAnalyzer {
    sample_rate: f64,
    channels: usize,
    included: Vec<bool>,
    included_count: usize,
    position: u64,
    finished: bool,
    long: LongTerm,
    spectrogram: SpectrogramState,
    hnr: HarmonicityState,
}

/// Two real channels (or one) transformed together.
#[derive(Debug, Clone, Copy)]
struct ChannelPair {
    a: usize,
    b: Option<usize>,
    /// Whether a and b count in the spectrum average.
    a_weight: f32,
    b_weight: f32,
    /// This pair is the stereo pair (a = L, b = R): also accumulate mid and side.
    stereo: bool,
}

/// Windowed spectra of one or two real frames of one size, with scratch allocated up front.
#[derive(Debug, Clone)]
struct FrameTransform {
    complex: FftPlan,
    real: RealFftPlan,
    re: Vec<f32>,
    im: Vec<f32>,
    a_re: Vec<f32>,
    a_im: Vec<f32>,
    b_re: Vec<f32>,
    b_im: Vec<f32>,
}

impl FrameTransform {
    fn new(n: usize) -> Self {
        let bins = n / 2 + 1;
        FrameTransform {
            complex: FftPlan::new(n),
            real: RealFftPlan::new(n),
            re: vec![0.0; n],
            im: vec![0.0; n],
            a_re: vec![0.0; bins],
            a_im: vec![0.0; bins],
            b_re: vec![0.0; bins],
            b_im: vec![0.0; bins],
        }
    }

    /// Spectra of `a` and `b` (when given) times `window`, zero-padded to n, into a_* and b_*.
    /// Returns false when the input held a non-finite sample (the DC bins sum every sample).
    fn transform(&mut self, window: &[f32], a: &[f32], b: Option<&[f32]>) -> bool {
        let used = window.len();
        match b {
            Some(b) if used == self.re.len() => {
                let (z_re, z_im) = self.complex.forward_windowed_pair(a, b, window);
                split_two_real(
                    z_re,
                    z_im,
                    &mut self.a_re,
                    &mut self.a_im,
                    &mut self.b_re,
                    &mut self.b_im,
                );
            }
            Some(b) => {
                for (((re, im), &w), (&x, &y)) in self
                    .re
                    .iter_mut()
                    .zip(self.im.iter_mut())
                    .zip(window)
                    .zip(a.iter().zip(b))
                {
                    *re = x * w;
                    *im = y * w;
                }
                self.re[used..].fill(0.0);
                self.im[used..].fill(0.0);
                self.complex.forward(&mut self.re, &mut self.im);
                split_two_real(
                    &self.re,
                    &self.im,
                    &mut self.a_re,
                    &mut self.a_im,
                    &mut self.b_re,
                    &mut self.b_im,
                );
            }
            None => {
                for ((re, &w), &x) in self.re.iter_mut().zip(window).zip(a) {
                    *re = x * w;
                }
                self.re[used..].fill(0.0);
                self.real.forward(&self.re, &mut self.a_re, &mut self.a_im);
                self.b_re.fill(0.0);
                self.b_im.fill(0.0);
            }
        }
        self.a_re[0].is_finite() && self.b_re[0].is_finite()
    }

    /// `transform` of a pair's frame buffers; a frame holding a non-finite sample (a corrupt
    /// decode) is cleaned, those samples read as silence, and transformed again, so one bad
    /// sample cannot poison the report. Checking the DC bins costs nothing on clean input.
    fn transform_pair(&mut self, window: &[f32], buffers: &mut [Vec<f32>], pair: &ChannelPair) {
        let used = window.len();
        let b = pair.b.map(|b| &buffers[b][..used]);
        if !self.transform(window, &buffers[pair.a][..used], b) {
            sanitise(&mut buffers[pair.a]);
            if let Some(b) = pair.b {
                sanitise(&mut buffers[b]);
            }
            let b = pair.b.map(|b| &buffers[b][..used]);
            self.transform(window, &buffers[pair.a][..used], b);
        }
    }
}

/// Hann window shifted by half a sample, sin²(π(i + ½)/len): the same spectral shape as the
/// periodic Hann, but never zero, so even a one-sample tail frame has energy.
fn hann(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let s = (std::f64::consts::PI * (i as f64 + 0.5) / len as f64).sin();
            (s * s) as f32
        })
        .collect()
}

fn window_energy(window: &[f32]) -> f64 {
    window.iter().map(|&w| w as f64 * w as f64).sum()
}

/// The Welch estimate of the long-term spectrum (and of mid and side for the stereo pair).
#[derive(Debug, Clone)]
struct LongTerm {
    n: usize,
    hop: u64,
    window: Vec<f32>,
    window_energy: f64,
    transform: FrameTransform,
    pairs: Vec<ChannelPair>,
    /// Frame buffers by channel; channels in no pair keep an empty buffer.
    buffers: Vec<Vec<f32>>,
    start: u64,
    filled: usize,
    /// Σ over frames of weight·|X[k]|²/(n·Σw²), summed over the included channels.
    total: Accumulator,
    /// The same for M = (L + R)/2 and S = (L − R)/2 of the stereo pair.
    mid: Accumulator,
    side: Accumulator,
    /// Σ of frame weights (1 per full frame, the filled fraction for the tail).
    frames: f64,
}

/// Per-bin sums over frames: a few frames in f32 (SIMD-wide), then folded into f64 so that
/// hours of frames lose no precision. Folding every `FOLD_FRAMES` frames keeps the relative
/// rounding of the f32 part near 32·2⁻²⁴ ≈ 2e-6 (0.00001 dB).
#[derive(Debug, Clone)]
struct Accumulator {
    sum: Vec<f64>,
    recent: Vec<f32>,
    recent_frames: u32,
}

const FOLD_FRAMES: u32 = 32;

impl Accumulator {
    fn new(bins: usize) -> Self {
        Accumulator {
            sum: vec![0.0; bins],
            recent: vec![0.0; bins],
            recent_frames: 0,
        }
    }

    fn end_frame(&mut self) {
        self.recent_frames += 1;
        if self.recent_frames == FOLD_FRAMES {
            self.fold();
        }
    }

    fn fold(&mut self) {
        for (s, r) in self.sum.iter_mut().zip(self.recent.iter_mut()) {
            *s += *r as f64;
            *r = 0.0;
        }
        self.recent_frames = 0;
    }

    /// The sums so far, recent frames included.
    fn totals(&self) -> Vec<f64> {
        self.sum
            .iter()
            .zip(&self.recent)
            .map(|(&s, &r)| s + r as f64)
            .collect()
    }
}

impl LongTerm {
    fn analyse(&mut self, window: &[f32], window_energy: f64, weight: f64) {
        let scale = (weight / (self.n as f64 * window_energy)) as f32;
        for pair in &self.pairs {
            self.transform
                .transform_pair(window, &mut self.buffers, pair);
            let t = &self.transform;
            let spectra = t.a_re.iter().zip(&t.a_im).zip(t.b_re.iter().zip(&t.b_im));
            let (wa, wb) = (pair.a_weight * scale, pair.b_weight * scale);
            if pair.stereo {
                // |M|² and |S|² straight from the spectra: deriving one from the other and
                // |L|² + |R|² would cancel catastrophically when L = R or L = −R.
                let quarter = 0.25 * scale;
                let sums = self
                    .total
                    .recent
                    .iter_mut()
                    .zip(self.mid.recent.iter_mut().zip(self.side.recent.iter_mut()));
                for ((total, (mid, side)), ((&ar, &ai), (&br, &bi))) in sums.zip(spectra) {
                    *total += (ar * ar + ai * ai) * wa + (br * br + bi * bi) * wb;
                    let (mr, mi) = (ar + br, ai + bi);
                    let (sr, si) = (ar - br, ai - bi);
                    *mid += (mr * mr + mi * mi) * quarter;
                    *side += (sr * sr + si * si) * quarter;
                }
            } else {
                for (total, ((&ar, &ai), (&br, &bi))) in self.total.recent.iter_mut().zip(spectra) {
                    *total += (ar * ar + ai * ai) * wa + (br * br + bi * bi) * wb;
                }
            }
        }
        self.total.end_frame();
        self.mid.end_frame();
        self.side.end_frame();
        self.frames += weight;
    }
}

/// Σ f(x) in eight interleaved f64 lanes: a serial f64 sum would be bound by the adder's
/// latency, and the fixed lane order keeps the result independent of everything but the data.
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = values.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Replaces non-finite samples by silence.
fn sanitise(samples: &mut [f32]) {
    for x in samples.iter_mut().filter(|x| !x.is_finite()) {
        *x = 0.0;
    }
}

/// The spectrogram: a fixed number of columns, each a power of two of frames long.
#[derive(Debug, Clone)]
struct SpectrogramState {
    n: usize,
    window: Vec<f32>,
    window_energy: f64,
    transform: FrameTransform,
    pairs: Vec<ChannelPair>,
    buffers: Vec<Vec<f32>>,
    max_columns: usize,
    rows: usize,
    row_hz: Vec<f64>,
    row_map: RowMap,
    frames_per_column: u64,
    /// Row powers of the finished columns, column-major.
    cells: Vec<f32>,
    columns: usize,
    start: u64,
    filled: usize,
    /// Σ over channels of |X[k]|² for the frame being analysed.
    bins: Vec<f32>,
}

/// How spectrogram rows take their power from FFT bins, worked out once so a column costs one
/// pass over the bins: the band-overlap weights of `band_power` (one-sided factor folded in),
/// and for rows narrower than a bin, linear interpolation between the two nearest bins.
#[derive(Debug, Clone)]
struct RowMap {
    /// Row r's band weights are entries offsets[r]..offsets[r + 1].
    offsets: Vec<usize>,
    bins: Vec<usize>,
    weights: Vec<f32>,
    /// Row r's interpolation: bin k and weights for k and k + 1.
    interpolation: Vec<(usize, f32, f32)>,
}

impl RowMap {
    fn new(bin_count: usize, bin_hz: f64, row_hz: &[f64], nyquist: f64) -> Self {
        let rows = row_hz.len();
        let step = (row_hz[rows - 1] / row_hz[0]).powf(0.5 / (rows - 1) as f64);
        let mut edges = vec![row_hz[0] / step];
        edges.extend(row_hz.windows(2).map(|w| (w[0] * w[1]).sqrt()));
        edges.push((row_hz[rows - 1] * step).min(nyquist));
        let last = bin_count - 1;
        let mut map = RowMap {
            offsets: vec![0],
            bins: Vec::new(),
            weights: Vec::new(),
            interpolation: Vec::new(),
        };
        for (row, &hz) in row_hz.iter().enumerate() {
            let (lo, hi) = (edges[row], edges[row + 1].min(nyquist));
            let first_bin = ((lo / bin_hz + 0.5).floor() as usize).min(last);
            let last_bin = ((hi / bin_hz + 0.5).floor() as usize).min(last);
            for k in first_bin..=last_bin {
                let (b_lo, b_hi) = bin_span(k, bin_hz, last);
                let overlap = hi.min(b_hi) - lo.max(b_lo);
                if overlap > 0.0 {
                    let sides = if k == 0 || k == last { 1.0 } else { 2.0 };
                    map.bins.push(k);
                    map.weights.push((sides * overlap / (b_hi - b_lo)) as f32);
                }
            }
            map.offsets.push(map.bins.len());
            let x = (hz / bin_hz).clamp(0.0, last as f64);
            let k = (x.floor() as usize).min(last - 1);
            let t = x - k as f64;
            // Bin power per side of the spectrum is 2·|X|²·scale at every bin, edges included.
            map.interpolation
                .push((k, (2.0 * (1.0 - t)) as f32, (2.0 * t) as f32));
        }
        map
    }

    /// Row powers of raw bins Σ|X[k]|² (times `scale` to make them mean squares).
    fn apply(&self, raw: &[f32], scale: f64, rows: &mut [f32]) {
        for (row, cell) in rows.iter_mut().enumerate() {
            let entries = self.offsets[row]..self.offsets[row + 1];
            let in_band: f32 = self.bins[entries.clone()]
                .iter()
                .zip(&self.weights[entries])
                .map(|(&k, &w)| raw[k] * w)
                .sum();
            let (k, w0, w1) = self.interpolation[row];
            let at_centre = raw[k] * w0 + raw[k + 1] * w1;
            *cell = (in_band.max(at_centre) as f64 * scale) as f32;
        }
    }
}

impl SpectrogramState {
    /// Analyses the frame at the start of the next column and completes that column.
    fn analyse(&mut self, window: &[f32], window_energy: f64, included_count: usize) {
        self.bins.fill(0.0);
        for pair in &self.pairs {
            self.transform
                .transform_pair(window, &mut self.buffers, pair);
            let t = &self.transform;
            let spectra = t.a_re.iter().zip(&t.a_im).zip(t.b_re.iter().zip(&t.b_im));
            for (acc, ((&ar, &ai), (&br, &bi))) in self.bins.iter_mut().zip(spectra) {
                *acc += ar * ar + ai * ai + br * br + bi * bi;
            }
        }
        let scale = 1.0 / (self.n as f64 * window_energy * included_count as f64);
        let rows = self.rows;
        let column = &mut self.cells[self.columns * rows..(self.columns + 1) * rows];
        self.row_map.apply(&self.bins, scale, column);
        self.columns += 1;
    }

    /// Averages adjacent column pairs in power and doubles the column length.
    fn merge_pairs(&mut self) {
        let rows = self.rows;
        for column in 0..self.columns / 2 {
            for row in 0..rows {
                let a = self.cells[2 * column * rows + row];
                let b = self.cells[(2 * column + 1) * rows + row];
                self.cells[column * rows + row] = 0.5 * (a + b);
            }
        }
        self.columns /= 2;
        self.frames_per_column *= 2;
    }
}

/// Boersma's harmonicity on frames of the mean of the included channels.
#[derive(Debug, Clone)]
struct HarmonicityState {
    frame_len: usize,
    hop: u64,
    lag_min: usize,
    window: Vec<f32>,
    /// The reciprocal of the window's normalised autocorrelation, for lags 0..=lag_max + 1.
    inverse_window_acf: Vec<f64>,
    plan: RealFftPlan,
    frame: Vec<f32>,
    padded: Vec<f32>,
    spectrum_re: Vec<f32>,
    spectrum_im: Vec<f32>,
    acf: Vec<f32>,
    /// Normalised autocorrelation for lags lag_min − 1 ..= lag_max + 1.
    r: Vec<f64>,
    start: u64,
    filled: usize,
    sum_db: f64,
    frames: u64,
}

impl HarmonicityState {
    fn new(sample_rate: f64) -> Self {
        let frame_len =
            (sample_rate * HNR_PERIODS_PER_WINDOW / HNR_PITCH_FLOOR_HZ).round() as usize;
        let lag_min = ((sample_rate / HNR_PITCH_CEILING_HZ).floor() as usize).max(2);
        let lag_max = (sample_rate / HNR_PITCH_FLOOR_HZ).ceil() as usize;
        // Zero padding beyond the longest lag (+1 for the interpolation's neighbour) keeps the
        // FFT's circular autocorrelation equal to the linear one there.
        let n = (frame_len + lag_max + 2).next_power_of_two();
        let window = hann(frame_len);
        let mut state = HarmonicityState {
            frame_len,
            hop: (sample_rate * HNR_INTERVAL_SECONDS).round() as u64,
            lag_min,
            window,
            inverse_window_acf: Vec::new(),
            plan: RealFftPlan::new(n),
            frame: vec![0.0; frame_len],
            padded: vec![0.0; n],
            spectrum_re: vec![0.0; n / 2 + 1],
            spectrum_im: vec![0.0; n / 2 + 1],
            acf: vec![0.0; n],
            r: vec![0.0; lag_max - lag_min + 3],
            start: 0,
            filled: 0,
            sum_db: 0.0,
            frames: 0,
        };
        state.padded[..frame_len].copy_from_slice(&state.window);
        state.autocorrelate_padded();
        let zero = state.acf[0] as f64;
        state.inverse_window_acf = state.acf[..=lag_max + 1]
            .iter()
            .map(|&v| zero / v as f64)
            .collect();
        state
    }

    /// Autocorrelation of `padded` into `acf` (times n) through its power spectrum.
    fn autocorrelate_padded(&mut self) {
        self.plan
            .forward(&self.padded, &mut self.spectrum_re, &mut self.spectrum_im);
        for (re, im) in self.spectrum_re.iter_mut().zip(self.spectrum_im.iter_mut()) {
            *re = *re * *re + *im * *im;
            *im = 0.0;
        }
        self.plan
            .inverse(&self.spectrum_re, &self.spectrum_im, &mut self.acf);
    }

    fn analyse(&mut self) {
        let len = self.frame_len as f64;
        let mut mean = lane_sum(&self.frame, |v| v as f64) / len;
        if !mean.is_finite() {
            sanitise(&mut self.frame);
            mean = lane_sum(&self.frame, |v| v as f64) / len;
        }
        let mean_square = lane_sum(&self.frame, |v| (v as f64 - mean).powi(2)) / len;
        if mean_square < HNR_GATE_MEAN_SQUARE {
            return;
        }
        let mean = mean as f32;
        for ((out, &x), &w) in self.padded.iter_mut().zip(&self.frame).zip(&self.window) {
            *out = (x - mean) * w;
        }
        self.autocorrelate_padded();
        let zero = self.acf[0] as f64;
        if zero <= 0.0 {
            return;
        }
        let lags = self.lag_min - 1..self.lag_min - 1 + self.r.len();
        let inverse_zero = 1.0 / zero;
        for ((r, &acf), &inverse_window) in self
            .r
            .iter_mut()
            .zip(&self.acf[lags.clone()])
            .zip(&self.inverse_window_acf[lags])
        {
            *r = acf as f64 * inverse_zero * inverse_window;
        }
        // Highest local maximum; the parabola through it and its neighbours recovers most of
        // what sampling the lag axis loses when the period is not a whole number of samples.
        let mut best = 0.0f64;
        for w in self.r.windows(3) {
            let (before, peak, after) = (w[0], w[1], w[2]);
            if peak > before && peak >= after {
                let curvature = before - 2.0 * peak + after;
                let refined = if curvature < 0.0 {
                    peak - 0.125 * (before - after).powi(2) / curvature
                } else {
                    peak
                };
                best = best.max(refined);
            }
        }
        let r = best.clamp(HNR_R_MIN, HNR_R_MAX);
        self.sum_db += 10.0 * (r / (1.0 - r)).log10();
        self.frames += 1;
    }
}

impl SpectralAnalyzer {
    pub fn new(
        sample_rate: f64,
        channels: usize,
        options: SpectralOptions,
    ) -> Result<Self, DspError> {
        check_format(sample_rate, channels)?;
        let SpectralOptions {
            spectrogram_columns,
            spectrogram_rows,
            included,
            stereo_pair,
        } = options;
        if !(2..=16_384).contains(&spectrogram_columns) || spectrogram_columns % 2 != 0 {
            return Err(DspError::Parameter {
                name: "spectrogram_columns",
                message: format!("{spectrogram_columns} must be even and in 2..=16384"),
            });
        }
        if !(2..=2048).contains(&spectrogram_rows) {
            return Err(DspError::Parameter {
                name: "spectrogram_rows",
                message: format!("{spectrogram_rows} must be in 2..=2048"),
            });
        }
        let included = if included.is_empty() {
            vec![true; channels]
        } else {
            included
        };
        if included.len() != channels {
            return Err(DspError::Parameter {
                name: "included",
                message: format!("{} flags for {channels} channels", included.len()),
            });
        }
        let included_count = included.iter().filter(|&&on| on).count();
        if included_count == 0 {
            return Err(DspError::Parameter {
                name: "included",
                message: "no channel is included".to_string(),
            });
        }
        if let Some((l, r)) = stereo_pair {
            if l >= channels || r >= channels || l == r {
                return Err(DspError::Parameter {
                    name: "stereo_pair",
                    message: format!("({l}, {r}) must be two different channels below {channels}"),
                });
            }
        }

        // Long frames: bins no wider than 3 Hz whatever the rate.
        let long_n = (sample_rate / MAX_BIN_SPACING_HZ).ceil() as usize;
        let long_n = long_n.next_power_of_two();
        let short_n = long_n / SPECTROGRAM_FRAME_DIVISOR;

        let mut long_pairs = Vec::new();
        let mut paired = vec![false; channels];
        if let Some((l, r)) = stereo_pair {
            long_pairs.push(ChannelPair {
                a: l,
                b: Some(r),
                a_weight: if included[l] { 1.0 } else { 0.0 },
                b_weight: if included[r] { 1.0 } else { 0.0 },
                stereo: true,
            });
            paired[l] = true;
            paired[r] = true;
        }
        let pair_up = |channels: Vec<usize>| -> Vec<ChannelPair> {
            channels
                .chunks(2)
                .map(|c| ChannelPair {
                    a: c[0],
                    b: c.get(1).copied(),
                    a_weight: 1.0,
                    b_weight: if c.len() == 2 { 1.0 } else { 0.0 },
                    stereo: false,
                })
                .collect()
        };
        let included_channels: Vec<usize> = (0..channels).filter(|&c| included[c]).collect();
        long_pairs.extend(pair_up(
            included_channels
                .iter()
                .copied()
                .filter(|&c| !paired[c])
                .collect(),
        ));
        let buffers_for = |pairs: &[ChannelPair], n: usize| -> Vec<Vec<f32>> {
            let mut buffers = vec![Vec::new(); channels];
            for pair in pairs {
                buffers[pair.a] = vec![0.0; n];
                if let Some(b) = pair.b {
                    buffers[b] = vec![0.0; n];
                }
            }
            buffers
        };
        let long_bins = long_n / 2 + 1;
        let long_window = hann(long_n);
        let long = LongTerm {
            n: long_n,
            hop: LONG_FRAME_HOP_FACTOR * long_n as u64,
            window_energy: window_energy(&long_window),
            window: long_window,
            transform: FrameTransform::new(long_n),
            buffers: buffers_for(&long_pairs, long_n),
            pairs: long_pairs,
            start: 0,
            filled: 0,
            total: Accumulator::new(long_bins),
            mid: Accumulator::new(if stereo_pair.is_some() { long_bins } else { 0 }),
            side: Accumulator::new(if stereo_pair.is_some() { long_bins } else { 0 }),
            frames: 0.0,
        };

        let nyquist = sample_rate / 2.0;
        let top_hz = AUDIBLE_HIGH_HZ.min(nyquist);
        let rows = spectrogram_rows;
        let row_hz = log_grid(AUDIBLE_LOW_HZ, top_hz, rows);
        let short_pairs = pair_up(included_channels.clone());
        let short_window = hann(short_n);
        let spectrogram = SpectrogramState {
            n: short_n,
            window_energy: window_energy(&short_window),
            window: short_window,
            transform: FrameTransform::new(short_n),
            buffers: buffers_for(&short_pairs, short_n),
            pairs: short_pairs,
            max_columns: spectrogram_columns,
            rows,
            row_map: RowMap::new(
                short_n / 2 + 1,
                sample_rate / short_n as f64,
                &row_hz,
                nyquist,
            ),
            row_hz,
            frames_per_column: short_n as u64,
            cells: vec![0.0; spectrogram_columns * rows],
            columns: 0,
            start: 0,
            filled: 0,
            bins: vec![0.0; short_n / 2 + 1],
        };

        Ok(SpectralAnalyzer {
            sample_rate,
            channels,
            included,
            included_count,
            position: 0,
            finished: false,
            long,
            spectrogram,
            hnr: HarmonicityState::new(sample_rate),
        })
    }

    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Floats (and doubles) held on the heap, to show memory does not grow with the input.
    #[cfg(test)]
    fn heap_floats(&self) -> usize {
        let vecs = |v: &[Vec<f32>]| v.iter().map(Vec::capacity).sum::<usize>();
        self.long.buffers.iter().map(Vec::capacity).sum::<usize>()
            + vecs(&self.spectrogram.buffers)
            + self.spectrogram.cells.capacity()
            + self.long.total.sum.capacity()
            + self.long.total.recent.capacity()
            + self.hnr.frame.capacity()
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Takes one planar block of any size (including zero frames).
    pub fn process(&mut self, planes: &[&[f32]]) -> Result<(), DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let frames = check_planes(planes, self.channels)?;
        let block = (self.position, self.position + frames as u64);

        let long = &mut self.long;
        while let Some((from, to)) = pending(long.start, long.filled, long.n, block) {
            copy_into(planes, &mut long.buffers, block.0, from, to, long.start);
            long.filled = (to - long.start) as usize;
            if long.filled < long.n {
                break;
            }
            let window = std::mem::take(&mut long.window);
            long.analyse(&window, long.window_energy, 1.0);
            long.window = window;
            long.start += long.hop;
            long.filled = 0;
        }

        let spec = &mut self.spectrogram;
        while let Some((from, to)) = pending(spec.start, spec.filled, spec.n, block) {
            if spec.filled == 0 && spec.columns == spec.max_columns {
                // The columns are full and a new one begins: halve the time resolution. The
                // new column starts at the same frame (max·L = max/2·2L).
                spec.merge_pairs();
            }
            copy_into(planes, &mut spec.buffers, block.0, from, to, spec.start);
            spec.filled = (to - spec.start) as usize;
            if spec.filled < spec.n {
                break;
            }
            let window = std::mem::take(&mut spec.window);
            spec.analyse(&window, spec.window_energy, self.included_count);
            spec.window = window;
            spec.start = spec.columns as u64 * spec.frames_per_column;
            spec.filled = 0;
        }

        let hnr = &mut self.hnr;
        while let Some((from, to)) = pending(hnr.start, hnr.filled, hnr.frame_len, block) {
            mix_into(
                planes,
                &self.included,
                self.included_count,
                &mut hnr.frame,
                block.0,
                from,
                to,
                hnr.start,
            );
            hnr.filled = (to - hnr.start) as usize;
            if hnr.filled < hnr.frame_len {
                break;
            }
            hnr.analyse();
            hnr.start += hnr.hop;
            hnr.filled = 0;
        }

        self.position = block.1;
        Ok(())
    }

    /// Flushes the partial frames at the end and returns the report. Analyses the tails only
    /// the first time; later calls return the same report.
    pub fn finish(&mut self) -> SpectralReport {
        if !self.finished {
            self.finished = true;
            // Tails get a Hann window of their own length, and the long-term average weighs
            // them by the fraction of a frame they fill. A partial harmonicity frame is too
            // short for its lowest lags and is left out.
            let long = &mut self.long;
            if long.filled > 0 {
                let window = hann(long.filled);
                let weight = long.filled as f64 / long.n as f64;
                long.analyse(&window, window_energy(&window), weight);
            }
            let spec = &mut self.spectrogram;
            if spec.filled > 0 {
                let window = hann(spec.filled);
                spec.analyse(&window, window_energy(&window), self.included_count);
            }
        }
        self.report()
    }

    fn report(&self) -> SpectralReport {
        let long = &self.long;
        let nyquist = self.sample_rate / 2.0;
        let bin_hz = self.sample_rate / long.n as f64;
        let frames = long.frames.max(f64::MIN_POSITIVE);
        let mut spectrum = long.total.totals();
        one_sided_power(&mut spectrum, 1.0 / (frames * self.included_count as f64));

        let third_octave: Vec<Band> = (0..THIRD_OCTAVE_NOMINAL_HZ.len())
            .map(|i| {
                let (low_hz, centre_hz, high_hz) = band_edges(i);
                let db = if low_hz >= nyquist {
                    None
                } else {
                    power_db(band_power(&spectrum, bin_hz, low_hz, high_hz))
                };
                Band {
                    nominal_hz: THIRD_OCTAVE_NOMINAL_HZ[i],
                    centre_hz,
                    low_hz,
                    high_hz,
                    db,
                }
            })
            .collect();

        let side_to_mid_db = if long.mid.sum.is_empty() {
            Vec::new()
        } else {
            let mut mid = long.mid.totals();
            let mut side = long.side.totals();
            one_sided_power(&mut mid, 1.0 / frames);
            one_sided_power(&mut side, 1.0 / frames);
            (0..THIRD_OCTAVE_NOMINAL_HZ.len())
                .map(|i| {
                    let (low_hz, _, high_hz) = band_edges(i);
                    if low_hz >= nyquist {
                        return None;
                    }
                    let m = band_power(&mid, bin_hz, low_hz, high_hz);
                    let s = band_power(&side, bin_hz, low_hz, high_hz);
                    let floor = (m + s) * SIDE_TO_MID_LIMIT_RATIO;
                    (m + s > MIN_POWER).then(|| 10.0 * ((s + floor) / (m + floor)).log10())
                })
                .collect()
        };

        let top_hz = AUDIBLE_HIGH_HZ.min(nyquist);
        let audible = band_power(&spectrum, bin_hz, AUDIBLE_LOW_HZ, nyquist);
        let curve = if audible > MIN_POWER {
            let half_width = 2f64.powf(CURVE_BANDWIDTH_OCTAVES / 2.0);
            log_grid(AUDIBLE_LOW_HZ, top_hz, CURVE_POINTS)
                .into_iter()
                .map(|hz| {
                    let p = band_power(&spectrum, bin_hz, hz / half_width, hz * half_width);
                    (hz, 10.0 * (2.0 * p.max(MIN_POWER)).log10())
                })
                .collect()
        } else {
            Vec::new()
        };

        let (spectral_centroid_hz, rolloff_hz) = centroid_and_rolloff(&spectrum, bin_hz);
        let hnr_db = (self.hnr.frames > 0).then(|| self.hnr.sum_db / self.hnr.frames as f64);
        let cutoff_hz = detect_cutoff(&spectrum, bin_hz);

        let spec = &self.spectrogram;
        let db = spec.cells[..spec.columns * spec.rows]
            .iter()
            .map(|&p| {
                let p = p as f64;
                if p > MIN_POWER {
                    ((10.0 * (2.0 * p).log10()) as f32).max(SPECTROGRAM_FLOOR_DB)
                } else {
                    SPECTROGRAM_FLOOR_DB
                }
            })
            .collect();
        let spectrogram = Spectrogram {
            columns: spec.columns,
            rows: spec.rows,
            row_hz: spec.row_hz.clone(),
            seconds_per_column: spec.frames_per_column as f64 / self.sample_rate,
            db,
        };

        SpectralReport {
            third_octave,
            curve,
            side_to_mid_db,
            spectral_centroid_hz,
            rolloff_hz,
            hnr_db,
            cutoff_hz,
            spectrogram,
        }
    }
}

/// Band powers below this (−197 dBFS) count as no energy: only silence and rounding get there.
const MIN_POWER: f64 = 1e-20;

/// dB of a band power with the sine convention: a sine of peak A has power A²/2 and reads
/// 20·log10(A).
fn power_db(power: f64) -> Option<f64> {
    (power > MIN_POWER && power.is_finite()).then(|| 10.0 * (2.0 * power).log10())
}

/// Low edge, exact centre and high edge of 1/3-octave band `i` (0 = 20 Hz).
fn band_edges(i: usize) -> (f64, f64, f64) {
    let x = FIRST_BAND_INDEX + i as i32;
    let centre = 1000.0 * 10f64.powf(x as f64 / 10.0);
    let half = 10f64.powf(1.0 / 20.0);
    (centre / half, centre, centre * half)
}

fn log_grid(low: f64, high: f64, points: usize) -> Vec<f64> {
    let ratio = high / low;
    (0..points)
        .map(|i| low * ratio.powf(i as f64 / (points - 1).max(1) as f64))
        .collect()
}

/// Turns Σ|X[k]|² into a one-sided power spectrum (mean square per bin): interior bins stand
/// for k and n − k, so they count twice.
fn one_sided_power(bins: &mut [f64], scale: f64) {
    let last = bins.len() - 1;
    for (k, p) in bins.iter_mut().enumerate() {
        let sides = if k == 0 || k == last { 1.0 } else { 2.0 };
        *p *= scale * sides;
    }
}

/// The frequency span bin k stands for: ±½ bin around k·df, clipped to 0…Nyquist (so bins 0
/// and n/2 are half as wide, matching their one-sided power).
fn bin_span(k: usize, bin_hz: f64, last: usize) -> (f64, f64) {
    let lo = if k == 0 {
        0.0
    } else {
        (k as f64 - 0.5) * bin_hz
    };
    let hi = if k == last {
        k as f64 * bin_hz
    } else {
        (k as f64 + 0.5) * bin_hz
    };
    (lo, hi)
}

/// Power between `lo` and `hi` Hz of a one-sided per-bin power spectrum, each bin's power spread
/// evenly over its span, so a band takes the part of each bin it overlaps.
fn band_power(bins: &[f64], bin_hz: f64, lo: f64, hi: f64) -> f64 {
    let last = bins.len() - 1;
    let nyquist = last as f64 * bin_hz;
    let (lo, hi) = (lo.max(0.0), hi.min(nyquist));
    if hi <= lo {
        return 0.0;
    }
    let first_bin = ((lo / bin_hz + 0.5).floor() as usize).min(last);
    let last_bin = ((hi / bin_hz + 0.5).floor() as usize).min(last);
    let mut sum = 0.0;
    for (k, &p) in bins.iter().enumerate().take(last_bin + 1).skip(first_bin) {
        let (b_lo, b_hi) = bin_span(k, bin_hz, last);
        let overlap = hi.min(b_hi) - lo.max(b_lo);
        if overlap > 0.0 {
            sum += p * overlap / (b_hi - b_lo);
        }
    }
    sum
}

/// Centroid and 85 % roll-off of the spectrum from 20 Hz to Nyquist.
fn centroid_and_rolloff(bins: &[f64], bin_hz: f64) -> (Option<f64>, Option<f64>) {
    let last = bins.len() - 1;
    let span = |k: usize| -> Option<(f64, f64, f64)> {
        let (lo, hi) = bin_span(k, bin_hz, last);
        let lo_in = lo.max(AUDIBLE_LOW_HZ);
        (hi > lo_in).then(|| (lo_in, hi, bins[k] * (hi - lo_in) / (hi - lo)))
    };
    let (mut total, mut moment) = (0.0, 0.0);
    for k in 0..=last {
        if let Some((lo, hi, p)) = span(k) {
            total += p;
            moment += p * 0.5 * (lo + hi);
        }
    }
    if total <= MIN_POWER {
        return (None, None);
    }
    let target = ROLLOFF_FRACTION * total;
    let mut below = 0.0;
    let mut rolloff = None;
    for k in 0..=last {
        if let Some((lo, hi, p)) = span(k) {
            if below + p >= target && p > 0.0 {
                rolloff = Some(lo + (hi - lo) * ((target - below) / p).clamp(0.0, 1.0));
                break;
            }
            below += p;
        }
    }
    (Some(moment / total), rolloff)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        0.5 * (values[mid - 1] + values[mid])
    }
}

/// Finds a brick-wall low-pass: an edge where ~100 Hz cells fall by at least 30 dB from the
/// 800 Hz below to the 2 kHz above (medians, so a stray tone or a notch cannot decide), with
/// content below it. The edge is then placed where a 30 Hz running mean crosses halfway (in dB)
/// between the two levels.
fn detect_cutoff(bins: &[f64], bin_hz: f64) -> Option<f64> {
    let last = bins.len() - 1;
    let nyquist = last as f64 * bin_hz;
    let cell_bins = ((CUTOFF_CELL_HZ / bin_hz).round() as usize).max(1);
    let cells: Vec<f64> = bins[..last]
        .chunks_exact(cell_bins)
        .map(|c| {
            10.0 * (c.iter().sum::<f64>() / cell_bins as f64)
                .max(MIN_POWER)
                .log10()
        })
        .collect();
    let loudest = cells.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Boundary b lies between cells b − 1 and b, at the low edge of bin b·cell_bins.
    let edge_hz = |b: usize| (b * cell_bins) as f64 * bin_hz - 0.5 * bin_hz;
    let mut scratch = Vec::with_capacity(CUTOFF_ABOVE_CELLS);
    let mut best: Option<(f64, usize, f64, f64)> = None;
    for b in CUTOFF_BELOW_CELLS + 1..cells.len().saturating_sub(3) {
        let hz = edge_hz(b);
        if hz < CUTOFF_MIN_HZ {
            continue;
        }
        if hz > CUTOFF_MAX_NYQUIST_FRACTION * nyquist {
            break;
        }
        scratch.clear();
        scratch.extend_from_slice(&cells[b - 1 - CUTOFF_BELOW_CELLS..b - 1]);
        let below = median(&mut scratch);
        scratch.clear();
        let above_end = (b + 1 + CUTOFF_ABOVE_CELLS).min(cells.len());
        scratch.extend_from_slice(&cells[b + 1..above_end]);
        let above = median(&mut scratch);
        let drop = below - above;
        if drop >= CUTOFF_MIN_DROP_DB
            && below >= loudest - CUTOFF_MAX_DEPTH_DB
            && best.is_none_or(|(d, ..)| drop > d)
        {
            best = Some((drop, b, below, above));
        }
    }
    let (_, b, below, above) = best?;
    let halfway = 0.5 * (below + above);
    let smoothing = ((CUTOFF_REFINE_SMOOTHING_HZ / bin_hz).round() as usize).max(1);
    // Scan up from the last cell wholly below the edge for the first smoothed dip under halfway.
    let from = (b - 1) * cell_bins;
    let to = ((b + 2) * cell_bins).min(last + 1 - smoothing);
    let mut sum: f64 = bins[from..from + smoothing].iter().sum();
    for k in from..to {
        if 10.0 * (sum / smoothing as f64).max(MIN_POWER).log10() < halfway {
            return Some((k as f64 + 0.5 * (smoothing - 1) as f64) * bin_hz);
        }
        sum += bins[k + smoothing] - bins[k];
    }
    Some(edge_hz(b))
}

/// The part [from, to) of the frame starting at `start` (of which `filled` frames are in) that
/// this block, spanning frames block.0..block.1, supplies; None when it supplies nothing.
fn pending(start: u64, filled: usize, len: usize, block: (u64, u64)) -> Option<(u64, u64)> {
    let from = (start + filled as u64).max(block.0);
    let to = (start + len as u64).min(block.1);
    (from < to).then_some((from, to))
}

/// Copies frames from..to of the planes into the frame buffers (empty buffers are skipped).
fn copy_into(
    planes: &[&[f32]],
    buffers: &mut [Vec<f32>],
    block_start: u64,
    from: u64,
    to: u64,
    frame_start: u64,
) {
    let src = (from - block_start) as usize..(to - block_start) as usize;
    let dst = (from - frame_start) as usize;
    for (plane, buffer) in planes.iter().zip(buffers.iter_mut()) {
        if buffer.is_empty() {
            continue;
        }
        let out = &mut buffer[dst..dst + src.len()];
        // Samples beyond ±1e6 (+120 dBFS) are not audio; their squares would overflow the f32
        // spectra into infinities. NaN is left as it is (windows holding one are skipped).
        // Clamped as they are copied: one pass over the frame.
        for (v, &x) in out.iter_mut().zip(&plane[src.clone()]) {
            *v = x.clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT);
        }
    }
}

/// Largest magnitude the spectra take in (see `copy_into`).
const SAMPLE_LIMIT: f32 = 1.0e6;

/// Like `copy_into`, into one buffer holding the mean of the included channels (always summed
/// in channel order, so the result does not depend on the block size).
#[allow(clippy::too_many_arguments)]
fn mix_into(
    planes: &[&[f32]],
    included: &[bool],
    included_count: usize,
    buffer: &mut [f32],
    block_start: u64,
    from: u64,
    to: u64,
    frame_start: u64,
) {
    let src = (from - block_start) as usize..(to - block_start) as usize;
    let dst = (from - frame_start) as usize;
    let out = &mut buffer[dst..dst + src.len()];
    out.fill(0.0);
    for (plane, _) in planes.iter().zip(included).filter(|(_, &on)| on) {
        for (o, &x) in out.iter_mut().zip(&plane[src.clone()]) {
            *o += x;
        }
    }
    let scale = 1.0 / included_count as f32;
    out.iter_mut().for_each(|o| *o *= scale);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fft::FftPlan;

    /// Ten-line xorshift64* PRNG: reproducible noise without dependencies.
    struct XorShift(u64);
    impl XorShift {
        fn next_f64(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Standard normal deviate (Box–Muller).
        fn gaussian(&mut self) -> f64 {
            let u = self.next_f64().max(1e-300);
            let v = self.next_f64();
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    fn stereo_options() -> SpectralOptions {
        SpectralOptions {
            stereo_pair: Some((0, 1)),
            ..Default::default()
        }
    }

    fn analyse(
        fs: f64,
        planes: &[Vec<f32>],
        options: SpectralOptions,
        block: usize,
    ) -> SpectralReport {
        let mut analyzer = SpectralAnalyzer::new(fs, planes.len(), options).unwrap();
        let len = planes[0].len();
        let mut at = 0;
        while at < len {
            let end = (at + block).min(len);
            let views: Vec<&[f32]> = planes.iter().map(|p| &p[at..end]).collect();
            analyzer.process(&views).unwrap();
            at = end;
        }
        analyzer.finish()
    }

    fn sine(fs: f64, hz: f64, amplitude: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / fs).sin()) as f32)
            .collect()
    }

    fn white(seed: u64, rms: f64, len: usize) -> Vec<f32> {
        let mut rng = XorShift(seed);
        (0..len).map(|_| (rms * rng.gaussian()) as f32).collect()
    }

    /// Two independent Gaussian noises of length 2^log2 whose power spectrum is `shape(hz)`²:
    /// one inverse FFT of independent complex Gaussian bins, whose real and imaginary parts are
    /// independent real noises with that spectrum. Scaled to `rms`; periodic, so no seams.
    fn shaped_noise(
        fs: f64,
        log2: u32,
        seed: u64,
        rms: f64,
        shape: impl Fn(f64) -> f64,
    ) -> [Vec<f32>; 2] {
        let n = 1usize << log2;
        let mut rng = XorShift(seed);
        let (mut re, mut im) = (vec![0.0f32; n], vec![0.0f32; n]);
        for k in 0..n {
            let hz = k.min(n - k) as f64 * fs / n as f64;
            let gain = shape(hz);
            re[k] = (gain * rng.gaussian()) as f32;
            im[k] = (gain * rng.gaussian()) as f32;
        }
        FftPlan::new(n).inverse(&mut re, &mut im);
        [re, im].map(|x| {
            let actual = (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / n as f64).sqrt();
            x.iter()
                .map(|&v| (v as f64 * rms / actual) as f32)
                .collect()
        })
    }

    fn pink(hz: f64) -> f64 {
        // Amplitude ∝ f^(−1/2): equal power per octave; nothing below 10 Hz (so no DC).
        if hz < 10.0 {
            0.0
        } else {
            1.0 / hz.sqrt()
        }
    }

    fn band_db(report: &SpectralReport, nominal: f64) -> Option<f64> {
        report
            .third_octave
            .iter()
            .find(|b| b.nominal_hz == nominal)
            .unwrap()
            .db
    }

    #[test]
    fn bands_follow_iec_61260_base_ten() {
        let report = analyse(48_000.0, &[vec![0.0; 10]], SpectralOptions::default(), 10);
        assert_eq!(report.third_octave.len(), 31);
        for band in &report.third_octave {
            // Nominal labels are the exact centres rounded per IEC 61260 (within 2.5 %).
            assert!(
                (band.centre_hz / band.nominal_hz - 1.0).abs() < 0.025,
                "{band:?}"
            );
            assert!((band.high_hz / band.low_hz - 10f64.powf(0.1)).abs() < 1e-12);
            assert!(((band.low_hz * band.high_hz).sqrt() - band.centre_hz).abs() < 1e-9);
        }
        assert!((report.third_octave[17].centre_hz - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn sine_at_a_band_centre_reads_its_peak_level() {
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            for (i, band) in THIRD_OCTAVE_NOMINAL_HZ.iter().enumerate() {
                let (_, centre, _) = band_edges(i);
                if centre > 0.45 * fs {
                    continue;
                }
                let amplitude = 0.5;
                let x = sine(fs, centre, amplitude, (2.0 * fs) as usize);
                let report = analyse(fs, &[x.clone(), x], stereo_options(), 4096);
                let db = band_db(&report, *band).unwrap();
                let want = 20.0 * amplitude.log10();
                // Bins are 2.7 Hz (44.1 kHz) or 2.9 Hz (48, 96 kHz) wide and a Hann-windowed sine
                // spreads over ±2 bins (its main lobe). From 100 Hz up a band is ≥ 8 bins wide,
                // what leaks past its edges is below −60 dB, and the reading is exact but for
                // f32 rounding: 0.01 dB. The 20 Hz band is only 1.6 bins wide and keeps 77–82 %
                // of the main lobe (−1.15 dB at 2.9 Hz bins, −0.85 dB at 2.7 Hz), 25 and 31.5 Hz
                // (2–2.5 bins) lose up to 0.46 dB, 40–80 Hz (3–6 bins) up to 0.07 dB.
                let tolerance = match *band {
                    b if b >= 100.0 => 0.01,
                    b if b >= 40.0 => 0.1,
                    b if b >= 25.0 => 0.6,
                    _ => 1.3,
                };
                assert!(
                    (db - want).abs() <= tolerance,
                    "fs={fs} band {band} Hz: {db:.3} dB, want {want:.3} ± {tolerance}"
                );
                if *band >= 100.0 && i + 1 < 31 && band_edges(i + 1).0 < fs / 2.0 {
                    // And it stays in its band: the neighbour's edge is ≥ 4 bins away.
                    let next = band_db(&report, THIRD_OCTAVE_NOMINAL_HZ[i + 1]).unwrap_or(-400.0);
                    assert!(
                        next < want - 40.0,
                        "fs={fs} band {band}: neighbour {next:.1} dB"
                    );
                }
            }
        }
    }

    #[test]
    fn levels_above_full_scale_are_not_clipped() {
        // Decoded lossy files reach +9 dBFS; a 997 Hz sine of peak 2.8 must read +8.94 dB.
        let fs = 44_100.0;
        let x = sine(fs, 997.0, 2.8, 88_200);
        let report = analyse(fs, &[x], SpectralOptions::default(), 1024);
        let db = band_db(&report, 1000.0).unwrap();
        assert!((db - 20.0 * 2.8f64.log10()).abs() < 0.02, "{db}");
    }

    #[test]
    fn white_noise_rises_one_db_per_band_and_pink_noise_is_flat() {
        let fs = 44_100.0;
        // 2^21 frames (47.6 s): ~64 analysed frames of two independent channels.
        let white_noise = shaped_noise(fs, 21, 0x5EED_0001, 0.1, |_| 1.0);
        let white = analyse(fs, &white_noise, SpectralOptions::default(), 4096);
        let pink_noise = shaped_noise(fs, 21, 0x5EED_0002, 0.1, pink);
        let pink = analyse(fs, &pink_noise, SpectralOptions::default(), 4096);
        let levels = |r: &SpectralReport| -> Vec<f64> {
            r.third_octave[..30].iter().map(|b| b.db.unwrap()).collect()
        };
        let (white, pink) = (levels(&white), levels(&pink));
        // Each estimate averages 64 frames × 2 channels of Hann periodograms. A band of B Hz
        // holds about B / (1.5 · 2.7 Hz) independent bins (1.5: the window's noise bandwidth),
        // each a χ² with 2 degrees of freedom per frame, so a band's level has a standard
        // deviation of 4.34·sqrt(2 / dof) dB: 0.16 dB at 100 Hz, 0.09 dB at 315 Hz, 0.36 dB
        // at 20 Hz. Tolerances are about 4 σ of the difference of two bands (of a band and a
        // 1–8 kHz mean whose σ is 0.01 dB for pink noise).
        for i in 7..29 {
            let step = white[i + 1] - white[i];
            let tolerance = if i < 12 { 0.9 } else { 0.5 };
            assert!(
                (step - 1.0).abs() < tolerance,
                "white step at band {i}: {step:.2} dB"
            );
        }
        let reference = pink[17..27].iter().sum::<f64>() / 10.0;
        for (i, &level) in pink.iter().enumerate() {
            let tolerance = if i >= 7 { 0.7 } else { 1.5 };
            assert!(
                (level - reference).abs() < tolerance,
                "pink band {} Hz: {:.2} dB vs {:.2}",
                THIRD_OCTAVE_NOMINAL_HZ[i],
                level,
                reference
            );
        }
    }

    #[test]
    fn side_to_mid_tells_mono_from_anti_phase() {
        let fs = 48_000.0;
        let [l, r] = shaped_noise(fs, 20, 0x5EED_0003, 0.1, pink);
        let minus_l: Vec<f32> = l.iter().map(|&v| -v).collect();
        let audible = |ratios: &[Option<f64>]| -> Vec<f64> {
            ratios.iter().take(30).map(|v| v.unwrap()).collect()
        };

        let mono = analyse(fs, &[l.clone(), l.clone()], stereo_options(), 4096);
        assert_eq!(mono.side_to_mid_db.len(), 31);
        // S is exactly zero; what remains is f32 rounding in the shared FFT, ~−140 dB.
        for ratio in mono.side_to_mid_db.iter().flatten() {
            assert!(*ratio < -60.0, "L = R: {ratio}");
        }
        let anti = analyse(fs, &[l.clone(), minus_l], stereo_options(), 4096);
        for ratio in audible(&anti.side_to_mid_db) {
            assert!(ratio > 60.0, "L = −R: {ratio}");
        }
        // Independent channels of equal spectra have equal mid and side power: 0 dB. In 21.8 s
        // there are 32 analysed frames; from 200 Hz a band holds ≥ 10 independent bins, so
        // each of M and S has σ ≤ 0.23 dB (see the pink-noise test) and their ratio ≤ 0.33 dB:
        // 1.5 dB is 4.5 σ.
        let wide = analyse(fs, &[l, r], stereo_options(), 4096);
        for (i, ratio) in audible(&wide.side_to_mid_db)
            .into_iter()
            .enumerate()
            .skip(10)
        {
            assert!(ratio.abs() < 1.5, "independent band {i}: {ratio}");
        }
        let no_pair = analyse(fs, &[vec![0.1; 100]], SpectralOptions::default(), 64);
        assert!(no_pair.side_to_mid_db.is_empty());
    }

    #[test]
    fn centroid_and_rolloff() {
        let fs = 44_100.0;
        for hz in [1000.0, 5000.0] {
            let x = sine(fs, hz, 0.5, 65_536);
            let report = analyse(fs, &[x], SpectralOptions::default(), 4096);
            // The Hann kernel is symmetric about the tone, so the centroid is the tone's
            // frequency up to the f32 rounding noise spread over 20 kHz (< 0.1 Hz).
            let centroid = report.spectral_centroid_hz.unwrap();
            assert!(
                (centroid - hz).abs() < 0.5,
                "centroid of {hz} Hz: {centroid}"
            );
        }
        let noise = shaped_noise(fs, 20, 0x5EED_0004, 0.1, |_| 1.0);
        let report = analyse(fs, &noise, SpectralOptions::default(), 4096);
        // 85 % of a flat spectrum lies below 0.85·Nyquist (+3 Hz for starting at 20 Hz); the
        // estimate sums ~7000 bins, so its random error is a few Hz: 0.5 % is ample.
        let rolloff = report.rolloff_hz.unwrap();
        assert!(
            (rolloff / (0.85 * fs / 2.0) - 1.0).abs() < 0.005,
            "rolloff {rolloff}"
        );
        let centroid = report.spectral_centroid_hz.unwrap();
        assert!(
            (centroid / (fs / 4.0) - 1.0).abs() < 0.005,
            "white centroid {centroid}"
        );
    }

    #[test]
    fn harmonicity_of_a_harmonic_tone_and_of_noise() {
        let fs = 44_100.0;
        let len = (6.0 * fs) as usize;
        let tone: Vec<f32> = (0..len)
            .map(|i| {
                let t = i as f64 / fs;
                (1..=10)
                    .map(|h| {
                        0.3 / h as f64
                            * (2.0 * std::f64::consts::PI * 220.0 * h as f64 * t + h as f64).sin()
                    })
                    .sum::<f64>() as f32
            })
            .collect();
        let report = analyse(fs, &[tone], SpectralOptions::default(), 4096);
        // A strictly periodic tone has r → 1; what keeps it finite is the parabolic peak
        // interpolation (the period is 200.45 samples) and f32 rounding.
        let hnr = report.hnr_db.unwrap();
        assert!(hnr > 20.0, "harmonic tone: {hnr} dB");
        let noise = white(0x5EED_0005, 0.1, len);
        let hnr = analyse(fs, &[noise], SpectralOptions::default(), 4096)
            .hnr_db
            .unwrap();
        // White noise: r_max is the largest of ~600 noisy lags, ~0.1, so about −10 dB.
        assert!(hnr < 0.0, "white noise: {hnr} dB");
    }

    #[test]
    fn cutoff_finds_a_brick_wall_and_nothing_in_full_band_spectra() {
        let fs = 44_100.0;
        let lossy = shaped_noise(fs, 19, 0x5EED_0006, 0.1, |hz| {
            if hz < 16_000.0 {
                1.0
            } else {
                0.0
            }
        });
        let cutoff = analyse(fs, &lossy, SpectralOptions::default(), 4096).cutoff_hz;
        let cutoff = cutoff.expect("16 kHz brick wall not found");
        assert!((cutoff - 16_000.0).abs() < 500.0, "cutoff {cutoff}");
        // The same on a pink ("music-like") spectrum with a 19 kHz wall at 48 kHz.
        let fs = 48_000.0;
        let lossy = shaped_noise(fs, 19, 0x5EED_0007, 0.1, |hz| {
            if hz < 19_000.0 {
                pink(hz)
            } else {
                0.0
            }
        });
        let cutoff = analyse(fs, &lossy, SpectralOptions::default(), 4096).cutoff_hz;
        assert!(
            (cutoff.unwrap() - 19_000.0).abs() < 500.0,
            "cutoff {cutoff:?}"
        );

        let fs = 44_100.0;
        let full = shaped_noise(fs, 19, 0x5EED_0008, 0.1, |_| 1.0);
        assert_eq!(
            analyse(fs, &full, SpectralOptions::default(), 4096).cutoff_hz,
            None
        );
        let music = shaped_noise(fs, 19, 0x5EED_0009, 0.1, pink);
        assert_eq!(
            analyse(fs, &music, SpectralOptions::default(), 4096).cutoff_hz,
            None
        );
        // Pink with the gentle top-octave roll-off of many masters (−12 dB/octave above
        // 10 kHz): falling, but nowhere a wall.
        let darker = shaped_noise(fs, 19, 0x5EED_000A, 0.1, |hz| {
            pink(hz) / (1.0 + (hz / 10_000.0).powi(2))
        });
        assert_eq!(
            analyse(fs, &darker, SpectralOptions::default(), 4096).cutoff_hz,
            None
        );
    }

    #[test]
    fn reports_are_identical_whatever_the_block_size() {
        let fs = 44_100.0;
        let [l, r] = shaped_noise(fs, 18, 0x5EED_000B, 0.2, pink);
        // 5.9 s (not a whole number of frames): several long frames, a partial tail, HNR
        // frames, and with 8 columns several spectrogram merges.
        let len = 260_000;
        let l: Vec<f32> = l.iter().cycle().take(len).copied().collect();
        let tone = sine(fs, 220.0, 0.3, len);
        let r: Vec<f32> = r
            .iter()
            .cycle()
            .zip(&tone)
            .take(len)
            .map(|(a, b)| a + b)
            .collect();
        let options = SpectralOptions {
            spectrogram_columns: 8,
            spectrogram_rows: 40,
            ..stereo_options()
        };
        let reference = analyse(fs, &[l.clone(), r.clone()], options.clone(), 4096);
        assert!(reference.spectrogram.seconds_per_column > 0.5);
        for block in [1, 7, 64, 1000] {
            let report = analyse(fs, &[l.clone(), r.clone()], options.clone(), block);
            assert!(report == reference, "block size {block} changed the report");
        }
    }

    #[test]
    fn spectrogram_shows_a_tone_in_its_row_and_time_in_its_columns() {
        let fs = 48_000.0;
        // Silence, then 1 s of a 1 kHz tone: 2 s in 2048-frame columns (42.7 ms).
        let mut x = vec![0.0f32; 48_000];
        x.extend(sine(fs, 1000.0, 0.5, 48_000));
        let report = analyse(fs, &[x], SpectralOptions::default(), 4096);
        let s = &report.spectrogram;
        assert_eq!(s.columns, 96_000usize.div_ceil(2048));
        assert!((s.seconds_per_column - 2048.0 / fs).abs() < 1e-12);
        let nearest_row = (0..s.rows)
            .min_by(|&a, &b| {
                (s.row_hz[a] / 1000.0)
                    .ln()
                    .abs()
                    .total_cmp(&(s.row_hz[b] / 1000.0).ln().abs())
            })
            .unwrap();
        for column in 0..s.columns {
            let cells = &s.db[column * s.rows..(column + 1) * s.rows];
            let (loudest, level) = cells
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            if column < 23 {
                // Columns 0–22 end before the tone starts at 1 s (23 × 42.7 ms = 0.98 s).
                assert_eq!(*level, SPECTROGRAM_FLOOR_DB, "column {column}");
            } else if column > 23 {
                // Rows here are 44 Hz wide and the windowed tone spans ±47 Hz, so its row
                // holds most but not all of it: within 3 dB of the −6.02 dB band reading.
                assert!(
                    loudest.abs_diff(nearest_row) <= 1,
                    "column {column}: row {loudest}"
                );
                assert!(
                    (*level as f64 + 6.02).abs() < 3.0,
                    "column {column}: {level} dB"
                );
            }
        }
    }

    #[test]
    fn spectrogram_stays_bounded_on_long_input() {
        let fs = 8_000.0;
        let options = SpectralOptions {
            spectrogram_columns: 16,
            spectrogram_rows: 24,
            ..Default::default()
        };
        let mut analyzer = SpectralAnalyzer::new(fs, 1, options).unwrap();
        let block = white(0x5EED_000C, 0.1, 8_000);
        let mut capacity_after_100_s = 0;
        for second in 1..=1200 {
            analyzer.process(&[&block]).unwrap();
            if second == 100 {
                capacity_after_100_s = analyzer.heap_floats();
            }
        }
        // 20 minutes later the analyser holds exactly what it held after 100 s.
        assert_eq!(analyzer.heap_floats(), capacity_after_100_s);
        let report = analyzer.finish();
        let s = &report.spectrogram;
        assert!(s.columns <= 16 && s.columns > 8, "{} columns", s.columns);
        assert_eq!(s.db.len(), s.columns * s.rows);
        // The columns cover the file: all full but the last.
        let covered = s.columns as f64 * s.seconds_per_column;
        assert!(
            covered >= 1200.0 && covered < 1200.0 + s.seconds_per_column,
            "{covered}"
        );
        // White noise at −20 dBFS RMS spreads 0.01 over 4 kHz: a row of width W Hz reads
        // about 10·log10(2·0.01·W/4000); just check it is a level, not a floor.
        assert!(s.db.iter().all(|&v| v > -80.0 && v < 0.0));
    }

    #[test]
    fn silence_gives_none_everywhere() {
        let report = analyse(
            48_000.0,
            &[vec![0.0; 100_000], vec![0.0; 100_000]],
            stereo_options(),
            4096,
        );
        assert!(report.third_octave.iter().all(|b| b.db.is_none()));
        assert!(report.curve.is_empty());
        assert_eq!(report.side_to_mid_db, vec![None; 31]);
        assert_eq!(report.spectral_centroid_hz, None);
        assert_eq!(report.rolloff_hz, None);
        assert_eq!(report.hnr_db, None);
        assert_eq!(report.cutoff_hz, None);
        assert!(report.spectrogram.columns > 0);
        assert!(report
            .spectrogram
            .db
            .iter()
            .all(|&v| v == SPECTROGRAM_FLOOR_DB));

        // No input at all, and a corrupt (non-finite) input, give no NaN either.
        let mut empty = SpectralAnalyzer::new(48_000.0, 2, stereo_options()).unwrap();
        let report = empty.finish();
        assert!(report.third_octave.iter().all(|b| b.db.is_none()));
        assert_eq!(report.spectrogram.columns, 0);
        let mut x = sine(48_000.0, 1000.0, 0.5, 50_000);
        x[30_000] = f32::NAN;
        x[31_000] = f32::INFINITY;
        let report = analyse(48_000.0, &[x], SpectralOptions::default(), 4096);
        assert!(report
            .third_octave
            .iter()
            .flat_map(|b| b.db)
            .all(f64::is_finite));
        assert!(report.curve.iter().all(|(_, db)| db.is_finite()));
        assert!(report.spectrogram.db.iter().all(|v| v.is_finite()));
        assert!(report.hnr_db.unwrap().is_finite());

        // A finite sample near f32's largest value: its square must not overflow the spectra.
        let mut x = sine(48_000.0, 1000.0, 0.5, 50_000);
        x[30_000] = 1.0e30;
        let report = analyse(48_000.0, &[x], SpectralOptions::default(), 4096);
        assert!(report.curve.iter().all(|(_, db)| db.is_finite()));
        assert!(report.spectrogram.db.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn works_from_8_to_384_khz() {
        for fs in [8_000.0, 22_050.0, 192_000.0, 384_000.0] {
            let x = sine(fs, 1000.0, 0.25, (1.5 * fs) as usize);
            let report = analyse(fs, &[x], SpectralOptions::default(), 4096);
            // Same tolerance as the 1 kHz band in the 44.1–96 kHz test.
            let db = band_db(&report, 1000.0).unwrap();
            assert!((db - 20.0 * 0.25f64.log10()).abs() < 0.01, "fs={fs}: {db}");
            for band in &report.third_octave {
                if band.low_hz >= fs / 2.0 {
                    assert_eq!(
                        band.db, None,
                        "fs={fs}: band {} above Nyquist",
                        band.nominal_hz
                    );
                }
            }
            let top = report.curve.last().unwrap().0;
            assert!((top - (fs / 2.0).min(20_000.0)).abs() < 1e-6);
            assert_eq!(report.spectrogram.row_hz.len(), 160);
        }
    }

    #[test]
    fn rejects_bad_options_and_use_after_finish() {
        let bad = |options: SpectralOptions| SpectralAnalyzer::new(48_000.0, 2, options).is_err();
        assert!(bad(SpectralOptions {
            spectrogram_columns: 1023,
            ..Default::default()
        }));
        assert!(bad(SpectralOptions {
            spectrogram_rows: 1,
            ..Default::default()
        }));
        assert!(bad(SpectralOptions {
            included: vec![true],
            ..Default::default()
        }));
        assert!(bad(SpectralOptions {
            included: vec![false, false],
            ..Default::default()
        }));
        assert!(bad(SpectralOptions {
            stereo_pair: Some((0, 2)),
            ..Default::default()
        }));
        assert!(bad(SpectralOptions {
            stereo_pair: Some((1, 1)),
            ..Default::default()
        }));
        assert!(SpectralAnalyzer::new(4_000.0, 2, SpectralOptions::default()).is_err());

        let mut analyzer = SpectralAnalyzer::new(48_000.0, 2, SpectralOptions::default()).unwrap();
        let x = [0.0f32; 10];
        assert!(matches!(
            analyzer.process(&[&x]),
            Err(DspError::ChannelMismatch { .. })
        ));
        analyzer.process(&[&x, &x]).unwrap();
        let first = analyzer.finish();
        assert_eq!(analyzer.process(&[&x, &x]), Err(DspError::Finished));
        assert_eq!(analyzer.finish(), first);
    }

    #[test]
    fn excluded_channels_do_not_count() {
        // An LFE-like third channel full of noise must not change the spectrum of the others.
        let fs = 48_000.0;
        let x = sine(fs, 1000.0, 0.5, 96_000);
        let lfe = white(0x5EED_000D, 0.5, 96_000);
        let with_lfe = SpectralOptions {
            included: vec![true, true, false],
            ..stereo_options()
        };
        let three = analyse(fs, &[x.clone(), x.clone(), lfe], with_lfe, 4096);
        let two = analyse(fs, &[x.clone(), x], stereo_options(), 4096);
        assert_eq!(three.third_octave, two.third_octave);
    }

    /// Times the whole analysis (construction included) of 4 minutes of stereo 44.1 kHz noise
    /// in 4096-frame blocks: `cargo test --release -- --ignored --nocapture timing`. Prints the
    /// best of 7 runs in wall-clock time and, on Linux, in this thread's CPU time.
    #[test]
    #[ignore]
    fn timing_four_minutes_stereo_44k1() {
        fn cpu_ms() -> Option<f64> {
            let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
            Some(stat.split_whitespace().next()?.parse::<f64>().ok()? / 1e6)
        }
        let fs = 44_100.0;
        let len = (240.0 * fs) as usize;
        let planes = [white(1, 0.1, len), white(2, 0.1, len)];
        let (mut wall, mut cpu) = (f64::MAX, f64::MAX);
        for _ in 0..7 {
            let (started, cpu_started) = (std::time::Instant::now(), cpu_ms());
            let report = analyse(fs, &planes, stereo_options(), 4096);
            wall = wall.min(started.elapsed().as_secs_f64() * 1e3);
            if let (Some(end), Some(start)) = (cpu_ms(), cpu_started) {
                cpu = cpu.min(end - start);
            }
            std::hint::black_box(report);
        }
        println!("spectral analysis of 4 min stereo 44.1 kHz: {wall:.1} ms wall, {cpu:.1} ms CPU");
    }
}
