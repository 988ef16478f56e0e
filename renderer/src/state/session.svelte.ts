// The session as the UI sees it: the track and references with their analyses, the chain (every
// edit sent to the engine, which re-renders the preview), the assistant's proposal, reference
// matches, snapshots, and the processed preview's measurements. Wires the engine's events to the
// playback, export, jobs and notices states.
import type { AnalysisResult } from '../../../main/core/analysis/analyze.js';
import type { ChainDocument } from '../../../main/core/chain/document.js';
import { validateChain } from '../../../main/core/chain/document.js';
import type { FileInfo, LatheApi, SessionSummary, TrackInfo } from '../../../preload/contract.js';
import { getAt, setAt } from '../lib/paths.js';
import { ExportState } from './export.svelte.js';
import { JobsState, NoticesState } from './notices.svelte.js';
import { PlaybackState } from './playback.svelte.js';

/** One move of the assistant's proposal (the contract's `assistant:propose` parameters). */
export interface ProposedParameter {
  id: string;
  path: string;
  value: number;
  unit: string;
  confidence: number;
  autoApply: boolean;
  reason: string;
}

export interface ProposalView {
  chain: ChainDocument;
  summary: string;
  parameters: ProposedParameter[];
  style: { suggested: string; probability: number; lowConfidence: boolean } | null;
  variations: Record<string, ChainDocument>;
}

export interface MatchView {
  chain: ChainDocument;
  summary: string;
}

export interface Snapshot {
  name: string;
  chain: ChainDocument;
}

export type View = 'parameters' | 'spectrum' | 'spectrogram' | 'reference' | 'snapshots' | 'export';

export interface SessionOptions {
  api: LatheApi;
  upload?: (file: File) => Promise<FileInfo>;
  /** Decodes a media URL for playback (Web Audio); null where there is no audio. */
  decode?: ((url: string) => Promise<AudioBuffer>) | null;
  playback?: PlaybackState;
}

export class SessionState {
  readonly api: LatheApi;
  readonly playback: PlaybackState;
  readonly exporter: ExportState;
  readonly jobs = new JobsState();
  readonly notices = new NoticesState();

  #summary = $state.raw<SessionSummary | null>(null);
  #analyses = $state.raw<Record<string, AnalysisResult>>({});
  #processed = $state.raw<AnalysisResult | null>(null);
  #chain = $state.raw<ChainDocument | null>(null);
  #canUndo = $state(false);
  #canRedo = $state(false);
  #eqCurve = $state.raw<{ hz: number[]; db: number[] } | null>(null);
  #proposal = $state.raw<ProposalView | null>(null);
  #proposalState = $state<'idle' | 'running' | 'ready' | 'unavailable' | 'failed'>('idle');
  #proposalMessage = $state('');
  #matches = $state.raw<Record<string, MatchView>>({});
  #matching = $state<string | null>(null);
  /** Each reference's weight in a blended match (0…1; 1 when not set). */
  #weights = $state.raw<Record<string, number>>({});
  /** Chains of the snapshots taken here, by the session's snapshot index (sparse: a saved session's
   *  own snapshots are recalled by the engine). */
  #snapshots = $state.raw<(Snapshot | undefined)[]>([]);
  /** The chain a proposal or match started from: per-aspect amounts blend from it. */
  #blendBase: ChainDocument | null = null;
  #view = $state<View>('parameters');
  #opening = $state<string | null>(null);
  #previewGeneration = $state(0);
  #previewStatus = $state<'idle' | 'rendering' | 'window' | 'measuring' | 'full'>('idle');
  #editError = $state<string | null>(null);
  #recoverable = $state.raw<{ name: string; savedAt: string } | null>(null);
  /** Files dropped on the desktop window while a track is open: the engineer says what they are. */
  #dropped = $state.raw<FileInfo[]>([]);
  /** Loudness matching by ear's measure: rounds of "measure the master, move the gain into the limiter". */
  #leveling = $state.raw<{ target: number; round: number; measured: number | null; done: boolean } | null>(null);
  #processedWaiters: { after: number; resolve: (a: AnalysisResult) => void }[] = [];
  /** "Hear it as": the platform whose codec B plays through, and that codec. */
  #hearing = $state.raw<{ targetId: string; codec: string | null; bitrateKbps: number | null; loading: boolean } | null>(null);
  #lastFull: { generation: number; url: string } | null = null;

