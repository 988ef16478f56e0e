//! lathe-dsp: the Node-API addon over dsp-core. No crate dependencies: the Node-API functions
//! are declared in `sys.rs` and wrapped safely in `js.rs`. The module is context-aware (no global
//! state), so it loads in the main thread and in any number of worker threads.

mod chain;
mod js;
mod report;
mod sys;

use js::{run, Env, JsError, JsResult};
use std::ffi::CString;
use std::ptr::null_mut;
use sys::*;

use dsp_core::analyzer::{deinterleave_f32le, Analyzer, AnalyzerOptions};
use dsp_core::chain::{Chain, OfflineRender};
use dsp_core::error::MAX_CHANNELS;
use dsp_core::limiter::LimiterParams;
use dsp_core::loudness::ChannelRole;
use dsp_core::targeting::TargetModel;

macro_rules! callback {
    ($name:ident => $body:path) => {
        unsafe extern "C" fn $name(env: napi_env, info: napi_callback_info) -> napi_value {
            run(env, info, $body)
        }
    };
}

fn version(e: Env, _info: napi_callback_info) -> JsResult<napi_value> {
    e.string(env!("CARGO_PKG_VERSION"))
}

/// deinterleave(bytes: Uint8Array, channels: number): Float32Array[]
fn deinterleave(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [bytes, channels] = e.args::<2>(info)?;
    let bytes = e.u8_slice(bytes, "bytes")?;
    let channels = e.read_usize(channels, "channels", MAX_CHANNELS)?;
    if channels == 0 {
        return Err(JsError::Range("channels must be at least 1".into()));
    }
    if bytes.len() % (4 * channels) != 0 {
        return Err(JsError::Range(format!(
            "{} bytes is not a whole number of {channels}-channel float frames",
            bytes.len()
        )));
    }
    let mut planes = vec![Vec::new(); channels];
    deinterleave_f32le(bytes, &mut planes);
    e.array_of(planes.iter(), |p| e.f32_array(p))
}

/// interleave(planes: Float32Array[]): Uint8Array — little-endian f32 frames (a float WAV's data).
fn interleave(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [planes] = e.args::<1>(info)?;
    let planes = e.read_array(planes, "planes")?;
    if planes.is_empty() || planes.len() > MAX_CHANNELS {
        return Err(JsError::Range(format!(
            "planes must hold 1 to {MAX_CHANNELS} channels, got {}",
            planes.len()
        )));
    }
    let slices = planes
        .iter()
        .map(|&p| e.f32_slice(p, "planes[]"))
        .collect::<JsResult<Vec<&[f32]>>>()?;
    if slices.iter().any(|s| s.len() != slices[0].len()) {
        return Err(JsError::Range(
            "planes must all have the same length".into(),
        ));
    }
    let mut bytes = Vec::new();
    interleave_f32le(&slices, &mut bytes);
    e.u8_array(&bytes)
}

/// analyzerCreate({ sampleRate, channelNames, spectrogramColumns?, spectrogramRows?, threads? })
fn analyzer_create(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [opts] = e.args::<1>(info)?;
    if e.type_of(opts)? != NAPI_OBJECT {
        return Err(JsError::Type("options must be an object".into()));
    }
    let sample_rate = e.read_f64(e.get(opts, "sampleRate")?, "sampleRate")?;
    let names = e.read_array(e.get(opts, "channelNames")?, "channelNames")?;
    let channel_names = names
        .into_iter()
        .map(|v| e.read_string(v, "channelNames[]"))
        .collect::<JsResult<Vec<String>>>()?;
    let optional = |name: &str, default: usize, max: usize| -> JsResult<usize> {
        let v = e.get(opts, name)?;
        if e.is_nullish(v)? {
            Ok(default)
        } else {
            e.read_usize(v, name, max)
        }
    };
    let options = AnalyzerOptions {
        channel_names,
        // The spectrogram merges its columns in pairs, so it needs an even count of at least 2.
        spectrogram_columns: (optional("spectrogramColumns", 1024, 16_384)? & !1).max(2),
        spectrogram_rows: optional("spectrogramRows", 160, 2048)?.max(2),
        threads: optional("threads", 2, 2)?.max(1),
        full: {
            let v = e.get(opts, "meters")?;
            if e.is_nullish(v)? {
                true
            } else {
                match e.read_string(v, "meters")?.as_str() {
                    "all" => true,
                    "loudness" => false,
                    other => {
                        return Err(JsError::Range(format!(
                            "meters must be \"all\" or \"loudness\", got {other:?}"
                        )))
                    }
                }
            }
        },
    };
    let analyzer = Analyzer::new(sample_rate, options)?;
    e.external(analyzer)
}

