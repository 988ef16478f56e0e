//! A synthesised demo mix, so `lathe demo` works with no input on a fresh machine: a short pop
//! piece (112 BPM, 4/4, A minor: Am–F–C–G in the verse, F–G–Em–Am in the chorus) with kick,
//! snare, hi-hats, crash, bass, a stereo pad and a lead melody, arranged as intro, verse, chorus
//! and outro.
//!
//! It is meant to be mastered, so it is printed like an unmastered mix: integrated loudness near
//! −19 LUFS (ITU-R BS.1770), sample peaks a few dB under full scale, a loudness range (EBU Tech
//! 3342) of a few LU from the quiet intro, the fuller chorus and the fade, a little low-mid
//! build-up and a slightly dull top for the assistant and the EQ to find.
//!
//! Everything is computed in f64 from the sample rate, so 44.1, 48 and 96 kHz carry the same
//! music (tuned to A = 440 Hz). The seed varies velocities, timing and a few melody notes; the
//! same seed gives bit-identical output. Oscillators are band-limited with polyBLEP (Välimäki
//! and Huovilainen, 2007) and the filters are the RBJ cookbook sections of `biquad`.

use std::f64::consts::{PI, TAU};

use crate::biquad::{BiquadCoefs, BiquadState};
use crate::error::DspError;
use crate::loudness::{ChannelRole, LoudnessMeter};

/// Sample rates the demo is generated at: the hi-hats sit at 6–12 kHz, so the rate must leave
/// room above them; 192 kHz bounds the memory of a long demo.
pub const DEMO_MIN_SAMPLE_RATE: f64 = 22_050.0;
pub const DEMO_MAX_SAMPLE_RATE: f64 = 192_000.0;
/// Longest demo, ten minutes; the arrangement repeats verse and chorus to fill it.
pub const DEMO_MAX_SECONDS: f64 = 600.0;

const TEMPO_BPM: f64 = 112.0;
const BEATS_PER_BAR: f64 = 4.0;
/// Where the mix is printed: the integrated loudness of a typical unmastered mix, and a ceiling
/// for its sample peaks that leaves the headroom a mastering engineer expects.
const TARGET_LUFS: f64 = -19.0;
const PEAK_CEILING_DBFS: f64 = -3.5;
/// Peak level of demos too short for an integrated loudness (under 400 ms).
const SHORT_DEMO_PEAK_DBFS: f64 = -6.0;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoOptions {
    pub sample_rate: f64,
    pub seconds: f64,
    /// Varies velocities, timing and a few melody notes; the same seed gives the same samples.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            sample_rate: 48_000.0,
            seconds: 30.0,
            seed: 1,
        }
    }
}

/// One part of the arrangement, for the UI's timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoSection {
    pub name: &'static str,
    pub start_seconds: f64,
    pub end_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Intro,
    Verse,
    Chorus,
    Outro,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Intro => "intro",
            Part::Verse => "verse",
            Part::Chorus => "chorus",
            Part::Outro => "outro",
        }
    }
}

fn check_options(options: &DemoOptions) -> Result<(), DspError> {
    let fs = options.sample_rate;
    if !fs.is_finite() || !(DEMO_MIN_SAMPLE_RATE..=DEMO_MAX_SAMPLE_RATE).contains(&fs) {
        return Err(DspError::SampleRate {
            actual: fs,
            min: DEMO_MIN_SAMPLE_RATE,
            max: DEMO_MAX_SAMPLE_RATE,
        });
    }
    let s = options.seconds;
    if !s.is_finite() || s <= 0.0 || s > DEMO_MAX_SECONDS {
        return Err(DspError::Parameter {
            name: "seconds",
            message: format!("{s} is outside (0, {DEMO_MAX_SECONDS}] s"),
        });
    }
    Ok(())
}

fn beat_seconds() -> f64 {
    60.0 / TEMPO_BPM
}

fn bar_seconds() -> f64 {
    BEATS_PER_BAR * beat_seconds()
}

/// The arrangement: intro, verse, chorus (verse and chorus repeated in eight-bar blocks when
/// there is room), outro. Boundaries fall on bars when the demo has twelve bars or more, on
/// beats for shorter ones, and anywhere for very short ones; the outro always ends at the end.
fn arrangement(seconds: f64) -> Vec<(Part, f64, f64)> {
    let bar = bar_seconds();
    let full_bars = (seconds / bar).floor() as usize;
    let mut bounds: Vec<(Part, f64)> = Vec::new();
    if full_bars >= 12 {
        let edge = if full_bars >= 24 { 4 } else { 2 };
        let middle = full_bars - 2 * edge;
        bounds.push((Part::Intro, 0.0));
        let mut at = edge;
        if middle < 16 {
            let verse = (middle / 2) & !1;
            bounds.push((Part::Verse, at as f64 * bar));
            at += verse;
            bounds.push((Part::Chorus, at as f64 * bar));
        } else {
            let end = edge + middle;
            let mut part = Part::Verse;
            // Eight-bar blocks; a remainder shorter than four bars joins the last block.
            while end - at >= 12 || at == edge {
                bounds.push((part, at as f64 * bar));
                at += 8;
                part = if part == Part::Verse {
                    Part::Chorus
                } else {
                    Part::Verse
                };
            }
            if end - at >= 4 {
                bounds.push((part, at as f64 * bar));
            }
        }
        bounds.push((Part::Outro, (full_bars - edge) as f64 * bar));
    } else {
        let beat = beat_seconds();
        let snap = seconds / beat >= 16.0;
        let at = |fraction: f64| {
            let t = seconds * fraction;
            if snap {
                (t / beat).round() * beat
            } else {
                t
            }
        };
        bounds.push((Part::Intro, 0.0));
        bounds.push((Part::Verse, at(0.15)));
        bounds.push((Part::Chorus, at(0.5)));
        bounds.push((Part::Outro, at(0.85)));
    }
    bounds
        .iter()
        .enumerate()
        .map(|(i, &(part, start))| {
            let end = bounds.get(i + 1).map_or(seconds, |b| b.1);
            (part, start, end)
        })
        .collect()
}

/// The sections of the demo that `options` describe, in order, covering it from 0 to its end.
/// Empty when the options are invalid (`demo_mix` says why).
pub fn demo_sections(options: &DemoOptions) -> Vec<DemoSection> {
    if check_options(options).is_err() {
        return Vec::new();
    }
    arrangement(options.seconds)
        .into_iter()
        .map(|(part, start, end)| DemoSection {
            name: part.name(),
            start_seconds: start,
            end_seconds: end,
        })
        .collect()
}

