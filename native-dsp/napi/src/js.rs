//! A thin safe layer over the raw Node-API calls: every status becomes a `Result`, values are
//! checked for their type before they are read, and errors are thrown once, never while another
//! exception is pending. Callback bodies run inside `catch_unwind`, so a panic becomes a JS error.

use crate::sys::*;
use std::any::Any;
use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

/// An error to be thrown in JavaScript: `code` is stable (for example `LATHE_DSP_TYPE`).
#[derive(Debug)]
pub enum JsError {
    Type(String),
    Range(String),
    Error {
        code: &'static str,
        message: String,
    },
    /// A Node-API call failed, usually because an exception is already pending.
    Napi(&'static str),
}

pub type JsResult<T> = Result<T, JsError>;

impl From<dsp_core::DspError> for JsError {
    fn from(e: dsp_core::DspError) -> Self {
        use dsp_core::DspError::*;
        match e {
            SampleRate { .. } | Channels { .. } | Parameter { .. } => JsError::Range(e.to_string()),
            ChannelMismatch { .. } | UnequalPlanes { .. } => JsError::Type(e.to_string()),
            Finished => JsError::Error {
                code: "LATHE_DSP_FINISHED",
                message: e.to_string(),
            },
        }
    }
}

#[derive(Clone, Copy)]
pub struct Env(pub napi_env);

fn check(status: napi_status, what: &'static str) -> JsResult<()> {
    if status == NAPI_OK {
        Ok(())
    } else {
        Err(JsError::Napi(what))
    }
}

impl Env {
    pub fn args<const N: usize>(&self, info: napi_callback_info) -> JsResult<[napi_value; N]> {
        let mut argc = N;
        let mut argv = [null_mut(); N];
        check(
            unsafe {
                napi_get_cb_info(
                    self.0,
                    info,
                    &mut argc,
                    argv.as_mut_ptr(),
                    null_mut(),
                    null_mut(),
                )
            },
            "napi_get_cb_info",
        )?;
        // Missing arguments are `undefined`; the readers below report them by name.
        for slot in argv.iter_mut().skip(argc.min(N)) {
            *slot = self.undefined()?;
        }
        Ok(argv)
    }

    pub fn type_of(&self, v: napi_value) -> JsResult<i32> {
        let mut t = 0;
        check(unsafe { napi_typeof(self.0, v, &mut t) }, "napi_typeof")?;
        Ok(t)
    }

    pub fn undefined(&self) -> JsResult<napi_value> {
        let mut r = null_mut();
        check(
            unsafe { napi_get_undefined(self.0, &mut r) },
            "napi_get_undefined",
        )?;
        Ok(r)
    }

    pub fn null(&self) -> JsResult<napi_value> {
        let mut r = null_mut();
        check(unsafe { napi_get_null(self.0, &mut r) }, "napi_get_null")?;
        Ok(r)
    }

    pub fn number(&self, x: f64) -> JsResult<napi_value> {
        let mut r = null_mut();
        check(
            unsafe { napi_create_double(self.0, x, &mut r) },
            "napi_create_double",
        )?;
        Ok(r)
    }

    /// A finite number, or null for None and for non-finite values (JSON has no infinities).
    pub fn opt_number(&self, x: Option<f64>) -> JsResult<napi_value> {
        match x {
            Some(v) if v.is_finite() => self.number(v),
            _ => self.null(),
        }
    }

    pub fn string(&self, s: &str) -> JsResult<napi_value> {
        let mut r = null_mut();
        check(
            unsafe { napi_create_string_utf8(self.0, s.as_ptr().cast(), s.len(), &mut r) },
            "napi_create_string_utf8",
        )?;
        Ok(r)
    }

    pub fn object(&self) -> JsResult<napi_value> {
        let mut r = null_mut();
        check(
            unsafe { napi_create_object(self.0, &mut r) },
            "napi_create_object",
        )?;
        Ok(r)
    }