/// analyzerProcess(handle, planes: Float32Array[])
fn analyzer_process(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle, planes] = e.args::<2>(info)?;
    let analyzer = e.external_mut::<Analyzer>(handle, "handle")?;
    let planes = e.read_array(planes, "planes")?;
    let slices = planes
        .iter()
        .map(|&p| e.f32_slice(p, "planes[]"))
        .collect::<JsResult<Vec<&[f32]>>>()?;
    if slices.is_empty() {
        return Err(JsError::Type(
            "planes must hold one Float32Array per channel".into(),
        ));
    }
    analyzer.process(&slices)?;
    e.undefined()
}

/// analyzerProcessInterleaved(handle, bytes: Uint8Array) — f32le frames as ffmpeg writes them.
fn analyzer_process_interleaved(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle, bytes] = e.args::<2>(info)?;
    let analyzer = e.external_mut::<Analyzer>(handle, "handle")?;
    let bytes = e.u8_slice(bytes, "bytes")?;
    analyzer.process_interleaved_f32le(bytes)?;
    e.undefined()
}

/// analyzerFinish(handle): the report object.
fn analyzer_finish(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle] = e.args::<1>(info)?;
    let analyzer = e.external_mut::<Analyzer>(handle, "handle")?;
    let r = analyzer.finish()?;
    report::analysis(e, &r)
}

/// A chain rendering a file: the aligned renderer plus the partial frame of a byte stream.
pub struct ChainRender {
    render: OfflineRender,
    carry: Vec<u8>,
}

/// chainCreate({ sampleRate, channels, chain, seed? }): a renderer whose output lines up with
/// its input (the chain's latency is dropped at the start and flushed at the end).
fn chain_create(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [opts] = e.args::<1>(info)?;
    if e.type_of(opts)? != NAPI_OBJECT {
        return Err(JsError::Type("options must be an object".into()));
    }
    let sample_rate = e.read_f64(e.get(opts, "sampleRate")?, "sampleRate")?;
    let channels = e.read_usize(e.get(opts, "channels")?, "channels", MAX_CHANNELS)?;
    let seed_v = e.get(opts, "seed")?;
    let seed = if e.is_nullish(seed_v)? {
        0x4c61_7468_6544_6974
    } else {
        e.read_usize(seed_v, "seed", u32::MAX as usize)? as u64
    };
    let params = chain::read_chain(e, e.get(opts, "chain")?, seed)?;
    let chain = Chain::new(sample_rate, channels, &params)?;
    e.external(ChainRender {
        render: OfflineRender::new(chain),
        carry: Vec::new(),
    })
}

/// eqCurve({ sampleRate, chain, frequencies }): the EQ's magnitude in dB at each frequency, from
/// the same coefficients the render uses (what the UI draws).
fn eq_curve(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [opts] = e.args::<1>(info)?;
    if e.type_of(opts)? != NAPI_OBJECT {
        return Err(JsError::Type("options must be an object".into()));
    }
    let sample_rate = e.read_f64(e.get(opts, "sampleRate")?, "sampleRate")?;
    let params = chain::read_eq(e, e.get(opts, "chain")?)?;
    let freqs: Vec<f64> = e
        .f32_slice(e.get(opts, "frequencies")?, "frequencies")?
        .iter()
        .map(|&f| f as f64)
        .collect();
    let eq = dsp_core::eq::ParametricEq::new(sample_rate, 1, params)?;
    let db: Vec<f32> = eq.curve_db(&freqs).into_iter().map(|v| v as f32).collect();
    e.f32_array(&db)
}

/// chainInfo(handle): { latencyFrames, compressorMaxGrDb, limiterMaxGrDb } (meters since last call).
fn chain_info(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle] = e.args::<1>(info)?;
    let r = e.external_mut::<ChainRender>(handle, "handle")?;
    let latency = r.render.chain_mut().latency_frames();
    let m = r.render.chain_mut().take_meters();
    let o = e.object()?;
    e.set(o, "latencyFrames", e.number(latency as f64)?)?;
    e.set(o, "compressorMaxGrDb", e.number(m.compressor_max_gr_db)?)?;
    e.set(o, "limiterMaxGrDb", e.number(m.limiter_max_gr_db)?)?;
    Ok(o)
}