/// Small, fast, deterministic PRNG (xorshift64*), seeded through splitmix64 so that seeds 0, 1,
/// 2 … give unrelated streams.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [−1, 1).
    fn signed(&mut self) -> f64 {
        2.0 * self.unit() - 1.0
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Human timing: up to `spread` seconds early or late.
fn nudge(choice: &mut Rng, spread: f64) -> f64 {
    spread * choice.signed()
}

fn midi_hz(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// Naive sawtooth minus the polyBLEP residual at its reset; `phase` in [0, 1), `dt` the phase
/// increment per sample.
#[inline]
fn saw(phase: f64, dt: f64) -> f64 {
    let blep = if phase < dt {
        let x = phase / dt;
        x + x - x * x - 1.0
    } else if phase > 1.0 - dt {
        let x = (phase - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    };
    2.0 * phase - 1.0 - blep
}

/// sin(2π·turns) by a Taylor polynomial after folding the argument into ±π/2: within 6e-8
/// (−144 dB) of `sin`, and several times faster, which matters for the per-sample FM of the
/// lead and the kick's sweep.
#[inline]
fn sin_turns(turns: f64) -> f64 {
    // Truncation is one instruction; `round` may be a library call on baseline x86-64.
    let mut x = turns - (turns as i64) as f64;
    if x > 0.5 {
        x -= 1.0;
    } else if x < -0.5 {
        x += 1.0;
    }
    if x > 0.25 {
        x = 0.5 - x;
    } else if x < -0.25 {
        x = -0.5 - x;
    }
    let y = TAU * x;
    let y2 = y * y;
    y * (1.0
        - y2 / 6.0 * (1.0 - y2 / 20.0 * (1.0 - y2 / 42.0 * (1.0 - y2 / 72.0 * (1.0 - y2 / 110.0)))))
}

/// Soft saturation shaped like tanh: the rational curve x(27 + x²)/(27 + 9x²), which reaches ±1
/// with zero slope at ±3 and is held there. Cheaper than `tanh`; a saturator needs only the shape.
#[inline]
fn saturate(x: f64) -> f64 {
    let x = x.clamp(-3.0, 3.0);
    let x2 = x * x;
    x * (27.0 + x2) / (27.0 + 9.0 * x2)
}

/// Cutoffs stay well below Nyquist at every supported rate.
fn clamp_cutoff(fs: f64, f: f64) -> f64 {
    f.clamp(10.0, 0.45 * fs)
}

/// Constant-power pan, −1 (left) to 1 (right), with unity gain in the centre.
fn pan_gains(pan: f64) -> (f64, f64) {
    let angle = (pan.clamp(-1.0, 1.0) + 1.0) * PI / 4.0;
    (angle.cos() * 2f64.sqrt(), angle.sin() * 2f64.sqrt())
}

/// A short linear fade at the end of a rendered voice, so none stops with a step (each voice's
/// envelope already starts from zero).
fn declick(buf: &mut [f64], fs: f64) {
    let n = ((0.004 * fs) as usize).min(buf.len() / 2).max(1);
    let len = buf.len();
    for i in 0..n {
        let g = i as f64 / n as f64;
        buf[len - 1 - i] *= g;
    }
}

/// Where the voices are summed: a stereo dry bus and a mono send to the reverb.
struct Bus {
    left: Vec<f32>,
    right: Vec<f32>,
    send: Vec<f32>,
    /// Which instruments play (a bit per `Instrument`), so tests can listen to one alone.
    mask: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instrument {
    Kick = 0,
    Snare,
    Hats,
    Crash,
    Bass,
    Pad,
    Lead,
}

const ALL_INSTRUMENTS: u32 = u32::MAX;

struct Placement {
    instrument: Instrument,
    start: usize,
    gain: f64,
    pan: f64,
    send: f64,
}

impl Bus {
    fn plays(&self, instrument: Instrument) -> bool {
        self.mask & (1 << instrument as u32) != 0
    }

    fn place(&mut self, p: &Placement, mono: &[f64]) {
        if !self.plays(p.instrument) || p.start >= self.left.len() {
            return;
        }
        let (gl, gr) = pan_gains(p.pan);
        let (gl, gr, gs) = (gl * p.gain, gr * p.gain, p.send * p.gain);
        let end = (p.start + mono.len()).min(self.left.len());
        let span = p.start..end;
        for (((l, r), s), &x) in self.left[span.clone()]
            .iter_mut()
            .zip(&mut self.right[span.clone()])
            .zip(&mut self.send[span])
            .zip(mono)
        {
            *l += (x * gl) as f32;
            *r += (x * gr) as f32;
            *s += (x * gs) as f32;
        }
    }

    fn place_stereo(&mut self, p: &Placement, left: &[f64], right: &[f64]) {
        if !self.plays(p.instrument) || p.start >= self.left.len() {
            return;
        }
        let end = (p.start + left.len().min(right.len())).min(self.left.len());
        let span = p.start..end;
        let (g, gs) = (p.gain, 0.5 * p.send * p.gain);
        for ((((l, r), s), &xl), &xr) in self.left[span.clone()]
            .iter_mut()
            .zip(&mut self.right[span.clone()])
            .zip(&mut self.send[span])
            .zip(left)
            .zip(right)
        {
            *l += (xl * g) as f32;
            *r += (xr * g) as f32;
            *s += ((xl + xr) * gs) as f32;
        }
    }
}

/// exp(−t/τ) sample by sample, by multiplication (far cheaper than `exp` per sample); it stops
/// at zero instead of sinking into slow subnormal numbers.
#[derive(Debug, Clone, Copy)]
struct Decay {
    value: f64,
    factor: f64,
}

impl Decay {
    fn new(fs: f64, tau_seconds: f64) -> Self {
        Decay {
            value: 1.0,
            factor: (-1.0 / (tau_seconds * fs)).exp(),
        }
    }

    #[inline]
    fn next(&mut self) -> f64 {
        let v = self.value;
        self.value = if v < 1e-30 { 0.0 } else { v * self.factor };
        v
    }
}

/// White noise band-limited to 16 kHz (fourth-order Butterworth) and scaled so that its
/// spectral density is the same at every sample rate: the hats and cymbals then sound, and
/// measure, the same at 44.1 and 96 kHz instead of spreading energy up to Nyquist.
struct Noise<'a> {
    rng: &'a mut Rng,
    scale: f64,
    low_pass: [BiquadCoefs; 2],
    state: [BiquadState; 2],
}

impl<'a> Noise<'a> {
    const BANDWIDTH_HZ: f64 = 16_000.0;

    fn new(fs: f64, rng: &'a mut Rng) -> Self {
        let f0 = clamp_cutoff(fs, Self::BANDWIDTH_HZ);
        Noise {
            rng,
            scale: (fs / 48_000.0).sqrt(),
            low_pass: [
                BiquadCoefs::low_pass(fs, f0, 0.541_196_1),
                BiquadCoefs::low_pass(fs, f0, 1.306_563),
            ],
            state: [BiquadState::default(); 2],
        }
    }

    #[inline]
    fn next(&mut self) -> f64 {
        let x = self.rng.signed() * self.scale;
        let y = self.state[0].tick(&self.low_pass[0], x);
        self.state[1].tick(&self.low_pass[1], y)
    }
}

/// Kick: a sine swept from about 170 Hz down to 48 Hz, lightly saturated, with a noise click.
fn kick(fs: f64, rng: &mut Rng) -> Vec<f64> {
    let mut noise = Noise::new(fs, rng);
    let n = (0.5 * fs) as usize;
    let click_hp = BiquadCoefs::high_pass(fs, clamp_cutoff(fs, 1500.0), 0.7);
    let mut click_state = BiquadState::default();
    let (mut sweep, mut body_decay) = (Decay::new(fs, 0.03), Decay::new(fs, 0.2));
    let (mut attack, mut click_decay) = (Decay::new(fs, 0.0008), Decay::new(fs, 0.003));
    let drive = 1.8;
    let norm = 1.0 / saturate(drive);
    // The click has decayed by 120 dB after 40 ms; no need for noise beyond.
    let click_frames = (0.04 * fs) as usize;
    let mut phase = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        phase += (48.0 + 120.0 * sweep.next()) / fs;
        let amp = body_decay.next() * (1.0 - attack.next());
        let body = saturate(drive * sin_turns(phase) * amp) * norm;
        let click = if i < click_frames {
            click_state.tick(&click_hp, noise.next()) * click_decay.next()
        } else {
            0.0
        };
        out.push(0.9 * body + 0.35 * click);
    }
    declick(&mut out, fs);
    out
}

/// A sine oscillator by rotation of a unit phasor: two multiply-adds a sample instead of `sin`.
/// Renormalised every sample to first order, so its amplitude stays 1 over many seconds.
#[derive(Debug, Clone, Copy)]
struct Rotor {
    re: f64,
    im: f64,
    cos: f64,
    sin: f64,
}

impl Rotor {
    fn new(fs: f64, freq: f64) -> Self {
        let w = TAU * freq / fs;
        Rotor {
            re: 1.0,
            im: 0.0,
            cos: w.cos(),
            sin: w.sin(),
        }
    }

    /// sin of the phase, then advance.
    #[inline]
    fn next(&mut self) -> f64 {
        let y = self.im;
        let re = self.re * self.cos - self.im * self.sin;
        let im = self.re * self.sin + self.im * self.cos;
        let k = 1.5 - 0.5 * (re * re + im * im);
        self.re = re * k;
        self.im = im * k;
        y
    }
}

/// Saturation of the snare (unity gain for small signals), which rounds the noise burst's
/// highest peaks as a drum bus would.
const SNARE_DRIVE: f64 = 1.5;

/// Snare: two damped drum-head modes and a band-passed noise burst for the wires.
fn snare(fs: f64, rng: &mut Rng) -> Vec<f64> {
    let mut noise = Noise::new(fs, rng);
    let n = (0.4 * fs) as usize;
    let hp = BiquadCoefs::high_pass(fs, clamp_cutoff(fs, 1200.0), 0.7);
    let lp = BiquadCoefs::low_pass(fs, clamp_cutoff(fs, 7000.0), 0.7);
    let (mut s1, mut s2) = (BiquadState::default(), BiquadState::default());
    let (mut low_mode, mut high_mode) = (Rotor::new(fs, 185.0), Rotor::new(fs, 330.0));
    let (mut attack, mut tone_decay) = (Decay::new(fs, 0.0007), Decay::new(fs, 0.045));
    let mut wire_decay = Decay::new(fs, 0.1);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let tone = (low_mode.next() * 0.7 + high_mode.next() * 0.35) * tone_decay.next();
        let wires = s2.tick(&lp, s1.tick(&hp, noise.next())) * wire_decay.next();
        let x = (1.0 - attack.next()) * (0.55 * tone + 1.1 * wires);
        out.push(saturate(SNARE_DRIVE * x) / SNARE_DRIVE);
    }
    declick(&mut out, fs);
    out
}

/// Hi-hat: high-passed noise (fourth-order Butterworth at 7 kHz), closed or open.
fn hat(fs: f64, open: bool, rng: &mut Rng) -> Vec<f64> {
    let mut noise = Noise::new(fs, rng);
    let (len, tau) = if open { (0.5, 0.16) } else { (0.12, 0.035) };
    let n = (len * fs) as usize;
    let f0 = clamp_cutoff(fs, 7000.0);
    let hp1 = BiquadCoefs::high_pass(fs, f0, 0.541_196_1);
    let hp2 = BiquadCoefs::high_pass(fs, f0, 1.306_563);
    // Real hats reach higher; this top is what makes the mix a little dull.
    let lp = BiquadCoefs::low_pass(fs, clamp_cutoff(fs, 12_500.0), 0.707);
    let (mut s1, mut s2, mut s3) = (
        BiquadState::default(),
        BiquadState::default(),
        BiquadState::default(),
    );
    let (mut attack, mut decay) = (Decay::new(fs, 0.0005), Decay::new(fs, tau));
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let env = decay.next() * (1.0 - attack.next());
        out.push(s3.tick(&lp, s2.tick(&hp2, s1.tick(&hp1, noise.next()))) * env);
    }
    declick(&mut out, fs);
    out
}

