//! Converts dsp-core's reports into plain JS objects with the field names of the TypeScript
//! types in `native-dsp/index.d.ts` (camelCase, units in the names, null for undefined values).

use crate::js::{Env, JsResult};
use crate::sys::napi_value;
use dsp_core::analyzer::AnalysisReport;
use dsp_core::loudness::LoudnessReport;
use dsp_core::qc::QcFinding;
use dsp_core::spectral::SpectralReport;
use dsp_core::timedomain::TimeDomainReport;

fn series(e: Env, values: &[Option<f64>]) -> JsResult<napi_value> {
    // NaN marks undefined points in a Float32Array (silence), documented in index.d.ts.
    let v: Vec<f32> = values
        .iter()
        .map(|x| x.map(|v| v as f32).unwrap_or(f32::NAN))
        .collect();
    e.f32_array(&v)
}

fn loudness(e: Env, r: &LoudnessReport) -> JsResult<napi_value> {
    let o = e.object()?;
    e.set(o, "integratedLufs", e.opt_number(r.integrated_lufs)?)?;
    e.set(o, "loudnessRangeLu", e.opt_number(r.loudness_range_lu)?)?;
    e.set(
        o,
        "loudnessRangeLowLufs",
        e.opt_number(r.loudness_range_low_lufs)?,
    )?;
    e.set(
        o,
        "loudnessRangeHighLufs",
        e.opt_number(r.loudness_range_high_lufs)?,
    )?;
    e.set(o, "momentaryMaxLufs", e.opt_number(r.momentary_max_lufs)?)?;
    e.set(o, "shortTermMaxLufs", e.opt_number(r.short_term_max_lufs)?)?;
    e.set(o, "relativeGateLufs", e.opt_number(r.relative_gate_lufs)?)?;
    e.set(o, "momentarySeries", series(e, &r.momentary_series)?)?;
    e.set(o, "shortTermSeries", series(e, &r.short_term_series)?)?;
    e.set(o, "seriesIntervalSeconds", e.number(0.1)?)?;
    e.set(
        o,
        "evaluationIntervalSeconds",
        e.number(r.evaluation_interval_seconds)?,
    )?;
    e.set(
        o,
        "shortTermHistogram",
        e.u32_array(&r.short_term_histogram)?,
    )?;
    e.set(
        o,
        "shortTermHistogramMinLufs",
        e.number(dsp_core::loudness::HISTOGRAM_MIN_LUFS)?,
    )?;
    let [p10, p50, p95] = r.short_term_percentiles_lufs;
    let p = e.object()?;
    e.set(p, "p10", e.opt_number(p10)?)?;
    e.set(p, "p50", e.opt_number(p50)?)?;
    e.set(p, "p95", e.opt_number(p95)?)?;
    e.set(o, "shortTermPercentilesLufs", p)?;
    Ok(o)
}

pub fn finding(e: Env, f: &QcFinding) -> JsResult<napi_value> {
    let o = e.object()?;
    e.set(o, "kind", e.string(f.kind)?)?;
    e.set(o, "severity", e.string(f.severity.as_str())?)?;
    e.set(o, "startSeconds", e.number(f.start_seconds)?)?;
    e.set(o, "endSeconds", e.number(f.end_seconds)?)?;
    e.set(o, "channel", e.opt_number(f.channel.map(|c| c as f64))?)?;
    e.set(o, "message", e.string(&f.message)?)?;
    Ok(o)
}

fn opt_list(e: Env, values: &[Option<f64>]) -> JsResult<napi_value> {
    e.array_of(values.iter(), |v| e.opt_number(*v))
}

fn time_domain(e: Env, t: &TimeDomainReport) -> JsResult<napi_value> {
    let o = e.object()?;
    e.set(o, "rmsDbfs", e.opt_number(t.rms_dbfs)?)?;
    e.set(o, "crestFactorDb", e.opt_number(t.crest_factor_db)?)?;
    e.set(o, "zeroCrossingRateHz", e.number(t.zero_crossing_rate_hz)?)?;
    e.set(
        o,
        "leadingSilenceSeconds",
        e.number(t.leading_silence_seconds)?,
    )?;
    e.set(
        o,
        "trailingSilenceSeconds",
        e.number(t.trailing_silence_seconds)?,
    )?;
    let channels = e.array_of(t.channels.iter(), |c| {
        let co = e.object()?;
        e.set(co, "rmsDbfs", e.opt_number(c.rms_dbfs)?)?;
        e.set(co, "samplePeakDbfs", e.opt_number(c.sample_peak_dbfs)?)?;
        e.set(co, "dcOffset", e.number(c.dc_offset)?)?;
        e.set(co, "crestFactorDb", e.opt_number(c.crest_factor_db)?)?;
        e.set(co, "zeroCrossingRateHz", e.number(c.zero_crossing_rate_hz)?)?;
        Ok(co)
    })?;
    e.set(o, "channels", channels)?;
    let stereo = match &t.stereo {
        None => e.null()?,
        Some(s) => {
            let so = e.object()?;
            e.set(so, "correlation", e.opt_number(s.correlation)?)?;
            e.set(so, "sideToMidDb", e.opt_number(s.side_to_mid_db)?)?;
            e.set(
                so,
                "monoCompatibilityLossDb",
                e.opt_number(s.mono_compatibility_loss_db)?,
            )?;
            e.set(so, "correlationSeries", e.f32_array(&s.correlation_series)?)?;
            e.set(
                so,
                "correlationSeriesIntervalSeconds",
                e.number(s.width_series_interval_seconds)?,
            )?;
            so
        }
    };
    e.set(o, "stereo", stereo)?;
    Ok(o)
}