/// chainRender(handle, planes): the rendered frames that are ready (aligned with the input).
fn chain_render(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle, planes] = e.args::<2>(info)?;
    let r = e.external_mut::<ChainRender>(handle, "handle")?;
    let planes = e.read_array(planes, "planes")?;
    let slices = planes
        .iter()
        .map(|&p| e.f32_slice(p, "planes[]"))
        .collect::<JsResult<Vec<&[f32]>>>()?;
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); slices.len()];
    r.render.push(&slices, &mut |views| {
        for (o, v) in out.iter_mut().zip(views) {
            o.extend_from_slice(v);
        }
        Ok(())
    })?;
    e.array_of(out.iter(), |p| e.f32_array(p))
}

/// chainFinish(handle): the last frames (the chain's latency, flushed with silence).
fn chain_finish(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle] = e.args::<1>(info)?;
    let r = e.external_mut::<ChainRender>(handle, "handle")?;
    let channels = r.render.chain_mut().channels();
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); channels];
    r.render.finish(&mut |views| {
        for (o, v) in out.iter_mut().zip(views) {
            o.extend_from_slice(v);
        }
        Ok(())
    })?;
    e.array_of(out.iter(), |p| e.f32_array(p))
}

/// targetModelCreate({ sampleRate, channelNames }): collects what the loudness search needs of
/// a limiter's input (dsp_core::targeting).
fn target_model_create(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [opts] = e.args::<1>(info)?;
    if e.type_of(opts)? != NAPI_OBJECT {
        return Err(JsError::Type("options must be an object".into()));
    }
    let sample_rate = e.read_f64(e.get(opts, "sampleRate")?, "sampleRate")?;
    let names = e
        .read_array(e.get(opts, "channelNames")?, "channelNames")?
        .into_iter()
        .map(|v| e.read_string(v, "channelNames[]"))
        .collect::<JsResult<Vec<String>>>()?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let roles = ChannelRole::from_names(&refs);
    e.external(TargetModel::new(sample_rate, &roles)?)
}

/// targetModelProcess(handle, planes: Float32Array[])
fn target_model_process(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle, planes] = e.args::<2>(info)?;
    let model = e.external_mut::<TargetModel>(handle, "handle")?;
    let planes = e.read_array(planes, "planes")?;
    let slices = planes
        .iter()
        .map(|&p| e.f32_slice(p, "planes[]"))
        .collect::<JsResult<Vec<&[f32]>>>()?;
    model.process(&slices)?;
    e.undefined()
}

/// targetModelEstimate(handle, limiter: { ceilingDbtp, lookaheadMs, releaseMs, autoRelease,
/// inputGainDb }): { integratedLufs, maxGainReductionDb } as the limiter would give them.
fn target_model_estimate(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
    let [handle, limiter] = e.args::<2>(info)?;
    let model = e.external_mut::<TargetModel>(handle, "handle")?;
    if e.type_of(limiter)? != NAPI_OBJECT {
        return Err(JsError::Type("limiter must be an object".into()));
    }
    let num = |k: &str| e.read_f64(e.get(limiter, k)?, &format!("limiter.{k}"));
    let params = LimiterParams {
        ceiling_dbtp: num("ceilingDbtp")?,
        lookahead_ms: num("lookaheadMs")?,
        release_ms: num("releaseMs")?,
        auto_release: e.read_bool(e.get(limiter, "autoRelease")?, "limiter.autoRelease")?,
        input_gain_db: num("inputGainDb")?,
    };
    let r = model.estimate(&params)?;
    let o = e.object()?;
    e.set(o, "integratedLufs", e.opt_number(r.integrated_lufs)?)?;
    e.set(o, "maxGainReductionDb", e.number(r.max_gain_reduction_db)?)?;
    Ok(o)
}

/// Interleaves planes as little-endian f32 frames (what ffmpeg's `-f f32le` reads).
fn interleave_f32le(planes: &[&[f32]], out: &mut Vec<u8>) {
    out.clear();
    let frames = planes.first().map_or(0, |p| p.len());
    out.reserve(frames * planes.len() * 4);
    for i in 0..frames {
        for p in planes {
            out.extend_from_slice(&p[i].to_le_bytes());
        }
    }
}