    pub fn set(&self, obj: napi_value, name: &str, value: napi_value) -> JsResult<()> {
        let key = CString::new(name).map_err(|_| JsError::Napi("property name"))?;
        check(
            unsafe { napi_set_named_property(self.0, obj, key.as_ptr(), value) },
            "napi_set_named_property",
        )
    }

    pub fn get(&self, obj: napi_value, name: &str) -> JsResult<napi_value> {
        let key = CString::new(name).map_err(|_| JsError::Napi("property name"))?;
        let mut r = null_mut();
        check(
            unsafe { napi_get_named_property(self.0, obj, key.as_ptr(), &mut r) },
            "napi_get_named_property",
        )?;
        Ok(r)
    }

    pub fn array(&self, len: usize) -> JsResult<napi_value> {
        let mut r = null_mut();
        check(
            unsafe { napi_create_array_with_length(self.0, len, &mut r) },
            "napi_create_array_with_length",
        )?;
        Ok(r)
    }

    pub fn set_index(&self, arr: napi_value, i: usize, v: napi_value) -> JsResult<()> {
        let i = u32::try_from(i).map_err(|_| JsError::Range("array too long".into()))?;
        check(
            unsafe { napi_set_element(self.0, arr, i, v) },
            "napi_set_element",
        )
    }

    /// Builds a JS array from items.
    pub fn array_of<T>(
        &self,
        items: impl ExactSizeIterator<Item = T>,
        mut f: impl FnMut(T) -> JsResult<napi_value>,
    ) -> JsResult<napi_value> {
        let arr = self.array(items.len())?;
        for (i, item) in items.enumerate() {
            let v = f(item)?;
            self.set_index(arr, i, v)?;
        }
        Ok(arr)
    }

    pub fn read_f64(&self, v: napi_value, name: &str) -> JsResult<f64> {
        if self.type_of(v)? != NAPI_NUMBER {
            return Err(JsError::Type(format!("{name} must be a number")));
        }
        let mut x = 0.0;
        check(
            unsafe { napi_get_value_double(self.0, v, &mut x) },
            "napi_get_value_double",
        )?;
        if !x.is_finite() {
            return Err(JsError::Range(format!("{name} must be finite, got {x}")));
        }
        Ok(x)
    }

    pub fn read_usize(&self, v: napi_value, name: &str, max: usize) -> JsResult<usize> {
        let x = self.read_f64(v, name)?;
        if x < 0.0 || x.fract() != 0.0 || x > max as f64 {
            return Err(JsError::Range(format!(
                "{name} must be a whole number from 0 to {max}, got {x}"
            )));
        }
        Ok(x as usize)
    }

    pub fn read_bool(&self, v: napi_value, name: &str) -> JsResult<bool> {
        if self.type_of(v)? != NAPI_BOOLEAN {
            return Err(JsError::Type(format!("{name} must be true or false")));
        }
        let mut b = false;
        check(
            unsafe { napi_get_value_bool(self.0, v, &mut b) },
            "napi_get_value_bool",
        )?;
        Ok(b)
    }

    pub fn is_nullish(&self, v: napi_value) -> JsResult<bool> {
        let t = self.type_of(v)?;
        Ok(t == NAPI_UNDEFINED || t == NAPI_NULL)
    }

    pub fn read_string(&self, v: napi_value, name: &str) -> JsResult<String> {
        if self.type_of(v)? != NAPI_STRING {
            return Err(JsError::Type(format!("{name} must be a string")));
        }
        let mut len = 0usize;
        check(
            unsafe { napi_get_value_string_utf8(self.0, v, null_mut(), 0, &mut len) },
            "napi_get_value_string_utf8",
        )?;
        let mut buf = vec![0u8; len + 1];
        check(
            unsafe {
                napi_get_value_string_utf8(self.0, v, buf.as_mut_ptr().cast(), len + 1, &mut len)
            },
            "napi_get_value_string_utf8",
        )?;
        buf.truncate(len);
        String::from_utf8(buf).map_err(|_| JsError::Type(format!("{name} is not valid UTF-8")))
    }

