//! The whole analysis of a programme in one streaming pass: loudness (BS.1770 / R128), true and
//! sample peak, spectrum and spectrogram, stereo image, dynamics, the seed metrics, and the QC
//! findings, from planar or interleaved float blocks of any size.

use crate::error::{check_format, check_planes, DspError};
use crate::loudness::{ChannelRole, LoudnessMeter, LoudnessReport};
use crate::qc::{QcFinding, Severity};
use crate::spectral::{SpectralAnalyzer, SpectralOptions, SpectralReport};
use crate::timedomain::{TimeDomainAnalyzer, TimeDomainOptions, TimeDomainReport};
use crate::truepeak::{peak_db, TruePeakMeter};

/// Frames collected before the meters run on them: about 3 s at 44.1 kHz (1 MiB per channel).
/// The meters run on two threads (true peak on one, loudness, time domain and spectrum on the
/// other), and batches this large keep thread hand-offs rare.
const BATCH_FRAMES: usize = 131_072;

#[derive(Debug, Clone)]
pub struct AnalyzerOptions {
    /// ffmpeg channel names in stream order (FL, FR, FC, LFE, BL, BR, SL, SR …).
    pub channel_names: Vec<String>,
    pub spectrogram_columns: usize,
    pub spectrogram_rows: usize,
    /// 1 measures on the calling thread only; 2 (the default from JavaScript) lends the meters a
    /// second thread when the machine has a second core. A batch runner that already keeps
    /// every core busy asks for 1.
    pub threads: usize,
    /// False measures loudness and peaks only (no spectrum, stereo or time-domain QC): what
    /// loudness targeting and codec checks need, at a fraction of the cost.
    pub full: bool,
}

#[derive(Debug, Clone)]
pub struct AnalysisReport {
    pub sample_rate: f64,
    pub channels: usize,
    pub frames: u64,
    pub duration_seconds: f64,
    pub loudness: LoudnessReport,
    pub true_peak_dbtp: Option<f64>,
    pub channel_true_peak_dbtp: Vec<Option<f64>>,
    pub sample_peak_dbfs: Option<f64>,
    pub channel_sample_peak_dbfs: Vec<Option<f64>>,
    /// Peak-to-loudness ratio: true peak minus integrated loudness.
    pub plr_db: Option<f64>,
    pub true_peak_oversampling: usize,
    /// Levels, stereo image and time-domain QC.
    pub time_domain: TimeDomainReport,
    /// Long-term spectrum, spectrogram and the spectral seed metrics.
    pub spectral: SpectralReport,
    pub findings: Vec<QcFinding>,
}

pub struct Analyzer {
    sample_rate: f64,
    channels: usize,
    loudness: LoudnessMeter,
    true_peak: TruePeakMeter,
    time_domain: TimeDomainAnalyzer,
    spectral: SpectralAnalyzer,
    full: bool,
    /// Planar frames waiting to be measured (at most BATCH_FRAMES).
    pending: Vec<Vec<f32>>,
    /// Bytes of a frame split across two reads of a byte stream (fewer than one frame).
    carry: Vec<u8>,
    parallel: bool,
    frames: u64,
    finished: bool,
}

impl Analyzer {
    pub fn new(sample_rate: f64, options: AnalyzerOptions) -> Result<Self, DspError> {
        let channels = options.channel_names.len();
        check_format(sample_rate, channels)?;
        let names: Vec<&str> = options.channel_names.iter().map(|s| s.as_str()).collect();
        let roles = ChannelRole::from_names(&names);
        let included: Vec<bool> = roles.iter().map(|r| *r != ChannelRole::Lfe).collect();
        let stereo_pair = stereo_pair(&names);
        Ok(Analyzer {
            sample_rate,
            channels,
            loudness: LoudnessMeter::new(sample_rate, &roles)?,
            true_peak: TruePeakMeter::new(sample_rate, channels)?,
            time_domain: TimeDomainAnalyzer::new(
                sample_rate,
                channels,
                TimeDomainOptions {
                    included: included.clone(),
                    stereo_pair,
                },
            )?,
            spectral: SpectralAnalyzer::new(
                sample_rate,
                channels,
                SpectralOptions {
                    spectrogram_columns: options.spectrogram_columns,
                    spectrogram_rows: options.spectrogram_rows,
                    included,
                    stereo_pair,
                },
            )?,
            full: options.full,
            pending: vec![Vec::with_capacity(BATCH_FRAMES); channels],
            carry: Vec::new(),
            parallel: options.threads > 1
                && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
            frames: 0,
            finished: false,
        })
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn process(&mut self, planes: &[&[f32]]) -> Result<(), DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let frames = check_planes(planes, self.channels)?;
        let mut pos = 0;
        while pos < frames {
            let room = BATCH_FRAMES - self.pending[0].len();
            let n = room.min(frames - pos);
            for (buf, plane) in self.pending.iter_mut().zip(planes) {
                buf.extend_from_slice(&plane[pos..pos + n]);
            }
            pos += n;
            if self.pending[0].len() == BATCH_FRAMES {
                self.run_pending()?;
            }
        }
        self.frames += frames as u64;
        Ok(())
    }