  readonly #upload: ((file: File) => Promise<FileInfo>) | undefined;
  readonly #decode: ((url: string) => Promise<AudioBuffer>) | null;
  #unsubscribe: (() => void)[] = [];
  #sending = false;
  #queued: { chain: ChainDocument; key: string | undefined } | null = null;
  #curveBusy = false;
  #curveQueued: ChainDocument | null = null;

  constructor(options: SessionOptions) {
    this.api = options.api;
    this.#upload = options.upload;
    this.#decode = options.decode === undefined ? defaultDecoder() : options.decode;
    this.playback = options.playback ?? new PlaybackState({ onPlayhead: (s) => this.api.send('playback:playhead', { seconds: s }) });
    this.exporter = new ExportState(this.api);
  }

  // ------------------------------------------------------------------ reading

  get summary() { return this.#summary; }
  get track(): TrackInfo | null { return this.#summary?.track ?? null; }
  get references(): TrackInfo[] { return this.#summary?.references ?? []; }
  get analysis(): AnalysisResult | null { const t = this.track; return t ? (this.#analyses[t.fileId] ?? null) : null; }
  analysisOf(fileId: string): AnalysisResult | null { return this.#analyses[fileId] ?? null; }
  get processed() { return this.#processed; }
  get chain() { return this.#chain; }
  get canUndo() { return this.#canUndo; }
  get canRedo() { return this.#canRedo; }
  get eqCurve() { return this.#eqCurve; }
  get proposal() { return this.#proposal; }
  get proposalState() { return this.#proposalState; }
  get proposalMessage() { return this.#proposalMessage; }
  get matches() { return this.#matches; }
  get matching() { return this.#matching; }
  weightOf(fileId: string): number { return this.#weights[fileId] ?? 1; }
  setWeight(fileId: string, weight: number): void { this.#weights = { ...this.#weights, [fileId]: Math.min(1, Math.max(0, weight)) }; }
  get snapshots() { return this.#snapshots; }
  get view() { return this.#view; }
  get opening() { return this.#opening; }
  get previewGeneration() { return this.#previewGeneration; }
  get previewStatus() { return this.#previewStatus; }
  get editError() { return this.#editError; }
  /** An autosaved session that was not closed cleanly, offered at start. */
  get recoverable() { return this.#recoverable; }
  get dropped() { return this.#dropped; }
  get leveling() { return this.#leveling; }

  /** Resolves with the measurement of the first full preview newer than generation `after`. */
  #processedAfter(after: number, timeoutMs = 120_000): Promise<AnalysisResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the preview was not measured in time')), timeoutMs);
      this.#processedWaiters.push({ after, resolve: (a) => (clearTimeout(timer), resolve(a)) });
    });
  }

  /** Brings the master's integrated loudness to `targetLufs` by the gain into the limiter: the
   *  preview is measured, the gain moved by the difference, and again (at most four rounds, until
   *  within 0.2 LU), since the limiter makes loudness grow less than the gain. */
  async matchLoudness(targetLufs: number): Promise<void> {
    if (!this.#chain) return;
    this.#leveling = { target: targetLufs, round: 0, measured: this.#processed?.loudness.integratedLufs ?? null, done: false };
    try {
      let measured = this.#processed && this.#previewStatus === 'full' ? this.#processed : await this.#processedAfter(this.#previewGeneration - 1);
      for (let round = 1; round <= 4; round++) {
        const lufs = measured.loudness.integratedLufs;
        this.#leveling = { target: targetLufs, round, measured: lufs, done: false };
        if (lufs === null || Math.abs(targetLufs - lufs) < 0.2) break;
        const gain = Number(this.#chain!.limiter.inputGainDb) + (targetLufs - lufs);
        const next = Math.round(Math.min(24, Math.max(-24, gain)) * 10) / 10;
        if (next === this.#chain!.limiter.inputGainDb) break;
        const generation = this.#previewGeneration;
        this.edit('limiter.inputGainDb', next);
        measured = await this.#processedAfter(generation);
      }
      this.#leveling = { target: targetLufs, round: this.#leveling?.round ?? 0, measured: measured.loudness.integratedLufs, done: true };
    } catch (e) {
      this.#leveling = null;
      this.notices.error('Could not match the loudness', e);
    }
  }

  /** A dropped file becomes the track, a reference, or (a .lathe file) the session. */
  async useDropped(fileId: string, as: 'track' | 'reference' | 'session' | null): Promise<void> {
    const f = this.#dropped.find((x) => x.fileId === fileId);
    this.#dropped = this.#dropped.filter((x) => x.fileId !== fileId);
    if (!f || !as) return;
    if (as === 'track') await this.openFile(f.fileId, f.name);
    else if (as === 'reference') await this.addReference(f.fileId);
    else {
      try {
        const summary = await this.api['session:open']({ fileId: f.fileId });
        this.#adoptSummary(summary);
        if (summary.track) await this.#trackOpened(summary.track);
      } catch (e) {
        this.notices.error(`Could not open the session ${f.name}`, e);
      }
    }
  }
  get hearing() { return this.#hearing; }
  get canUpload() { return this.#upload !== undefined; }

  /** The current value at a chain path. */
  valueAt(path: string): unknown {
    return this.#chain ? getAt(this.#chain, path) : undefined;
  }

  proposedFor(path: string): ProposedParameter | undefined {
    return this.#proposal?.parameters.find((p) => p.path === path);
  }

  /** The value the latest reference match set at a path, where it differs from the neutral start. */
  matchedValue(path: string): number | undefined {
    const last = Object.values(this.#matches).at(-1);
    if (!last) return undefined;
    const v = getAt(last.chain, path);
    return typeof v === 'number' ? v : undefined;
  }

  setView(view: View): void {
    this.#view = view;
  }

  // ------------------------------------------------------------------ start-up and events

  async start(): Promise<void> {
    this.#subscribe();
    await Promise.all([this.exporter.load().catch((e) => this.notices.error('Could not list the delivery targets', e)), this.#refreshChain()]);
    this.#recoverable = await this.api['session:recoverable']({}).catch(() => null);
    const summary = await this.api['session:get']({});
    this.#adoptSummary(summary);
    if (summary.track) {
      await this.#trackOpened(summary.track);
    } else {
      await this.openDemo();
    }
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.playback.dispose();
  }

  #subscribe(): void {
    const api = this.api;
    this.#unsubscribe.push(
      api.on('job:progress', (p) => {
        this.jobs.progress(p);
        this.exporter.progress(p.jobId, p.fraction, p.stage, p.targets);
      }),
      api.on('job:done', (p) => {
        this.jobs.finish(p.jobId, 'done', 'done');
        if (p.kind === 'export') this.exporter.done(p.jobId, p.outputs).catch((e) => this.notices.error('Could not read the delivery reports', e));
      }),
      api.on('job:failed', (p) => {
        this.jobs.finish(p.jobId, p.code === 'CANCELLED' ? 'cancelled' : 'failed', p.message);
        this.exporter.failed(p.jobId, p.code, p.message);
        // Replaced previews are routine; the assistant, matching and export say their own failures
        // where they were asked for; everything else is said here, in words.
        const ownView = p.kind === 'preview' || p.kind === 'export' || p.kind === 'assist' || p.kind === 'match';
        if (p.code !== 'CANCELLED' && !ownView) this.notices.error(`The ${p.kind} job failed`, p);
        if (p.kind === 'preview' && p.code !== 'CANCELLED') this.notices.error('The preview could not be rendered', p);
      }),
      api.on('analysis:ready', (p) => {
        this.#analyses = { ...this.#analyses, [p.fileId]: p.analysis };
        this.#analysisArrived(p.fileId, p.analysis);
      }),
      api.on('preview:ready', (p) => {
        if (p.generation < this.#previewGeneration) return;
        this.#previewGeneration = p.generation;
        this.#previewStatus = p.region === 'full' ? 'measuring' : 'window';
        void this.#loadPreview(p.generation, p.region, p.url, p.startSeconds);
      }),
      api.on('session:changed', (s) => this.#adoptSummary(s)),
      api.on('files:added', (files) => {
        // Electron: a file dropped on the window while nothing is open becomes the track; with a
        // track open, the engineer says what it is.
        const drops = files.filter((f) => f.origin === 'drop');
        const first = drops[0];
        if (first && !this.track && !first.name.endsWith('.lathe')) {
          void this.openFile(first.fileId, first.name);
          drops.shift();
        }
        if (drops.length) this.#dropped = [...this.#dropped, ...drops];
      }),
      api.on('menu:command', ({ command }) => {
        if (command === 'undo') void this.undo();
        else if (command === 'redo') void this.redo();
        else if (command === 'export') this.setView('export');
        else if (command === 'open') void this.choose('track');
        else if (command === 'open-reference') void this.choose('reference');
        else if (command === 'open-session') void this.openSession();
        else if (command === 'save-session' || command === 'save-session-as') void this.saveSession();
      }),
    );
  }

  #adoptSummary(s: SessionSummary): void {
    this.#summary = s;
    this.exporter.adopt(s.exportSettings);
  }

  async #refreshChain(): Promise<void> {
    const state = await this.api['chain:get']({});
    this.#adoptChain(state.chain, state.canUndo, state.canRedo);
  }

  #adoptChain(chain: ChainDocument, canUndo: boolean, canRedo: boolean): void {
    this.#chain = chain;
    this.#canUndo = canUndo;
    this.#canRedo = canRedo;
    void this.#refreshCurve(chain);
  }

  // ------------------------------------------------------------------ files

  async openDemo(): Promise<void> {
    this.#opening = 'the demo mix';
    try {
      const { track } = await this.api['demo:open']({});
      await this.#trackOpened(track);
    } catch (e) {
      this.notices.error('Could not open the demo mix', e);
    } finally {
      this.#opening = null;
    }
  }

  /** Browser mode: upload a file, then open it as the track or add it as a reference. */
  async uploadFile(file: File, purpose: 'track' | 'reference'): Promise<void> {
    if (!this.#upload) return;
    this.#opening = file.name;
    try {
      const info = await this.#upload(file);
      if (purpose === 'track') await this.openFile(info.fileId, info.name);
      else await this.addReference(info.fileId);
    } catch (e) {
      this.notices.error(`Could not open ${file.name}`, e);
    } finally {
      this.#opening = null;
    }
  }

  /** Electron: the native open dialog. */
  async choose(purpose: 'track' | 'reference'): Promise<void> {
    try {
      const files = await this.api['file:choose']({ purpose });
      const f = files[0];
      if (!f) return;
      if (purpose === 'track') await this.openFile(f.fileId, f.name);
      else await this.addReference(f.fileId);
    } catch (e) {
      this.notices.error('Could not open the file', e);
    }
  }

  async openFile(fileId: string, name: string): Promise<void> {
    this.#opening = name;
    try {
      const { track } = await this.api['track:open']({ fileId });
      await this.#trackOpened(track);
    } catch (e) {
      this.notices.error(`Could not open ${name}`, e);
    } finally {
      this.#opening = null;
    }
  }

  async #trackOpened(track: TrackInfo): Promise<void> {
    this.#summary = this.#summary ? { ...this.#summary, track } : this.#summary;
    this.#processed = null;
    this.#proposal = null;
    this.#proposalState = 'idle';
    this.playback.setDuration(track.durationSeconds);
    this.playback.setSource('B', null);
    const existing = await this.api['analysis:get']({ fileId: track.fileId });
    if (existing) {
      this.#analyses = { ...this.#analyses, [track.fileId]: existing };
      this.#analysisArrived(track.fileId, existing);
    }
    await this.#refreshChain();
    // The original for A, and a first preview for B.
    void this.#loadSource('A', track.fileId);
    this.#previewStatus = 'rendering';
    await this.api['preview:render']({ playheadSeconds: this.playback.position }).catch((e) => this.notices.error('The preview could not start', e));
  }

  #analysisArrived(fileId: string, analysis: AnalysisResult): void {
    const l = analysis.loudness;
    if (this.track?.fileId === fileId) this.playback.setMeasurement('A', l.integratedLufs, l.truePeakDbtp);
    else if (this.references[0]?.fileId === fileId) this.playback.setMeasurement('R', l.integratedLufs, l.truePeakDbtp);
  }

  async #loadSource(source: 'A' | 'R', fileId: string): Promise<void> {
    if (!this.#decode) return;
    try {
      const media = await this.api['file:media']({ fileId });
      const buffer = await this.#decode(media.url);
      this.playback.setSource(source, { buffer, startSeconds: 0 });
    } catch (e) {
      this.notices.error(`Could not load ${source === 'A' ? 'the original' : 'the reference'} for playback`, e);
    }
  }

  async #loadPreview(generation: number, region: 'window' | 'full', url: string, startSeconds: number): Promise<void> {
    if (this.#decode) {
      try {
        const buffer = await this.#decode(url);
        if (generation === this.#previewGeneration) this.playback.setSource('B', { buffer, startSeconds });
      } catch (e) {
        if (generation === this.#previewGeneration) this.notices.error('Could not load the preview for playback', e);
      }
    }
    if (region !== 'full') return;
    this.#lastFull = { generation, url };
    if (this.#hearing) void this.#loadCodec(this.#hearing.targetId);
    try {
      const analysis = await this.api['preview:analysis']({ generation });
      if (generation !== this.#previewGeneration) return;
      this.#processed = analysis;
      this.#previewStatus = 'full';
      const ready = this.#processedWaiters.filter((w) => generation > w.after);
      this.#processedWaiters = this.#processedWaiters.filter((w) => generation <= w.after);
      for (const w of ready) w.resolve(analysis);
      this.playback.setMeasurement('B', analysis.loudness.integratedLufs, analysis.loudness.truePeakDbtp);
    } catch (e) {
      // A newer preview replaced this one: its own analysis follows.
      if ((e as { code?: string }).code !== 'NOT_FOUND') this.notices.error('Could not measure the preview', e);
    }
  }

  // ------------------------------------------------------------------ hear it as a platform

  /** Plays as a platform would: its normalisation on every source, and B through its codec (when
   *  it has one). null: back to the studio. */
  async hearAs(targetId: string | null): Promise<void> {
    const t = targetId ? this.exporter.targets.find((x) => x.id === targetId) : undefined;
    if (!t) {
      this.playback.setPlatform(null);
      const had = this.#hearing?.codec;
      this.#hearing = null;
      const full = this.#lastFull;
      if (had && full && this.#decode) {
        try {
          this.playback.setSource('B', { buffer: await this.#decode(full.url), startSeconds: 0 });
        } catch (e) {
          this.notices.error('Could not reload the preview', e);
        }
      }
      return;
    }
    this.playback.setPlatform({ id: t.id, name: t.name, integratedLufs: t.integratedLufs, truePeakCeilingDbtp: t.truePeakCeilingDbtp, ...(t.normalization ? { normalization: t.normalization } : {}) });
    this.#hearing = { targetId: t.id, codec: null, bitrateKbps: null, loading: true };
    await this.#loadCodec(t.id);
  }

  async #loadCodec(targetId: string): Promise<void> {
    const full = this.#lastFull;
    if (!full) return;
    try {
      const c = await this.api['preview:codec']({ generation: full.generation, targetId });
      if (this.#hearing?.targetId !== targetId) return;
      if (this.#decode) {
        const buffer = await this.#decode(c.url);
        if (this.#hearing?.targetId !== targetId || this.#lastFull?.generation !== full.generation) return;
        this.playback.setSource('B', { buffer, startSeconds: 0 });
      }
      this.#hearing = { targetId, codec: c.codec, bitrateKbps: c.bitrateKbps, loading: false };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (this.#hearing?.targetId === targetId) this.#hearing = { targetId, codec: null, bitrateKbps: null, loading: false };
      // No codec on that platform, or a newer preview on its way: the level rules still apply.
      if (code !== 'NOT_AVAILABLE' && code !== 'NOT_FOUND') this.notices.error('Could not prepare the codec preview', e);
    }
  }

  // ------------------------------------------------------------------ the chain

  /** Sets one parameter; the engine re-renders the preview. Dragging a fader sends the latest
   *  value as soon as the previous edit was answered, as one undo step (coalesced by path). */
  edit(path: string, value: unknown): void {
    if (!this.#chain) return;
    let next: ChainDocument;
    try {
      next = validateChain(setAt(this.#chain, path, value));
    } catch (e) {
      this.#editError = `${path}: ${(e as { reason?: string }).reason ?? (e as Error).message}`;
      return;
    }
    this.#editError = null;
    this.#chain = next;
    this.#send(next, path);
  }

  /** Replaces the whole chain (a proposal, a match, a snapshot, a morph). */
  setChain(chain: ChainDocument, key?: string): void {
    this.#chain = chain;
    this.#send(chain, key);
  }

  #send(chain: ChainDocument, key: string | undefined): void {
    void this.#refreshCurve(chain);
    if (this.#sending) {
      this.#queued = { chain, key };
      return;
    }
    this.#sending = true;
    this.#previewStatus = 'rendering';
    void (async () => {
      let item: { chain: ChainDocument; key: string | undefined } | null = { chain, key };
      while (item) {
        try {
          const state = await this.api['chain:set']({ chain: item.chain, ...(item.key ? { coalesceKey: item.key } : {}) });
          this.#canUndo = state.canUndo;
          this.#canRedo = state.canRedo;
        } catch (e) {
          this.notices.error('The change was refused', e);
          await this.#refreshChain();
        }
        item = this.#queued;
        this.#queued = null;
      }
      this.#sending = false;
    })();
  }

  async #refreshCurve(chain: ChainDocument): Promise<void> {
    if (this.#curveBusy) {
      this.#curveQueued = chain;
      return;
    }
    this.#curveBusy = true;
    let next: ChainDocument | null = chain;
    while (next) {
      try {
        this.#eqCurve = await this.api['eq:curve']({ chain: next, sampleRate: this.track?.sampleRate ?? 48_000, points: 256 });
      } catch {
        /* the curve is a view; the chain itself reports errors */
      }
      next = this.#curveQueued;
      this.#curveQueued = null;
    }
    this.#curveBusy = false;
  }

  async undo(): Promise<void> {
    const s = await this.api['chain:undo']({});
    this.#adoptChain(s.chain, s.canUndo, s.canRedo);
  }

  async redo(): Promise<void> {
    const s = await this.api['chain:redo']({});
    this.#adoptChain(s.chain, s.canUndo, s.canRedo);
  }

  // ------------------------------------------------------------------ the assistant

  async propose(profile?: string): Promise<void> {
    this.#proposalState = 'running';
    this.#proposalMessage = '';
    try {
      const r = await this.api['assistant:propose'](profile ? { profile } : {});
      this.#proposal = {
        chain: r.chain,
        summary: r.summary,
        parameters: r.parameters.map((p) => ({ id: p.id, path: p.path, value: p.value, unit: p.unit, confidence: p.confidence, autoApply: p.autoApply, reason: p.reason })),
        style: { suggested: r.style.suggested, probability: r.style.probability, lowConfidence: r.style.lowConfidence },
        variations: { ...r.variations },
      };
      this.#proposalState = 'ready';
      this.#blendBase = this.#chain;
    } catch (e) {
      const code = (e as { code?: string }).code;
      this.#proposal = null;
      this.#proposalState = code === 'NOT_AVAILABLE' || code === 'MODEL_INVALID' ? 'unavailable' : 'failed';
      this.#proposalMessage = (e as Error).message;
    }
  }

  /** Applies the proposal's moves (the suggest-only ones stay suggestions). */
  applyProposal(variation?: string): void {
    const p = this.#proposal;
    if (!p) return;
    const chain = variation && p.variations[variation] ? p.variations[variation] : p.chain;
    this.setChain(chain, undefined);
  }

  /** Applies a proposal or a match by aspect: 0 keeps the chain it started from, 1 is the full
   *  move. Dragging an amount is one undo step. */
  applyAmounts(target: ChainDocument, amounts: Amounts): void {
    const base = this.#blendBase ?? this.#chain;
    if (!base) return;
    try {
      this.setChain(validateChain(blendChains(base, target, amounts)), 'amounts');
    } catch (e) {
      this.notices.error('Those amounts give an invalid chain', e);
    }
  }

  /** Applies one suggested move to the current chain. */
  applySuggestion(parameter: ProposedParameter): void {
    this.edit(parameter.path, parameter.value);
  }

  // ------------------------------------------------------------------ references

  async addReference(fileId: string): Promise<void> {
    try {
      await this.api['reference:add']({ fileId });
      const existing = await this.api['analysis:get']({ fileId });
      if (existing) {
        this.#analyses = { ...this.#analyses, [fileId]: existing };
      }
      if (this.references[0]?.fileId === fileId || this.references.length <= 1) {
        if (existing) this.playback.setMeasurement('R', existing.loudness.integratedLufs, existing.loudness.truePeakDbtp);
        void this.#loadSource('R', fileId);
      }
    } catch (e) {
      this.notices.error('Could not add the reference', e);
    }
  }

  async removeReference(fileId: string): Promise<void> {
    const s = await this.api['reference:remove']({ fileId });
    this.#adoptSummary(s);
    const { [fileId]: _gone, ...rest } = this.#matches;
    this.#matches = rest;
    if (!s.references.length) {
      this.playback.setSource('R', null);
      this.playback.setMeasurement('R', null, null);
      if (this.playback.selected === 'R') this.playback.select('B');
    }
  }

  async match(referenceFileId: string): Promise<void> {
    this.#matching = referenceFileId;
    try {
      const r = await this.api['match:reference']({ referenceFileId });
      this.#matches = { ...this.#matches, [referenceFileId]: r };
      this.#blendBase = this.#chain;
    } catch (e) {
      this.notices.error('The match failed', e);
    } finally {
      this.#matching = null;
    }
  }

  /** Matches to every reference at once, weighted (the result is kept under "blend"). */
  async matchBlend(): Promise<void> {
    const refs = this.references;
    if (refs.length < 2) return;
    this.#matching = 'blend';
    try {
      const r = await this.api['match:reference']({ referenceFileId: refs[0]!.fileId, blend: refs.map((x) => ({ fileId: x.fileId, weight: this.weightOf(x.fileId) })) });
      const { blend: _old, ...rest } = this.#matches;
      this.#matches = { ...rest, blend: r };
      this.#blendBase = this.#chain;
    } catch (e) {
      this.notices.error('The blended match failed', e);
    } finally {
      this.#matching = null;
    }
  }

  applyMatch(referenceFileId: string): void {
    const m = this.#matches[referenceFileId];
    if (m) this.setChain(m.chain);
  }

  // ------------------------------------------------------------------ snapshots

  async takeSnapshot(name: string): Promise<void> {
    if (!this.#chain) return;
    const chain = this.#chain;
    const index = this.snapshotNames.length;
    try {
      await this.api['snapshot:take']({ name });
      const next = [...this.#snapshots];
      next[index] = { name, chain };
      this.#snapshots = next;
    } catch (e) {
      this.notices.error('Could not store the snapshot', e);
    }
  }

  /** The session's snapshots: those taken here (with their chains, so they can be morphed) and
   *  those a saved session brought (recalled by the engine). */
  get snapshotNames(): string[] {
    const saved = this.#summary?.snapshots.map((s) => s.name) ?? [];
    return saved.length >= this.#snapshots.length ? saved : this.#snapshots.map((s, i) => s?.name ?? saved[i] ?? '');
  }

  recallSnapshot(index: number): void {
    const s = this.#snapshots[index];
    if (s) {
      this.setChain(s.chain);
      return;
    }
    this.api['snapshot:restore']({ index }).then(
      (state) => this.#adoptChain(state.chain, state.canUndo, state.canRedo),
      (e) => this.notices.error('Could not recall the snapshot', e),
    );
  }

  /** Sets the chain between snapshots a and b (amount 0…1): every number interpolated, switches
   *  and choices taken from the nearer one. One undo step per morph gesture. */
  morph(a: number, b: number, amount: number): void {
    const from = this.#snapshots[a]?.chain;
    const to = this.#snapshots[b]?.chain;
    if (!from || !to) return;
    try {
      this.setChain(validateChain(morphChains(from, to, amount)), 'morph');
    } catch (e) {
      this.notices.error('The morph gave an invalid chain', e);
    }
  }

  /** Opens a saved session: browser mode uploads the .lathe file, Electron asks with its dialog. */
  async openSession(file?: File): Promise<void> {
    try {
      let fileId: string | undefined;
      if (file && this.#upload) fileId = (await this.#upload(file)).fileId;
      else fileId = (await this.api['file:choose']({ purpose: 'session' }))[0]?.fileId;
      if (!fileId) return;
      const summary = await this.api['session:open']({ fileId });
      this.#snapshots = [];
      this.#matches = {};
      this.#adoptSummary(summary);
      if (summary.track) await this.#trackOpened(summary.track);
      else await this.#refreshChain();
    } catch (e) {
      this.notices.error(`Could not open the session${file ? ` ${file.name}` : ''}`, e);
    }
  }

  async recover(): Promise<void> {
    try {
      const s = await this.api['session:recover']({});
      this.#recoverable = null;
      this.#adoptSummary(s);
      if (s.track) await this.#trackOpened(s.track);
      else await this.#refreshChain();
    } catch (e) {
      this.notices.error('Could not recover the session', e);
    }
  }

  async discardRecovery(): Promise<void> {
    await this.api['session:discardRecovery']({}).catch(() => undefined);
    this.#recoverable = null;
  }

  async saveSession(): Promise<void> {
    try {
      const { download } = await this.api['session:save']({});
      if (download) {
        const a = document.createElement('a');
        a.href = `${download.url}${download.url.includes('?') ? '&' : '?'}download=1`;
        a.download = download.name;
        a.click();
      }
    } catch (e) {
      this.notices.error('Could not save the session', e);
    }
  }
}

/** Interpolates two chains: numbers linearly, everything else from the nearer end. */
export function morphChains(a: ChainDocument, b: ChainDocument, t: number): ChainDocument {
  const mix = (x: unknown, y: unknown): unknown => {
    if (typeof x === 'number' && typeof y === 'number') return x + (y - x) * t;
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) return x.map((v, i) => mix(v, y[i]));
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x)) out[k] = mix((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]);
      return out;
    }
    return t < 0.5 ? x : y;
  };
  return mix(a, b) as ChainDocument;
}

export type Aspect = 'tone' | 'dynamics' | 'width' | 'level';
export type Amounts = Record<Aspect, number>;

/** Which aspect a chain path belongs to (null: taken from the target as it is). */
export function aspectOf(path: string): Aspect | null {
  if (path === 'eq.inputGainDb' || path === 'limiter.inputGainDb') return 'level';
  if (path.startsWith('eq.')) return 'tone';
  if (path.startsWith('compressor.')) return 'dynamics';
  if (path.startsWith('imager.')) return 'width';
  return null;
}

/** A chain between `base` and `target`, per aspect: numbers moved by the aspect's amount (0: the
 *  base, 1: the target), switches and choices from the target once its amount is above zero. */
export function blendChains(base: ChainDocument, target: ChainDocument, amounts: Amounts): ChainDocument {
  const walk = (x: unknown, y: unknown, path: string): unknown => {
    const aspect = aspectOf(path);
    const t = aspect === null ? 1 : amounts[aspect];
    if (typeof x === 'number' && typeof y === 'number') return x + (y - x) * t;
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) return x.map((v, i) => walk(v, y[i], `${path}[${i}]`));
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(y)) out[k] = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return out;
    }
    return t > 0 ? y : x;
  };
  return walk(base, target, '') as ChainDocument;
}

function defaultDecoder(): ((url: string) => Promise<AudioBuffer>) | null {
  if (typeof OfflineAudioContext !== 'function') return null;
  // One context for decoding only; playback has its own.
  const ctx = new OfflineAudioContext(2, 1, 48_000);
  return async (url: string) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`could not fetch the audio (HTTP ${r.status})`);
    return ctx.decodeAudioData(await r.arrayBuffer());
  };
}