/// The read end of a pipe whose write end a child process (ffmpeg) writes decoded audio to, so
/// the bytes go from the kernel into the analyser without passing through JavaScript streams
/// (which would wake the event loop for every 16–64 KiB).
#[cfg(unix)]
mod pipes {
    use super::*;
    use dsp_core::analyzer::SampleEncoding;
    use std::fs::File;
    use std::io::{Read, Write};
    use std::mem::ManuallyDrop;
    use std::os::fd::{FromRawFd, IntoRawFd, RawFd};

    #[cfg(target_os = "linux")]
    extern "C" {
        fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    }
    /// Linux's F_SETPIPE_SZ: a 1 MiB pipe lets ffmpeg run ahead while a batch is measured.
    #[cfg(target_os = "linux")]
    const F_SETPIPE_SZ: i32 = 1031;
    /// Largest read per call, so JavaScript regains control (progress, cancellation) often.
    const MAX_READ: usize = 16 << 20;

    fn io_error(what: &str, e: std::io::Error) -> JsError {
        JsError::Error {
            code: "LATHE_DSP_IO",
            message: format!("{what}: {e}"),
        }
    }

    /// pipeCreate(): { readFd, writeFd } — both close-on-exec; the caller closes both.
    pub fn pipe_create(e: Env, _info: napi_callback_info) -> JsResult<napi_value> {
        let (reader, writer) =
            std::io::pipe().map_err(|err| io_error("cannot create a pipe", err))?;
        let (r, w) = (reader.into_raw_fd(), writer.into_raw_fd());
        #[cfg(target_os = "linux")]
        // SAFETY: fcntl on a descriptor we own; failure (an old kernel, a limit) is harmless.
        unsafe {
            fcntl(w, F_SETPIPE_SZ, 1i32 << 20);
        }
        let o = e.object()?;
        e.set(o, "readFd", e.number(r as f64)?)?;
        e.set(o, "writeFd", e.number(w as f64)?)?;
        Ok(o)
    }

    fn read_fd(e: Env, v: napi_value) -> JsResult<RawFd> {
        Ok(e.read_usize(v, "fd", i32::MAX as usize)? as RawFd)
    }

    /// fdClose(fd)
    pub fn fd_close(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
        let [fd] = e.args::<1>(info)?;
        let fd = read_fd(e, fd)?;
        // SAFETY: the caller hands over a descriptor from pipeCreate that it no longer uses.
        drop(unsafe { File::from_raw_fd(fd) });
        e.undefined()
    }

    /// Output of a render: interleaved to `out_fd` (if any) and measured by `analyzer` (if any).
    fn emit(
        views: &[&[f32]],
        out: &mut Option<ManuallyDrop<File>>,
        analyzer: &mut Option<&mut Analyzer>,
        model: &mut Option<&mut TargetModel>,
        bytes: &mut Vec<u8>,
    ) -> Result<(), dsp_core::DspError> {
        if let Some(a) = analyzer.as_deref_mut() {
            a.process(views)?;
        }
        if let Some(m) = model.as_deref_mut() {
            m.process(views)?;
        }
        if let Some(f) = out.as_mut() {
            interleave_f32le(views, bytes);
            f.write_all(bytes)
                .map_err(|err| dsp_core::DspError::Parameter {
                    name: "outFd",
                    message: format!("cannot write rendered audio: {err}"),
                })?;
        }
        Ok(())
    }