    /// Interleaved little-endian f32 bytes, as ffmpeg's `-f f32le` writes them. The length must
    /// be a whole number of frames.
    pub fn process_interleaved_f32le(&mut self, bytes: &[u8]) -> Result<(), DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let frame_bytes = 4 * self.channels;
        if !bytes.len().is_multiple_of(frame_bytes) {
            return Err(DspError::Parameter {
                name: "bytes",
                message: format!(
                    "{} bytes is not a whole number of {}-channel float frames",
                    bytes.len(),
                    self.channels
                ),
            });
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = BATCH_FRAMES - self.pending[0].len();
            let take = (rest.len() / frame_bytes).min(room) * frame_bytes;
            deinterleave_f32le_append(&rest[..take], &mut self.pending);
            rest = &rest[take..];
            self.frames += (take / frame_bytes) as u64;
            if self.pending[0].len() == BATCH_FRAMES {
                self.run_pending()?;
            }
        }
        Ok(())
    }

    /// Bytes of an interleaved f32le stream cut anywhere (as pipe reads cut it): whole frames
    /// are measured, a trailing partial frame waits for the next call.
    pub fn process_f32le_stream(&mut self, bytes: &[u8]) -> Result<(), DspError> {
        let frame_bytes = 4 * self.channels;
        let mut rest = bytes;
        if !self.carry.is_empty() {
            let need = (frame_bytes - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..need]);
            rest = &rest[need..];
            if self.carry.len() < frame_bytes {
                return Ok(());
            }
            let frame = std::mem::take(&mut self.carry);
            self.process_interleaved_f32le(&frame)?;
        }
        let whole = rest.len() - rest.len() % frame_bytes;
        self.process_interleaved_f32le(&rest[..whole])?;
        self.carry.extend_from_slice(&rest[whole..]);
        Ok(())
    }

    /// Bytes of a partial frame left over from `process_f32le_stream`.
    pub fn pending_partial_bytes(&self) -> usize {
        self.carry.len()
    }

    /// Measures the pending frames, on two threads when the machine has more than one core.
    fn run_pending(&mut self) -> Result<(), DspError> {
        if self.pending[0].is_empty() {
            return Ok(());
        }
        let parallel = self.parallel;
        let result = {
            let planes: Vec<&[f32]> = self.pending.iter().map(|p| p.as_slice()).collect();
            type Task<'a> = Box<dyn FnOnce() -> Result<(), DspError> + Send + 'a>;
            let planes = &planes;
            // The heaviest first (true peak on dense material, then spectrum): whichever thread is
            // free takes the next meter, so the load balances itself whatever the material.
            let full = self.full;
            let mut tasks: Vec<Task> = vec![Box::new(|| self.true_peak.process(planes))];
            if full {
                tasks.push(Box::new(|| self.spectral.process(planes)));
            }
            tasks.push(Box::new(|| self.loudness.process(planes)));
            if full {
                tasks.push(Box::new(|| self.time_domain.process(planes)));
            }
            if parallel {
                let queue = std::sync::Mutex::new(tasks.into_iter());
                let worker = || -> Result<(), DspError> {
                    let mut result = Ok(());
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                        match next {
                            Some(task) => result = result.and(task()),
                            None => return result,
                        }
                    }
                };
                std::thread::scope(|scope| {
                    let helper = scope.spawn(worker);
                    let mine = worker();
                    let theirs = helper
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p));
                    mine.and(theirs)
                })
            } else {
                tasks.into_iter().try_for_each(|task| task())
            }
        };
        for p in self.pending.iter_mut() {
            p.clear();
        }
        result
    }

    pub fn finish(&mut self) -> Result<AnalysisReport, DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        self.run_pending()?;
        self.finished = true;
        self.true_peak.flush();
        let loudness = self.loudness.report();
        let tp: Vec<f64> = self.true_peak.true_peaks();
        let sp: Vec<f64> = self.true_peak.sample_peaks();
        let true_peak_dbtp = peak_db(tp.iter().copied().fold(0.0, f64::max));
        let sample_peak_dbfs = peak_db(sp.iter().copied().fold(0.0, f64::max));
        let plr_db = match (true_peak_dbtp, loudness.integrated_lufs) {
            (Some(p), Some(i)) => Some(p - i),
            _ => None,
        };
        let time_domain = self.time_domain.finish();
        let spectral = self.spectral.finish();
        let mut findings = time_domain.findings.clone();
        self.over_findings(&mut findings);
        if let Some(cutoff) = spectral.cutoff_hz {
            findings.push(QcFinding {
                kind: "lossy-cutoff",
                severity: Severity::Warning,
                start_seconds: 0.0,
                end_seconds: self.frames as f64 / self.sample_rate,
                channel: None,
                message: format!(
                    "the spectrum stops abruptly at {:.1} kHz: typical of a source that went through a lossy codec (or was upsampled)",
                    cutoff / 1000.0
                ),
            });
        }
        findings.sort_by(|a, b| a.start_seconds.total_cmp(&b.start_seconds));
        Ok(AnalysisReport {
            sample_rate: self.sample_rate,
            channels: self.channels,
            frames: self.frames,
            duration_seconds: self.frames as f64 / self.sample_rate,
            loudness,
            true_peak_dbtp,
            channel_true_peak_dbtp: tp.into_iter().map(peak_db).collect(),
            sample_peak_dbfs,
            channel_sample_peak_dbfs: sp.into_iter().map(peak_db).collect(),
            plr_db,
            true_peak_oversampling: self.true_peak.factor(),
            time_domain,
            spectral,
            findings,
        })
    }

    fn over_findings(&self, findings: &mut Vec<QcFinding>) {
        let overs = self.true_peak.overs();
        let spans = overs.spans();
        for (i, &(start, end, count)) in spans.iter().enumerate() {
            let peak = peak_db(overs.peak(i)).unwrap_or(0.0);
            let mut message = format!(
                "inter-sample peak{} above 0 dBTP, up to {:+.2} dBTP: it will clip in a D/A converter or lossy encoder",
                if count > 1 { "s" } else { "" },
                peak
            );
            if i + 1 == spans.len() && overs.dropped_spans() > 0 {
                message.push_str(&format!(
                    " ({} more such passages not listed)",
                    overs.dropped_spans()
                ));
            }
            findings.push(QcFinding {
                kind: "intersample-over",
                severity: if peak > 0.5 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                start_seconds: start as f64 / self.sample_rate,
                end_seconds: end as f64 / self.sample_rate,
                channel: None,
                message,
            });
        }
    }
}

