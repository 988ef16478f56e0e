//! Reads a chain document (the validated JSON of main/core/chain/document.ts, camelCase) into
//! dsp-core's ChainParams. TypeScript validates first; this side checks types again and the
//! processors check ranges, so a bad value from any caller is refused with its field path.

use crate::js::{Env, JsError, JsResult};
use crate::sys::napi_value;
use dsp_core::chain::ChainParams;
use dsp_core::compressor::{BandParams, Bands, CompressorParams, Detection, Makeup, StereoLink};
use dsp_core::dither::DitherParams;
use dsp_core::eq::{EqParams, GainBand, PassBand};
use dsp_core::imager::ImagerParams;
use dsp_core::limiter::LimiterParams;
use dsp_core::saturation::{SaturationCharacter, SaturatorParams};
use dsp_core::sends::{DelayParams, ReverbParams};

/// An object being read, with its path for error messages.
#[derive(Clone, Copy)]
struct Obj<'a> {
    e: Env,
    v: napi_value,
    path: &'a str,
}

impl<'a> Obj<'a> {
    fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }
    fn raw(&self, key: &str) -> JsResult<napi_value> {
        self.e.get(self.v, key)
    }
    fn f64(&self, key: &str) -> JsResult<f64> {
        self.e.read_f64(self.raw(key)?, &self.at(key))
    }
    fn bool(&self, key: &str) -> JsResult<bool> {
        self.e.read_bool(self.raw(key)?, &self.at(key))
    }
    fn string(&self, key: &str) -> JsResult<String> {
        self.e.read_string(self.raw(key)?, &self.at(key))
    }
    fn opt_f64(&self, key: &str) -> JsResult<Option<f64>> {
        let v = self.raw(key)?;
        if self.e.is_nullish(v)? {
            Ok(None)
        } else {
            Ok(Some(self.e.read_f64(v, &self.at(key))?))
        }
    }
    fn child(&self, key: &str, path: &'a str) -> JsResult<Obj<'a>> {
        let v = self.raw(key)?;
        if self.e.type_of(v)? != crate::sys::NAPI_OBJECT {
            return Err(JsError::Type(format!("{path} must be an object")));
        }
        Ok(Obj { e: self.e, v, path })
    }
    fn list(&self, key: &str) -> JsResult<Vec<napi_value>> {
        self.e.read_array(self.raw(key)?, &self.at(key))
    }
    fn item(&self, v: napi_value, path: &'a str) -> JsResult<Obj<'a>> {
        if self.e.type_of(v)? != crate::sys::NAPI_OBJECT {
            return Err(JsError::Type(format!("{path} must be an object")));
        }
        Ok(Obj { e: self.e, v, path })
    }
}

fn pass_band(o: Obj) -> JsResult<PassBand> {
    Ok(PassBand {
        enabled: o.bool("enabled")?,
        freq_hz: o.f64("freqHz")?,
        order: o.f64("order")? as u32,
    })
}

fn gain_band(o: Obj) -> JsResult<GainBand> {
    Ok(GainBand {
        enabled: o.bool("enabled")?,
        freq_hz: o.f64("freqHz")?,
        q: o.f64("q")?,
        gain_db: o.f64("gainDb")?,
    })
}

fn comp_band(o: Obj) -> JsResult<BandParams> {
    let makeup_v = o.raw("makeupDb")?;
    let makeup = if o.e.type_of(makeup_v)? == crate::sys::NAPI_STRING {
        Makeup::Auto
    } else {
        Makeup::Db(o.e.read_f64(makeup_v, &o.at("makeupDb"))?)
    };
    Ok(BandParams {
        threshold_dbfs: o.f64("thresholdDbfs")?,
        ratio: o.f64("ratio")?,
        attack_ms: o.f64("attackMs")?,
        release_ms: o.f64("releaseMs")?,
        makeup,
    })
}

fn eq(o: Obj) -> JsResult<EqParams> {
    let peaks = o.list("peaks")?;
    if peaks.len() != 4 {
        return Err(JsError::Type("eq.peaks must list 4 bands".into()));
    }
    let names = ["eq.peaks[0]", "eq.peaks[1]", "eq.peaks[2]", "eq.peaks[3]"];
    let bands: Vec<GainBand> = peaks
        .into_iter()
        .zip(names)
        .map(|(v, name)| gain_band(o.item(v, name)?))
        .collect::<JsResult<_>>()?;
    let bands: [GainBand; 4] = bands
        .try_into()
        .map_err(|_| JsError::Type("eq.peaks must list 4 bands".into()))?;
    Ok(EqParams {
        bypass: false,
        input_gain_db: o.f64("inputGainDb")?,
        high_pass: pass_band(o.child("highPass", "eq.highPass")?)?,
        low_shelf: gain_band(o.child("lowShelf", "eq.lowShelf")?)?,
        peaks: bands,
        high_shelf: gain_band(o.child("highShelf", "eq.highShelf")?)?,
        low_pass: pass_band(o.child("lowPass", "eq.lowPass")?)?,
    })
}

fn compressor(o: Obj) -> JsResult<CompressorParams> {
    let bands = match o.string("mode")?.as_str() {
        "single" => Bands::Single(comp_band(o.child("band", "compressor.band")?)?),
        "three-band" => {
            let xs = o.list("crossoversHz")?;
            let bs = o.list("bands")?;
            if xs.len() != 2 || bs.len() != 3 {
                return Err(JsError::Type(
                    "compressor: three-band mode needs 2 crossovers and 3 bands".into(),
                ));
            }
            let names = [
                "compressor.bands[0]",
                "compressor.bands[1]",
                "compressor.bands[2]",
            ];
            let bands: Vec<BandParams> = bs
                .into_iter()
                .zip(names)
                .map(|(v, name)| comp_band(o.item(v, name)?))
                .collect::<JsResult<_>>()?;
            let bands: [BandParams; 3] = bands
                .try_into()
                .map_err(|_| JsError::Type("compressor.bands must list 3 bands".into()))?;
            Bands::Three {
                crossovers_hz: [
                    o.e.read_f64(xs[0], "compressor.crossoversHz[0]")?,
                    o.e.read_f64(xs[1], "compressor.crossoversHz[1]")?,
                ],
                bands,
            }
        }
        other => {
            return Err(JsError::Range(format!(
                "compressor.mode: unknown mode {other:?}"
            )))
        }
    };
    let detection = match o.string("detection")?.as_str() {
        "peak" => Detection::Peak,
        "rms" => Detection::Rms {
            window_ms: o.f64("rmsWindowMs")?,
        },
        other => {
            return Err(JsError::Range(format!(
                "compressor.detection: unknown {other:?}"
            )))
        }
    };
    let link = match o.string("link")?.as_str() {
        "max" => StereoLink::Max,
        "sum" => StereoLink::Sum,
        "unlinked" => StereoLink::Unlinked,
        other => {
            return Err(JsError::Range(format!(
                "compressor.link: unknown {other:?}"
            )))
        }
    };
    Ok(CompressorParams {
        bands,
        knee_db: o.f64("kneeDb")?,
        detection,
        sidechain_high_pass_hz: o.opt_f64("sidechainHighPassHz")?,
        link,
    })
}

fn imager(o: Obj) -> JsResult<ImagerParams> {
    let mono_below = o.opt_f64("monoBelowHz")?;
    Ok(ImagerParams {
        bypass: false,
        width: o.f64("width")?,
        multiband: o.bool("multiband")?,
        low_crossover_hz: o.f64("lowCrossoverHz")?,
        high_crossover_hz: o.f64("highCrossoverHz")?,
        low_width: o.f64("lowWidth")?,
        mid_width: o.f64("midWidth")?,
        high_width: o.f64("highWidth")?,
        mono_below: mono_below.is_some(),
        mono_below_hz: mono_below.unwrap_or(120.0),
    })
}

fn saturator(o: Obj) -> JsResult<SaturatorParams> {
    let character = match o.string("character")?.as_str() {
        "warmth" => SaturationCharacter::Warmth,
        "presence" => SaturationCharacter::Presence,
        other => {
            return Err(JsError::Range(format!(
                "saturation.character: unknown {other:?}"
            )))
        }
    };
    Ok(SaturatorParams {
        bypass: false,
        drive_db: o.f64("driveDb")?,
        mix: o.f64("mix")?,
        character,
        presence_hz: o.f64("presenceHz")?,
    })
}

/// The EQ stage of a chain document (enabled or not), for drawing its curve.
pub fn read_eq(e: Env, chain: napi_value) -> JsResult<EqParams> {
    if e.type_of(chain)? != crate::sys::NAPI_OBJECT {
        return Err(JsError::Type("chain must be an object".into()));
    }
    let root = Obj {
        e,
        v: chain,
        path: "chain",
    };
    eq(root.child("eq", "eq")?)
}

/// The chain document's enabled stages as ChainParams; `seed` seeds the dither.
pub fn read_chain(e: Env, v: napi_value, seed: u64) -> JsResult<ChainParams> {
    if e.type_of(v)? != crate::sys::NAPI_OBJECT {
        return Err(JsError::Type("chain must be an object".into()));
    }
    let root = Obj {
        e,
        v,
        path: "chain",
    };
    let stage = |key: &'static str| -> JsResult<Option<Obj>> {
        let o = root.child(key, key)?;
        Ok(if o.bool("enabled")? { Some(o) } else { None })
    };
    let mut params = ChainParams::default();
    if let Some(o) = stage("eq")? {
        params.eq = Some(eq(o)?);
    }
    if let Some(o) = stage("compressor")? {
        params.compressor = Some(compressor(o)?);
    }
    if let Some(o) = stage("imager")? {
        params.imager = Some(imager(o)?);
    }
    if let Some(o) = stage("saturation")? {
        params.saturator = Some(saturator(o)?);
    }
    if let Some(o) = stage("reverb")? {
        params.reverb = Some(ReverbParams {
            mix: o.f64("mix")?,
            decay_seconds: o.f64("decaySeconds")?,
            damping_hz: o.f64("dampingHz")?,
            pre_delay_ms: o.f64("preDelayMs")?,
        });
    }
    if let Some(o) = stage("delay")? {
        params.delay = Some(DelayParams {
            mix: o.f64("mix")?,
            time_ms: o.f64("timeMs")?,
            feedback: o.f64("feedback")?,
            high_cut_hz: o.f64("highCutHz")?,
            ping_pong: o.bool("pingPong")?,
        });
    }
    if let Some(o) = stage("limiter")? {
        params.limiter = Some(LimiterParams {
            ceiling_dbtp: o.f64("ceilingDbtp")?,
            lookahead_ms: o.f64("lookaheadMs")?,
            release_ms: o.f64("releaseMs")?,
            auto_release: o.bool("autoRelease")?,
            input_gain_db: o.f64("inputGainDb")?,
        });
    }
    if let Some(o) = stage("dither")? {
        params.dither = Some(DitherParams {
            bits: o.f64("bits")? as u32,
            noise_shaping: o.bool("noiseShaping")?,
            seed,
        });
    }
    Ok(params)
}