    type Targets<'a> = (
        Option<ManuallyDrop<File>>,
        Option<&'a mut Analyzer>,
        Option<&'a mut TargetModel>,
    );

    fn render_target<'a>(
        e: Env,
        out_fd: napi_value,
        analyzer: napi_value,
        model: napi_value,
    ) -> JsResult<Targets<'a>> {
        let out = if e.is_nullish(out_fd)? {
            None
        } else {
            let fd = read_fd(e, out_fd)?;
            // SAFETY: borrowed descriptor, never closed here (ManuallyDrop).
            Some(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
        };
        let analyzer = if e.is_nullish(analyzer)? {
            None
        } else {
            Some(e.external_mut::<Analyzer>(analyzer, "analyzer")?)
        };
        let model = if e.is_nullish(model)? {
            None
        } else {
            Some(e.external_mut::<TargetModel>(model, "model")?)
        };
        Ok((out, analyzer, model))
    }

    /// chainRenderFd(handle, inFd, outFd | null, maxBytes, analyzer | null, model?): reads up
    /// to maxBytes of f32le frames from inFd, renders them, writes f32le to outFd and/or
    /// measures them and/or adds them to a target model; returns the bytes read (0 at the end
    /// of the input).
    pub fn chain_render_fd(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
        let [handle, in_fd, out_fd, max, analyzer, model] = e.args::<6>(info)?;
        let r = e.external_mut::<ChainRender>(handle, "handle")?;
        let in_fd = read_fd(e, in_fd)?;
        let max = e.read_usize(max, "maxBytes", MAX_READ)?.max(1);
        let (mut out, mut analyzer, mut model) = render_target(e, out_fd, analyzer, model)?;
        // SAFETY: borrowed descriptor, never closed here (ManuallyDrop).
        let mut input = ManuallyDrop::new(unsafe { File::from_raw_fd(in_fd) });
        let mut buf = std::mem::take(&mut r.carry);
        let start = buf.len();
        buf.resize(start + max, 0);
        let mut filled = start;
        while filled < start + max {
            match input.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(io_error("cannot read audio to render", err)),
            }
        }
        let channels = r.render.chain_mut().channels();
        let frame_bytes = 4 * channels;
        let whole = filled - filled % frame_bytes;
        let mut planes = vec![Vec::new(); channels];
        deinterleave_f32le(&buf[..whole], &mut planes);
        r.carry = buf[whole..filled].to_vec();
        let views: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        let mut bytes = Vec::new();
        r.render.push(&views, &mut |v| {
            emit(v, &mut out, &mut analyzer, &mut model, &mut bytes)
        })?;
        e.number((filled - start) as f64)
    }

    /// chainFinishFd(handle, outFd | null, analyzer | null, model?): flushes the chain's
    /// latency.
    pub fn chain_finish_fd(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
        let [handle, out_fd, analyzer, model] = e.args::<4>(info)?;
        let r = e.external_mut::<ChainRender>(handle, "handle")?;
        let (mut out, mut analyzer, mut model) = render_target(e, out_fd, analyzer, model)?;
        let mut bytes = Vec::new();
        r.render
            .finish(&mut |v| emit(v, &mut out, &mut analyzer, &mut model, &mut bytes))?;
        e.undefined()
    }

    /// demoWriteFd({ sampleRate, seconds, seed }, fd): synthesises the demo mix and writes it to
    /// fd as interleaved f32le stereo frames; returns the frame count.
    pub fn demo_write_fd(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
        let [opts, fd] = e.args::<2>(info)?;
        if e.type_of(opts)? != NAPI_OBJECT {
            return Err(JsError::Type("options must be an object".into()));
        }
        let options = dsp_core::demo::DemoOptions {
            sample_rate: e.read_f64(e.get(opts, "sampleRate")?, "sampleRate")?,
            seconds: e.read_f64(e.get(opts, "seconds")?, "seconds")?,
            seed: e.read_usize(e.get(opts, "seed")?, "seed", u32::MAX as usize)? as u64,
        };
        let planes = dsp_core::demo::demo_mix(&options)?;
        let fd = read_fd(e, fd)?;
        // SAFETY: borrowed descriptor, never closed here (ManuallyDrop).
        let mut out = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
        let views: Vec<&[f32]> = planes.iter().map(|p| p.as_slice()).collect();
        let mut bytes = Vec::new();
        interleave_f32le(&views, &mut bytes);
        out.write_all(&bytes)
            .map_err(|err| io_error("cannot write the demo mix", err))?;
        e.number(planes[0].len() as f64)
    }

    /// analyzerProcessFd(handle, fd, maxBytes, format = "f32le"): reads up to maxBytes (blocking
    /// until that many bytes or end of stream) of interleaved "f32le" or "s16le" samples,
    /// measures them, and returns the byte count (0 at end of stream).
    pub fn analyzer_process_fd(e: Env, info: napi_callback_info) -> JsResult<napi_value> {
        let [handle, fd, max, format] = e.args::<4>(info)?;
        let analyzer = e.external_mut::<Analyzer>(handle, "handle")?;
        let fd = read_fd(e, fd)?;
        let max = e.read_usize(max, "maxBytes", MAX_READ)?.max(1);
        let encoding = if e.is_nullish(format)? {
            SampleEncoding::F32Le
        } else {
            match e.read_string(format, "format")?.as_str() {
                "f32le" => SampleEncoding::F32Le,
                "s16le" => SampleEncoding::S16Le,
                other => {
                    return Err(JsError::Range(format!(
                        "format must be \"f32le\" or \"s16le\", got {other:?}"
                    )))
                }
            }
        };
        // SAFETY: the descriptor stays owned by the caller: ManuallyDrop never closes it.
        let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
        // One buffer per thread, kept between calls: a fresh one per call would be zeroed and
        // page-faulted in again every megabyte.
        thread_local! {
            static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let filled = BUFFER.with_borrow_mut(|buf| -> JsResult<usize> {
            if buf.len() < max {
                buf.resize(max, 0);
            }
            let mut filled = 0;
            while filled < max {
                match file.read(&mut buf[filled..max]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(io_error("cannot read decoded audio", err)),
                }
            }
            analyzer.process_stream(&buf[..filled], encoding)?;
            Ok(filled)
        })?;
        e.number(filled as f64)
    }
}