/// The front left/right pair (or the downmix pair), analysed as the stereo image.
fn stereo_pair(names: &[&str]) -> Option<(usize, usize)> {
    let find = |n: &str| names.iter().position(|x| *x == n);
    match (find("FL"), find("FR")) {
        (Some(l), Some(r)) => Some((l, r)),
        _ => match (find("DL"), find("DR")) {
            (Some(l), Some(r)) => Some((l, r)),
            _ => None,
        },
    }
}

/// Splits interleaved f32le bytes into per-channel planes (cleared and refilled).
pub fn deinterleave_f32le(bytes: &[u8], planes: &mut [Vec<f32>]) {
    for p in planes.iter_mut() {
        p.clear();
    }
    deinterleave_f32le_append(bytes, planes);
}

/// Appends interleaved f32le frames to per-channel planes.
pub fn deinterleave_f32le_append(bytes: &[u8], planes: &mut [Vec<f32>]) {
    let channels = planes.len();
    if channels == 2 {
        let (left, right) = planes.split_at_mut(1);
        let (l, r) = (&mut left[0], &mut right[0]);
        for frame in bytes.chunks_exact(8) {
            l.push(f32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]));
            r.push(f32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]));
        }
        return;
    }
    for frame in bytes.chunks_exact(4 * channels) {
        for (c, s) in frame.chunks_exact(4).enumerate() {
            planes[c].push(f32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        }
    }
}
