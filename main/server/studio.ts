// The engine as the UI sees it: one object that implements every handler of the contract on top
// of main/core (jobs in the worker pool, the session, files the engineer handed over), shared by
// Electron's IPC and browser mode's WebSocket. It never imports electron: what only the desktop
// can do (native dialogs) comes in as `dialogs`, and is answered NOT_AVAILABLE without it.
//
// Files: the engine reads only paths the engineer handed over (a native dialog, a drop on the
// window, a browser upload, or — on the desktop — a session the engineer opened). Requests name
// files by the id they were given then, never by path.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { AnalysisResult } from '../core/analysis/analyze.js';
import type { ChainDocument } from '../core/chain/document.js';
import { listProfiles, listTargets, getTarget, getProfile } from '../core/delivery/targets.js';
import { isLatheError, LatheError } from '../core/errors.js';
import { JobError, type JobHandle, type JobPool } from '../core/jobs/pool.js';
import type { JobKindName, PreviewRegion } from '../core/jobs/kinds.js';
import { probeFile, type AudioProbe } from '../core/media/probe.js';
import dsp from '#native-dsp';
import { writeDemoMixInWorker } from '../core/demo-run.js';
import { runTool } from '../core/media/spawn.js';
import { lossyCodecArgs } from '../core/media/encode.js';
import { newSession, type SessionDocument, type SessionFile } from '../core/session/document.js';
import { ChainHistory } from '../core/session/history.js';
import { Autosaver, loadSession, saveSession, SESSION_EXTENSION } from '../core/session/store.js';
import { rememberEdits } from '../core/assistant/assist.js';
import { resetAdjustments } from '../core/assistant/adjustments.js';
import type { Proposal } from '../core/assistant/propose.js';
import type { AssistantProposal, ChainState, Emit, FileInfo, Handlers, JobInfo, OutputFile, SessionSummary, TrackInfo } from '../../preload/contract.js';

/** A refusal the UI can show: `{code, message}` on the wire. */
export class StudioError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StudioError';
  }
}

/** What only the desktop shell can do. Each returns null/[] when the engineer cancels. */
export interface Dialogs {
  chooseFiles(purpose: 'track' | 'reference' | 'session'): Promise<string[]>;
  chooseFolder(): Promise<string | null>;
  chooseSessionPath(defaultName: string): Promise<string | null>;
}

export interface StudioOptions {
  mode: 'electron' | 'browser';
  pool: JobPool;
  /** Caches, previews, uploads and (browser mode) outputs; the autosave lives in `autosaveDir`. */
  workDir: string;
  autosaveDir: string;
  autosaveDelayMs?: number;
  appVersion: string;
  /** The URL a UI fetches a media file (preview, output, session download) from. */
  urlFor: (mediaId: string, name: string) => string;
  dialogs?: Dialogs;
  /** Called when a session was saved or opened from a path (recent sessions). */
  onSessionPath?: (path: string) => void;
  /** Preview window length in seconds (about 10). */
  previewWindowSeconds?: number;
  /** Where the assistant remembers this user's habits (default: the user's config folder). */
  assistantAdjustmentsPath?: string;
  /** Desktop: shows a delivery report this studio's export wrote (`url` is the studio's own
   *  media URL for it, `path` where it is on disk). Without it, output:open is NOT_AVAILABLE. */
  openReport?: (report: { url: string; path: string; name: string }) => Promise<void>;
}

interface HandedFile extends FileInfo {
  path: string;
}

interface Track {
  info: TrackInfo;
  probe: AudioProbe;
  analysis: AnalysisResult | null;
  analysisJob: JobHandle<'analysis'>;
  decoded: Promise<{ cacheFile: string; frames: number }>;
}

interface Media {
  path: string;
  name: string;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  [SESSION_EXTENSION]: 'application/json',
};

const newId = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex')}`;

