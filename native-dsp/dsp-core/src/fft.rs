//! Power-of-two FFTs for the analysers: a complex FFT on split (SoA) real/imaginary arrays, a real
//! FFT computed through a half-size complex FFT, and the split of one complex FFT into the spectra
//! of two real signals packed as its real and imaginary parts.
//!
//! The complex transform is a radix-4 Stockham autosort FFT (Cooley–Tukey decimation in
//! frequency, with a final radix-2 pass when log2(n) is odd). Stockham needs no bit reversal and
//! every pass reads and writes whole contiguous runs, which the autovectoriser turns into SIMD
//! without `unsafe` or `std::arch`. Twiddles are computed once in f64 and stored as f32, pass by
//! pass in the order the passes read them; scratch space is allocated with the plan, so
//! transforms never allocate. `forward_windowed_pair` applies an analysis window while its first
//! pass reads, saving a sweep over the frame. Samples are f32: the analysers need about 120 dB of
//! dynamic range in a power spectrum, f32's rounding noise sits near −130 dB of the spectrum's
//! rms, and f32 doubles the SIMD width over f64.
//!
//! Sign convention: `forward` computes X[k] = Σ x[j]·e^(−2πi·jk/n); `inverse` uses e^(+2πi·jk/n)
//! and does not divide by n (the caller scales, usually folded into another factor).

use crate::simd::Simd;
use std::f64::consts::PI;

/// One radix-4 pass over sub-transforms of 4·`quarter` points, `stride` of them interleaved.
#[derive(Debug, Clone, Copy)]
struct Pass {
    quarter: usize,
    stride: usize,
    /// Offset of this pass's twiddles (3·quarter values: w1 run, w2 run, w3 run).
    twiddle_at: usize,
}

/// A complex FFT of one power-of-two size, with its twiddles and scratch.
#[derive(Debug, Clone)]
pub struct FftPlan {
    n: usize,
    passes: Vec<Pass>,
    /// log2(n) odd: a final radix-2 pass with unit twiddles.
    radix2_last: bool,
    twiddle_re: Vec<f32>,
    twiddle_im: Vec<f32>,
    scratch_re: Vec<f32>,
    scratch_im: Vec<f32>,
    /// Second buffer pair for `forward_windowed_pair`, which leaves the caller's data alone.
    work_re: Vec<f32>,
    work_im: Vec<f32>,
    /// The passes run compiled for this SIMD width (all widths give the same bits).
    simd: Simd,
}