    pub fn read_array(&self, v: napi_value, name: &str) -> JsResult<Vec<napi_value>> {
        let mut is = false;
        check(
            unsafe { napi_is_array(self.0, v, &mut is) },
            "napi_is_array",
        )?;
        if !is {
            return Err(JsError::Type(format!("{name} must be an array")));
        }
        let mut len = 0u32;
        check(
            unsafe { napi_get_array_length(self.0, v, &mut len) },
            "napi_get_array_length",
        )?;
        (0..len)
            .map(|i| {
                let mut r = null_mut();
                check(
                    unsafe { napi_get_element(self.0, v, i, &mut r) },
                    "napi_get_element",
                )?;
                Ok(r)
            })
            .collect()
    }

    fn typed_array(
        &self,
        v: napi_value,
        want: i32,
        name: &str,
        kind: &str,
    ) -> JsResult<(*mut c_void, usize)> {
        let mut is = false;
        check(
            unsafe { napi_is_typedarray(self.0, v, &mut is) },
            "napi_is_typedarray",
        )?;
        if !is {
            return Err(JsError::Type(format!("{name} must be a {kind}")));
        }
        let (mut ty, mut len, mut data, mut offset) = (0, 0usize, null_mut(), 0usize);
        let mut buffer = null_mut();
        check(
            unsafe {
                napi_get_typedarray_info(
                    self.0,
                    v,
                    &mut ty,
                    &mut len,
                    &mut data,
                    &mut buffer,
                    &mut offset,
                )
            },
            "napi_get_typedarray_info",
        )?;
        if ty != want {
            return Err(JsError::Type(format!("{name} must be a {kind}")));
        }
        Ok((data, len))
    }

    /// Borrows a Float32Array's elements for the duration of the call.
    pub fn f32_slice<'a>(&self, v: napi_value, name: &str) -> JsResult<&'a [f32]> {
        let (data, len) = self.typed_array(v, NAPI_FLOAT32_ARRAY, name, "Float32Array")?;
        if len == 0 || data.is_null() {
            return Ok(&[]);
        }
        // SAFETY: V8 guarantees `len` f32 elements at `data`, aligned, alive while the value is
        // reachable from this call's arguments; we do not call back into JS while borrowing.
        Ok(unsafe { std::slice::from_raw_parts(data as *const f32, len) })
    }

    /// Borrows a Uint8Array's (or Buffer's) bytes for the duration of the call.
    pub fn u8_slice<'a>(&self, v: napi_value, name: &str) -> JsResult<&'a [u8]> {
        let (data, len) = self.typed_array(v, NAPI_UINT8_ARRAY, name, "Uint8Array or Buffer")?;
        if len == 0 || data.is_null() {
            return Ok(&[]);
        }
        // SAFETY: as in f32_slice.
        Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
    }

    fn typed_copy(&self, ty: i32, bytes: &[u8], elements: usize) -> JsResult<napi_value> {
        let mut data = null_mut();
        let mut buffer = null_mut();
        check(
            unsafe { napi_create_arraybuffer(self.0, bytes.len(), &mut data, &mut buffer) },
            "napi_create_arraybuffer",
        )?;
        if !bytes.is_empty() {
            // SAFETY: the new ArrayBuffer owns `bytes.len()` writable bytes at `data`.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data as *mut u8, bytes.len()) };
        }
        let mut r = null_mut();
        check(
            unsafe { napi_create_typedarray(self.0, ty, elements, buffer, 0, &mut r) },
            "napi_create_typedarray",
        )?;
        Ok(r)
    }

    /// A new Float32Array holding a copy of `values` (memory owned by V8, never external).
    pub fn f32_array(&self, values: &[f32]) -> JsResult<napi_value> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.typed_copy(NAPI_FLOAT32_ARRAY, &bytes, values.len())
    }

    /// A new Uint8Array holding a copy of `bytes`.
    pub fn u8_array(&self, bytes: &[u8]) -> JsResult<napi_value> {
        self.typed_copy(NAPI_UINT8_ARRAY, bytes, bytes.len())
    }

