// The one contract between the UI and the engine: every request and its response (`invoke`),
// every fire-and-forget message (`send`) and every engine → UI event (`events`), each with a small
// runtime validator from which its TypeScript type is inferred. main registers its handlers from
// this table, the preload builds `window.lathe` from it, browser mode serves the same table over a
// WebSocket, and the renderer's client is typed by it. Nothing else crosses the boundary.
//
// No Node or DOM imports here: this module runs in main, in the sandboxed preload (bundled) and in
// the renderer. The chain document's validator is pure TypeScript and shared with the engine.
import { validateChain, type ChainDocument } from '../main/core/chain/document.js';
import type { AnalysisResult } from '../main/core/analysis/analyze.js';

// ------------------------------------------------------------------ validators

/** A payload that does not match the contract; `path` names the field. */
export class ContractError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ContractError';
  }
}

export interface Validator<T> {
  /** Returns the value typed (objects rebuilt with only the declared keys) or throws ContractError. */
  parse(value: unknown, path?: string): T;
}
export type Infer<V> = V extends Validator<infer T> ? T : never;

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 40 ? `${s.slice(0, 40)}…` : s;
  } catch {
    return typeof v;
  }
};

function make<T>(parse: (value: unknown, path: string) => T): Validator<T> {
  return { parse: (value, path = 'payload') => parse(value, path) };
}

type Shape = Record<string, Validator<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Validator<infer T> ? (undefined extends T ? K : never) : never }[keyof S];
type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };
type Flatten<T> = { [K in keyof T]: T[K] };

export const v = {
  string(options: { min?: number; max?: number; pattern?: RegExp } = {}): Validator<string> {
    const { min = 0, max = 4096, pattern } = options;
    return make((x, path) => {
      if (typeof x !== 'string') throw new ContractError(path, `must be text, got ${show(x)}`);
      if (x.length < min || x.length > max) throw new ContractError(path, `must be ${min}…${max} characters long`);
      if (pattern && !pattern.test(x)) throw new ContractError(path, `is not in the expected form`);
      return x;
    });
  },
  number(options: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> {
    const { min = -Infinity, max = Infinity, integer = false } = options;
    return make((x, path) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new ContractError(path, `must be a number, got ${show(x)}`);
      if (integer && !Number.isInteger(x)) throw new ContractError(path, `must be a whole number, got ${x}`);
      if (x < min || x > max) throw new ContractError(path, `${x} is outside ${min}…${max}`);
      return x;
    });
  },
  boolean(): Validator<boolean> {
    return make((x, path) => {
      if (typeof x !== 'boolean') throw new ContractError(path, `must be true or false, got ${show(x)}`);
      return x;
    });
  },
  literal<const T extends string | number | boolean | null>(...options: T[]): Validator<T> {
    return make((x, path) => {
      if (!options.includes(x as T)) throw new ContractError(path, `must be one of ${options.map(show).join(', ')}, got ${show(x)}`);
      return x as T;
    });
  },
  optional<T>(inner: Validator<T>): Validator<T | undefined> {
    return make((x, path) => (x === undefined ? undefined : inner.parse(x, path)));
  },
  nullable<T>(inner: Validator<T>): Validator<T | null> {
    return make((x, path) => (x === null ? null : inner.parse(x, path)));
  },
  array<T>(item: Validator<T>, options: { max?: number } = {}): Validator<T[]> {
    const { max = 10_000 } = options;
    return make((x, path) => {
      if (!Array.isArray(x)) throw new ContractError(path, `must be a list, got ${show(x)}`);
      if (x.length > max) throw new ContractError(path, `has ${x.length} items, at most ${max} allowed`);
      return x.map((e, i) => item.parse(e, `${path}[${i}]`));
    });
  },
  /** An object with exactly these keys: unknown keys are refused, so typos do not pass silently. */
  object<S extends Shape>(shape: S): Validator<Flatten<ObjectOf<S>>> {
    return make((x, path) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ContractError(path, `must be an object, got ${show(x)}`);
      const o = x as Record<string, unknown>;
      // Own keys only: `in` would let "__proto__", "constructor" or "toString" through as known.
      for (const key of Object.keys(o)) if (!Object.hasOwn(shape, key)) throw new ContractError(`${path}.${key}`, 'is not a known field');
      const out: Record<string, unknown> = {};
      for (const [key, validator] of Object.entries(shape)) {
        const value = validator.parse(o[key], `${path}.${key}`);
        if (value !== undefined) out[key] = value;
      }
      return out as Flatten<ObjectOf<S>>;
    });
  },
  /** A value the engine produces (responses and events): checked to be an object of the right
   *  kind, typed by the engine's own interface, not rebuilt field by field. */
  shaped<T>(requiredKeys: string[]): Validator<T> {
    return make((x, path) => {
      if (typeof x !== 'object' || x === null) throw new ContractError(path, `must be an object, got ${show(x)}`);
      for (const key of requiredKeys) if (!(key in x)) throw new ContractError(`${path}.${key}`, 'is missing');
      return x as T;
    });
  },
  chain(): Validator<ChainDocument> {
    return make((x, path) => {
      try {
        return validateChain(x);
      } catch (e) {
        throw new ContractError(`${path}.${(e as { field?: string }).field ?? ''}`.replace(/\.$/, ''), (e as { reason?: string }).reason ?? (e as Error).message);
      }
    });
  },
};

