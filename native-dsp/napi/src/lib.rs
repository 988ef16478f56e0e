//! lathe-dsp: the Node-API addon over dsp-core. No crate dependencies: the Node-API functions
//! are declared in `sys.rs` and wrapped safely in `js.rs`. The module is context-aware (no global
//! state), so it loads in the main thread and in any number of worker threads.

mod js;
mod report;
mod sys;

use js::{run, Env, JsError, JsResult};
use std::ffi::CString;
use std::ptr::null_mut;
use sys::*;

use dsp_core::analyzer::{deinterleave_f32le, Analyzer, AnalyzerOptions};
use dsp_core::error::MAX_CHANNELS;

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

/// analyzerCreate({ sampleRate, channelNames, spectrogramColumns?, spectrogramRows? })
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

callback!(cb_version => version);
callback!(cb_deinterleave => deinterleave);
callback!(cb_analyzer_create => analyzer_create);
callback!(cb_analyzer_process => analyzer_process);
callback!(cb_analyzer_process_interleaved => analyzer_process_interleaved);
callback!(cb_analyzer_finish => analyzer_finish);

fn register(e: Env, exports: napi_value) -> JsResult<()> {
    let functions: [(
        &str,
        unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value,
    ); 6] = [
        ("version", cb_version),
        ("deinterleave", cb_deinterleave),
        ("analyzerCreate", cb_analyzer_create),
        ("analyzerProcess", cb_analyzer_process),
        (
            "analyzerProcessInterleaved",
            cb_analyzer_process_interleaved,
        ),
        ("analyzerFinish", cb_analyzer_finish),
    ];
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