/// Crash: independent high-passed noise on each side with a long decay.
fn crash(fs: f64, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let mut noise = Noise::new(fs, rng);
    let n = (3.0 * fs) as usize;
    let hp = BiquadCoefs::high_pass(fs, clamp_cutoff(fs, 3500.0), 0.7);
    let lp = BiquadCoefs::low_pass(fs, clamp_cutoff(fs, 12_000.0), 0.7);
    let mut sides = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for side in &mut sides {
        let (mut s1, mut s2) = (BiquadState::default(), BiquadState::default());
        let (mut attack, mut decay) = (Decay::new(fs, 0.002), Decay::new(fs, 0.9));
        for _ in 0..n {
            let env = decay.next() * (1.0 - attack.next());
            side.push(s2.tick(&lp, s1.tick(&hp, noise.next())) * env);
        }
        declick(side, fs);
    }
    let [l, r] = sides;
    (l, r)
}

/// Release gate: 1 while the note is held, then a linear fall to 0 over `release` seconds.
#[inline]
fn gate(t: f64, held: f64, release: f64) -> f64 {
    if t < held {
        1.0
    } else {
        (1.0 - (t - held) / release).max(0.0)
    }
}

/// Bass: a polyBLEP saw and a sine an octave down, through a resonant low-pass whose cutoff
/// falls after each attack, with a short release after `seconds`.
fn bass(fs: f64, note: f64, seconds: f64) -> Vec<f64> {
    let release = 0.04;
    let n = ((seconds + release) * fs) as usize;
    let dt = midi_hz(note) / fs;
    // The filter sweep is recomputed every half millisecond, often enough to sound continuous.
    let update = ((fs / 2000.0) as usize).max(1);
    let mut state = BiquadState::default();
    let mut coefs = BiquadCoefs::IDENTITY;
    let mut sweep = Decay::new(fs, 0.09);
    let (mut attack, mut settle) = (Decay::new(fs, 0.004), Decay::new(fs, 0.25));
    let mut sub = Rotor::new(fs, 0.5 * dt * fs);
    let mut phase = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / fs;
        let cutoff = 180.0 + 900.0 * sweep.next();
        if i % update == 0 {
            coefs = BiquadCoefs::low_pass(fs, clamp_cutoff(fs, cutoff), 2.2);
        }
        let osc = saw(phase, dt);
        phase += dt;
        if phase >= 1.0 {
            phase -= 1.0;
        }
        let amp = (1.0 - attack.next()) * (0.75 + 0.25 * settle.next()) * gate(t, seconds, release);
        let y = state.tick(&coefs, osc) * 0.55 + sub.next() * 0.5;
        out.push(saturate(1.3 * y * amp));
    }
    declick(&mut out, fs);
    out
}