fn spectral(e: Env, s: &SpectralReport) -> JsResult<napi_value> {
    let o = e.object()?;
    let bands = e.array_of(s.third_octave.iter(), |b| {
        let bo = e.object()?;
        e.set(bo, "hz", e.number(b.nominal_hz)?)?;
        e.set(bo, "centreHz", e.number(b.centre_hz)?)?;
        e.set(bo, "lowHz", e.number(b.low_hz)?)?;
        e.set(bo, "highHz", e.number(b.high_hz)?)?;
        e.set(bo, "db", e.opt_number(b.db)?)?;
        Ok(bo)
    })?;
    e.set(o, "thirdOctave", bands)?;
    let hz: Vec<f32> = s.curve.iter().map(|p| p.0 as f32).collect();
    let db: Vec<f32> = s.curve.iter().map(|p| p.1 as f32).collect();
    let curve = e.object()?;
    e.set(curve, "hz", e.f32_array(&hz)?)?;
    e.set(curve, "db", e.f32_array(&db)?)?;
    e.set(o, "curve", curve)?;
    e.set(o, "sideToMidDb", opt_list(e, &s.side_to_mid_db)?)?;
    e.set(
        o,
        "spectralCentroidHz",
        e.opt_number(s.spectral_centroid_hz)?,
    )?;
    e.set(o, "rolloffHz", e.opt_number(s.rolloff_hz)?)?;
    e.set(o, "harmonicToNoiseDb", e.opt_number(s.hnr_db)?)?;
    e.set(o, "cutoffHz", e.opt_number(s.cutoff_hz)?)?;
    let g = &s.spectrogram;
    let sg = e.object()?;
    e.set(sg, "columns", e.number(g.columns as f64)?)?;
    e.set(sg, "rows", e.number(g.rows as f64)?)?;
    let row_hz: Vec<f32> = g.row_hz.iter().map(|&v| v as f32).collect();
    e.set(sg, "rowHz", e.f32_array(&row_hz)?)?;
    e.set(sg, "secondsPerColumn", e.number(g.seconds_per_column)?)?;
    e.set(sg, "db", e.f32_array(&g.db)?)?;
    e.set(o, "spectrogram", sg)?;
    Ok(o)
}

pub fn analysis(e: Env, r: &AnalysisReport) -> JsResult<napi_value> {
    let o = e.object()?;
    e.set(o, "sampleRate", e.number(r.sample_rate)?)?;
    e.set(o, "channels", e.number(r.channels as f64)?)?;
    e.set(o, "frames", e.number(r.frames as f64)?)?;
    e.set(o, "durationSeconds", e.number(r.duration_seconds)?)?;
    let l = loudness(e, &r.loudness)?;
    e.set(l, "truePeakDbtp", e.opt_number(r.true_peak_dbtp)?)?;
    e.set(l, "samplePeakDbfs", e.opt_number(r.sample_peak_dbfs)?)?;
    e.set(l, "plrDb", e.opt_number(r.plr_db)?)?;
    e.set(
        l,
        "channelTruePeakDbtp",
        opt_list(e, &r.channel_true_peak_dbtp)?,
    )?;
    e.set(
        l,
        "channelSamplePeakDbfs",
        opt_list(e, &r.channel_sample_peak_dbfs)?,
    )?;
    e.set(
        l,
        "truePeakOversampling",
        e.number(r.true_peak_oversampling as f64)?,
    )?;
    e.set(o, "loudness", l)?;
    e.set(o, "timeDomain", time_domain(e, &r.time_domain)?)?;
    e.set(o, "spectral", spectral(e, &r.spectral)?)?;
    e.set(o, "qc", e.array_of(r.findings.iter(), |f| finding(e, f))?)?;
    Ok(o)
}