impl FftPlan {
    /// A plan for size `n`, a power of two ≥ 1.
    ///
    /// # Panics
    /// If `n` is not a power of two; sizes come from the analysers' own constants and rates.
    pub fn new(n: usize) -> Self {
        assert!(n.is_power_of_two(), "FFT size {n} is not a power of two");
        let mut passes = Vec::new();
        let mut twiddle_re = Vec::new();
        let mut twiddle_im = Vec::new();
        let mut len = n;
        let mut stride = 1;
        while len >= 4 {
            let quarter = len / 4;
            let twiddle_at = twiddle_re.len();
            for power in 1..=3 {
                for p in 0..quarter {
                    let angle = -2.0 * PI * (power * p) as f64 / len as f64;
                    twiddle_re.push(angle.cos() as f32);
                    twiddle_im.push(angle.sin() as f32);
                }
            }
            passes.push(Pass {
                quarter,
                stride,
                twiddle_at,
            });
            len = quarter;
            stride *= 4;
        }
        FftPlan {
            n,
            passes,
            radix2_last: len == 2,
            twiddle_re,
            twiddle_im,
            scratch_re: vec![0.0; n],
            scratch_im: vec![0.0; n],
            work_re: vec![0.0; n],
            work_im: vec![0.0; n],
            simd: Simd::detect(),
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// In-place forward transform of `re + i·im` (each of length n).
    pub fn forward(&mut self, re: &mut [f32], im: &mut [f32]) {
        assert!(re.len() == self.n && im.len() == self.n);
        if !self.run_passes(0, re, im) {
            re.copy_from_slice(&self.scratch_re);
            im.copy_from_slice(&self.scratch_im);
        }
    }

    /// In-place inverse transform (unnormalised: the result is n times the true inverse).
    pub fn inverse(&mut self, re: &mut [f32], im: &mut [f32]) {
        // conj(FFT(conj(x))) is the inverse DFT without the 1/n.
        im.iter_mut().for_each(|v| *v = -*v);
        self.forward(re, im);
        im.iter_mut().for_each(|v| *v = -*v);
    }

    /// Forward transform of (a + i·b)·window for real a, b and window of length n, returned as
    /// (re, im) slices of the plan's own buffers. The window is applied while the first pass
    /// reads, which saves a full write and read of the frame; with `split_two_real` this is
    /// the fast path for two windowed channels.
    pub fn forward_windowed_pair(
        &mut self,
        a: &[f32],
        b: &[f32],
        window: &[f32],
    ) -> (&[f32], &[f32]) {
        assert!(a.len() == self.n && b.len() == self.n && window.len() == self.n);
        let mut work_re = std::mem::take(&mut self.work_re);
        let mut work_im = std::mem::take(&mut self.work_im);
        let in_work = match self.passes.first() {
            Some(first) if first.stride == 1 => {
                let q = first.quarter;
                let tw = first.twiddle_at;
                radix4_first_pass(
                    q,
                    &self.twiddle_re[tw..tw + 3 * q],
                    &self.twiddle_im[tw..tw + 3 * q],
                    |p| (a[p] * window[p], b[p] * window[p]),
                    &mut work_re,
                    &mut work_im,
                );
                self.run_passes(1, &mut work_re, &mut work_im)
            }
            _ => {
                for (((re, im), (&x, &y)), &w) in work_re
                    .iter_mut()
                    .zip(work_im.iter_mut())
                    .zip(a.iter().zip(b))
                    .zip(window)
                {
                    *re = x * w;
                    *im = y * w;
                }
                self.run_passes(0, &mut work_re, &mut work_im)
            }
        };
        self.work_re = work_re;
        self.work_im = work_im;
        if in_work {
            (&self.work_re, &self.work_im)
        } else {
            (&self.scratch_re, &self.scratch_im)
        }
    }

    /// `run_passes_generic` compiled for the widest SIMD the CPU has. Rust never fuses
    /// `a + b * c` into an FMA instruction, so every build computes bit-identical results.
    #[allow(unsafe_code)]
    fn run_passes(&mut self, first: usize, re: &mut [f32], im: &mut [f32]) -> bool {
        match self.simd {
            // SAFETY: `Simd::detect` found the features the function is compiled for.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { self.run_passes_avx512(first, re, im) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { self.run_passes_avx2(first, re, im) },
            Simd::Baseline => self.run_passes_generic(first, re, im),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn run_passes_avx512(&mut self, first: usize, re: &mut [f32], im: &mut [f32]) -> bool {
        self.run_passes_generic(first, re, im)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn run_passes_avx2(&mut self, first: usize, re: &mut [f32], im: &mut [f32]) -> bool {
        self.run_passes_generic(first, re, im)
    }

    /// Runs passes `first..` alternating between `re, im` and the scratch buffers; true when
    /// the result ended in `re, im`.
    #[inline(always)]
    fn run_passes_generic(&mut self, first: usize, re: &mut [f32], im: &mut [f32]) -> bool {
        let mut in_user = true;
        for pass in &self.passes[first..] {
            let tw = pass.twiddle_at;
            let q = pass.quarter;
            let (w_re, w_im) = (
                &self.twiddle_re[tw..tw + 3 * q],
                &self.twiddle_im[tw..tw + 3 * q],
            );
            if in_user {
                radix4_pass(
                    pass,
                    w_re,
                    w_im,
                    re,
                    im,
                    &mut self.scratch_re,
                    &mut self.scratch_im,
                );
            } else {
                radix4_pass(pass, w_re, w_im, &self.scratch_re, &self.scratch_im, re, im);
            }
            in_user = !in_user;
        }
        if self.radix2_last {
            let half = self.n / 2;
            if in_user {
                radix2_last_pass(half, re, im, &mut self.scratch_re, &mut self.scratch_im);
            } else {
                radix2_last_pass(half, &self.scratch_re, &self.scratch_im, re, im);
            }
            in_user = !in_user;
        }
        in_user
    }
}

/// The radix-4 butterfly of a decimation-in-frequency pass: four inputs a, b, c, d a quarter
/// transform apart, outputs (a+b+c+d, (a−ib−c+id)·w1, (a−b+c−d)·w2, (a+ib−c−id)·w3).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn butterfly(
    (ar, ai): (f32, f32),
    (br, bi): (f32, f32),
    (cr, ci): (f32, f32),
    (dr, di): (f32, f32),
    (w1r, w1i): (f32, f32),
    (w2r, w2i): (f32, f32),
    (w3r, w3i): (f32, f32),
) -> [(f32, f32); 4] {
    let (t0r, t0i) = (ar + cr, ai + ci);
    let (t1r, t1i) = (ar - cr, ai - ci);
    let (t2r, t2i) = (br + dr, bi + di);
    // −i·(b − d)
    let (t3r, t3i) = (bi - di, dr - br);
    let (u1r, u1i) = (t1r + t3r, t1i + t3i);
    let (u2r, u2i) = (t0r - t2r, t0i - t2i);
    let (u3r, u3i) = (t1r - t3r, t1i - t3i);
    [
        (t0r + t2r, t0i + t2i),
        (u1r * w1r - u1i * w1i, u1r * w1i + u1i * w1r),
        (u2r * w2r - u2i * w2i, u2r * w2i + u2i * w2r),
        (u3r * w3r - u3i * w3i, u3r * w3i + u3i * w3r),
    ]
}

/// The first pass (runs of one element): vectorised across p, whose twiddles are contiguous,
/// with the four outputs of each butterfly interleaved. `load(j)` gives input j.
#[inline(always)]
fn radix4_first_pass(
    m: usize,
    w_re: &[f32],
    w_im: &[f32],
    load: impl Fn(usize) -> (f32, f32),
    y_re: &mut [f32],
    y_im: &mut [f32],
) {
    let (w1_re, rest) = w_re.split_at(m);
    let (w2_re, w3_re) = rest.split_at(m);
    let (w1_im, rest) = w_im.split_at(m);
    let (w2_im, w3_im) = rest.split_at(m);
    let out = y_re.chunks_exact_mut(4).zip(y_im.chunks_exact_mut(4));
    for (p, (o_re, o_im)) in out.enumerate().take(m) {
        let y = butterfly(
            load(p),
            load(p + m),
            load(p + 2 * m),
            load(p + 3 * m),
            (w1_re[p], w1_im[p]),
            (w2_re[p], w2_im[p]),
            (w3_re[p], w3_im[p]),
        );
        for (t, (re, im)) in y.into_iter().enumerate() {
            o_re[t] = re;
            o_im[t] = im;
        }
    }
}

/// One radix-4 decimation-in-frequency Stockham pass from `x` to `y`.
#[inline(always)]
fn radix4_pass(
    pass: &Pass,
    w_re: &[f32],
    w_im: &[f32],
    x_re: &[f32],
    x_im: &[f32],
    y_re: &mut [f32],
    y_im: &mut [f32],
) {
    let m = pass.quarter;
    let s = pass.stride;
    if s == 1 {
        radix4_first_pass(m, w_re, w_im, |j| (x_re[j], x_im[j]), y_re, y_im);
        return;
    }
    let (w1_re, rest_re) = w_re.split_at(m);
    let (w2_re, w3_re) = rest_re.split_at(m);
    let (w1_im, rest_im) = w_im.split_at(m);
    let (w2_im, w3_im) = rest_im.split_at(m);
    let (a_re, rest) = x_re.split_at(m * s);
    let (b_re, rest) = rest.split_at(m * s);
    let (c_re, d_re) = rest.split_at(m * s);
    let (a_im, rest) = x_im.split_at(m * s);
    let (b_im, rest) = rest.split_at(m * s);
    let (c_im, d_im) = rest.split_at(m * s);
    let out_re = y_re.chunks_exact_mut(4 * s);
    let out_im = y_im.chunks_exact_mut(4 * s);
    for (p, (o_re, o_im)) in out_re.zip(out_im).enumerate() {
        let w1 = (w1_re[p], w1_im[p]);
        let w2 = (w2_re[p], w2_im[p]);
        let w3 = (w3_re[p], w3_im[p]);
        let run = p * s..(p + 1) * s;
        let (ar, ai) = (&a_re[run.clone()], &a_im[run.clone()]);
        let (br, bi) = (&b_re[run.clone()], &b_im[run.clone()]);
        let (cr, ci) = (&c_re[run.clone()], &c_im[run.clone()]);
        let (dr, di) = (&d_re[run.clone()], &d_im[run]);
        let (o0r, rest) = o_re.split_at_mut(s);
        let (o1r, rest) = rest.split_at_mut(s);
        let (o2r, o3r) = rest.split_at_mut(s);
        let (o0i, rest) = o_im.split_at_mut(s);
        let (o1i, rest) = rest.split_at_mut(s);
        let (o2i, o3i) = rest.split_at_mut(s);
        for q in 0..s {
            let [y0, y1, y2, y3] = butterfly(
                (ar[q], ai[q]),
                (br[q], bi[q]),
                (cr[q], ci[q]),
                (dr[q], di[q]),
                w1,
                w2,
                w3,
            );
            (o0r[q], o0i[q]) = y0;
            (o1r[q], o1i[q]) = y1;
            (o2r[q], o2i[q]) = y2;
            (o3r[q], o3i[q]) = y3;
        }
    }
}

/// The last pass when log2(n) is odd: two-point DFTs across the two halves, unit twiddles.
#[inline(always)]
fn radix2_last_pass(half: usize, x_re: &[f32], x_im: &[f32], y_re: &mut [f32], y_im: &mut [f32]) {
    let (a_re, b_re) = x_re.split_at(half);
    let (a_im, b_im) = x_im.split_at(half);
    let (lo_re, hi_re) = y_re.split_at_mut(half);
    let (lo_im, hi_im) = y_im.split_at_mut(half);
    for q in 0..half {
        lo_re[q] = a_re[q] + b_re[q];
        hi_re[q] = a_re[q] - b_re[q];
        lo_im[q] = a_im[q] + b_im[q];
        hi_im[q] = a_im[q] - b_im[q];
    }
}

/// Splits Z = FFT(a + i·b) of two real signals a and b into their half spectra A[k] and B[k],
/// k in 0..=n/2, using A[k] = (Z[k] + conj Z[n−k]) / 2 and B[k] = (Z[k] − conj Z[n−k]) / 2i.
/// One complex FFT thus transforms two channels (or two frames) at once.
pub fn split_two_real(
    z_re: &[f32],
    z_im: &[f32],
    a_re: &mut [f32],
    a_im: &mut [f32],
    b_re: &mut [f32],
    b_im: &mut [f32],
) {
    let n = z_re.len();
    let half = n / 2;
    assert!(n >= 2 && z_im.len() == n);
    assert!(a_re.len() > half && a_im.len() > half && b_re.len() > half && b_im.len() > half);
    a_re[0] = z_re[0];
    a_im[0] = 0.0;
    b_re[0] = z_im[0];
    b_im[0] = 0.0;
    a_re[half] = z_re[half];
    a_im[half] = 0.0;
    b_re[half] = z_im[half];
    b_im[half] = 0.0;
    // Index k pairs with n − k; the mirrored run is walked backwards so both stay contiguous.
    let fwd_re = &z_re[1..half];
    let fwd_im = &z_im[1..half];
    let mirror_re = z_re[half + 1..].iter().rev();
    let mirror_im = z_im[half + 1..].iter().rev();
    let out = a_re[1..half]
        .iter_mut()
        .zip(a_im[1..half].iter_mut())
        .zip(b_re[1..half].iter_mut().zip(b_im[1..half].iter_mut()));
    for ((((ar, ai), (br, bi)), (&zr, &zi)), (&mr, &mi)) in out
        .zip(fwd_re.iter().zip(fwd_im))
        .zip(mirror_re.zip(mirror_im))
    {
        *ar = 0.5 * (zr + mr);
        *ai = 0.5 * (zi - mi);
        *br = 0.5 * (zi + mi);
        *bi = 0.5 * (mr - zr);
    }
}

/// A real-input FFT of size n computed with a complex FFT of size n/2 (even samples as the real
/// part, odd samples as the imaginary part, then one butterfly pass to separate them): about
/// half the work of a complex transform of the same length.
#[derive(Debug, Clone)]
pub struct RealFftPlan {
    n: usize,
    half: FftPlan,
    /// e^(−2πik/n) for k in 0..=n/2.
    twiddle_re: Vec<f32>,
    twiddle_im: Vec<f32>,
    z_re: Vec<f32>,
    z_im: Vec<f32>,
}

impl RealFftPlan {
    /// A plan for real input of size `n`, a power of two ≥ 2.
    ///
    /// # Panics
    /// If `n` is not a power of two or is 1.
    pub fn new(n: usize) -> Self {
        assert!(
            n >= 2 && n.is_power_of_two(),
            "real FFT size {n} is not a power of two ≥ 2"
        );
        let half = n / 2;
        let (twiddle_re, twiddle_im) = (0..=half)
            .map(|k| {
                let angle = -2.0 * PI * k as f64 / n as f64;
                (angle.cos() as f32, angle.sin() as f32)
            })
            .unzip();
        RealFftPlan {
            n,
            half: FftPlan::new(half),
            twiddle_re,
            twiddle_im,
            z_re: vec![0.0; half],
            z_im: vec![0.0; half],
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Forward transform of `input` (length n) into the half spectrum `out_re`, `out_im`
    /// (length n/2 + 1; bins 0 and n/2 have zero imaginary parts).
    pub fn forward(&mut self, input: &[f32], out_re: &mut [f32], out_im: &mut [f32]) {
        let h = self.n / 2;
        assert!(input.len() == self.n && out_re.len() == h + 1 && out_im.len() == h + 1);
        for ((zr, zi), pair) in self
            .z_re
            .iter_mut()
            .zip(self.z_im.iter_mut())
            .zip(input.chunks_exact(2))
        {
            *zr = pair[0];
            *zi = pair[1];
        }
        self.half.forward(&mut self.z_re, &mut self.z_im);
        // Bins 0 and n/2: the sums of the even and odd samples' DC terms.
        let (a, b) = (self.z_re[0], self.z_im[0]);
        out_re[0] = a + b;
        out_im[0] = 0.0;
        out_re[h] = a - b;
        out_im[h] = 0.0;
        // Bin k pairs Z[k] with Z[h−k]; the mirrored run is walked backwards.
        let mirror = self.z_re[1..h]
            .iter()
            .rev()
            .zip(self.z_im[1..h].iter().rev());
        let fwd = self.z_re[1..h].iter().zip(&self.z_im[1..h]);
        let twiddles = self.twiddle_re[1..h].iter().zip(&self.twiddle_im[1..h]);
        let out = out_re[1..h].iter_mut().zip(out_im[1..h].iter_mut());
        for ((((xr, xi), (&w_re, &w_im)), (&a, &b)), (&c, &d)) in
            out.zip(twiddles).zip(fwd).zip(mirror)
        {
            // Even-sample spectrum E and odd-sample spectrum O, then X = E + W^k·O.
            let (e_re, e_im) = (0.5 * (a + c), 0.5 * (b - d));
            let (o_re, o_im) = (0.5 * (b + d), 0.5 * (c - a));
            *xr = e_re + w_re * o_re - w_im * o_im;
            *xi = e_im + w_re * o_im + w_im * o_re;
        }
    }

    /// Inverse of [`forward`](Self::forward) from a half spectrum (length n/2 + 1; the
    /// imaginary parts of bins 0 and n/2 are ignored), unnormalised: `output` (length n) is n
    /// times the true inverse.
    pub fn inverse(&mut self, in_re: &[f32], in_im: &[f32], output: &mut [f32]) {
        let h = self.n / 2;
        assert!(in_re.len() == h + 1 && in_im.len() == h + 1 && output.len() == self.n);
        // Twice E = X[k] + conj X[h−k], twice O = (X[k] − conj X[h−k])·conj(W^k), Z = E + i·O;
        // the factor two makes the half-size inverse come out n (not n/2) times too large.
        let (x0, xh) = (in_re[0], in_re[h]);
        self.z_re[0] = x0 + xh;
        self.z_im[0] = x0 - xh;
        let mirror = in_re[1..h].iter().rev().zip(in_im[1..h].iter().rev());
        let fwd = in_re[1..h].iter().zip(&in_im[1..h]);
        let twiddles = self.twiddle_re[1..h].iter().zip(&self.twiddle_im[1..h]);
        let out = self.z_re[1..h].iter_mut().zip(self.z_im[1..h].iter_mut());
        for ((((zr, zi), (&w_re, &w_im)), (&a, &b)), (&c, &neg_d)) in
            out.zip(twiddles).zip(fwd).zip(mirror)
        {
            let d = -neg_d;
            let (e_re, e_im) = (a + c, b + d);
            let (t_re, t_im) = (a - c, b - d);
            let (o_re, o_im) = (t_re * w_re + t_im * w_im, t_im * w_re - t_re * w_im);
            *zr = e_re - o_im;
            *zi = e_im + o_re;
        }
        self.half.inverse(&mut self.z_re, &mut self.z_im);
        for ((&zr, &zi), pair) in self
            .z_re
            .iter()
            .zip(self.z_im.iter())
            .zip(output.chunks_exact_mut(2))
        {
            pair[0] = zr;
            pair[1] = zi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten-line xorshift64* PRNG: reproducible random input without dependencies.
    struct XorShift(u64);
    impl XorShift {
        fn next_f32(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32) * 2.0
                - 1.0
        }
    }

    fn naive_dft(re: &[f32], im: &[f32], sign: f64) -> (Vec<f64>, Vec<f64>) {
        let n = re.len();
        let mut out_re = vec![0.0; n];
        let mut out_im = vec![0.0; n];
        for k in 0..n {
            let (mut sr, mut si) = (0.0f64, 0.0f64);
            for j in 0..n {
                // Reduce jk mod n first so the angle stays exact in f64.
                let angle = sign * 2.0 * PI * ((j * k) % n) as f64 / n as f64;
                let (s, c) = angle.sin_cos();
                sr += re[j] as f64 * c - im[j] as f64 * s;
                si += re[j] as f64 * s + im[j] as f64 * c;
            }
            out_re[k] = sr;
            out_im[k] = si;
        }
        (out_re, out_im)
    }

    /// Compares an FFT result with the f64 reference. An f32 FFT's rounding adds about
    /// ε = 2⁻²⁴ of the spectrum's rms per pass, so 2·ε·(1 + log2 n)·rms(X) bounds it (the worst
    /// error seen is under half of that), while an indexing or twiddle bug errs by O(rms).
    fn check(what: &str, log2: u32, seed: u64, re: &[f32], im: &[f32], want: (&[f64], &[f64])) {
        let (want_re, want_im) = want;
        let bins = re.len();
        let rms = (want_re[..bins].iter().zip(&want_im[..bins]))
            .map(|(r, i)| r * r + i * i)
            .sum::<f64>()
            .sqrt()
            / (bins as f64).sqrt();
        let unit_roundoff = f32::EPSILON as f64 / 2.0;
        let tol = 2.0 * unit_roundoff * (1.0 + log2 as f64) * rms;
        for k in 0..bins {
            let err = (re[k] as f64 - want_re[k]).hypot(im[k] as f64 - want_im[k]);
            assert!(
                err <= tol,
                "{what} n={} k={k} err={err:.3e} tol={tol:.3e} seed={seed:#x}",
                1 << log2
            );
        }
    }

    #[test]
    fn forward_and_inverse_match_naive_dft() {
        for log2 in 0..=11 {
            let n = 1usize << log2;
            let seed = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
            let mut rng = XorShift(seed);
            let re: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
            let im: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
            let mut plan = FftPlan::new(n);
            for (sign, inverse) in [(-1.0, false), (1.0, true)] {
                let (want_re, want_im) = naive_dft(&re, &im, sign);
                let (mut got_re, mut got_im) = (re.clone(), im.clone());
                if inverse {
                    plan.inverse(&mut got_re, &mut got_im);
                } else {
                    plan.forward(&mut got_re, &mut got_im);
                }
                let what = if inverse { "inverse" } else { "forward" };
                check(what, log2, seed, &got_re, &got_im, (&want_re, &want_im));
            }
            // The windowed entry point must equal the transform of (a + i·b)·w.
            let window: Vec<f32> = (0..n).map(|_| rng.next_f32().abs()).collect();
            let (win_re, win_im): (Vec<f32>, Vec<f32>) = (0..n)
                .map(|j| (re[j] * window[j], im[j] * window[j]))
                .unzip();
            let (want_re, want_im) = naive_dft(&win_re, &win_im, -1.0);
            let (got_re, got_im) = plan.forward_windowed_pair(&re, &im, &window);
            check("windowed", log2, seed, got_re, got_im, (&want_re, &want_im));
        }
    }

    #[test]
    fn real_fft_and_two_real_split_match_naive_dft() {
        for log2 in 1..=11 {
            let n = 1usize << log2;
            let seed = 0xD1B5_4A32_D192_ED03u64 ^ n as u64;
            let mut rng = XorShift(seed);
            let a: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
            let zeros = vec![0.0f32; n];
            let (want_a_re, want_a_im) = naive_dft(&a, &zeros, -1.0);
            let (want_b_re, want_b_im) = naive_dft(&b, &zeros, -1.0);
            let want_a = (&want_a_re[..], &want_a_im[..]);
            let want_b = (&want_b_re[..], &want_b_im[..]);
            let half = n / 2;

            let mut real = RealFftPlan::new(n);
            let (mut x_re, mut x_im) = (vec![0.0; half + 1], vec![0.0; half + 1]);
            real.forward(&a, &mut x_re, &mut x_im);
            check("real forward", log2, seed, &x_re, &x_im, want_a);
            let mut back = vec![0.0; n];
            real.inverse(&x_re, &x_im, &mut back);
            let back: Vec<f32> = back.iter().map(|&v| v / n as f32).collect();
            let a_f64: Vec<f64> = a.iter().map(|&v| v as f64).collect();
            // Same bound for the round trip, in the time domain (two transforms' worth).
            check(
                "real round trip",
                log2 + 1,
                seed,
                &back,
                &zeros,
                (&a_f64, &vec![0.0; n]),
            );

            let mut plan = FftPlan::new(n);
            let (mut z_re, mut z_im) = (a.clone(), b.clone());
            plan.forward(&mut z_re, &mut z_im);
            let mut spectra = vec![vec![0.0f32; half + 1]; 4];
            let [ar, ai, br, bi] = &mut spectra[..] else {
                unreachable!()
            };
            split_two_real(&z_re, &z_im, ar, ai, br, bi);
            check("split a", log2, seed, ar, ai, want_a);
            check("split b", log2, seed, br, bi, want_b);
        }
    }

    #[test]
    fn every_simd_build_gives_the_same_bits() {
        // The passes compiled for each SIMD width the CPU has, against the baseline build, for
        // both entry points and for sizes with and without the final radix-2 pass.
        for log2 in [2u32, 3, 7, 10, 11, 14] {
            let n = 1usize << log2;
            let mut rng = XorShift(0xfeed ^ n as u64);
            let re: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
            let im: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
            let window: Vec<f32> = (0..n).map(|_| rng.next_f32().abs()).collect();
            let run = |simd: Simd| {
                let mut plan = FftPlan::new(n);
                plan.simd = simd;
                let (mut r, mut i) = (re.clone(), im.clone());
                plan.forward(&mut r, &mut i);
                let (wr, wi) = plan.forward_windowed_pair(&re, &im, &window);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                (bits(&r), bits(&i), bits(wr), bits(wi))
            };
            let baseline = run(Simd::Baseline);
            for simd in Simd::available().into_iter().skip(1) {
                assert!(
                    run(simd) == baseline,
                    "n = {n}: {simd:?} differs from the baseline"
                );
            }
        }
    }
}