callback!(cb_version => version);
callback!(cb_chain_create => chain_create);
callback!(cb_chain_info => chain_info);
callback!(cb_eq_curve => eq_curve);
callback!(cb_chain_render => chain_render);
callback!(cb_chain_finish => chain_finish);
#[cfg(unix)]
callback!(cb_chain_render_fd => pipes::chain_render_fd);
#[cfg(unix)]
callback!(cb_chain_finish_fd => pipes::chain_finish_fd);
#[cfg(unix)]
callback!(cb_demo_write_fd => pipes::demo_write_fd);
#[cfg(unix)]
callback!(cb_pipe_create => pipes::pipe_create);
#[cfg(unix)]
callback!(cb_fd_close => pipes::fd_close);
#[cfg(unix)]
callback!(cb_analyzer_process_fd => pipes::analyzer_process_fd);
callback!(cb_deinterleave => deinterleave);
callback!(cb_interleave => interleave);
callback!(cb_target_model_create => target_model_create);
callback!(cb_target_model_process => target_model_process);
callback!(cb_target_model_estimate => target_model_estimate);
callback!(cb_analyzer_create => analyzer_create);
callback!(cb_analyzer_process => analyzer_process);
callback!(cb_analyzer_process_interleaved => analyzer_process_interleaved);
callback!(cb_analyzer_finish => analyzer_finish);

type Callback = (
    &'static str,
    unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value,
);

fn register(e: Env, exports: napi_value) -> JsResult<()> {
    let functions: [Callback; 15] = [
        ("targetModelCreate", cb_target_model_create),
        ("targetModelProcess", cb_target_model_process),
        ("targetModelEstimate", cb_target_model_estimate),
        ("eqCurve", cb_eq_curve),
        ("version", cb_version),
        ("chainCreate", cb_chain_create),
        ("chainInfo", cb_chain_info),
        ("chainRender", cb_chain_render),
        ("chainFinish", cb_chain_finish),
        ("deinterleave", cb_deinterleave),
        ("interleave", cb_interleave),
        ("analyzerCreate", cb_analyzer_create),
        ("analyzerProcess", cb_analyzer_process),
        (
            "analyzerProcessInterleaved",
            cb_analyzer_process_interleaved,
        ),
        ("analyzerFinish", cb_analyzer_finish),
    ];
    #[cfg(unix)]
    let functions = {
        let unix: [Callback; 6] = [
            ("demoWriteFd", cb_demo_write_fd),
            ("chainRenderFd", cb_chain_render_fd),
            ("chainFinishFd", cb_chain_finish_fd),
            ("pipeCreate", cb_pipe_create),
            ("fdClose", cb_fd_close),
            ("analyzerProcessFd", cb_analyzer_process_fd),
        ];
        functions.into_iter().chain(unix).collect::<Vec<_>>()
    };
    for (name, f) in functions {
        let cname = CString::new(name).expect("static name");
        let mut func = null_mut();
        let status = unsafe {
            napi_create_function(
                e.0,
                cname.as_ptr(),
                name.len(),
                Some(f),
                null_mut(),
                &mut func,
            )
        };
        if status != NAPI_OK {
            return Err(JsError::Napi("napi_create_function"));
        }
        e.set(exports, name, func)?;
    }
    Ok(())
}

/// Called by Node (and by every worker thread) when the addon is loaded.
///
/// # Safety
/// Called by the Node-API runtime with a valid environment and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let e = Env(env);
    match std::panic::catch_unwind(|| register(e, exports)) {
        Ok(Ok(())) => exports,
        Ok(Err(err)) => {
            e.throw(err);
            null_mut()
        }
        Err(_) => {
            e.throw(JsError::Error {
                code: "LATHE_DSP_PANIC",
                message: "panic while loading lathe-dsp".into(),
            });
            null_mut()
        }
    }
}
