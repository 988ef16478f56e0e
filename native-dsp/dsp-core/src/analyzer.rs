//! The whole analysis of a programme in one streaming pass: loudness (BS.1770 / R128), true and
//! sample peak, spectrum and spectrogram, stereo image, dynamics, the seed metrics, and the QC
//! findings, from planar or interleaved float blocks of any size.

use crate::error::{check_format, check_planes, DspError};
use crate::loudness::{ChannelRole, LoudnessMeter, LoudnessReport};
use crate::qc::{QcFinding, Severity};
use crate::spectral::{SpectralAnalyzer, SpectralOptions, SpectralReport};
use crate::timedomain::{TimeDomainAnalyzer, TimeDomainOptions, TimeDomainReport};
use crate::truepeak::{peak_db, TruePeakMeter};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Frames collected before the meters run on them: about 3 s at 44.1 kHz (512 KiB per channel).
/// Batches this large keep thread hand-offs rare.
const BATCH_FRAMES: usize = 131_072;

#[derive(Debug, Clone)]
pub struct AnalyzerOptions {
    /// ffmpeg channel names in stream order (FL, FR, FC, LFE, BL, BR, SL, SR …).
    pub channel_names: Vec<String>,
    pub spectrogram_columns: usize,
    pub spectrogram_rows: usize,
    /// 1 measures on the calling thread only; 2 (the default from JavaScript), when the machine
    /// has a second core, measures each batch on a worker thread (with a second thread for the
    /// meters) while the caller reads and collects the next one, so decoding and measuring
    /// overlap. A batch runner that already keeps every core busy asks for 1.
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
    runner: Runner,
    /// Planar frames waiting to be measured (at most BATCH_FRAMES).
    pending: Vec<Vec<f32>>,
    /// Bytes of a frame split across two reads of a byte stream (fewer than one frame).
    carry: Vec<u8>,
    /// The encoding of the byte stream, once one has begun.
    stream_encoding: Option<SampleEncoding>,
    frames: u64,
    finished: bool,
}

/// How interleaved sample bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEncoding {
    /// Little-endian 32-bit float, ffmpeg's `f32le`.
    F32Le,
    /// Little-endian 16-bit integer, ffmpeg's `s16le`; x reads as x / 32768, exactly what
    /// ffmpeg's own conversion to float gives, in half the bytes.
    S16Le,
}

impl SampleEncoding {
    pub fn bytes(self) -> usize {
        match self {
            SampleEncoding::F32Le => 4,
            SampleEncoding::S16Le => 2,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SampleEncoding::F32Le => "float",
            SampleEncoding::S16Le => "16-bit",
        }
    }
}

/// The meters, fed batch by batch.
struct Meters {
    loudness: LoudnessMeter,
    true_peak: TruePeakMeter,
    time_domain: TimeDomainAnalyzer,
    spectral: SpectralAnalyzer,
    full: bool,
    /// Measure each batch on two threads.
    parallel: bool,
}

/// Where batches are measured.
enum Runner {
    /// On the calling thread, before `process` returns.
    Inline(Box<Meters>),
    /// On a worker thread, one batch while the caller fills the next.
    Worker(Worker),
    /// Only while `finish` takes the meters back from the worker.
    Stopped,
}

/// Planar frames, one buffer per channel.
type Batch = Vec<Vec<f32>>;

/// A thread that owns the meters while the stream lasts. Batches go to it through a channel of
/// one and come back emptied (with the result), so the two batch buffers are reused; every batch
/// is measured in stream order, so results are those of the inline runner, bit for bit.
struct Worker {
    batches: SyncSender<Batch>,
    done: Receiver<(Batch, Result<(), DspError>)>,
    thread: JoinHandle<Box<Meters>>,
    /// A batch is being measured.
    busy: bool,
}

impl Worker {
    fn start(meters: Box<Meters>) -> Result<Self, DspError> {
        let (batches, inbox) = sync_channel::<Batch>(1);
        let (outbox, done) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("lathe-analyzer".into())
            .spawn(move || {
                let mut meters = meters;
                for mut batch in inbox {
                    let result = meters.run(&batch);
                    for plane in batch.iter_mut() {
                        plane.clear();
                    }
                    if outbox.send((batch, result)).is_err() {
                        break;
                    }
                }
                meters
            })
            .map_err(|e| DspError::Parameter {
                name: "threads",
                message: format!("cannot start the analysis thread: {e}"),
            })?;
        Ok(Worker {
            batches,
            done,
            thread,
            busy: false,
        })
    }

