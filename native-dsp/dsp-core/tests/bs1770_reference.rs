//! The K-filter against the coefficients printed in ITU-R BS.1770 (48 kHz), and the whole meter
//! against a slow, direct f64 implementation of the Recommendation's formulas (no sub-blocks, no
//! running sums) at several sample rates.

mod common;
use common::*;
use dsp_core::biquad::BiquadCoefs;
use dsp_core::loudness::{k_weighting, ChannelRole, LoudnessMeter};

#[test]
fn k_filter_matches_the_published_48k_coefficients() {
    let [shelf, hp] = k_weighting(48_000.0);
    // BS.1770-4 Tables 1 and 2, printed to 14 decimals; our design reproduces them to ~1e-12.
    let expect = |name: &str, a: f64, b: f64| assert!((a - b).abs() < 1e-10, "{name}: {a} vs {b}");
    expect("shelf b0", shelf.b0, 1.53512485958697);
    expect("shelf b1", shelf.b1, -2.69169618940638);
    expect("shelf b2", shelf.b2, 1.19839281085285);
    expect("shelf a1", shelf.a1, -1.69065929318241);
    expect("shelf a2", shelf.a2, 0.73248077421585);
    expect("hp b0", hp.b0, 1.0);
    expect("hp b1", hp.b1, -2.0);
    expect("hp b2", hp.b2, 1.0);
    expect("hp a1", hp.a1, -1.99004745483398);
    expect("hp a2", hp.a2, 0.99007225036621);
}

#[test]
fn k_filter_response_is_the_same_curve_at_every_rate() {
    // Designed from the same analog prototype, the responses agree below 10 kHz within the
    // bilinear transform's warping (< 0.05 dB there at 44.1 kHz).
    let reference = k_weighting(48_000.0);
    for fs in [44_100.0, 88_200.0, 96_000.0, 192_000.0] {
        let k = k_weighting(fs);
        for hz in [20.0, 50.0, 100.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0] {
            let db =
                |c: &[BiquadCoefs; 2], f: f64| c[0].response_db(hz, f) + c[1].response_db(hz, f);
            let d = db(&k, fs) - db(&reference, 48_000.0);
            assert!(
                d.abs() < 0.05,
                "{hz} Hz at {fs}: {d} dB from the 48 kHz curve"
            );
        }
    }
}

/// Direct-form I over the whole signal in f64.
fn filter_df1(c: &BiquadCoefs, x: &[f64]) -> Vec<f64> {
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    x.iter()
        .map(|&x0| {
            let y0 = c.b0 * x0 + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
            x2 = x1;
            x1 = x0;
            y2 = y1;
            y1 = y0;
            y0
        })
        .collect()
}

/// BS.1770-4 integrated loudness and Tech 3342 LRA, straight from the formulas.
fn slow_reference(fs: f64, planes: &[Vec<f32>], coefs: [BiquadCoefs; 2]) -> (f64, f64) {
    let weighted: Vec<Vec<f64>> = planes
        .iter()
        .map(|p| {
            let x: Vec<f64> = p.iter().map(|&v| v as f64).collect();
            filter_df1(&coefs[1], &filter_df1(&coefs[0], &x))
        })
        .collect();
    let n = weighted[0].len();
    let block_loudness = |len: usize| -> Vec<f64> {
        let step = (0.1 * fs).round() as usize;
        let mut out = Vec::new();
        let mut start = 0;
        while start + len <= n {
            let z: f64 = weighted
                .iter()
                .map(|y| y[start..start + len].iter().map(|v| v * v).sum::<f64>() / len as f64)
                .sum();
            out.push(-0.691 + 10.0 * z.log10());
            start += step;
        }
        out
    };
    let mean_power =
        |ls: &[f64]| ls.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / ls.len() as f64;
    let m = block_loudness((0.4 * fs).round() as usize);
    let abs: Vec<f64> = m.iter().copied().filter(|&l| l > -70.0).collect();
    let gate = 10.0 * mean_power(&abs).log10() - 10.0;
    let rel: Vec<f64> = abs.into_iter().filter(|&l| l > gate).collect();
    let integrated = 10.0 * mean_power(&rel).log10();

    let s = block_loudness((3.0 * fs).round() as usize);
    let abs: Vec<f64> = s.into_iter().filter(|&l| l > -70.0).collect();
    let gate = 10.0 * mean_power(&abs).log10() - 20.0;
    let mut rel: Vec<f64> = abs.into_iter().filter(|&l| l > gate).collect();
    rel.sort_by(|a, b| a.total_cmp(b));
    let pick = |p: f64| rel[((rel.len() - 1) as f64 * p).round() as usize];
    (integrated, pick(0.95) - pick(0.10))
}

#[test]
fn meter_matches_the_slow_reference() {
    for (fs, seed) in [
        (48_000.0, 7u64),
        (44_100.0, 11),
        (96_000.0, 13),
        (32_000.0, 17),
    ] {
        let mut rng = Rng(seed);
        let frames = (fs * 20.0) as usize;
        // Noise with a slowly changing envelope so the gates and the LRA have work to do.
        let planes: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..frames)
                    .map(|i| {
                        let t = i as f64 / fs;
                        let env = db_to_amp(-45.0 + 40.0 * (0.5 + 0.5 * (t * 0.7).sin()));
                        (rng.uniform() * env) as f32
                    })
                    .collect()
            })
            .collect();
        // At 48 kHz the reference uses the Recommendation's printed coefficients.
        let coefs = if fs == 48_000.0 {
            [
                BiquadCoefs {
                    b0: 1.53512485958697,
                    b1: -2.69169618940638,
                    b2: 1.19839281085285,
                    a1: -1.69065929318241,
                    a2: 0.73248077421585,
                },
                BiquadCoefs {
                    b0: 1.0,
                    b1: -2.0,
                    b2: 1.0,
                    a1: -1.99004745483398,
                    a2: 0.99007225036621,
                },
            ]
        } else {
            k_weighting(fs)
        };
        let (integrated, lra) = slow_reference(fs, &planes, coefs);
        let mut meter = LoudnessMeter::new(fs, &ChannelRole::from_names(&["FL", "FR"])).unwrap();
        in_blocks(&planes, 1234, |b| meter.process(b).unwrap());
        let r = meter.report();
        // Same formulas in f64; only summation order and the 14-digit coefficients differ.
        assert_near(
            r.integrated_lufs,
            integrated,
            1e-4,
            &format!("integrated at {fs}"),
        );
        assert_near(r.loudness_range_lu, lra, 1e-4, &format!("LRA at {fs}"));
    }
}