/// Pad: per side and per note, two saws detuned differently on each side, so the chord is wide;
/// a low-pass, a slow attack and a long release.
fn pad(fs: f64, notes: &[f64], seconds: f64, cutoff: f64, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let (attack, release) = (0.35, 0.6);
    let n = ((seconds + release) * fs) as usize;
    let lp = BiquadCoefs::low_pass(fs, clamp_cutoff(fs, cutoff), 0.8);
    let detune_cents = [[-9.0, 4.0], [-4.0, 9.0]];
    let scale = 1.0 / (2.0 * notes.len() as f64);
    let mut sides = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for (side, cents) in sides.iter_mut().zip(detune_cents) {
        // (phase, increment) of every oscillator of this side, run together sample by sample.
        let mut oscillators: Vec<(f64, f64)> = notes
            .iter()
            .flat_map(|&note| cents.map(|c| midi_hz(note + c / 100.0) / fs))
            .map(|dt| (rng.unit(), dt))
            .collect();
        let (mut s1, mut s2) = (BiquadState::default(), BiquadState::default());
        for i in 0..n {
            let mut x = 0.0;
            for (phase, dt) in oscillators.iter_mut() {
                x += saw(*phase, *dt);
                *phase += *dt;
                if *phase >= 1.0 {
                    *phase -= 1.0;
                }
            }
            let t = i as f64 / fs;
            let env = if t < attack {
                (t / attack) * (t / attack)
            } else {
                gate(t, seconds, release).powi(2)
            };
            side.push(s2.tick(&lp, s1.tick(&lp, x * scale)) * env);
        }
        declick(side, fs);
    }
    let [l, r] = sides;
    (l, r)
}

/// Lead: two-operator FM (ratio 1, index falling after the attack) with delayed vibrato.
fn lead(fs: f64, note: f64, seconds: f64) -> Vec<f64> {
    let f = midi_hz(note);
    let release = 0.09;
    let n = ((seconds + release) * fs) as usize;
    let mut vibrato = Rotor::new(fs, 5.5);
    let (mut index_decay, mut attack) = (Decay::new(fs, 0.12), Decay::new(fs, 0.006));
    let mut settle = Decay::new(fs, 0.3);
    let mut phase = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / fs;
        // Up to ±0.12 semitone after 180 ms; 2^(x/12) ≈ 1 + x·ln2/12 within 0.05 cent here.
        let depth = ((t - 0.18) / 0.25).clamp(0.0, 1.0) * 0.12;
        let bend = 1.0 + depth * vibrato.next() * std::f64::consts::LN_2 / 12.0;
        phase += f * bend / fs;
        if phase >= 1.0 {
            phase -= 1.0;
        }
        let index = 0.7 + 1.3 * index_decay.next();
        let amp = (1.0 - attack.next()) * (0.7 + 0.3 * settle.next()) * gate(t, seconds, release);
        // Carrier and modulator share the phase (ratio 1); the index is in radians.
        let modulator = sin_turns(phase);
        out.push(sin_turns(phase + index * modulator / TAU) * amp);
    }
    declick(&mut out, fs);
    out
}

/// Plate-like reverb from a mono send: four damped feedback combs and two all-passes per side
/// (Schroeder–Moorer, with Freeverb's delay lengths scaled to the sample rate and the right
/// side's lengths offset, which decorrelates the sides).
fn reverb(fs: f64, send: &[f32], left: &mut [f32], right: &mut [f32], wet: f64) {
    const COMBS: [f64; 4] = [1116.0, 1188.0, 1277.0, 1356.0];
    const ALL_PASSES: [f64; 2] = [556.0, 441.0];
    const SPREAD: f64 = 23.0;
    let scale = fs / 44_100.0;
    let (feedback, damp) = (0.8, 0.35);
    for (side, out) in [left, right].into_iter().enumerate() {
        let offset = SPREAD * side as f64;
        let mut combs: Vec<(Vec<f64>, usize, f64)> = COMBS
            .iter()
            .map(|&d| (vec![0.0; ((d + offset) * scale) as usize], 0, 0.0))
            .collect();
        let mut all_passes: Vec<(Vec<f64>, usize)> = ALL_PASSES
            .iter()
            .map(|&d| (vec![0.0; ((d + offset) * scale) as usize], 0))
            .collect();
        for (y, &x) in out.iter_mut().zip(send) {
            let x = x as f64;
            let mut acc = 0.0;
            for (buf, pos, store) in &mut combs {
                let delayed = buf[*pos];
                *store = delayed * (1.0 - damp) + *store * damp;
                buf[*pos] = x + *store * feedback;
                *pos += 1;
                if *pos == buf.len() {
                    *pos = 0;
                }
                acc += delayed;
            }
            for (buf, pos) in &mut all_passes {
                let delayed = buf[*pos];
                buf[*pos] = acc + delayed * 0.5;
                *pos += 1;
                if *pos == buf.len() {
                    *pos = 0;
                }
                acc = delayed - acc;
            }
            *y += (acc * wet) as f32;
        }
    }
}

/// The mix bus of an unfinished mix: a DC-blocking high-pass, some low-mid build-up and a
/// slightly dull top, then the outro's fade.
fn bus_processing(fs: f64, planes: [&mut [f32]; 2], fade: (f64, f64)) {
    let sections = [
        BiquadCoefs::high_pass(fs, 22.0, std::f64::consts::FRAC_1_SQRT_2),
        BiquadCoefs::peaking(fs, 260.0, 0.9, 3.0),
        BiquadCoefs::high_shelf(fs, 6500.0, 0.7, -3.5),
    ];
    let (fade_start, fade_end) = fade;
    for plane in planes {
        let mut states = [BiquadState::default(); 3];
        for (i, y) in plane.iter_mut().enumerate() {
            let mut v = *y as f64;
            for (s, c) in states.iter_mut().zip(&sections) {
                v = s.tick(c, v);
            }
            let t = i as f64 / fs;
            if t > fade_start {
                let x = ((t - fade_start) / (fade_end - fade_start)).min(1.0);
                v *= 0.5 * (1.0 + (PI * x).cos());
            }
            *y = v as f32;
        }
    }
}

/// A chord of the progressions: the bass root and the pad's voicing, as MIDI notes.
struct Chord {
    root: f64,
    voicing: [f64; 3],
}

const AM: Chord = Chord {
    root: 33.0,
    voicing: [57.0, 60.0, 64.0],
};
const F: Chord = Chord {
    root: 29.0,
    voicing: [57.0, 60.0, 65.0],
};
const C: Chord = Chord {
    root: 36.0,
    voicing: [55.0, 60.0, 64.0],
};
const G: Chord = Chord {
    root: 31.0,
    voicing: [55.0, 59.0, 62.0],
};
const EM: Chord = Chord {
    root: 28.0,
    voicing: [55.0, 59.0, 64.0],
};

const VERSE_CHORDS: [&Chord; 4] = [&AM, &F, &C, &G];
const CHORUS_CHORDS: [&Chord; 4] = [&F, &G, &EM, &AM];

/// Melody notes as (beat in bar, length in beats, degree of A natural minor from A4).
type Phrase = &'static [(f64, f64, i32)];
const VERSE_MELODY: [Phrase; 4] = [
    &[
        (0.0, 1.0, 4),
        (1.0, 0.5, 2),
        (1.5, 0.5, 3),
        (2.0, 1.5, 4),
        (3.5, 0.5, 2),
    ],
    &[(0.0, 1.5, 5), (1.5, 0.5, 4), (2.0, 1.0, 2), (3.0, 1.0, 0)],
    &[
        (0.0, 1.0, 2),
        (1.0, 0.5, 4),
        (1.5, 0.5, 7),
        (2.0, 1.5, 6),
        (3.5, 0.5, 4),
    ],
    &[(0.0, 2.0, 1), (2.0, 1.0, -1), (3.0, 1.0, 1)],
];
const CHORUS_MELODY: [Phrase; 4] = [
    &[(0.0, 1.0, 7), (1.0, 1.0, 5), (2.0, 1.5, 7), (3.5, 0.5, 9)],
    &[(0.0, 1.5, 8), (1.5, 0.5, 7), (2.0, 1.0, 6), (3.0, 1.0, 4)],
    &[(0.0, 1.0, 4), (1.0, 0.5, 6), (1.5, 0.5, 7), (2.0, 2.0, 8)],
    &[(0.0, 1.5, 7), (1.5, 0.5, 6), (2.0, 2.0, 4)],
];

