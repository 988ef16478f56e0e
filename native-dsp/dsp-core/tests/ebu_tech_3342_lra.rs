//! EBU Tech 3342 loudness-range cases 1–4 (stereo 1 kHz tone sequences), at 44.1, 48 and 96 kHz.
//! Tolerance: the Tech's ±1 LU. Cases 5 and 6 are real programmes and cannot be synthesised.

mod common;
use common::*;
use dsp_core::loudness::{ChannelRole, LoudnessMeter};

/// (level in dBFS or silence, seconds) segments of a 1 kHz tone.
type Segments = &'static [(Option<f64>, f64)];

#[test]
fn cases_1_to_4() {
    let cases: [(Segments, f64); 4] = [
        (&[(Some(-20.0), 20.0), (Some(-30.0), 20.0)], 10.0),
        (&[(Some(-20.0), 20.0), (Some(-15.0), 20.0)], 5.0),
        (&[(Some(-40.0), 20.0), (Some(-20.0), 20.0)], 20.0),
        (
            &[
                (Some(-50.0), 20.0),
                (Some(-35.0), 20.0),
                (Some(-20.0), 20.0),
                (Some(-35.0), 20.0),
                (Some(-50.0), 20.0),
            ],
            15.0,
        ),
    ];
    for fs in [44_100.0, 48_000.0, 96_000.0] {
        for (i, (segments, expected)) in cases.iter().enumerate() {
            let mono = tone_sequence(fs, segments);
            let planes = vec![mono.clone(), mono];
            let mut m = LoudnessMeter::new(fs, &ChannelRole::from_names(&["FL", "FR"])).unwrap();
            in_blocks(&planes, 4096, |b| m.process(b).unwrap());
            let r = m.report();
            assert_near(
                r.loudness_range_lu,
                *expected,
                1.0,
                &format!("3342 case {} at {fs}", i + 1),
            );
        }
    }
}
