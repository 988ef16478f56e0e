//! Which SIMD the CPU offers, for the processors whose hot loops come compiled for several widths
//! (limiter, saturator, true-peak meter): detected at run time, and each processor calls the
//! variant compiled for it. Rust never fuses `a + b * c` into an FMA instruction, so every
//! variant computes bit-identical results; the processors' tests compare them.

/// The widest SIMD the CPU has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Simd {
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Simd {
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }

    /// Every variant this CPU can run (the baseline first), for tests that compare them.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Simd> {
        let mut all = vec![Simd::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                all.push(Simd::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                all.push(Simd::Avx512);
            }
        }
        all
    }
}