    /// Waits for the batch being measured, if any, and returns its buffers.
    fn wait(&mut self) -> Result<Option<Batch>, DspError> {
        if !self.busy {
            return Ok(None);
        }
        self.busy = false;
        match self.done.recv() {
            Ok((buffers, result)) => result.map(|()| Some(buffers)),
            // The worker is gone: it panicked (its sender dropped without an answer).
            Err(_) => Err(DspError::Finished),
        }
    }

    /// Stops the thread and takes the meters back, re-raising a panic of the worker.
    fn stop(self) -> Box<Meters> {
        drop(self.batches);
        self.thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

impl Analyzer {
    pub fn new(sample_rate: f64, options: AnalyzerOptions) -> Result<Self, DspError> {
        let channels = options.channel_names.len();
        check_format(sample_rate, channels)?;
        let names: Vec<&str> = options.channel_names.iter().map(|s| s.as_str()).collect();
        let roles = ChannelRole::from_names(&names);
        let included: Vec<bool> = roles.iter().map(|r| *r != ChannelRole::Lfe).collect();
        let stereo_pair = stereo_pair(&names);
        let meters = Box::new(Meters {
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
            parallel: false,
        });
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let runner = if options.threads > 1 && cores > 1 {
            let mut meters = meters;
            meters.parallel = true;
            Runner::Worker(Worker::start(meters)?)
        } else {
            Runner::Inline(meters)
        };
        Ok(Analyzer {
            sample_rate,
            channels,
            runner,
            pending: vec![Vec::with_capacity(BATCH_FRAMES); channels],
            carry: Vec::new(),
            stream_encoding: None,
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
        self.process_interleaved(bytes, SampleEncoding::F32Le)
    }

    /// Interleaved sample bytes in `encoding`; the length must be a whole number of frames.
    pub fn process_interleaved(
        &mut self,
        bytes: &[u8],
        encoding: SampleEncoding,
    ) -> Result<(), DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let frame_bytes = encoding.bytes() * self.channels;
        if !bytes.len().is_multiple_of(frame_bytes) {
            return Err(DspError::Parameter {
                name: "bytes",
                message: format!(
                    "{} bytes is not a whole number of {}-channel {} frames",
                    bytes.len(),
                    self.channels,
                    encoding.describe()
                ),
            });
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = BATCH_FRAMES - self.pending[0].len();
            let take = (rest.len() / frame_bytes).min(room) * frame_bytes;
            match encoding {
                SampleEncoding::F32Le => {
                    deinterleave_f32le_append(&rest[..take], &mut self.pending)
                }
                SampleEncoding::S16Le => {
                    deinterleave_s16le_append(&rest[..take], &mut self.pending)
                }
            }
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
        self.process_stream(bytes, SampleEncoding::F32Le)
    }

    /// `process_f32le_stream` for any encoding; one stream keeps one encoding throughout.
    pub fn process_stream(
        &mut self,
        bytes: &[u8],
        encoding: SampleEncoding,
    ) -> Result<(), DspError> {
        if *self.stream_encoding.get_or_insert(encoding) != encoding {
            return Err(DspError::Parameter {
                name: "format",
                message: format!(
                    "the stream began as {} samples and cannot change to {}",
                    self.stream_encoding.map_or("", |e| e.describe()),
                    encoding.describe()
                ),
            });
        }
        let frame_bytes = encoding.bytes() * self.channels;
        let mut rest = bytes;
        if !self.carry.is_empty() {
            let need = (frame_bytes - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..need]);
            rest = &rest[need..];
            if self.carry.len() < frame_bytes {
                return Ok(());
            }
            let frame = std::mem::take(&mut self.carry);
            self.process_interleaved(&frame, encoding)?;
        }
        let whole = rest.len() - rest.len() % frame_bytes;
        self.process_interleaved(&rest[..whole], encoding)?;
        self.carry.extend_from_slice(&rest[whole..]);
        Ok(())
    }

    /// Bytes of a partial frame left over from `process_f32le_stream`.
    pub fn pending_partial_bytes(&self) -> usize {
        self.carry.len()
    }

    /// Measures the pending frames: at once, or by handing them to the worker (after waiting
    /// for the batch it is measuring) and going on with the other buffers.
    fn run_pending(&mut self) -> Result<(), DspError> {
        if self.pending[0].is_empty() {
            return Ok(());
        }
        match &mut self.runner {
            Runner::Inline(meters) => {
                let result = meters.run(&self.pending);
                for p in self.pending.iter_mut() {
                    p.clear();
                }
                result
            }
            Runner::Worker(worker) => {
                // The worker takes a batch once it is done with the one before.
                let previous = worker.wait();
                let next = match &previous {
                    Ok(Some(_)) => None,
                    _ => Some(vec![Vec::with_capacity(BATCH_FRAMES); self.channels]),
                };
                let next = match (next, previous) {
                    (None, Ok(Some(buffers))) => Ok(buffers),
                    (Some(fresh), result) => result.map(|_| fresh),
                    (None, _) => unreachable!("buffers come back with an Ok result"),
                };
                let next = next?;
                let batch = std::mem::replace(&mut self.pending, next);
                worker.batches.send(batch).map_err(|_| DspError::Finished)?;
                worker.busy = true;
                Ok(())
            }
            Runner::Stopped => Err(DspError::Finished),
        }
    }

    pub fn finish(&mut self) -> Result<AnalysisReport, DspError> {
        if self.finished {
            return Err(DspError::Finished);
        }
        let sent = self.run_pending();
        self.finished = true;
        let settled = self.settle();
        sent?;
        settled?;
        let (sample_rate, frames, channels) = (self.sample_rate, self.frames, self.channels);
        let Runner::Inline(meters) = &mut self.runner else {
            unreachable!("settle leaves the meters inline")
        };
        meters.true_peak.flush();
        let loudness = meters.loudness.report();
        let tp: Vec<f64> = meters.true_peak.true_peaks();
        let sp: Vec<f64> = meters.true_peak.sample_peaks();
        let true_peak_dbtp = peak_db(tp.iter().copied().fold(0.0, f64::max));
        let sample_peak_dbfs = peak_db(sp.iter().copied().fold(0.0, f64::max));
        let plr_db = match (true_peak_dbtp, loudness.integrated_lufs) {
            (Some(p), Some(i)) => Some(p - i),
            _ => None,
        };
        let time_domain = meters.time_domain.finish();
        let spectral = meters.spectral.finish();
        let mut findings = time_domain.findings.clone();
        over_findings(&meters.true_peak, sample_rate, &mut findings);
        if let Some(cutoff) = spectral.cutoff_hz {
            findings.push(QcFinding {
                kind: "lossy-cutoff",
                severity: Severity::Warning,
                start_seconds: 0.0,
                end_seconds: frames as f64 / sample_rate,
                channel: None,
                message: format!(
                    "the spectrum stops abruptly at {:.1} kHz: typical of a source that went through a lossy codec (or was upsampled)",
                    cutoff / 1000.0
                ),
            });
        }
        findings.sort_by(|a, b| a.start_seconds.total_cmp(&b.start_seconds));
        Ok(AnalysisReport {
            sample_rate,
            channels,
            frames,
            duration_seconds: frames as f64 / sample_rate,
            loudness,
            true_peak_dbtp,
            channel_true_peak_dbtp: tp.into_iter().map(peak_db).collect(),
            sample_peak_dbfs,
            channel_sample_peak_dbfs: sp.into_iter().map(peak_db).collect(),
            plr_db,
            true_peak_oversampling: meters.true_peak.factor(),
            time_domain,
            spectral,
            findings,
        })
    }

    /// Waits for the worker's last batch and takes the meters back onto this thread.
    fn settle(&mut self) -> Result<(), DspError> {
        if !matches!(self.runner, Runner::Worker(_)) {
            return Ok(());
        }
        let Runner::Worker(mut worker) = std::mem::replace(&mut self.runner, Runner::Stopped)
        else {
            unreachable!("matched above")
        };
        let last = worker.wait();
        self.runner = Runner::Inline(worker.stop());
        last.map(|_| ())
    }
}

impl Meters {
    /// Measures one batch, on two threads when `parallel`.
    fn run(&mut self, pending: &[Vec<f32>]) -> Result<(), DspError> {
        let planes: Vec<&[f32]> = pending.iter().map(|p| p.as_slice()).collect();
        type Task<'a> = Box<dyn FnOnce() -> Result<(), DspError> + Send + 'a>;
        let planes = &planes;
        // The heaviest first (spectrum, then loudness): whichever thread is free takes the next
        // meter, so the load balances itself whatever the material.
        let full = self.full;
        let mut tasks: Vec<Task> = Vec::with_capacity(4);
        if full {
            tasks.push(Box::new(|| self.spectral.process(planes)));
        }
        tasks.push(Box::new(|| self.loudness.process(planes)));
        tasks.push(Box::new(|| self.true_peak.process(planes)));
        if full {
            tasks.push(Box::new(|| self.time_domain.process(planes)));
        }
        if !self.parallel {
            return tasks.into_iter().try_for_each(|task| task());
        }
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
    }
}

/// QC findings for the inter-sample overs the true-peak meter collected.
fn over_findings(true_peak: &TruePeakMeter, sample_rate: f64, findings: &mut Vec<QcFinding>) {
    let overs = true_peak.overs();
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
            start_seconds: start as f64 / sample_rate,
            end_seconds: end as f64 / sample_rate,
            channel: None,
            message,
        });
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
    deinterleave_append::<4>(bytes, planes, |b| {
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    });
}

/// Appends interleaved s16le frames to per-channel planes, as floats (x / 32768, exact).
pub fn deinterleave_s16le_append(bytes: &[u8], planes: &mut [Vec<f32>]) {
    const SCALE: f32 = 1.0 / 32_768.0;
    deinterleave_append::<2>(bytes, planes, |b| {
        i16::from_le_bytes([b[0], b[1]]) as f32 * SCALE
    });
}

/// Appends interleaved frames of `W`-byte samples (decoded by `sample`) to per-channel planes.
/// The planes grow first, then one pass writes them through slices, which the compiler turns
/// into SIMD shuffles for the stereo case (no per-sample capacity check as with `push`).
#[inline(always)]
fn deinterleave_append<const W: usize>(
    bytes: &[u8],
    planes: &mut [Vec<f32>],
    sample: impl Fn(&[u8]) -> f32,
) {
    let channels = planes.len();
    let frame_bytes = W * channels;
    let frames = bytes.len() / frame_bytes;
    if channels == 2 {
        let (left, right) = planes.split_at_mut(1);
        let (l, r) = (&mut left[0], &mut right[0]);
        let (l0, r0) = (l.len(), r.len());
        l.resize(l0 + frames, 0.0);
        r.resize(r0 + frames, 0.0);
        for ((frame, a), b) in bytes
            .chunks_exact(2 * W)
            .zip(&mut l[l0..])
            .zip(&mut r[r0..])
        {
            *a = sample(&frame[..W]);
            *b = sample(&frame[W..]);
        }
        return;
    }
    for (c, plane) in planes.iter_mut().enumerate() {
        let start = plane.len();
        plane.resize(start + frames, 0.0);
        for (frame, out) in bytes.chunks_exact(frame_bytes).zip(&mut plane[start..]) {
            *out = sample(&frame[W * c..W * c + W]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(seed: u64, frames: usize, amplitude: f32) -> Vec<f32> {
        let mut s = seed;
        (0..frames)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amplitude
            })
            .collect()
    }

    fn options(names: &[&str], threads: usize) -> AnalyzerOptions {
        AnalyzerOptions {
            channel_names: names.iter().map(|s| s.to_string()).collect(),
            spectrogram_columns: 64,
            spectrogram_rows: 32,
            threads,
            full: true,
        }
    }

    fn interleave_bytes(planes: &[Vec<f32>]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for i in 0..planes[0].len() {
            for p in planes {
                bytes.extend_from_slice(&p[i].to_le_bytes());
            }
        }
        bytes
    }

    #[test]
    fn the_worker_thread_gives_the_inline_report_bit_for_bit() {
        // Several batches plus a partial one, with overs, clipping and a NaN, fed as planar
        // blocks and as a byte stream cut at odd places.
        let fs = 48_000.0;
        let frames = 3 * BATCH_FRAMES + 12_345;
        let mut l = noise(1, frames, 0.9);
        let r = noise(2, frames, 0.5);
        for v in &mut l[200_000..200_400] {
            *v = 1.0;
        }
        l[300_000] = f32::NAN;
        l[350_000] = 1.4;
        let planes = vec![l, r];
        let names = ["FL", "FR"];
        let mut inline = Analyzer::new(fs, options(&names, 1)).unwrap();
        assert!(matches!(inline.runner, Runner::Inline(_)));
        for (a, b) in planes[0].chunks(70_001).zip(planes[1].chunks(70_001)) {
            inline.process(&[a, b]).unwrap();
        }
        let want = format!("{:?}", inline.finish().unwrap());
        let mut threaded = Analyzer::new(fs, options(&names, 2)).unwrap();
        for (a, b) in planes[0].chunks(9_999).zip(planes[1].chunks(9_999)) {
            threaded.process(&[a, b]).unwrap();
        }
        assert_eq!(format!("{:?}", threaded.finish().unwrap()), want);
        let bytes = interleave_bytes(&planes);
        let mut streamed = Analyzer::new(fs, options(&names, 2)).unwrap();
        for piece in bytes.chunks(1_000_003) {
            streamed.process_f32le_stream(piece).unwrap();
        }
        assert_eq!(streamed.pending_partial_bytes(), 0);
        assert_eq!(format!("{:?}", streamed.finish().unwrap()), want);
        assert!(matches!(streamed.finish(), Err(DspError::Finished)));
        assert!(matches!(
            streamed.process(&[&[0.0], &[0.0]]),
            Err(DspError::Finished)
        ));
    }

    #[test]
    fn an_analyzer_dropped_mid_stream_stops_its_worker() {
        // Cancellation drops the analyzer without finish: the worker must end, not hang.
        let mut a = Analyzer::new(44_100.0, options(&["FL", "FR"], 2)).unwrap();
        let x = noise(3, 2 * BATCH_FRAMES + 5, 0.5);
        a.process(&[&x, &x]).unwrap();
        drop(a);
        // And a fresh one still works afterwards.
        let mut b = Analyzer::new(44_100.0, options(&["FC"], 2)).unwrap();
        b.process(&[&x]).unwrap();
        assert!(b.finish().unwrap().loudness.integrated_lufs.is_some());
    }

    #[test]
    fn deinterleave_splits_frames_for_any_channel_count() {
        for channels in 1..=8usize {
            let planes: Vec<Vec<f32>> = (0..channels)
                .map(|c| noise(10 + c as u64, 1_001, 1.0))
                .collect();
            let bytes = interleave_bytes(&planes);
            let mut out = vec![vec![7.0f32; 3]; channels];
            deinterleave_f32le(&bytes, &mut out);
            assert_eq!(out, planes, "{channels} channels");
            deinterleave_f32le_append(&bytes[..4 * channels * 10], &mut out);
            for (o, p) in out.iter().zip(&planes) {
                assert_eq!(o.len(), 1_011);
                assert_eq!(&o[1_001..], &p[..10]);
            }
        }
    }

    #[test]
    fn a_16_bit_stream_measures_as_its_exact_float_conversion() {
        // The same samples as s16le bytes and as the f32le bytes ffmpeg's conversion gives
        // (x / 32768): identical reports, for stereo and for 5.1, with reads cut mid-frame.
        for names in [
            &["FL", "FR"][..],
            &["FL", "FR", "FC", "LFE", "BL", "BR"][..],
        ] {
            let channels = names.len();
            let frames = BATCH_FRAMES + 50_001;
            let ints: Vec<Vec<i16>> = (0..channels)
                .map(|c| {
                    noise(40 + c as u64, frames, 1.0)
                        .into_iter()
                        .enumerate()
                        .map(|(i, x)| match i % 5_000 {
                            0 => i16::MIN,
                            1 => i16::MAX,
                            _ => (x * 20_000.0) as i16,
                        })
                        .collect()
                })
                .collect();
            let mut s16 = Vec::new();
            let mut f32le = Vec::new();
            for i in 0..frames {
                for plane in &ints {
                    s16.extend_from_slice(&plane[i].to_le_bytes());
                    f32le.extend_from_slice(&(plane[i] as f32 / 32_768.0).to_le_bytes());
                }
            }
            let mut a = Analyzer::new(48_000.0, options(names, 2)).unwrap();
            for piece in f32le.chunks(65_537) {
                a.process_f32le_stream(piece).unwrap();
            }
            let mut b = Analyzer::new(48_000.0, options(names, 2)).unwrap();
            for piece in s16.chunks(33_331) {
                b.process_stream(piece, SampleEncoding::S16Le).unwrap();
            }
            assert_eq!(b.pending_partial_bytes(), 0);
            let err = b.process_f32le_stream(&[0; 8]).unwrap_err().to_string();
            assert!(err.contains("cannot change"), "{err}");
            let (ra, rb) = (a.finish().unwrap(), b.finish().unwrap());
            assert_eq!(rb.frames, frames as u64);
            assert_eq!(format!("{rb:?}"), format!("{ra:?}"), "{channels} channels");
        }
    }
}