// ------------------------------------------------------------------ shared shapes

/** Identifiers the engine hands out (files, jobs, media): short, opaque, URL-safe. */
const id = () => v.string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
const empty = v.object({});

export const fileInfo = v.object({
  fileId: id(),
  name: v.string(),
  sizeBytes: v.number({ min: 0 }),
  /** Where the file came from: a native dialog, a drop onto the window, or a browser upload. */
  origin: v.literal('dialog', 'drop', 'upload', 'session', 'demo'),
});
export type FileInfo = Infer<typeof fileInfo>;

export const trackInfo = v.object({
  fileId: id(),
  name: v.string(),
  durationSeconds: v.number({ min: 0 }),
  sampleRate: v.number({ min: 1 }),
  channels: v.number({ min: 1, integer: true }),
  codec: v.string(),
});
export type TrackInfo = Infer<typeof trackInfo>;

export const chainState = v.object({
  chain: v.chain(),
  canUndo: v.boolean(),
  canRedo: v.boolean(),
});
export type ChainState = Infer<typeof chainState>;

export const exportSettings = v.object({
  targets: v.array(v.string({ min: 1, max: 64 }), { max: 32 }),
  profile: v.nullable(v.string({ max: 64 })),
  codecChecks: v.literal('full', 'none'),
  maxLimitingDb: v.number({ min: 0, max: 24 }),
});
export type ExportSettings = Infer<typeof exportSettings>;

export const sessionSummary = v.object({
  name: v.string(),
  /** Where it was last saved (Electron), or null when never saved or in browser mode. */
  path: v.nullable(v.string()),
  dirty: v.boolean(),
  track: v.nullable(trackInfo),
  /** A track the session names but that has not been handed to this instance (browser mode). */
  missingTrack: v.nullable(v.string()),
  references: v.array(trackInfo),
  snapshots: v.array(v.object({ name: v.string(), createdAt: v.string() })),
  exportSettings,
  playheadSeconds: v.number({ min: 0 }),
});
export type SessionSummary = Infer<typeof sessionSummary>;

export const jobKind = v.literal('decode', 'analysis', 'preview', 'render', 'export', 'match', 'assist');
export type JobKind = Infer<typeof jobKind>;

export const jobInfo = v.object({
  jobId: id(),
  kind: jobKind,
  label: v.string(),
  state: v.literal('queued', 'running', 'done', 'failed', 'cancelled'),
  fraction: v.number({ min: 0, max: 1 }),
  stage: v.string(),
});
export type JobInfo = Infer<typeof jobInfo>;