fn minor_degree_midi(degree: i32) -> f64 {
    const STEPS: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];
    let octave = degree.div_euclid(7);
    (69 + 12 * octave + STEPS[degree.rem_euclid(7) as usize]) as f64
}

/// Per-part gains: the intro is sparse and quiet, the chorus full.
struct PartMix {
    kick: f64,
    snare: f64,
    hats: f64,
    bass: f64,
    pad: f64,
    lead: f64,
    pad_cutoff: f64,
    sixteenth_hats: bool,
}

fn part_mix(part: Part) -> PartMix {
    match part {
        Part::Intro => PartMix {
            kick: 0.0,
            snare: 0.0,
            hats: 0.7,
            bass: 0.0,
            pad: 1.0,
            lead: 0.0,
            pad_cutoff: 900.0,
            sixteenth_hats: false,
        },
        Part::Verse => PartMix {
            kick: 0.85,
            snare: 0.8,
            hats: 0.8,
            bass: 0.85,
            pad: 0.7,
            lead: 0.7,
            pad_cutoff: 1400.0,
            sixteenth_hats: false,
        },
        Part::Chorus => PartMix {
            kick: 1.0,
            snare: 1.0,
            hats: 1.0,
            bass: 1.0,
            pad: 1.0,
            lead: 1.0,
            pad_cutoff: 2200.0,
            sixteenth_hats: true,
        },
        Part::Outro => PartMix {
            kick: 0.8,
            snare: 0.0,
            hats: 0.7,
            bass: 0.8,
            pad: 0.9,
            lead: 0.0,
            pad_cutoff: 1200.0,
            sixteenth_hats: false,
        },
    }
}

/// Instrument levels before the print gain (set once by ear and by the stem loudness).
const KICK_LEVEL: f64 = 0.65;
const SNARE_LEVEL: f64 = 1.0;
const HAT_LEVEL: f64 = 0.5;
const CRASH_LEVEL: f64 = 0.3;
const BASS_LEVEL: f64 = 0.42;
const PAD_LEVEL: f64 = 0.5;
const LEAD_LEVEL: f64 = 0.34;
const REVERB_WET: f64 = 0.35;

/// Renders the demo with the instruments in `mask` (tests solo instruments with it), printed at
/// `gain` or, when None, at the gain that reaches the target loudness; returns the gain too.
fn render(
    options: &DemoOptions,
    mask: u32,
    gain: Option<f64>,
) -> Result<(Vec<Vec<f32>>, f64), DspError> {
    check_options(options)?;
    let fs = options.sample_rate;
    let frames = ((options.seconds * fs).round() as usize).max(1);
    let parts = arrangement(options.seconds);
    let part_at = |t: f64| {
        parts
            .iter()
            .find(|p| t < p.2)
            .or(parts.last())
            .expect("the arrangement has four parts or more")
    };
    let mut bus = Bus {
        left: vec![0.0; frames],
        right: vec![0.0; frames],
        send: vec![0.0; frames],
        mask,
    };
    // Musical choices come from one stream and noise from another, so the music does not
    // depend on how many noise samples the sample rate needs.
    let mut choice = Rng::new(options.seed, 1);
    let mut noise = Rng::new(options.seed, 2);
    let beat = beat_seconds();
    let bar = bar_seconds();
    let at = |t: f64| (t.max(0.0) * fs).round() as usize;
    let bars = (options.seconds / bar).ceil() as usize;

    for b in 0..bars {
        let bar_start = b as f64 * bar;
        let (part, part_start, _) = *part_at(bar_start + 1e-9);
        let bar_in_part = ((bar_start - part_start) / bar + 1e-9).floor().max(0.0) as usize;
        let harmony = if part == Part::Chorus {
            CHORUS_CHORDS
        } else {
            VERSE_CHORDS
        };
        let chord = harmony[bar_in_part % 4];
        let mix = part_mix(part);
        let next_part = part_at(bar_start + bar + 1e-9).0;
        let last_bar_before_chorus = part != Part::Chorus && next_part == Part::Chorus;

        // Pad: one chord per bar, held into the next.
        if mix.pad > 0.0 {
            let (l, r) = pad(fs, &chord.voicing, bar, mix.pad_cutoff, &mut noise);
            let p = Placement {
                instrument: Instrument::Pad,
                start: at(bar_start),
                gain: PAD_LEVEL * mix.pad,
                pan: 0.0,
                send: 0.5,
            };
            bus.place_stereo(&p, &l, &r);
        }

        // Kick.
        if mix.kick > 0.0 {
            let mut beats: Vec<f64> = if part == Part::Chorus {
                vec![0.0, 1.0, 2.0, 3.0]
            } else {
                vec![0.0, 2.0]
            };
            if part != Part::Chorus && choice.chance(0.5) {
                beats.push(2.5);
            }
            for &k in &beats {
                let velocity = choice.range(0.9, 1.0);
                let t = bar_start + k * beat + nudge(&mut choice, 0.002);
                let voice = kick(fs, &mut noise);
                let p = Placement {
                    instrument: Instrument::Kick,
                    start: at(t),
                    gain: KICK_LEVEL * mix.kick * velocity,
                    pan: 0.0,
                    send: 0.0,
                };
                bus.place(&p, &voice);
            }
        }

        // Snare on 2 and 4, a roll into the chorus, the odd ghost note.
        if mix.snare > 0.0 {
            let mut hits: Vec<(f64, f64)> = vec![(1.0, 1.0), (3.0, 1.0)];
            if last_bar_before_chorus {
                hits.extend([
                    (2.0, 0.45),
                    (2.5, 0.55),
                    (3.25, 0.65),
                    (3.5, 0.75),
                    (3.75, 0.9),
                ]);
            } else if choice.chance(0.35) {
                hits.push((3.75, 0.25));
            }
            for &(s, accent) in &hits {
                let velocity = accent * choice.range(0.85, 1.0);
                let t = bar_start + s * beat + nudge(&mut choice, 0.003);
                let voice = snare(fs, &mut noise);
                let p = Placement {
                    instrument: Instrument::Snare,
                    start: at(t),
                    gain: SNARE_LEVEL * mix.snare * velocity,
                    pan: 0.05,
                    send: 0.35,
                };
                bus.place(&p, &voice);
            }
        }

        // Hi-hats: eighths (sixteenths in the chorus), accents on the beat, an open hat on the
        // last off-beat of the chorus bars.
        if mix.hats > 0.0 {
            let step = if mix.sixteenth_hats { 0.25 } else { 0.5 };
            let count = (BEATS_PER_BAR / step) as usize;
            for i in 0..count {
                let position = i as f64 * step;
                let on_beat = position.fract() == 0.0;
                let open = mix.sixteenth_hats && position == 3.5;
                let accent = if on_beat { 1.0 } else { 0.7 };
                let velocity = accent * choice.range(0.6, 1.0);
                let t = bar_start + position * beat + nudge(&mut choice, 0.004);
                let voice = hat(fs, open, &mut noise);
                let p = Placement {
                    instrument: Instrument::Hats,
                    start: at(t),
                    gain: HAT_LEVEL * mix.hats * velocity,
                    pan: 0.3,
                    send: 0.1,
                };
                bus.place(&p, &voice);
            }
        }

        // Crash on the first bar of each chorus and of the outro.
        if bar_in_part == 0 && matches!(part, Part::Chorus | Part::Outro) {
            let (l, r) = crash(fs, &mut noise);
            let p = Placement {
                instrument: Instrument::Crash,
                start: at(bar_start),
                gain: CRASH_LEVEL * choice.range(0.85, 1.0),
                pan: 0.0,
                send: 0.2,
            };
            bus.place_stereo(&p, &l, &r);
        }

        // Bass: a syncopated figure in the verse, driving eighths in the chorus, long notes in
        // the outro; an octave jump now and then.
        if mix.bass > 0.0 {
            let notes: Vec<(f64, f64)> = match part {
                Part::Chorus => (0..8).map(|i| (0.5 * i as f64, 0.42)).collect(),
                Part::Outro => vec![(0.0, 3.5)],
                _ => vec![
                    (0.0, 0.75),
                    (1.5, 0.45),
                    (2.0, 0.75),
                    (3.0, 0.45),
                    (3.5, 0.45),
                ],
            };
            for &(position, length) in &notes {
                let octave = if position.fract() != 0.0 && choice.chance(0.3) {
                    12.0
                } else {
                    0.0
                };
                let velocity = choice.range(0.85, 1.0);
                let t = bar_start + position * beat + nudge(&mut choice, 0.002);
                let voice = bass(fs, chord.root + 12.0 + octave, length * beat);
                let p = Placement {
                    instrument: Instrument::Bass,
                    start: at(t),
                    gain: BASS_LEVEL * mix.bass * velocity,
                    pan: 0.0,
                    send: 0.0,
                };
                bus.place(&p, &voice);
            }
        }

        // Lead: the phrase of this chord; in the verse only every other bar answers.
        if mix.lead > 0.0 && (part == Part::Chorus || bar_in_part % 2 == 1) {
            let melody = if part == Part::Chorus {
                CHORUS_MELODY
            } else {
                VERSE_MELODY
            };
            for (i, &(position, length, degree)) in melody[bar_in_part % 4].iter().enumerate() {
                // A few notes move to a neighbouring degree, never the first of the phrase.
                let degree = if i > 0 && choice.chance(0.2) {
                    degree + if choice.chance(0.5) { 1 } else { -1 }
                } else {
                    degree
                };
                let velocity = choice.range(0.8, 1.0);
                let t = bar_start + position * beat + nudge(&mut choice, 0.004);
                let voice = lead(fs, minor_degree_midi(degree), length * beat * 0.92);
                let p = Placement {
                    instrument: Instrument::Lead,
                    start: at(t),
                    gain: LEAD_LEVEL * mix.lead * velocity,
                    pan: -0.2,
                    send: 0.45,
                };
                bus.place(&p, &voice);
            }
        }
    }

    let Bus {
        mut left,
        mut right,
        send,
        ..
    } = bus;
    reverb(fs, &send, &mut left, &mut right, REVERB_WET);
    drop(send);
    let outro = parts.last().expect("the arrangement ends with the outro");
    bus_processing(fs, [&mut left, &mut right], (outro.1, outro.2));
    let gain = match gain {
        Some(g) => g,
        None => print_gain(fs, &left, &right)?,
    };
    for x in left.iter_mut().chain(right.iter_mut()) {
        *x = (*x as f64 * gain) as f32;
    }
    Ok((vec![left, right], gain))
}