    pub fn u32_array(&self, values: &[u32]) -> JsResult<napi_value> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.typed_copy(NAPI_UINT32_ARRAY, &bytes, values.len())
    }

    /// Wraps a Rust value in a JS external; it is dropped when the external is collected.
    pub fn external<T: 'static>(&self, value: T) -> JsResult<napi_value> {
        let boxed: Box<Box<dyn Any>> = Box::new(Box::new(value));
        let raw = Box::into_raw(boxed) as *mut c_void;
        let mut r = null_mut();
        let status =
            unsafe { napi_create_external(self.0, raw, Some(finalize_any), null_mut(), &mut r) };
        if status != NAPI_OK {
            // SAFETY: ownership was not taken by the engine.
            drop(unsafe { Box::from_raw(raw as *mut Box<dyn Any>) });
            return Err(JsError::Napi("napi_create_external"));
        }
        Ok(r)
    }

    /// Borrows the Rust value inside an external made by `external`, checking its type.
    pub fn external_mut<'a, T: 'static>(&self, v: napi_value, name: &str) -> JsResult<&'a mut T> {
        if self.type_of(v)? != NAPI_EXTERNAL {
            return Err(JsError::Type(format!(
                "{name} must be a handle created by this addon"
            )));
        }
        let mut raw = null_mut();
        check(
            unsafe { napi_get_value_external(self.0, v, &mut raw) },
            "napi_get_value_external",
        )?;
        // SAFETY: every external this addon creates holds a Box<Box<dyn Any>>; JS is
        // single-threaded per environment and we never re-enter JS while the borrow lives.
        let any = unsafe { &mut *(raw as *mut Box<dyn Any>) };
        any.downcast_mut::<T>()
            .ok_or_else(|| JsError::Type(format!("{name} is a handle of another kind")))
    }

    fn make_error(&self, err: &JsError) -> JsResult<napi_value> {
        let (code, message, kind) = match err {
            JsError::Type(m) => ("LATHE_DSP_TYPE", m.as_str(), 1),
            JsError::Range(m) => ("LATHE_DSP_RANGE", m.as_str(), 2),
            JsError::Error { code, message } => (*code, message.as_str(), 0),
            JsError::Napi(what) => ("LATHE_DSP_NAPI", *what, 0),
        };
        let code = self.string(code)?;
        let msg = self.string(message)?;
        let mut r = null_mut();
        let status = unsafe {
            match kind {
                1 => napi_create_type_error(self.0, code, msg, &mut r),
                2 => napi_create_range_error(self.0, code, msg, &mut r),
                _ => napi_create_error(self.0, code, msg, &mut r),
            }
        };
        check(status, "napi_create_error")?;
        Ok(r)
    }

    /// Throws `err` unless an exception is already pending (which then wins).
    pub fn throw(&self, err: JsError) {
        let mut pending = false;
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        if pending {
            return;
        }
        if let Ok(e) = self.make_error(&err) {
            unsafe { napi_throw(self.0, e) };
        }
    }
}

unsafe extern "C" fn finalize_any(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    let _ = catch_unwind(|| {
        // SAFETY: created by Env::external; the engine calls this once.
        drop(unsafe { Box::from_raw(data as *mut Box<dyn Any>) });
    });
}

/// Runs a callback body: converts errors and panics into thrown JS errors.
pub fn run(
    env: napi_env,
    info: napi_callback_info,
    body: fn(Env, napi_callback_info) -> JsResult<napi_value>,
) -> napi_value {
    let e = Env(env);
    match catch_unwind(AssertUnwindSafe(|| body(e, info))) {
        Ok(Ok(v)) => v,
        Ok(Err(err)) => {
            e.throw(err);
            null_mut()
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            e.throw(JsError::Error {
                code: "LATHE_DSP_PANIC",
                message: format!("internal error in native-dsp: {message}"),
            });
            null_mut()
        }
    }
}