/** A file the engine made or serves; `mediaId` names it in later requests (output:open). */
/** One delivery target of a running export: what it is doing now and how far it is (0–1). */
export const targetStage = v.literal('queued', 'rendering', 'encoding', 'verifying', 'done', 'failed');
export type TargetStage = Infer<typeof targetStage>;
export const targetProgress = v.object({ targetId: v.string({ min: 1, max: 64 }), stage: targetStage, fraction: v.number({ min: 0, max: 1 }) });
export type TargetProgress = Infer<typeof targetProgress>;

export const output = v.object({ name: v.string(), url: v.string(), path: v.nullable(v.string()), mediaId: v.optional(id()) });
export type OutputFile = Infer<typeof output>;

/** One move of the assistant's proposal: value in the chain's unit, confidence 0–1 (the predicted
 *  probability that the move is right within its tolerance), and the measured evidence. */
export const parameterProposal = v.object({
  id: v.string({ max: 64 }),
  path: v.string({ max: 128 }),
  value: v.number(),
  unit: v.string({ max: 16 }),
  confidence: v.number({ min: 0, max: 1 }),
  /** false: "suggest only" — shown, not applied to the chain. */
  autoApply: v.boolean(),
  reason: v.string(),
  /** The remembered habit of this user included in `value` (model units), if any. */
  userLean: v.optional(v.object({ delta: v.number(), count: v.number({ min: 0, integer: true }) })),
});
export type ParameterProposal = Infer<typeof parameterProposal>;

export const assistantProposal = v.object({
  chain: v.chain(),
  summary: v.string(),
  model: v.object({ name: v.string(), version: v.string(), architecture: v.string() }),
  parameters: v.array(parameterProposal, { max: 64 }),
  style: v.object({
    suggested: v.string(),
    probability: v.number({ min: 0, max: 1 }),
    lowConfidence: v.boolean(),
    testAccuracy: v.number({ min: 0, max: 1 }),
    /** The profile the proposal was combined with, or null. */
    applied: v.nullable(v.string()),
  }),
  loudness: v.object({ measuredLufs: v.number(), expectedAfterCorrectionLufs: v.number(), targetLufs: v.nullable(v.number()), limiterInputGainDb: v.number() }),
  variations: v.object({ gentle: v.chain(), balanced: v.chain(), loud: v.chain() }),
});
export type AssistantProposal = Infer<typeof assistantProposal>;

export const targetSummary = v.object({
  id: v.string(),
  name: v.string(),
  integratedLufs: v.nullable(v.number()),
  truePeakCeilingDbtp: v.number(),
  container: v.string(),
  /** What the platform does to playback level (for "hear it as"); absent from older engines. */
  normalization: v.optional(v.literal('down-only', 'up-and-down', 'none')),
});
export const profileSummary = v.object({ id: v.string(), name: v.string(), typicalLufs: v.number() });

// ------------------------------------------------------------------ the contract