export class Studio {
  readonly handlers: Handlers;
  private emitters = new Set<Emit>();
  private readonly files = new Map<string, HandedFile>();
  private readonly folders = new Map<string, string>();
  private readonly media = new Map<string, Media>();
  /** The HTML delivery reports this studio's exports wrote, by media id: all output:open opens. */
  private readonly reports = new Set<string>();
  private readonly tracks = new Map<string, Track>();
  private readonly jobs = new Map<string, { info: JobInfo; handle: JobHandle<JobKindName> }>();
  private readonly autosaver: Autosaver;
  private session: SessionDocument;
  private history: ChainHistory;
  private sessionPath: string | null = null;
  private dirty = false;
  private trackId: string | null = null;
  private missingTrack: string | null = null;
  private referenceIds: string[] = [];
  private previewGeneration = 0;
  private previewJob: JobHandle<'preview'> | null = null;
  private previewFiles: string[] = [];
  /** The demo mix, written once per instance. */
  private demoFile: Promise<string> | null = null;
  /** The latest full preview (its generation and file), and analyses of full previews by generation. */
  private latestFull: { generation: number; file: string } | null = null;
  private readonly previewAnalyses = new Map<number, Promise<AnalysisResult>>();
  /** Codec previews ("hear it as"), by generation and target; older generations' files are removed. */
  private readonly codecPreviews = new Map<string, Promise<OutputFile & { codec: string; bitrateKbps: number }>>();
  /** The assistant's last proposal for the current track, and whether the engineer applied it
   *  (only then do their later edits and export teach the assistant a habit). */
  private proposal: { value: Proposal; applied: boolean } | null = null;

  constructor(private readonly options: StudioOptions) {
    for (const sub of ['cache', 'previews', 'uploads', 'outputs', 'sessions']) mkdirSync(join(options.workDir, sub), { recursive: true });
    this.autosaver = new Autosaver(options.autosaveDir, options.autosaveDelayMs);
    this.session = newSession();
    this.history = new ChainHistory(this.session.chain);
    this.handlers = this.buildHandlers();
  }

  /** Subscribes a transport to every event; returns the unsubscribe. */
  onEvent(emit: Emit): () => void {
    this.emitters.add(emit);
    return () => this.emitters.delete(emit);
  }

  private emit: Emit = (channel, payload) => {
    for (const e of this.emitters) e(channel, payload);
  };

  /** Registers a file the engineer handed over; the UI learns of it by a `files:added` event. */
  handOver(path: string, origin: FileInfo['origin'], name = basename(path)): FileInfo {
    for (const f of this.files.values()) if (f.path === path) return strip(f);
    let sizeBytes = 0;
    try {
      sizeBytes = statSync(path).size;
    } catch {
      throw new StudioError('FILE_NOT_FOUND', `${name}: file not found`);
    }
    const file: HandedFile = { fileId: newId('file'), name, sizeBytes, origin, path };
    this.files.set(file.fileId, file);
    this.emit('files:added', [strip(file)]);
    return strip(file);
  }

  /** Where an upload should be written (browser mode); hand it over once complete. */
  uploadPath(name: string): string {
    const cleaned = basename(name).replace(/[^\w.\- ()[\]]+/g, '_').slice(-120);
    // "." and ".." would name the folder itself (or its parent): such uploads are just "upload".
    const safe = cleaned && !/^\.+$/.test(cleaned) ? cleaned : 'upload';
    const dir = join(this.options.workDir, 'uploads', randomBytes(6).toString('hex'));
    mkdirSync(dir, { recursive: true });
    return join(dir, safe);
  }

  /** A media file the UI may fetch (previews, outputs, downloads), or undefined. */
  mediaFile(mediaId: string): Media | undefined {
    return this.media.get(mediaId);
  }

  /** Stops jobs, writes nothing more; a clean close leaves no autosave to recover. */
  async close(options: { clean: boolean } = { clean: true }): Promise<void> {
    if (options.clean) this.autosaver.clear();
    else this.autosaver.flush();
    await this.options.pool.close();
  }

  /** Writes a pending autosave now (tests, and before quitting). */
  flushAutosave(): void {
    this.autosaver.flush();
  }

  get autosaveFile(): string {
    return this.autosaver.file;
  }

  // ---------------------------------------------------------------- media and jobs

