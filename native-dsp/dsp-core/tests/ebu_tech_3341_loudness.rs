//! EBU Tech 3341 (2016/2023) minimum-requirement cases 1–6 and 9–14, synthesised here as the
//! Tech describes its test signals, at 44.1, 48 and 96 kHz. Tolerance: the Tech's ±0.1 LU.
//! Cases 7 and 8 are recordings of real programmes and cannot be synthesised.

mod common;
use common::*;
use dsp_core::loudness::{ChannelRole, LoudnessMeter, LoudnessReport};

const RATES: [f64; 3] = [44_100.0, 48_000.0, 96_000.0];
const TOL: f64 = 0.1;

fn stereo(fs: f64, segments: &[(Option<f64>, f64)]) -> Vec<Vec<f32>> {
    let mono = tone_sequence(fs, segments);
    vec![mono.clone(), mono]
}

fn measure(fs: f64, planes: &[Vec<f32>], roles: &[ChannelRole]) -> LoudnessReport {
    let mut meter = LoudnessMeter::new(fs, roles).unwrap();
    in_blocks(planes, 4096, |b| meter.process(b).unwrap());
    meter.report()
}

fn stereo_roles() -> Vec<ChannelRole> {
    ChannelRole::from_names(&["FL", "FR"])
}

#[test]
fn case_1_and_2_steady_tones() {
    for fs in RATES {
        for level in [-23.0, -33.0] {
            let r = measure(fs, &stereo(fs, &[(Some(level), 20.0)]), &stereo_roles());
            assert_near(r.integrated_lufs, level, TOL, &format!("I at {fs}"));
            assert_near(r.momentary_max_lufs, level, TOL, &format!("max M at {fs}"));
            assert_near(r.short_term_max_lufs, level, TOL, &format!("max S at {fs}"));
        }
    }
}

#[test]
fn cases_3_to_5_gating() {
    let cases: [&[(Option<f64>, f64)]; 3] = [
        &[
            (Some(-36.0), 10.0),
            (Some(-23.0), 60.0),
            (Some(-36.0), 10.0),
        ],
        &[
            (Some(-72.0), 10.0),
            (Some(-36.0), 10.0),
            (Some(-23.0), 60.0),
            (Some(-36.0), 10.0),
            (Some(-72.0), 10.0),
        ],
        &[
            (Some(-26.0), 20.0),
            (Some(-20.0), 20.1),
            (Some(-26.0), 20.0),
        ],
    ];
    for fs in RATES {
        for (i, case) in cases.iter().enumerate() {
            let r = measure(fs, &stereo(fs, case), &stereo_roles());
            assert_near(
                r.integrated_lufs,
                -23.0,
                TOL,
                &format!("case {} at {fs}", i + 3),
            );
        }
    }
}

#[test]
fn case_6_five_channels_and_5_1_with_lfe_excluded() {
    for fs in RATES {
        // L and R at −28 dBFS, C at −24 dBFS, Ls and Rs at −30 dBFS.
        let front = tone_sequence(fs, &[(Some(-28.0), 20.0)]);
        let centre = tone_sequence(fs, &[(Some(-24.0), 20.0)]);
        let surround = tone_sequence(fs, &[(Some(-30.0), 20.0)]);
        let five = vec![
            front.clone(),
            front.clone(),
            centre.clone(),
            surround.clone(),
            surround.clone(),
        ];
        let r = measure(
            fs,
            &five,
            &ChannelRole::from_names(&["FL", "FR", "FC", "BL", "BR"]),
        );
        assert_near(r.integrated_lufs, -23.0, TOL, &format!("5.0 at {fs}"));
        // 5.1(side): a full-scale LFE must not count.
        let lfe = tone_sequence(fs, &[(Some(0.0), 20.0)]);
        let six = vec![
            front.clone(),
            front,
            centre,
            lfe,
            surround.clone(),
            surround,
        ];
        let r = measure(
            fs,
            &six,
            &ChannelRole::from_names(&["FL", "FR", "FC", "LFE", "SL", "SR"]),
        );
        assert_near(r.integrated_lufs, -23.0, TOL, &format!("5.1 at {fs}"));
    }
}

#[test]
fn mono_reads_one_channel_at_weight_one() {
    // BS.1770: a mono programme is one channel of weight 1.0, so it reads 3.01 dB below the same
    // signal on both channels of a stereo file.
    for fs in RATES {
        let mono = vec![tone_sequence(fs, &[(Some(-20.0), 10.0)])];
        let r = measure(fs, &mono, &ChannelRole::from_names(&["FC"]));
        assert_near(r.integrated_lufs, -23.01, TOL, &format!("mono at {fs}"));
    }
}