/** Requests the UI makes and the engine answers (a Promise on the UI side). */
export const invoke = {
  'app:info': {
    request: empty,
    response: v.object({ version: v.string(), mode: v.literal('electron', 'browser'), workers: v.number({ min: 1 }) }),
  },
  'targets:list': { request: empty, response: v.array(targetSummary) },
  'profiles:list': { request: empty, response: v.array(profileSummary) },
  /** Electron: the native open dialog; the chosen files become handed-over files. */
  'file:choose': { request: v.object({ purpose: v.literal('track', 'reference', 'session') }), response: v.array(fileInfo) },
  /** Files handed to this instance (chosen, dropped or uploaded). */
  'file:list': { request: empty, response: v.array(fileInfo) },
  /** Makes a handed-over file the session's track: probes it, then analyses and caches it for previews in jobs. */
  'track:open': { request: v.object({ fileId: id() }), response: v.object({ track: trackInfo, analysisJobId: id() }) },
  /** Synthesises the demo mix (once per instance) and opens it as the track: something to hear and see at first start. */
  'demo:open': { request: empty, response: v.object({ track: trackInfo, analysisJobId: id() }) },
  /** A URL the UI can fetch a handed-over file from (the original, for playback and A/B). */
  'file:media': { request: v.object({ fileId: id() }), response: output },
  'reference:add': { request: v.object({ fileId: id() }), response: v.object({ reference: trackInfo, analysisJobId: id() }) },
  'reference:remove': { request: v.object({ fileId: id() }), response: sessionSummary },
  /** The analysis of a track or reference, once its job is done (null before). */
  'analysis:get': { request: v.object({ fileId: id() }), response: v.nullable(v.shaped<AnalysisResult>(['file', 'loudness', 'spectrum'])) },
  'chain:get': { request: empty, response: chainState },
  /** Replaces the chain (an undoable edit); edits with the same coalesceKey in a row (a knob being
   *  dragged) make one undo step. Starts a new preview around the playhead. */
  'chain:set': { request: v.object({ chain: v.chain(), coalesceKey: v.optional(v.string({ max: 128 })) }), response: chainState },
  'chain:undo': { request: empty, response: chainState },
  'chain:redo': { request: empty, response: chainState },
  'snapshot:take': { request: v.object({ name: v.string({ min: 1, max: 120 }) }), response: sessionSummary },
  'snapshot:restore': { request: v.object({ index: v.number({ min: 0, integer: true }) }), response: chainState },
  /** The assistant's proposal for the track (a model run in a worker): a chain with a value,
   *  confidence and reason per move, a style suggestion and three variations. The UI applies the
   *  chain with chain:set, undoably. MODEL_INVALID when no usable model is installed. */
  'assistant:propose': { request: v.object({ profile: v.optional(v.string({ max: 64 })), targetLufs: v.optional(v.number({ min: -40, max: 0 })) }), response: assistantProposal },
  /** Forgets the habits the assistant learned from this user's exports (one profile, or all). */
  'assistant:resetHabits': { request: v.object({ profile: v.optional(v.string({ max: 64 })) }), response: v.object({ reset: v.boolean() }) },
  /** A chain that moves the track's tonal balance and loudness toward a reference. */
  'match:reference': {
    request: v.object({
      referenceFileId: id(),
      /** A weighted blend of references instead (weights 0…1, relative; a weight of 0 leaves that reference out). */
      blend: v.optional(v.array(v.object({ fileId: id(), weight: v.number({ min: 0, max: 1 }) }), { max: 8 })),
    }),
    response: v.object({ chain: v.chain(), summary: v.string() }),
  },
  /** Renders the region around the playhead first (about 10 s), then the whole track in the
   *  background; a newer request cancels the older one. `preview:ready` events carry the audio. */
  'preview:render': {
    request: v.object({ playheadSeconds: v.number({ min: 0 }), windowSeconds: v.optional(v.number({ min: 1, max: 60 })) }),
    response: v.object({ generation: v.number({ min: 0, integer: true }), jobId: id() }),
  },
  /** The analysis of a full preview render (the processed sound: loudness for level matching,
   *  spectrum, spectrogram), measured in a job; NOT_FOUND once a newer preview replaced it. */
  'preview:analysis': { request: v.object({ generation: v.number({ min: 1, integer: true }) }), response: v.shaped<AnalysisResult>(['file', 'loudness', 'spectrum']) },
  /** "Hear it as" a platform: the full preview of `generation` through the platform's codec (its
   *  first codec check, as the delivery pipeline runs it), decoded back to WAV for playback. */
  'preview:codec': {
    request: v.object({ generation: v.number({ min: 1, integer: true }), targetId: v.string({ min: 1, max: 64 }) }),
    response: v.object({ name: v.string(), url: v.string(), path: v.nullable(v.string()), mediaId: v.optional(id()), codec: v.string(), bitrateKbps: v.number({ min: 0 }) }),
  },
  /** The EQ stage's response (dB) from the DSP's own coefficients, on a log grid of `points` from 20 Hz to 20 kHz. */
  'eq:curve': {
    request: v.object({ chain: v.chain(), sampleRate: v.number({ min: 8000, max: 384_000 }), points: v.optional(v.number({ min: 2, max: 2048, integer: true })) }),
    response: v.object({ hz: v.array(v.number()), db: v.array(v.number()) }),
  },
  /** Renders the track through the chain into a file (wav/flac), atomically. */
  'render:start': {
    request: v.object({ container: v.literal('wav', 'flac'), bits: v.literal(16, 24, 32), folderId: v.optional(id()) }),
    response: v.object({ jobId: id() }),
  },
  /** Masters the track for every target (verified deliverables and reports). */
  'export:start': { request: v.object({ settings: v.optional(exportSettings), folderId: v.optional(id()) }), response: v.object({ jobId: id() }) },
  /** Electron: a folder for outputs from the native dialog (browser mode downloads instead). */
  'export:chooseFolder': { request: empty, response: v.nullable(v.object({ folderId: id(), name: v.string() })) },
  'export:settings': { request: exportSettings, response: sessionSummary },
  /** Electron: opens a delivery report (HTML) an export of this session wrote, named by its
   *  output's mediaId, in a locked-down window of its own (no scripts, no Node, no navigation).
   *  Never a path: only reports the engine wrote are found. Browser mode: NOT_AVAILABLE (the page
   *  opens the report's URL in a new tab). */
  'output:open': { request: v.object({ mediaId: id() }), response: v.object({ opened: v.boolean() }) },
  'job:cancel': { request: v.object({ jobId: id() }), response: v.object({ cancelled: v.boolean() }) },
  'job:list': { request: empty, response: v.array(jobInfo) },
  'session:get': { request: empty, response: sessionSummary },
  'session:new': { request: empty, response: sessionSummary },
  /** Saves atomically: Electron to the session's path (asking when it has none, or with saveAs);
   *  browser mode into the server's session folder, offered for download. */
  'session:save': { request: v.object({ saveAs: v.optional(v.boolean()), name: v.optional(v.string({ min: 1, max: 120 })) }), response: v.object({ session: sessionSummary, download: v.nullable(output) }) },
  /** Opens a handed-over .lathe file (chosen or uploaded); older versions are migrated. */
  'session:open': { request: v.object({ fileId: id() }), response: sessionSummary },
  /** The autosave of a session that was not closed cleanly, if there is one. */
  'session:recoverable': { request: empty, response: v.nullable(v.object({ name: v.string(), savedAt: v.string() })) },
  'session:recover': { request: empty, response: sessionSummary },
  'session:discardRecovery': { request: empty, response: v.object({ discarded: v.boolean() }) },
} as const;