/// The gain that brings the mix to the target loudness, or less if its peaks would then pass the
/// ceiling.
fn print_gain(fs: f64, left: &[f32], right: &[f32]) -> Result<f64, DspError> {
    let mut meter = LoudnessMeter::new(fs, &[ChannelRole::Front, ChannelRole::Front])?;
    meter.process(&[left, right])?;
    let peak = left
        .iter()
        .chain(right.iter())
        .fold(0f32, |m, &x| m.max(x.abs())) as f64;
    if peak <= 0.0 {
        return Ok(1.0);
    }
    let ceiling = 10f64.powf(PEAK_CEILING_DBFS / 20.0) / peak;
    let gain = match meter.integrated_lufs() {
        Some(lufs) => 10f64.powf((TARGET_LUFS - lufs) / 20.0).min(ceiling),
        None => 10f64.powf(SHORT_DEMO_PEAK_DBFS / 20.0) / peak,
    };
    Ok(gain)
}

/// Synthesises the demo mix: two planes (left, right) of `seconds · sample_rate` frames.
pub fn demo_mix(options: &DemoOptions) -> Result<Vec<Vec<f32>>, DspError> {
    render(options, ALL_INSTRUMENTS, None).map(|(planes, _)| planes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::biquad::butterworth_high_pass;
    use crate::biquad::butterworth_low_pass;
    use crate::truepeak::TruePeakMeter;

    /// What a mastering engineer reads off a mix before touching it.
    #[derive(Debug)]
    struct MixStats {
        integrated_lufs: f64,
        loudness_range_lu: f64,
        true_peak_dbtp: f64,
        sample_peak_dbfs: f64,
        correlation: f64,
        /// Largest |mean| of a channel, relative to full scale.
        dc: f64,
    }

    fn measure(planes: &[Vec<f32>], fs: f64) -> MixStats {
        let refs: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        let mut loudness = LoudnessMeter::new(fs, &[ChannelRole::Front, ChannelRole::Front])
            .expect("valid format");
        loudness.process(&refs).expect("stereo planes");
        let report = loudness.report();
        let mut peaks = TruePeakMeter::new(fs, 2).expect("valid format");
        peaks.process(&refs).expect("stereo planes");
        peaks.flush();
        let db = |x: f64| 20.0 * x.log10();
        let (l, r) = (&planes[0], &planes[1]);
        let (mut lr, mut ll, mut rr) = (0.0, 0.0, 0.0);
        for (&a, &b) in l.iter().zip(r) {
            let (a, b) = (a as f64, b as f64);
            lr += a * b;
            ll += a * a;
            rr += b * b;
        }
        let mean = |p: &[f32]| p.iter().map(|&x| x as f64).sum::<f64>() / p.len() as f64;
        MixStats {
            integrated_lufs: report.integrated_lufs.expect("a demo is not silent"),
            loudness_range_lu: report.loudness_range_lu.expect("a demo is long enough"),
            true_peak_dbtp: db(peaks.true_peaks().into_iter().fold(0.0, f64::max)),
            sample_peak_dbfs: db(peaks.sample_peaks().into_iter().fold(0.0, f64::max)),
            correlation: lr / (ll * rr).sqrt(),
            dc: mean(l).abs().max(mean(r).abs()),
        }
    }

    /// Mean-square energy of both channels through a fourth-order Butterworth band-pass.
    fn band_energy(planes: &[Vec<f32>], fs: f64, low_hz: f64, high_hz: f64) -> f64 {
        let mut sections = butterworth_high_pass(fs, low_hz, 4);
        sections.extend(butterworth_low_pass(fs, high_hz, 4));
        let mut energy = 0.0;
        for plane in planes {
            let mut states = vec![BiquadState::default(); sections.len()];
            for &x in plane {
                let mut v = x as f64;
                for (s, c) in states.iter_mut().zip(&sections) {
                    v = s.tick(c, v);
                }
                energy += v * v;
            }
        }
        energy / (planes.len() * planes[0].len()) as f64
    }

    fn total_energy(planes: &[Vec<f32>]) -> f64 {
        let sum: f64 = planes
            .iter()
            .flat_map(|p| p.iter())
            .map(|&x| x as f64 * x as f64)
            .sum();
        sum / (planes.len() * planes[0].len()) as f64
    }

    fn options(sample_rate: f64) -> DemoOptions {
        DemoOptions {
            sample_rate,
            ..DemoOptions::default()
        }
    }

    /// Mean momentary loudness (as energy) of the 400 ms blocks that lie inside [start, end).
    fn mean_momentary_lufs(planes: &[Vec<f32>], fs: f64, start: f64, end: f64) -> f64 {
        let refs: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        let mut meter = LoudnessMeter::new(fs, &[ChannelRole::Front, ChannelRole::Front]).unwrap();
        meter.process(&refs).unwrap();
        let energies: Vec<f64> = meter
            .report()
            .momentary_series
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let block_end = 0.4 + 0.1 * *i as f64;
                block_end - 0.4 >= start && block_end <= end
            })
            .map(|(_, l)| 10f64.powf((l.unwrap_or(-120.0) + 0.691) / 10.0))
            .collect();
        -0.691 + 10.0 * (energies.iter().sum::<f64>() / energies.len() as f64).log10()
    }

    #[test]
    fn the_fast_sine_matches_sin() {
        let mut worst: f64 = 0.0;
        for i in -100_000..=100_000 {
            let turns = i as f64 / 9_973.0;
            worst = worst.max((sin_turns(turns) - (TAU * turns).sin()).abs());
        }
        assert!(worst < 1e-7, "{worst}");
    }

    #[test]
    fn levels_are_those_of_an_unmastered_mix_at_44k1_48k_and_96k() {
        let mut integrated = Vec::new();
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            let o = options(fs);
            let mix = demo_mix(&o).unwrap();
            assert_eq!(mix.len(), 2);
            assert!(mix.iter().all(|p| p.len() == (30.0 * fs) as usize));
            let s = measure(&mix, fs);
            println!("{fs} Hz: {s:?}");
            // The ranges of the brief: a mix printed with headroom, not yet mastered.
            assert!(
                (-20.0..=-18.0).contains(&s.integrated_lufs),
                "{fs} Hz: {s:?}"
            );
            assert!(
                (-6.0..=-3.0).contains(&s.sample_peak_dbfs),
                "{fs} Hz: {s:?}"
            );
            assert!(s.true_peak_dbtp < -1.0, "{fs} Hz: {s:?}");
            assert!((4.0..=9.0).contains(&s.loudness_range_lu), "{fs} Hz: {s:?}");
            assert!((0.3..=0.9).contains(&s.correlation), "{fs} Hz: {s:?}");
            // A mean of 1e-5 full scale is −100 dBFS of DC: none worth a finding.
            assert!(s.dc < 1e-5, "{fs} Hz: {s:?}");
            assert!(mix.iter().flatten().all(|x| x.is_finite() && x.abs() < 1.0));
            integrated.push(s.integrated_lufs);
        }
        // The same music at every rate: the print gain is set by loudness, so what differs is
        // only where the peak ceiling takes over, and that is the same music too.
        let spread = integrated.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b))
            - integrated.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        assert!(spread < 0.3, "{integrated:?}");
    }

    #[test]
    fn every_seed_gives_a_mix_in_range() {
        for seed in [0, 2, 3, 77, u64::MAX] {
            let o = DemoOptions {
                seed,
                ..options(48_000.0)
            };
            let s = measure(&demo_mix(&o).unwrap(), o.sample_rate);
            assert!(
                (-20.0..=-18.0).contains(&s.integrated_lufs),
                "seed {seed}: {s:?}"
            );
            assert!(
                (-6.0..=-3.0).contains(&s.sample_peak_dbfs),
                "seed {seed}: {s:?}"
            );
            assert!(s.true_peak_dbtp < -1.0, "seed {seed}: {s:?}");
            assert!(
                (4.0..=9.0).contains(&s.loudness_range_lu),
                "seed {seed}: {s:?}"
            );
            assert!((0.3..=0.9).contains(&s.correlation), "seed {seed}: {s:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_identical_samples() {
        let o = DemoOptions {
            seed: 42,
            ..options(44_100.0)
        };
        let a = demo_mix(&o).unwrap();
        let b = demo_mix(&o).unwrap();
        let bits =
            |m: &[Vec<f32>]| -> Vec<u32> { m.iter().flatten().map(|x| x.to_bits()).collect() };
        assert!(bits(&a) == bits(&b), "same seed, different samples");
    }

    #[test]
    fn different_seeds_differ_a_little() {
        let o1 = options(48_000.0);
        let o2 = DemoOptions { seed: 2, ..o1 };
        let (a, b) = (demo_mix(&o1).unwrap(), demo_mix(&o2).unwrap());
        let differing = a[0].iter().zip(&b[0]).filter(|(x, y)| x != y).count();
        assert!(differing > a[0].len() / 2, "{differing} samples differ");
        // Variations, not another song: the loudness stays within a fraction of a LU.
        let (sa, sb) = (measure(&a, 48_000.0), measure(&b, 48_000.0));
        assert!(
            (sa.integrated_lufs - sb.integrated_lufs).abs() < 0.5,
            "{sa:?} {sb:?}"
        );
        assert!(
            (sa.loudness_range_lu - sb.loudness_range_lu).abs() < 1.5,
            "{sa:?} {sb:?}"
        );
    }

    #[test]
    fn kick_and_hats_carry_energy_in_their_bands() {
        let o = options(48_000.0);
        let fs = o.sample_rate;
        let db = |x: f64| 10.0 * x.log10();
        let mix = demo_mix(&o).unwrap();
        let total = total_energy(&mix);
        let low = db(band_energy(&mix, fs, 40.0, 100.0) / total);
        let high = db(band_energy(&mix, fs, 6_000.0, 12_000.0) / total);
        println!("mix: 40–100 Hz {low:.1} dB, 6–12 kHz {high:.1} dB of the total");
        // Kick and bass fundamentals carry a large share of a pop mix's energy; the hats are
        // far below it (a slightly dull top) but well above the noise of the measurement.
        assert!(low > -10.0, "{low}");
        assert!((-32.0..-14.0).contains(&high), "{high}");

        // Soloed, each sits where it should: most of the kick's energy in 40–100 Hz, most of
        // the hats' in 6–12 kHz.
        let (_, gain) = render(&o, ALL_INSTRUMENTS, None).unwrap();
        let (kick, _) = render(&o, 1 << Instrument::Kick as u32, Some(gain)).unwrap();
        let kick_share = band_energy(&kick, fs, 40.0, 100.0) / total_energy(&kick);
        let (hats, _) = render(&o, 1 << Instrument::Hats as u32, Some(gain)).unwrap();
        let hat_share = band_energy(&hats, fs, 6_000.0, 12_000.0) / total_energy(&hats);
        println!("kick in 40–100 Hz: {kick_share:.2}, hats in 6–12 kHz: {hat_share:.2}");
        assert!(kick_share > 0.5, "{kick_share}");
        assert!(hat_share > 0.4, "{hat_share}");
    }

    #[test]
    fn the_chorus_is_louder_than_the_intro_and_verse() {
        let o = options(48_000.0);
        let mix = demo_mix(&o).unwrap();
        let sections = demo_sections(&o);
        let level = |name: &str| {
            let s = sections.iter().find(|s| s.name == name).unwrap();
            mean_momentary_lufs(&mix, o.sample_rate, s.start_seconds, s.end_seconds)
        };
        let (intro, verse, chorus) = (level("intro"), level("verse"), level("chorus"));
        println!("intro {intro:.1}, verse {verse:.1}, chorus {chorus:.1} LUFS");
        // Enough to give a loudness range of several LU, as the brief asks.
        assert!(chorus - intro > 4.0, "{intro} {chorus}");
        assert!(chorus - verse > 1.5, "{verse} {chorus}");
    }

    #[test]
    fn sections_cover_the_duration_in_order() {
        for seconds in [0.01, 1.0, 5.0, 20.0, 26.0, 30.0, 45.0, 61.3, 180.0, 600.0] {
            for fs in [44_100.0, 48_000.0, 96_000.0] {
                let sections = demo_sections(&DemoOptions {
                    sample_rate: fs,
                    seconds,
                    seed: 1,
                });
                let names: Vec<&str> = sections.iter().map(|s| s.name).collect();
                assert!(names.len() >= 4, "{seconds} s: {names:?}");
                assert_eq!(names[0], "intro", "{seconds} s");
                assert_eq!(names[1], "verse", "{seconds} s");
                assert!(names.contains(&"chorus"), "{seconds} s: {names:?}");
                assert_eq!(*names.last().unwrap(), "outro", "{seconds} s");
                assert_eq!(sections[0].start_seconds, 0.0);
                assert_eq!(sections.last().unwrap().end_seconds, seconds);
                for pair in sections.windows(2) {
                    assert_eq!(pair[0].end_seconds, pair[1].start_seconds, "{seconds} s");
                }
                for s in &sections {
                    assert!(s.end_seconds > s.start_seconds, "{seconds} s: {s:?}");
                }
                // Only intro and outro at the ends; verse and chorus alternate in between.
                for pair in names[1..names.len() - 1].windows(2) {
                    assert_ne!(pair[0], pair[1], "{seconds} s: {names:?}");
                }
            }
        }
    }

    #[test]
    fn short_and_long_demos_render() {
        for (seconds, fs) in [
            (0.01, 48_000.0),
            (0.3, 44_100.0),
            (2.0, 96_000.0),
            (7.5, 22_050.0),
        ] {
            let o = DemoOptions {
                sample_rate: fs,
                seconds,
                seed: 5,
            };
            let mix = demo_mix(&o).unwrap();
            let frames = ((seconds * fs).round() as usize).max(1);
            assert!(mix.iter().all(|p| p.len() == frames), "{seconds} s");
            let peak = mix.iter().flatten().fold(0f32, |m, x| m.max(x.abs()));
            assert!(mix.iter().flatten().all(|x| x.is_finite()));
            // Never beyond the ceiling, at whatever length.
            assert!(peak <= 10f32.powf(-3.0 / 20.0), "{seconds} s: peak {peak}");
        }
        let o = DemoOptions {
            sample_rate: 22_050.0,
            seconds: 95.0,
            seed: 9,
        };
        let s = measure(&demo_mix(&o).unwrap(), o.sample_rate);
        assert!((-20.0..=-18.0).contains(&s.integrated_lufs), "{s:?}");
        assert!((-6.0..=-3.0).contains(&s.sample_peak_dbfs), "{s:?}");
    }

    #[test]
    fn invalid_options_are_refused() {
        let good = options(48_000.0);
        for seconds in [0.0, -1.0, 600.5, f64::NAN, f64::INFINITY] {
            let o = DemoOptions { seconds, ..good };
            assert!(
                matches!(
                    demo_mix(&o),
                    Err(DspError::Parameter {
                        name: "seconds",
                        ..
                    })
                ),
                "{seconds}"
            );
            assert!(demo_sections(&o).is_empty());
        }
        for sample_rate in [0.0, 8_000.0, 16_000.0, 384_000.0, f64::NAN] {
            let o = DemoOptions {
                sample_rate,
                ..good
            };
            assert!(
                matches!(demo_mix(&o), Err(DspError::SampleRate { .. })),
                "{sample_rate}"
            );
            assert!(demo_sections(&o).is_empty());
        }
    }

    #[test]
    fn thirty_seconds_at_48k_take_well_under_a_second() {
        if cfg!(debug_assertions) {
            return; // only meaningful in an optimised build (cargo test --release)
        }
        let o = options(48_000.0);
        let best = (0..3)
            .map(|_| {
                let started = std::time::Instant::now();
                let mix = demo_mix(&o).unwrap();
                assert_eq!(mix[0].len(), 1_440_000);
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("30 s at 48 kHz in {:.0} ms", best * 1e3);
        assert!(best < 1.0, "{best} s");
    }

    /// Writes the demo to /tmp/demo.wav (32-bit float) for listening and for `sox -n stats`.
    #[test]
    #[ignore = "writes /tmp/demo.wav for a listening check"]
    fn write_demo_wav() {
        let o = options(48_000.0);
        let mix = demo_mix(&o).unwrap();
        let frames = mix[0].len() as u32;
        let data_bytes = frames * 2 * 4;
        let mut wav = Vec::with_capacity(58 + data_bytes as usize);
        wav.extend(b"RIFF");
        wav.extend((50 + data_bytes).to_le_bytes());
        wav.extend(b"WAVEfmt ");
        wav.extend(18u32.to_le_bytes());
        wav.extend(3u16.to_le_bytes()); // IEEE float, which needs cbSize and a fact chunk
        wav.extend(2u16.to_le_bytes());
        wav.extend((o.sample_rate as u32).to_le_bytes());
        wav.extend((o.sample_rate as u32 * 8).to_le_bytes());
        wav.extend(8u16.to_le_bytes());
        wav.extend(32u16.to_le_bytes());
        wav.extend(0u16.to_le_bytes());
        wav.extend(b"fact");
        wav.extend(4u32.to_le_bytes());
        wav.extend(frames.to_le_bytes());
        wav.extend(b"data");
        wav.extend(data_bytes.to_le_bytes());
        for (l, r) in mix[0].iter().zip(&mix[1]) {
            wav.extend(l.to_le_bytes());
            wav.extend(r.to_le_bytes());
        }
        std::fs::write("/tmp/demo.wav", wav).unwrap();
        println!("{:?}", measure(&mix, o.sample_rate));
        println!("{:?}", demo_sections(&o));
        // Octave bands relative to the total, for the tonal balance.
        let total = total_energy(&mix);
        let mut low = 31.25;
        while low < 16_000.0 {
            let level = band_energy(&mix, o.sample_rate, low, 2.0 * low) / total;
            println!(
                "{:>6.0}–{:<6.0} Hz {:6.1} dB",
                low,
                2.0 * low,
                10.0 * level.log10()
            );
            low *= 2.0;
        }
    }
}