  private publish(path: string, name = basename(path)): OutputFile {
    const id = newId('media');
    this.media.set(id, { path, name, contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream' });
    return { name, url: this.options.urlFor(id, name), path: this.options.mode === 'electron' ? path : null, mediaId: id };
  }

  private startJob<K extends JobKindName>(kind: K, label: string, params: Parameters<JobPool['run']>[1] & object, outputsOf: (value: unknown) => OutputFile[] = () => [], extra: { onPartial?: (v: unknown) => void } = {}): JobHandle<K> {
    let info!: JobInfo;
    const handle = this.options.pool.run(kind, params as never, {
      onProgress: (fraction, stage, targets) => {
        Object.assign(info, { state: 'running', fraction: Math.max(0, Math.min(1, fraction)), stage });
        this.emit('job:progress', { jobId: handle.id, kind, fraction: info.fraction, stage, ...(targets ? { targets } : {}) });
      },
      onStart: () => {
        if (info) info.state = 'running';
      },
      ...(extra.onPartial ? { onPartial: extra.onPartial } : {}),
    }) as JobHandle<K>;
    info = { jobId: handle.id, kind, label, state: 'queued', fraction: 0, stage: 'queued' };
    this.jobs.set(handle.id, { info, handle: handle as JobHandle<JobKindName> });
    handle.result.then(
      (value) => {
        Object.assign(info, { state: 'done', fraction: 1, stage: 'done' });
        this.emit('job:done', { jobId: handle.id, kind, outputs: outputsOf(value) });
      },
      (e: Error) => {
        const code = e instanceof JobError || isLatheError(e) ? (e as LatheError).code : 'INTERNAL';
        Object.assign(info, { state: code === 'CANCELLED' ? 'cancelled' : 'failed', stage: e.message });
        this.emit('job:failed', { jobId: handle.id, kind, code, message: e.message });
      },
    );
    // Finished jobs stay listed for a while; keep the list short.
    if (this.jobs.size > 100) {
      for (const [id, j] of this.jobs) if (j.info.state !== 'queued' && j.info.state !== 'running' && this.jobs.size > 100) this.jobs.delete(id);
    }
    return handle;
  }

  /** When an export of an applied proposal succeeds, the engineer's changes to the proposed moves
   *  become a remembered habit (per style profile); a failed or cancelled export teaches nothing. */
  private learnFromExport(result: Promise<unknown>, chain: ChainDocument): void {
    const proposal = this.proposal;
    if (!proposal?.applied) return;
    result.then(
      () => {
        try {
          rememberEdits(proposal.value, chain, this.options.assistantAdjustmentsPath);
        } catch (e) {
          // The export itself succeeded; an unwritable habits file only costs the lean.
          console.warn(`lathe: the assistant could not remember your edits: ${(e as Error).message}`);
        }
      },
      () => undefined,
    );
  }

  // ---------------------------------------------------------------- files and tracks

  private handed(fileId: string): HandedFile {
    const f = this.files.get(fileId);
    if (!f) throw new StudioError('NOT_FOUND', `no file ${fileId} was handed to Lathe (open, drop or upload it first)`);
    return f;
  }

  private async loadTrack(fileId: string): Promise<Track> {
    const existing = this.tracks.get(fileId);
    if (existing) return existing;
    const file = this.handed(fileId);
    const probe = await probeFile(file.path);
    const info: TrackInfo = {
      fileId,
      name: file.name,
      durationSeconds: probe.durationSeconds ?? 0,
      sampleRate: probe.sampleRate,
      channels: probe.channels,
      codec: probe.codec,
    };
    const analysisJob = this.startJob('analysis', `analysing ${file.name}`, { file: file.path, includeSpectrogram: true });
    const decodeJob = this.startJob('decode', `preparing ${file.name} for previews`, { probe, cacheFile: join(this.options.workDir, 'cache', `${fileId}.f32`) });
    const track: Track = { info, probe, analysis: null, analysisJob, decoded: decodeJob.result };
    // A failed decode is reported as a job failure; previews then fail with its message.
    track.decoded.catch(() => undefined);
    analysisJob.result.then(
      (analysis) => {
        track.analysis = analysis;
        this.emit('analysis:ready', { fileId, analysis });
      },
      () => undefined,
    );
    this.tracks.set(fileId, track);
    return track;
  }

  // ---------------------------------------------------------------- session

  private summary(): SessionSummary {
    const track = this.trackId ? (this.tracks.get(this.trackId)?.info ?? null) : null;
    return {
      name: this.session.name,
      path: this.options.mode === 'electron' ? this.sessionPath : null,
      dirty: this.dirty,
      track,
      missingTrack: this.missingTrack,
      references: this.referenceIds.map((id) => this.tracks.get(id)?.info).filter((t): t is TrackInfo => !!t),
      snapshots: this.session.snapshots.map((s) => ({ name: s.name, createdAt: s.createdAt })),
      exportSettings: { ...this.session.exportSettings },
      playheadSeconds: this.session.playheadSeconds,
    };
  }

  /** The session as it would be saved now. */
  document(): SessionDocument {
    const fileOf = (id: string | null): SessionFile | null => {
      const f = id ? this.files.get(id) : undefined;
      return f ? { path: f.path, name: f.name } : null;
    };
    return {
      ...this.session,
      track: fileOf(this.trackId) ?? (this.missingTrack && this.session.track ? this.session.track : null),
      references: this.referenceIds.map(fileOf).filter((f): f is SessionFile => !!f),
      chain: this.history.chain,
      history: this.history.stacks,
    };
  }

  private changed(): void {
    this.dirty = true;
    this.autosaver.schedule(() => this.document());
    this.emit('session:changed', this.summary());
  }

  private chainState(): ChainState {
    return { chain: this.history.chain, canUndo: this.history.canUndo, canRedo: this.history.canRedo };
  }

  /** After every chain change: the region around the playhead first, then the rest. */
  private chainChanged(): ChainState {
    this.changed();
    if (this.trackId) this.startPreview(this.session.playheadSeconds).catch(() => undefined);
    return this.chainState();
  }

  private async adopt(doc: SessionDocument, path: string | null): Promise<SessionSummary> {
    this.previewJob?.cancel();
    this.session = doc;
    this.history = new ChainHistory(doc.chain, doc.history);
    this.sessionPath = path;
    this.trackId = null;
    this.missingTrack = null;
    this.referenceIds = [];
    // Desktop: a session the engineer opened names its files, and opening it hands them over.
    // Browser mode never reads a path from a session: those files must be uploaded again.
    const resolveFile = (f: SessionFile): string | null => {
      if (this.options.mode !== 'electron' || !existsSync(f.path)) return null;
      return this.handOver(f.path, 'session', f.name).fileId;
    };
    if (doc.track) {
      const id = resolveFile(doc.track);
      if (id) {
        await this.loadTrack(id);
        this.trackId = id;
      } else this.missingTrack = doc.track.name;
    }
    for (const r of doc.references) {
      const id = resolveFile(r);
      if (id) {
        await this.loadTrack(id);
        this.referenceIds.push(id);
      }
    }
    this.dirty = false;
    this.emit('session:changed', this.summary());
    return this.summary();
  }

  // ---------------------------------------------------------------- previews

  private async startPreview(playheadSeconds: number, windowSeconds = this.options.previewWindowSeconds ?? 10): Promise<{ generation: number; jobId: string }> {
    if (!this.trackId) throw new StudioError('NOT_FOUND', 'open a track before asking for a preview');
    const track = this.tracks.get(this.trackId)!;
    const generation = ++this.previewGeneration;
    // A newer change cancels the older render, queued or running.
    this.previewJob?.cancel();
    this.previewJob = null;
    const chain = this.history.chain;
    const decoded = await track.decoded.catch((e: Error) => {
      throw new StudioError(isLatheError(e) ? e.code : 'INTERNAL', `the track could not be prepared for previews: ${e.message}`);
    });
    if (generation !== this.previewGeneration) throw new StudioError('CANCELLED', 'a newer preview replaced this one');
    const dir = join(this.options.workDir, 'previews');
    const windowFile = join(dir, `${generation}-window.wav`);
    const fullFile = join(dir, `${generation}-full.wav`);
    const announce = (region: PreviewRegion) => {
      if (generation !== this.previewGeneration) return;
      const out = this.publish(region.file, `preview-${region.region}.wav`);
      this.emit('preview:ready', { generation, region: region.region, startSeconds: region.startSeconds, endSeconds: region.endSeconds, url: out.url });
      if (region.region === 'window') this.dropOldPreviews([windowFile, fullFile]);
      else this.latestFull = { generation, file: region.file };
    };
    const job = this.startJob(
      'preview',
      'preview',
      { cacheFile: decoded.cacheFile, sampleRate: track.probe.sampleRate, channels: track.probe.channels, frames: decoded.frames, chain, playheadSeconds, windowSeconds, windowFile, fullFile },
      () => [],
      { onPartial: (v) => announce(v as PreviewRegion) },
    );
    this.previewJob = job;
    job.result.then(announce, () => {
      rmSync(fullFile, { force: true });
    });
    return { generation, jobId: job.id };
  }

  /** Encodes a full preview with a platform's codec and decodes it back (two ffmpeg runs, child
   *  processes); the WAV appears atomically, the encoded file is removed. */
  private async codecPreview(file: string, channels: number, generation: number, targetId: string, check: { codec: string; bitrateKbps: number; container: string }) {
    const dir = join(this.options.workDir, 'previews');
    const encoded = join(dir, `${generation}-${targetId}.codec.${check.container}`);
    const out = join(dir, `${generation}-${targetId}.codec.wav`);
    const partial = `${out}.partial.wav`;
    try {
      const enc = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', file, ...lossyCodecArgs(check.codec, check.bitrateKbps, channels), encoded]);
      if (enc.code !== 0) throw new StudioError('FFMPEG_FAILED', `the ${check.codec} preview could not be encoded: ${enc.stderr.trim().split('\n').pop() ?? ''}`);
      const dec = await runTool('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', encoded, '-c:a', 'pcm_f32le', partial]);
      if (dec.code !== 0) throw new StudioError('FFMPEG_FAILED', `the ${check.codec} preview could not be decoded: ${dec.stderr.trim().split('\n').pop() ?? ''}`);
      renameSync(partial, out);
    } finally {
      rmSync(encoded, { force: true });
      rmSync(partial, { force: true });
    }
    return { ...this.publish(out, `preview-${targetId}.wav`), codec: check.codec, bitrateKbps: check.bitrateKbps };
  }

  /** Forgets a published media file and removes it. */
  private unpublish(url: string): void {
    for (const [id, m] of this.media) {
      if (url.includes(id)) {
        rmSync(m.path, { force: true });
        this.media.delete(id);
      }
    }
  }

  private dropOldPreviews(keep: string[]): void {
    const old = this.previewFiles.filter((f) => !keep.includes(f));
    for (const f of old) rmSync(f, { force: true });
    for (const [id, m] of this.media) if (old.includes(m.path)) this.media.delete(id);
    this.previewFiles = keep;
  }

  // ---------------------------------------------------------------- outputs

  private outputDir(folderId: string | undefined, jobName: string): string {
    if (folderId) {
      const folder = this.folders.get(folderId);
      if (!folder) throw new StudioError('NOT_FOUND', `no folder ${folderId} was chosen`);
      return folder;
    }
    const dir = join(this.options.workDir, 'outputs', jobName);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private currentTrack(): Track {
    const track = this.trackId ? this.tracks.get(this.trackId) : undefined;
    if (!track) throw new StudioError('NOT_FOUND', this.missingTrack ? `the session's track ${this.missingTrack} has not been handed over: open or upload it` : 'open a track first');
    return track;
  }

  private needDialogs(what: string): Dialogs {
    if (!this.options.dialogs) throw new StudioError('NOT_AVAILABLE', `${what} needs the desktop app; in the browser, upload files and download results instead`);
    return this.options.dialogs;
  }

  // ---------------------------------------------------------------- the contract

  private buildHandlers(): Handlers {
    return {
      'app:info': () => ({ version: this.options.appVersion, mode: this.options.mode, workers: this.options.pool.size }),
      'targets:list': () =>
        listTargets().map((t) => ({ id: t.id, name: t.name, integratedLufs: t.integratedLufs, truePeakCeilingDbtp: t.truePeakCeilingDbtp, container: t.deliverable.container, normalization: t.normalization })),
      'profiles:list': () => listProfiles().map((p) => ({ id: p.id, name: p.name, typicalLufs: p.integratedLufs.typical })),
      'file:choose': async ({ purpose }) => {
        const paths = await this.needDialogs('a file dialog').chooseFiles(purpose);
        return paths.map((p) => this.handOver(p, 'dialog'));
      },
      'file:list': () => [...this.files.values()].map(strip),
      'track:open': async ({ fileId }) => {
        const track = await this.loadTrack(fileId);
        if (this.trackId !== fileId) this.proposal = null;
        this.trackId = fileId;
        this.missingTrack = null;
        this.referenceIds = this.referenceIds.filter((id) => id !== fileId);
        this.changed();
        return { track: track.info, analysisJobId: track.analysisJob.id };
      },
      'demo:open': async () => {
        this.demoFile ??= (async () => {
          const file = join(this.options.workDir, 'demo', 'Lathe demo mix.wav');
          mkdirSync(join(this.options.workDir, 'demo'), { recursive: true });
          await writeDemoMixInWorker(file);
          return file;
        })();
        const file = await this.demoFile.catch((e: Error) => {
          this.demoFile = null;
          throw new StudioError(isLatheError(e) ? e.code : 'INTERNAL', e.message);
        });
        const { fileId } = this.handOver(file, 'demo');
        return this.handlers['track:open']({ fileId });
      },
      'file:media': ({ fileId }) => {
        const file = this.handed(fileId);
        const out = this.publish(file.path, file.name);
        return out;
      },
      'reference:add': async ({ fileId }) => {
        const track = await this.loadTrack(fileId);
        if (!this.referenceIds.includes(fileId)) this.referenceIds.push(fileId);
        this.changed();
        return { reference: track.info, analysisJobId: track.analysisJob.id };
      },
      'reference:remove': ({ fileId }) => {
        this.referenceIds = this.referenceIds.filter((id) => id !== fileId);
        this.changed();
        return this.summary();
      },
      'analysis:get': ({ fileId }) => {
        this.handed(fileId);
        return this.tracks.get(fileId)?.analysis ?? null;
      },
      'chain:get': () => this.chainState(),
      'chain:set': ({ chain, coalesceKey }) => {
        if (this.proposal && !this.proposal.applied) {
          const text = JSON.stringify(chain);
          this.proposal.applied = Object.values(this.proposal.value.variations).some((c) => JSON.stringify(c) === text);
        }
        if (!this.history.apply(chain, coalesceKey)) return this.chainState();
        return this.chainChanged();
      },
      'chain:undo': () => (this.history.undo() ? this.chainChanged() : this.chainState()),
      'chain:redo': () => (this.history.redo() ? this.chainChanged() : this.chainState()),
      'snapshot:take': ({ name }) => {
        this.session.snapshots.push({ name, createdAt: new Date().toISOString(), chain: this.history.chain });
        this.changed();
        return this.summary();
      },
      'snapshot:restore': ({ index }) => {
        const snap = this.session.snapshots[index];
        if (!snap) throw new StudioError('NOT_FOUND', `there is no snapshot ${index}`);
        return this.history.apply(snap.chain) ? this.chainChanged() : this.chainState();
      },
      'assistant:propose': async ({ profile, targetLufs }) => {
        const track = this.currentTrack();
        if (profile) {
          try {
            getProfile(profile);
          } catch (e) {
            throw new StudioError('BAD_PAYLOAD', (e as Error).message);
          }
        }
        // Listening and inference run in a worker; a missing or broken model fails this job only.
        const job = this.startJob('assist', `listening to ${track.info.name}`, {
          file: this.handed(track.info.fileId).path,
          profile: profile ?? null,
          targetLufs: targetLufs ?? null,
          adjustmentsPath: this.options.assistantAdjustmentsPath ?? null,
        });
        const proposal = await job.result;
        const wire = proposalForUi(proposal);
        this.proposal = { value: proposal, applied: false };
        this.session.proposal = { chain: wire.chain, summary: wire.summary };
        this.changed();
        return wire;
      },
      'assistant:resetHabits': ({ profile }) => {
        resetAdjustments(profile, this.options.assistantAdjustmentsPath);
        return { reset: true };
      },
      'match:reference': async (request) => {
        const { referenceFileId } = request;
        const reference = this.handed(referenceFileId);
        const track = this.currentTrack();
        // Planned in a worker (two analyses); the UI applies the chain with chain:set, undoably.
        const blend = (request.blend ?? []).filter((b) => b.weight > 0).map((b) => ({ file: this.handed(b.fileId).path, weight: b.weight, name: this.handed(b.fileId).name }));
        if (request.blend && blend.length === 0) throw new StudioError('BAD_PAYLOAD', 'give at least one reference a weight above 0');
        const label = blend.length > 1 ? `matching to a blend of ${blend.map((b) => b.name).join(', ')}` : `matching to ${reference.name}`;
        const job = this.startJob('match', label, {
          target: track.probe.file,
          reference: reference.path,
          chain: this.history.chain,
          ...(blend.length ? { references: blend.map(({ file, weight }) => ({ file, weight })) } : {}),
        });
        return await job.result;
      },
      'preview:render': ({ playheadSeconds, windowSeconds }) => {
        this.session.playheadSeconds = playheadSeconds;
        return this.startPreview(playheadSeconds, windowSeconds);
      },
      'preview:analysis': async ({ generation }) => {
        const full = this.latestFull;
        if (!full || full.generation !== generation || !existsSync(full.file)) {
          throw new StudioError('NOT_FOUND', `preview ${generation} is not ready or was replaced by a newer one`);
        }
        let analysis = this.previewAnalyses.get(generation);
        if (!analysis) {
          analysis = this.startJob('analysis', 'measuring the preview', { file: full.file, includeSpectrogram: true }).result;
          this.previewAnalyses.clear();
          this.previewAnalyses.set(generation, analysis);
        }
        return await analysis;
      },
      'preview:codec': ({ generation, targetId }) => {
        const full = this.latestFull;
        if (!full || full.generation !== generation || !existsSync(full.file)) {
          throw new StudioError('NOT_FOUND', `preview ${generation} is not ready or was replaced by a newer one`);
        }
        let target;
        try {
          target = getTarget(targetId);
        } catch (e) {
          throw new StudioError('BAD_PAYLOAD', (e as Error).message);
        }
        const check = target.codecChecks[0];
        if (!check) throw new StudioError('NOT_AVAILABLE', `${target.name} plays the delivered file itself: there is no codec to hear`);
        const key = `${generation}:${target.id}`;
        let made = this.codecPreviews.get(key);
        if (!made) {
          for (const [k, old] of this.codecPreviews) {
            if (!k.startsWith(`${generation}:`)) {
              this.codecPreviews.delete(k);
              old.then((o) => this.unpublish(o.url), () => undefined);
            }
          }
          // The full preview keeps the open track's channels.
          const channels = this.tracks.get(this.trackId ?? '')?.probe.channels ?? 2;
          made = this.codecPreview(full.file, channels, generation, target.id, check);
          made.catch(() => this.codecPreviews.delete(key));
          this.codecPreviews.set(key, made);
        }
        return made;
      },
      'eq:curve': ({ chain, sampleRate, points = 256 }) => {
        const top = Math.min(20_000, 0.49 * sampleRate);
        const hz = Array.from({ length: points }, (_, i) => 20 * (top / 20) ** (i / (points - 1)));
        // A disabled EQ stage is not rendered: its response is flat, whatever its bands say.
        const db = chain.eq.enabled ? Array.from(dsp.eqCurve({ sampleRate, chain, frequencies: Float32Array.from(hz) })) : hz.map(() => 0);
        return { hz, db };
      },
      'render:start': ({ container, bits, folderId }) => {
        const track = this.currentTrack();
        if (container === 'flac' && bits === 32) throw new StudioError('BAD_PAYLOAD', 'FLAC holds 16 or 24 bits, not 32');
        const dir = this.outputDir(folderId, newId('render'));
        const output = join(dir, `${basename(track.info.name, extname(track.info.name))}.master.${container}`);
        const codec = container === 'flac' ? 'flac' : bits === 16 ? 'pcm_s16le' : bits === 24 ? 'pcm_s24le' : 'pcm_f32le';
        const format = { muxer: container, codec, sampleRate: track.probe.sampleRate, channels: track.probe.channels, channelLayout: track.probe.channelLayout, ...(container === 'flac' ? { flacBits: bits as 16 | 24 } : {}) };
        const job = this.startJob('render', `rendering ${basename(output)}`, { probe: track.probe, chain: this.history.chain, output, format }, (v) => (v as { files: string[] }).files.map((f) => this.publish(f)));
        return { jobId: job.id };
      },
      'export:start': ({ settings, folderId }) => {
        const track = this.currentTrack();
        const s = settings ?? this.session.exportSettings;
        if (s.targets.length === 0) throw new StudioError('BAD_PAYLOAD', 'choose at least one delivery target');
        try {
          s.targets.forEach(getTarget);
          if (s.profile) getProfile(s.profile);
        } catch (e) {
          throw new StudioError('BAD_PAYLOAD', (e as Error).message);
        }
        const outDir = this.outputDir(folderId, newId('export'));
        const job = this.startJob(
          'export',
          `exporting ${track.info.name} for ${s.targets.join(', ')}`,
          { input: this.handed(track.info.fileId).path, targetIds: s.targets, profileId: s.profile, chain: this.history.chain, codecChecks: s.codecChecks, maxLimitingDb: s.maxLimitingDb, outDir, appVersion: this.options.appVersion },
          (v) =>
            (v as { files: string[] }).files.map((f) => {
              const out = this.publish(f);
              if (f.endsWith('.report.html')) this.reports.add(out.mediaId!);
              return out;
            }),
        );
        this.learnFromExport(job.result, this.history.chain);
        return { jobId: job.id };
      },
      'export:chooseFolder': async () => {
        const folder = await this.needDialogs('choosing a folder').chooseFolder();
        if (!folder) return null;
        const folderId = newId('folder');
        this.folders.set(folderId, folder);
        return { folderId, name: basename(folder) };
      },
      'export:settings': (settings) => {
        this.session.exportSettings = settings;
        this.changed();
        return this.summary();
      },
      'output:open': async ({ mediaId }) => {
        const open = this.options.openReport;
        if (!open) throw new StudioError('NOT_AVAILABLE', 'opening a report in a window needs the desktop app; in the browser, the report opens in a new tab');
        // Only a report an export of this studio wrote: never a path, never another served file.
        const report = this.reports.has(mediaId) ? this.media.get(mediaId) : undefined;
        if (!report) throw new StudioError('NOT_FOUND', `there is no delivery report ${mediaId} from an export of this session`);
        if (!existsSync(report.path)) throw new StudioError('FILE_NOT_FOUND', `${report.name}: the report is no longer where the export wrote it (${report.path})`);
        await open({ url: this.options.urlFor(mediaId, report.name), path: report.path, name: report.name });
        return { opened: true };
      },
      'job:cancel': ({ jobId }) => {
        const job = this.jobs.get(jobId);
        if (!job) throw new StudioError('NOT_FOUND', `there is no job ${jobId}`);
        return { cancelled: job.handle.cancel() };
      },
      'job:list': () => [...this.jobs.values()].map((j) => ({ ...j.info })),
      'session:get': () => this.summary(),
      'session:new': () => this.adopt(newSession(), null),
      'session:save': async ({ saveAs, name }) => {
        if (name) this.session.name = name;
        let download: OutputFile | null = null;
        let saved: SessionDocument;
        if (this.options.mode === 'electron') {
          let path = saveAs ? null : this.sessionPath;
          if (!path) path = await this.needDialogs('saving a session').chooseSessionPath(`${this.session.name}${SESSION_EXTENSION}`);
          if (!path) return { session: this.summary(), download: null };
          if (extname(path) !== SESSION_EXTENSION) path += SESSION_EXTENSION;
          saved = saveSession(path, this.document());
          this.sessionPath = path;
          this.options.onSessionPath?.(path);
        } else {
          const file = join(this.options.workDir, 'sessions', `${this.session.name.replace(/[^\w.\- ]+/g, '_') || 'session'}${SESSION_EXTENSION}`);
          saved = saveSession(file, this.document());
          download = this.publish(file);
        }
        this.session.savedAt = saved.savedAt;
        this.dirty = false;
        this.autosaver.clear();
        this.emit('session:changed', this.summary());
        return { session: this.summary(), download };
      },
      'session:open': async ({ fileId }) => {
        const file = this.handed(fileId);
        const doc = loadSession(file.path);
        const summary = await this.adopt(doc, this.options.mode === 'electron' ? file.path : null);
        if (this.options.mode === 'electron') this.options.onSessionPath?.(file.path);
        return summary;
      },
      'session:recoverable': () => {
        const r = this.autosaver.recoverable();
        return r ? { name: r.doc.name, savedAt: r.savedAt } : null;
      },
      'session:recover': async () => {
        const r = this.autosaver.recoverable();
        if (!r) throw new StudioError('NOT_FOUND', 'there is no unsaved session to recover');
        const summary = await this.adopt(r.doc, null);
        this.autosaver.discardRecovery();
        // Recovered work is unsaved work: keep it safe in the autosave until it is saved.
        this.changed();
        return { ...summary, dirty: true };
      },
      'session:discardRecovery': () => ({ discarded: this.autosaver.discardRecovery() }),
    };
  }

  /** Asks for a preview as the UI would after moving the playhead (fire-and-forget `send`). */
  setPlayhead(seconds: number): void {
    this.session.playheadSeconds = seconds;
  }
}

/** The proposal as the contract carries it (the model's raw outputs stay in the engine). */
function proposalForUi(p: Proposal): AssistantProposal {
  const applied = p.parameters.filter((q) => q.autoApply).length;
  const summary =
    `${p.model.name} ${p.model.version} (${p.model.architecture}): ${applied} move${applied === 1 ? '' : 's'} applied, ` +
    `${p.parameters.length - applied} suggested only; style ${p.style.suggested} (p ${p.style.probability.toFixed(2)}${p.style.lowConfidence ? ', a hint' : ''})`;
  return {
    chain: p.chain,
    summary,
    model: { ...p.model },
    parameters: p.parameters.map((q) => ({
      id: q.id,
      path: q.path,
      value: q.value,
      unit: q.unit,
      confidence: q.confidence,
      autoApply: q.autoApply,
      reason: q.reason,
      ...(q.userLean ? { userLean: { ...q.userLean } } : {}),
    })),
    style: { suggested: p.style.suggested, probability: p.style.probability, lowConfidence: p.style.lowConfidence, testAccuracy: p.style.testAccuracy, applied: p.style.applied },
    loudness: { ...p.loudness },
    variations: { ...p.variations },
  };
}

function strip(f: HandedFile): FileInfo {
  return { fileId: f.fileId, name: f.name, sizeBytes: f.sizeBytes, origin: f.origin };
}

export type { ChainDocument };