/** Messages the UI sends without waiting for an answer. */
export const send = {
  /** Where playback is, so the next preview starts there. */
  'playback:playhead': v.object({ seconds: v.number({ min: 0 }) }),
  /** A renderer error, for the main process's log. */
  'log:error': v.object({ message: v.string({ max: 2000 }) }),
} as const;

/** Events the engine sends the UI. */
export const events = {
  /** `targets`: an export's progress per target, every target of the job in order (absent for other jobs). */
  'job:progress': v.object({ jobId: id(), kind: jobKind, fraction: v.number({ min: 0, max: 1 }), stage: v.string(), targets: v.optional(v.array(targetProgress, { max: 32 })) }),
  'job:done': v.object({ jobId: id(), kind: jobKind, outputs: v.array(output) }),
  'job:failed': v.object({ jobId: id(), kind: jobKind, code: v.string(), message: v.string() }),
  'analysis:ready': v.object({ fileId: id(), analysis: v.shaped<AnalysisResult>(['file', 'loudness', 'spectrum']) }),
  'preview:ready': v.object({
    generation: v.number({ min: 0, integer: true }),
    region: v.literal('window', 'full'),
    startSeconds: v.number({ min: 0 }),
    endSeconds: v.number({ min: 0 }),
    url: v.string(),
  }),
  'session:changed': sessionSummary,
  'files:added': v.array(fileInfo),
  /** A menu item the UI acts on (Electron menus; the UI offers the same actions itself). */
  'menu:command': v.object({ command: v.literal('open', 'open-reference', 'open-session', 'save-session', 'save-session-as', 'export', 'undo', 'redo') }),
} as const;