#[test]
fn case_9_short_term_constant_after_3_s() {
    for fs in RATES {
        let mut seg = Vec::new();
        for _ in 0..20 {
            seg.push((Some(-20.0), 1.34));
            seg.push((Some(-30.0), 1.66));
        }
        let r = measure(fs, &stereo(fs, &seg), &stereo_roles());
        for (i, s) in r.short_term_series.iter().enumerate() {
            assert_near(*s, -23.0, TOL, &format!("S[{i}] at {fs}"));
        }
    }
}

#[test]
fn case_12_momentary_constant_after_1_s() {
    for fs in RATES {
        let mut seg = Vec::new();
        for _ in 0..25 {
            seg.push((Some(-20.0), 0.18));
            seg.push((Some(-30.0), 0.22));
        }
        let r = measure(fs, &stereo(fs, &seg), &stereo_roles());
        // momentary_series[i] is the window ending at 0.4 + 0.1 i s; from 1 s on.
        for (i, m) in r.momentary_series.iter().enumerate().skip(6) {
            assert_near(*m, -23.0, TOL, &format!("M[{i}] at {fs}"));
        }
    }
}

/// Offsets that fall between any plausible evaluation grid points (not multiples of 1 ms).
fn awkward_offset(k: usize) -> f64 {
    0.5 + k as f64 * 0.0137 + (k % 3) as f64 * 0.0011
}

#[test]
fn case_10_and_13_maxima_of_bursts_at_any_offset() {
    for fs in RATES {
        for k in 1..=20 {
            // Case 10: a 3 s burst at −23 LUFS; case 13: a 400 ms burst at −23 LUFS.
            for (burst, which) in [(3.0, "S"), (0.4, "M")] {
                let planes = stereo(
                    fs,
                    &[(None, awkward_offset(k)), (Some(-23.0), burst), (None, 1.0)],
                );
                let r = measure(fs, &planes, &stereo_roles());
                let value = if which == "S" {
                    r.short_term_max_lufs
                } else {
                    r.momentary_max_lufs
                };
                assert_near(
                    value,
                    -23.0,
                    TOL,
                    &format!("max {which}, file {k}, at {fs}"),
                );
            }
        }
    }
}

#[test]
fn case_11_and_14_successive_maxima() {
    for fs in RATES {
        // Case 11: 6 s segments holding a 3 s burst at −38 … −19 LUFS; case 14: 800 ms segments
        // holding a 400 ms burst. Each segment is fed as one block and the maxima taken after it.
        for (segment, burst, which) in [(6.0, 3.0, "S"), (0.8, 0.4, "M")] {
            let mut meter = LoudnessMeter::new(fs, &stereo_roles()).unwrap();
            for k in 0..20 {
                let level = -38.0 + k as f64;
                let lead = (segment - burst) * (0.2 + 0.03 * k as f64);
                let planes = stereo(
                    fs,
                    &[
                        (None, lead),
                        (Some(level), burst),
                        (None, segment - burst - lead),
                    ],
                );
                in_blocks(&planes, usize::MAX, |b| meter.process(b).unwrap());
                let (m, s) = meter.take_interval_maxima();
                let value = if which == "S" { s } else { m };
                assert_near(
                    value,
                    level,
                    TOL,
                    &format!("max {which} of segment {k} at {fs}"),
                );
            }
        }
    }
}

#[test]
fn silence_and_short_input_are_undefined_not_infinite() {
    let fs = 48_000.0;
    let r = measure(fs, &stereo(fs, &[(None, 5.0)]), &stereo_roles());
    assert_eq!(r.integrated_lufs, None);
    assert_eq!(r.loudness_range_lu, None);
    assert_eq!(r.momentary_max_lufs, None);
    let r = measure(fs, &stereo(fs, &[(Some(-20.0), 0.3)]), &stereo_roles());
    assert_eq!(r.integrated_lufs, None, "shorter than one 400 ms block");
    assert_eq!(r.short_term_max_lufs, None);
}

#[test]
fn block_size_invariance() {
    let fs = 44_100.0;
    let mut rng = Rng(0x1234_5678);
    let noise: Vec<f32> = (0..(fs as usize * 12))
        .map(|i| {
            let env = if (i / 20_000) % 3 == 0 { 0.05 } else { 0.5 };
            (rng.uniform() * env) as f32
        })
        .collect();
    let planes = vec![noise.clone(), noise.iter().rev().copied().collect()];
    let reference = {
        let mut m = LoudnessMeter::new(fs, &stereo_roles()).unwrap();
        in_blocks(&planes, 4096, |b| m.process(b).unwrap());
        m.report()
    };
    for block in [1, 7, 64, 1000] {
        let mut m = LoudnessMeter::new(fs, &stereo_roles()).unwrap();
        in_blocks(&planes, block, |b| m.process(b).unwrap());
        assert_eq!(m.report(), reference, "block size {block}");
    }
}