export type InvokeChannel = keyof typeof invoke;
export type SendChannel = keyof typeof send;
export type EventChannel = keyof typeof events;
export type Request<C extends InvokeChannel> = Infer<(typeof invoke)[C]['request']>;
export type Response<C extends InvokeChannel> = Infer<(typeof invoke)[C]['response']>;
export type SendPayload<C extends SendChannel> = Infer<(typeof send)[C]>;
export type EventPayload<C extends EventChannel> = Infer<(typeof events)[C]>;

export const invokeChannels = Object.keys(invoke) as InvokeChannel[];
export const sendChannels = Object.keys(send) as SendChannel[];
export const eventChannels = Object.keys(events) as EventChannel[];

export const isInvokeChannel = (c: unknown): c is InvokeChannel => typeof c === 'string' && Object.hasOwn(invoke, c);
export const isSendChannel = (c: unknown): c is SendChannel => typeof c === 'string' && Object.hasOwn(send, c);
export const isEventChannel = (c: unknown): c is EventChannel => typeof c === 'string' && Object.hasOwn(events, c);

// ------------------------------------------------------------------ errors and the client API

/** Codes of refusals made at the boundary; engine failures carry the engine's codes
 *  (FILE_NOT_FOUND, CORRUPT_AUDIO, CANCELLED …). */
export type BoundaryErrorCode = 'UNKNOWN_CHANNEL' | 'BAD_PAYLOAD' | 'FORBIDDEN_SENDER' | 'NOT_FOUND' | 'NOT_AVAILABLE' | 'INTERNAL';

/** Every failure that crosses the boundary has this shape. */
export interface WireError {
  code: string;
  message: string;
}

export const wireError = v.object({ code: v.string({ min: 1, max: 64 }), message: v.string({ max: 4000 }) });

/** How a request ends on the wire: exactly one of the two. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** What the UI sees as `window.lathe` (Electron) or the browser-mode client: one method per
 *  invoke channel, `send` for fire-and-forget, `on` for events (returns an unsubscribe). */
export type LatheApi = {
  [C in InvokeChannel]: (request: Request<C>) => Promise<Response<C>>;
} & {
  send<C extends SendChannel>(channel: C, payload: SendPayload<C>): void;
  on<C extends EventChannel>(channel: C, listener: (payload: EventPayload<C>) => void): () => void;
};

/** The error a client method rejects with: the engine's `{code, message}` as an Error. */
export class LatheCallError extends Error {
  readonly code: string;
  constructor(error: WireError) {
    super(error.message);
    this.name = 'LatheCallError';
    this.code = error.code;
  }
}

/** Builds a client from any transport that can carry an invoke (used by the preload over IPC and
 *  by the browser-mode WebSocket client), validating each request before it leaves. */
export function buildApi(transport: {
  invoke(channel: InvokeChannel, payload: unknown): Promise<Outcome<unknown>>;
  send(channel: SendChannel, payload: unknown): void;
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}): LatheApi {
  const api: Record<string, unknown> = {};
  for (const channel of invokeChannels) {
    api[channel] = async (request: unknown) => {
      const payload = invoke[channel].request.parse(request ?? {}, channel);
      const outcome = await transport.invoke(channel, payload);
      if (!outcome.ok) throw new LatheCallError(outcome.error);
      return outcome.value;
    };
  }
  api.send = (channel: SendChannel, payload: unknown) => {
    if (!isSendChannel(channel)) throw new ContractError('channel', `unknown send channel ${show(channel)}`);
    transport.send(channel, send[channel].parse(payload, channel));
  };
  api.on = (channel: EventChannel, listener: (payload: unknown) => void) => {
    if (!isEventChannel(channel)) throw new ContractError('channel', `unknown event ${show(channel)}`);
    if (typeof listener !== 'function') throw new ContractError('listener', 'must be a function');
    return transport.subscribe(channel, listener);
  };
  return api as LatheApi;
}

/** The engine side: one handler per invoke channel (main/server/studio.ts implements them). */
export type Handlers = {
  [C in InvokeChannel]: (request: Request<C>) => Promise<Response<C>> | Response<C>;
};

/** How the engine raises an event for every connected UI. */
export type Emit = <C extends EventChannel>(channel: C, payload: EventPayload<C>) => void;
