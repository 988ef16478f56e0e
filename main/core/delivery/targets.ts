// Delivery targets and style profiles. A target is a platform's (or standard's) spec: the loudness
// a master must land at, its true-peak ceiling, the file to deliver and the lossy codecs the
// platform transcodes to. A style profile is where a genre's loud streaming master usually sits and
// how its chain tends to look. Both are data (./data/*.json, versioned, with their sources) shared
// by UI, CLI and model; this module loads them, validates them once at load so a bad edit fails
// with the field path and the reason, and answers the questions the engine asks of them.

import targetsJson from './data/targets.json' with { type: 'json' };
import profilesJson from './data/profiles.json' with { type: 'json' };
import { LatheError } from '../errors.js';

export type DeliverableContainer = 'wav' | 'flac' | 'mp3' | 'm4a' | 'ogg';
/** ffmpeg encoder names. */
export type DeliverableCodec = 'pcm_s16le' | 'pcm_s24le' | 'flac' | 'libmp3lame' | 'aac' | 'libvorbis' | 'libopus';
export type CheckCodec = 'aac' | 'libopus' | 'libvorbis' | 'libmp3lame';
export type CheckContainer = 'm4a' | 'ogg' | 'opus' | 'mp3';
/** What the platform does to playback level. */
export type Normalization = 'down-only' | 'up-and-down' | 'none';
export type Saturation = 'warmth' | 'presence';
export type TonalTilt = 'bright' | 'neutral' | 'warm';

export interface SourceRef {
  title: string;
  url: string;
}

export interface Deliverable {
  container: DeliverableContainer;
  codec: DeliverableCodec;
  /** Null for lossless deliverables. */
  bitrateKbps: number | null;
}

/** A lossy encode the platform makes from the master; the export encodes, decodes and re-measures it. */
export interface CodecCheck {
  codec: CheckCodec;
  bitrateKbps: number;
  container: CheckContainer;
  why: string;
}

export interface DeliveryTarget {
  id: string;
  name: string;
  /** Null: the platform sets no level; the chosen style profile's typical loudness applies. */
  integratedLufs: number | null;
  /** Used when integratedLufs is null and no style profile was chosen. */
  fallbackIntegratedLufs?: number;
  /** Target for a mono programme where the spec gives one (podcasts). */
  monoIntegratedLufs?: number;
  /** How close the achieved integrated loudness must land, ± LU. */
  toleranceLu: number;
  truePeakCeilingDbtp: number;
  /** A lower ceiling that applies when the master is louder than louderThanLufs (Spotify). */
  truePeakCeilingWhenLouderDbtp?: number;
  louderThanLufs?: number;
  maxLoudnessRangeLu: number | null;
  /** Report the loudness range (EBU Tech 3342) in the delivery report. */
  measureLoudnessRange: boolean;
  /** Null: keep the source's sample rate. */
  sampleRateHz: number | null;
  /** Null for lossy deliverables. */
  bitDepth: 16 | 24 | null;
  /** Dither the reduction to bitDepth. */
  dither: boolean;
  deliverable: Deliverable;
  codecChecks: CodecCheck[];
  normalization: Normalization;
  notes: string;
  sources: SourceRef[];
}

export interface TargetsDocument {
  schema: 'lathe.targets';
  version: 1;
  targets: DeliveryTarget[];
}

export interface ChainTendencies {
  /** Sum the sides below this frequency; null: leave the low end's stereo image alone. */
  lowEndMonoBelowHz: number | null;
  /** 1 means no bus compression. */
  compressorRatio: number;
  compressorAttackMs: number;
  compressorReleaseMs: number;
  saturation: Saturation | null;
  tonalTilt: TonalTilt;
  limiterReleaseMs: number;
  /** The most gain reduction the limiter may apply before the engine refuses the target. */
  limiterMaxGainReductionDb: number;
}

export interface StyleProfile {
  id: string;
  name: string;
  /** Where a loud streaming master in this style usually lands. */
  integratedLufs: { min: number; typical: number; max: number };
  loudnessRangeLu: { min: number; max: number };
  /** Typical peak-to-loudness ratio: true peak (dBTP) minus integrated loudness (LUFS). */
  crestFactorDb: number;
  chainTendencies: ChainTendencies;
  notes: string;
  sources: SourceRef[];
}

export interface ProfilesDocument {
  schema: 'lathe.profiles';
  version: 1;
  profiles: StyleProfile[];
}

/** A data document that does not match its schema; `issues` lists every problem, one per line. */
export class DeliveryDataError extends Error {
  readonly issues: readonly string[];

  constructor(document: string, issues: readonly string[]) {
    super(`${document} is invalid:\n  ${issues.join('\n  ')}`);
    this.name = 'DeliveryDataError';
    this.issues = issues;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: small readers that record "path: reason" and carry on, so one run reports every
// problem in a document rather than the first.

type Obj = Record<string, unknown>;

const ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SAMPLE_RATES = [44100, 48000, 88200, 96000, 176400, 192000] as const;
const CONTAINERS = ['wav', 'flac', 'mp3', 'm4a', 'ogg'] as const;
const DELIVERABLE_CODECS: Record<DeliverableContainer, readonly DeliverableCodec[]> = {
  wav: ['pcm_s16le', 'pcm_s24le'],
  flac: ['flac'],
  mp3: ['libmp3lame'],
  m4a: ['aac'],
  ogg: ['libvorbis', 'libopus'],
};
const LOSSY_CODECS: readonly DeliverableCodec[] = ['libmp3lame', 'aac', 'libvorbis', 'libopus'];
const CHECK_CONTAINERS: Record<CheckCodec, readonly CheckContainer[]> = {
  aac: ['m4a'],
  libopus: ['opus', 'ogg'],
  libvorbis: ['ogg'],
  libmp3lame: ['mp3'],
};
const NORMALIZATIONS = ['down-only', 'up-and-down', 'none'] as const;
const SATURATIONS = ['warmth', 'presence'] as const;
const TILTS = ['bright', 'neutral', 'warm'] as const;

const TARGET_KEYS = [
  'id', 'name', 'integratedLufs', 'fallbackIntegratedLufs', 'monoIntegratedLufs', 'toleranceLu',
  'truePeakCeilingDbtp', 'truePeakCeilingWhenLouderDbtp', 'louderThanLufs', 'maxLoudnessRangeLu',
  'measureLoudnessRange', 'sampleRateHz', 'bitDepth', 'dither', 'deliverable', 'codecChecks',
  'normalization', 'notes', 'sources',
] as const;
const PROFILE_KEYS = ['id', 'name', 'integratedLufs', 'loudnessRangeLu', 'crestFactorDb', 'chainTendencies', 'notes', 'sources'] as const;
const TENDENCY_KEYS = [
  'lowEndMonoBelowHz', 'compressorRatio', 'compressorAttackMs', 'compressorReleaseMs', 'saturation',
  'tonalTilt', 'limiterReleaseMs', 'limiterMaxGainReductionDb',
] as const;

class Checker {
  readonly issues: string[] = [];

  fail(path: string, reason: string): void {
    this.issues.push(`${path}: ${reason}`);
  }

  object(value: unknown, path: string): Obj | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Obj;
    this.fail(path, `must be an object, got ${describe(value)}`);
    return undefined;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (Array.isArray(value)) return value;
    this.fail(path, `must be an array, got ${describe(value)}`);
    return undefined;
  }

  knownKeys(o: Obj, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(o)) {
      if (!allowed.includes(key)) this.fail(`${path}.${key}`, `is not a known field (known: ${allowed.join(', ')})`);
    }
  }

  /** A required field (present, possibly null where the reader allows it). */
  has(o: Obj, key: string, path: string): boolean {
    if (key in o) return true;
    this.fail(`${path}.${key}`, 'is missing');
    return false;
  }

  number(o: Obj, key: string, path: string, min: number, max: number, opts: { nullable?: boolean; optional?: boolean; minExclusive?: boolean } = {}): number | null | undefined {
    const at = `${path}.${key}`;
    if (!(key in o)) {
      if (!opts.optional) this.fail(at, 'is missing');
      return undefined;
    }
    const v = o[key];
    if (v === null && opts.nullable) return null;
    const lowOk = (n: number) => (opts.minExclusive ? n > min : n >= min);
    if (typeof v === 'number' && Number.isFinite(v) && lowOk(v) && v <= max) return v;
    const range = opts.minExclusive ? `greater than ${min} and at most ${max}` : `between ${min} and ${max}`;
    this.fail(at, `must be a number ${range}${opts.nullable ? ' or null' : ''}, got ${describe(v)}`);
    return undefined;
  }

  string(o: Obj, key: string, path: string, pattern?: RegExp, patternWords?: string): string | undefined {
    const at = `${path}.${key}`;
    if (!this.has(o, key, path)) return undefined;
    const v = o[key];
    if (typeof v !== 'string' || v.trim() === '') {
      this.fail(at, `must be a non-empty string, got ${describe(v)}`);
      return undefined;
    }
    if (pattern && !pattern.test(v)) {
      this.fail(at, `must be ${patternWords ?? `a string matching ${pattern}`}, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string | number>(o: Obj, key: string, path: string, allowed: readonly T[], opts: { nullable?: boolean } = {}): T | null | undefined {
    const at = `${path}.${key}`;
    if (!this.has(o, key, path)) return undefined;
    const v = o[key];
    if (v === null && opts.nullable) return null;
    if ((allowed as readonly unknown[]).includes(v)) return v as T;
    this.fail(at, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}${opts.nullable ? ' or null' : ''}, got ${describe(v)}`);
    return undefined;
  }

  boolean(o: Obj, key: string, path: string): boolean | undefined {
    if (!this.has(o, key, path)) return undefined;
    const v = o[key];
    if (typeof v === 'boolean') return v;
    this.fail(`${path}.${key}`, `must be true or false, got ${describe(v)}`);
    return undefined;
  }

  header(doc: Obj, schema: string, version: number, listKey: string): unknown[] | undefined {
    this.knownKeys(doc, ['schema', 'version', listKey], '$');
    if (doc.schema !== schema) this.fail('schema', `must be ${JSON.stringify(schema)}, got ${describe(doc.schema)}`);
    if (doc.version !== version) this.fail('version', `must be ${version} (the version this build reads), got ${describe(doc.version)}`);
    if (!(listKey in doc)) {
      this.fail(listKey, 'is missing');
      return undefined;
    }
    const list = this.array(doc[listKey], listKey);
    if (list && list.length === 0) this.fail(listKey, 'must list at least one entry');
    return list;
  }

  uniqueIds(list: unknown[], listKey: string): void {
    const seen = new Map<string, number>();
    list.forEach((entry, i) => {
      const id = typeof entry === 'object' && entry !== null ? (entry as Obj).id : undefined;
      if (typeof id !== 'string') return;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else this.fail(`${listKey}[${i}].id`, `duplicates ${listKey}[${first}].id (${JSON.stringify(id)})`);
    });
  }

  sources(o: Obj, path: string, opts: { requireHttps: boolean }): void {
    if (!this.has(o, 'sources', path)) return;
    const list = this.array(o.sources, `${path}.sources`);
    if (!list) return;
    let https = 0;
    list.forEach((entry, i) => {
      const at = `${path}.sources[${i}]`;
      const s = this.object(entry, at);
      if (!s) return;
      this.knownKeys(s, ['title', 'url'], at);
      this.string(s, 'title', at);
      const url = this.string(s, 'url', at, /^https?:\/\/[^\s/]+\.[^\s]+$/, 'an http(s) URL');
      if (url?.startsWith('https://')) https++;
    });
    if (opts.requireHttps && https === 0) this.fail(`${path}.sources`, 'must include at least one source with an https URL');
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

function checkTarget(c: Checker, entry: unknown, path: string): void {
  const t = c.object(entry, path);
  if (!t) return;
  c.knownKeys(t, TARGET_KEYS, path);
  c.string(t, 'id', path, ID_PATTERN, 'a lower-case id such as "apple-music"');
  c.string(t, 'name', path);

  const integrated = c.number(t, 'integratedLufs', path, -40, 0, { nullable: true });
  const fallback = c.number(t, 'fallbackIntegratedLufs', path, -40, 0, { optional: true });
  if (integrated === null && !('fallbackIntegratedLufs' in t)) {
    c.fail(`${path}.fallbackIntegratedLufs`, 'is required when integratedLufs is null (the level used when no style profile is chosen)');
  }
  if (typeof integrated === 'number' && fallback !== undefined) {
    c.fail(`${path}.fallbackIntegratedLufs`, 'only applies when integratedLufs is null');
  }
  c.number(t, 'monoIntegratedLufs', path, -40, 0, { optional: true });
  c.number(t, 'toleranceLu', path, 0, 5, { minExclusive: true });

  const ceiling = c.number(t, 'truePeakCeilingDbtp', path, -10, 0);
  const louderCeiling = c.number(t, 'truePeakCeilingWhenLouderDbtp', path, -10, 0, { optional: true });
  c.number(t, 'louderThanLufs', path, -40, 0, { optional: true });
  if (('truePeakCeilingWhenLouderDbtp' in t) !== ('louderThanLufs' in t)) {
    const missing = 'louderThanLufs' in t ? 'truePeakCeilingWhenLouderDbtp' : 'louderThanLufs';
    c.fail(`${path}.${missing}`, 'is required with its partner (truePeakCeilingWhenLouderDbtp and louderThanLufs go together)');
  }
  if (typeof ceiling === 'number' && typeof louderCeiling === 'number' && louderCeiling > ceiling) {
    c.fail(`${path}.truePeakCeilingWhenLouderDbtp`, `must not be above truePeakCeilingDbtp (${ceiling})`);
  }

  c.number(t, 'maxLoudnessRangeLu', path, 0, 40, { nullable: true, minExclusive: true });
  c.boolean(t, 'measureLoudnessRange', path);
  c.oneOf(t, 'sampleRateHz', path, SAMPLE_RATES, { nullable: true });
  const bitDepth = c.oneOf(t, 'bitDepth', path, [16, 24] as const, { nullable: true });
  c.boolean(t, 'dither', path);

  if (c.has(t, 'deliverable', path)) {
    const at = `${path}.deliverable`;
    const d = c.object(t.deliverable, at);
    if (d) {
      c.knownKeys(d, ['container', 'codec', 'bitrateKbps'], at);
      const container = c.oneOf(d, 'container', at, CONTAINERS);
      const allCodecs = [...new Set(Object.values(DELIVERABLE_CODECS).flat())];
      const codec = c.oneOf(d, 'codec', at, allCodecs);
      const bitrate = c.number(d, 'bitrateKbps', at, 8, 1536, { nullable: true });
      if (container && codec && !DELIVERABLE_CODECS[container].includes(codec)) {
        c.fail(`${at}.codec`, `must be one of ${DELIVERABLE_CODECS[container].join(', ')} for a ${container} container, got ${JSON.stringify(codec)}`);
      }
      if (codec) {
        const lossy = LOSSY_CODECS.includes(codec);
        if (lossy && bitrate === null) c.fail(`${at}.bitrateKbps`, `must be a number for the lossy codec ${codec}`);
        if (!lossy && typeof bitrate === 'number') c.fail(`${at}.bitrateKbps`, `must be null for the lossless codec ${codec}`);
        if (lossy && typeof bitDepth === 'number') c.fail(`${path}.bitDepth`, `must be null for a lossy deliverable (${codec})`);
        if (!lossy && bitDepth === null) c.fail(`${path}.bitDepth`, `must be 16 or 24 for a lossless deliverable (${codec})`);
        const pcmDepth = codec === 'pcm_s16le' ? 16 : codec === 'pcm_s24le' ? 24 : undefined;
        if (pcmDepth !== undefined && typeof bitDepth === 'number' && bitDepth !== pcmDepth) {
          c.fail(`${path}.bitDepth`, `must match the deliverable codec ${codec} (${pcmDepth})`);
        }
      }
    }
  }

  if (c.has(t, 'codecChecks', path)) {
    const list = c.array(t.codecChecks, `${path}.codecChecks`);
    list?.forEach((entry, i) => {
      const at = `${path}.codecChecks[${i}]`;
      const k = c.object(entry, at);
      if (!k) return;
      c.knownKeys(k, ['codec', 'bitrateKbps', 'container', 'why'], at);
      const codec = c.oneOf(k, 'codec', at, Object.keys(CHECK_CONTAINERS) as CheckCodec[]);
      c.number(k, 'bitrateKbps', at, 8, 512);
      const container = c.oneOf(k, 'container', at, ['m4a', 'ogg', 'opus', 'mp3'] as const);
      c.string(k, 'why', at);
      if (codec && container && !CHECK_CONTAINERS[codec].includes(container)) {
        c.fail(`${at}.container`, `must be one of ${CHECK_CONTAINERS[codec].join(', ')} for ${codec}, got ${JSON.stringify(container)}`);
      }
    });
  }

  c.oneOf(t, 'normalization', path, NORMALIZATIONS);
  c.string(t, 'notes', path);
  c.sources(t, path, { requireHttps: true });
}

function checkProfile(c: Checker, entry: unknown, path: string): void {
  const p = c.object(entry, path);
  if (!p) return;
  c.knownKeys(p, PROFILE_KEYS, path);
  c.string(p, 'id', path, ID_PATTERN, 'a lower-case id such as "hip-hop"');
  c.string(p, 'name', path);

  if (c.has(p, 'integratedLufs', path)) {
    const at = `${path}.integratedLufs`;
    const r = c.object(p.integratedLufs, at);
    if (r) {
      c.knownKeys(r, ['min', 'typical', 'max'], at);
      const min = c.number(r, 'min', at, -40, 0);
      const typical = c.number(r, 'typical', at, -40, 0);
      const max = c.number(r, 'max', at, -40, 0);
      if (typeof min === 'number' && typeof typical === 'number' && typeof max === 'number' && !(min <= typical && typical <= max)) {
        c.fail(at, `must satisfy min <= typical <= max, got ${min}, ${typical}, ${max}`);
      }
    }
  }
  if (c.has(p, 'loudnessRangeLu', path)) {
    const at = `${path}.loudnessRangeLu`;
    const r = c.object(p.loudnessRangeLu, at);
    if (r) {
      c.knownKeys(r, ['min', 'max'], at);
      const min = c.number(r, 'min', at, 0, 40);
      const max = c.number(r, 'max', at, 0, 40);
      if (typeof min === 'number' && typeof max === 'number' && min > max) c.fail(at, `must satisfy min <= max, got ${min}, ${max}`);
    }
  }
  c.number(p, 'crestFactorDb', path, 0, 40, { minExclusive: true });

  if (c.has(p, 'chainTendencies', path)) {
    const at = `${path}.chainTendencies`;
    const t = c.object(p.chainTendencies, at);
    if (t) {
      c.knownKeys(t, TENDENCY_KEYS, at);
      c.number(t, 'lowEndMonoBelowHz', at, 20, 500, { nullable: true });
      c.number(t, 'compressorRatio', at, 1, 20);
      c.number(t, 'compressorAttackMs', at, 0, 1000, { minExclusive: true });
      c.number(t, 'compressorReleaseMs', at, 0, 5000, { minExclusive: true });
      c.oneOf(t, 'saturation', at, SATURATIONS, { nullable: true });
      c.oneOf(t, 'tonalTilt', at, TILTS);
      c.number(t, 'limiterReleaseMs', at, 0, 5000, { minExclusive: true });
      c.number(t, 'limiterMaxGainReductionDb', at, 0, 24);
    }
  }
  c.string(p, 'notes', path);
  c.sources(p, path, { requireHttps: false });
}

/** Checks a targets document (as parsed JSON) and returns a copy typed as one; throws DeliveryDataError listing every problem. */
export function validateTargetsDocument(doc: unknown, documentName = 'targets document'): TargetsDocument {
  const c = new Checker();
  const root = c.object(doc, '$');
  if (root) {
    const list = c.header(root, 'lathe.targets', 1, 'targets');
    if (list) {
      list.forEach((entry, i) => checkTarget(c, entry, `targets[${i}]`));
      c.uniqueIds(list, 'targets');
    }
  }
  if (c.issues.length > 0) throw new DeliveryDataError(documentName, c.issues);
  return structuredClone(doc) as TargetsDocument;
}

/** Checks a style-profiles document and returns a copy typed as one; throws DeliveryDataError listing every problem. */
export function validateProfilesDocument(doc: unknown, documentName = 'profiles document'): ProfilesDocument {
  const c = new Checker();
  const root = c.object(doc, '$');
  if (root) {
    const list = c.header(root, 'lathe.profiles', 1, 'profiles');
    if (list) {
      list.forEach((entry, i) => checkProfile(c, entry, `profiles[${i}]`));
      c.uniqueIds(list, 'profiles');
    }
  }
  if (c.issues.length > 0) throw new DeliveryDataError(documentName, c.issues);
  return structuredClone(doc) as ProfilesDocument;
}

// ---------------------------------------------------------------------------------------------
// The shipped data, validated once and frozen: every caller shares it, so nobody may edit it.

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const TARGETS: readonly DeliveryTarget[] = deepFreeze(
  validateTargetsDocument(targetsJson, 'main/core/delivery/data/targets.json').targets,
);
const PROFILES: readonly StyleProfile[] = deepFreeze(
  validateProfilesDocument(profilesJson, 'main/core/delivery/data/profiles.json').profiles,
);

export function listTargets(): readonly DeliveryTarget[] {
  return TARGETS;
}

export function listProfiles(): readonly StyleProfile[] {
  return PROFILES;
}

/** The target with this id; throws a USAGE error that lists the valid ids. */
export function getTarget(id: string): DeliveryTarget {
  const target = TARGETS.find((t) => t.id === id);
  if (!target) {
    throw new LatheError('USAGE', `unknown delivery target ${JSON.stringify(id)}; valid targets: ${TARGETS.map((t) => t.id).join(', ')}`);
  }
  return target;
}

/** The style profile with this id; throws a USAGE error that lists the valid ids. */
export function getProfile(id: string): StyleProfile {
  const profile = PROFILES.find((p) => p.id === id);
  if (!profile) {
    throw new LatheError('USAGE', `unknown style profile ${JSON.stringify(id)}; valid profiles: ${PROFILES.map((p) => p.id).join(', ')}`);
  }
  return profile;
}

/**
 * Targets from a comma-separated list as a user types it ("spotify, ebu-r128"): case and spaces
 * are ignored, repeats are dropped (first wins), and every unknown id is named in one error.
 */
export function parseTargetList(list: string): DeliveryTarget[] {
  const ids = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (ids.length === 0) {
    throw new LatheError('USAGE', `no delivery targets given; valid targets: ${TARGETS.map((t) => t.id).join(', ')}`);
  }
  const unknown = ids.filter((id) => !TARGETS.some((t) => t.id === id));
  if (unknown.length > 0) {
    const which = unknown.map((id) => JSON.stringify(id)).join(', ');
    throw new LatheError('USAGE', `unknown delivery target${unknown.length > 1 ? 's' : ''} ${which}; valid targets: ${TARGETS.map((t) => t.id).join(', ')}`);
  }
  return [...new Set(ids)].map(getTarget);
}

/**
 * The true-peak ceiling a master at `integratedLufs` must respect: the target's louder ceiling
 * when the master is strictly louder than its louderThanLufs (Spotify: -2 dBTP above -14 LUFS),
 * its ordinary ceiling otherwise.
 */
export function ceilingFor(target: DeliveryTarget, integratedLufs: number): number {
  if (Number.isNaN(integratedLufs)) {
    throw new LatheError('USAGE', `ceilingFor(${target.id}): integrated loudness is not a number`);
  }
  if (target.truePeakCeilingWhenLouderDbtp !== undefined && target.louderThanLufs !== undefined && integratedLufs > target.louderThanLufs) {
    return target.truePeakCeilingWhenLouderDbtp;
  }
  return target.truePeakCeilingDbtp;
}

/**
 * The integrated loudness to master to for a target: its own figure (its mono figure for a mono
 * programme where it has one), else the style profile's typical level, else its fallback.
 */
export function resolveIntegratedLufs(target: DeliveryTarget, options: { profile?: StyleProfile; mono?: boolean } = {}): number {
  if (target.integratedLufs !== null) {
    return options.mono && target.monoIntegratedLufs !== undefined ? target.monoIntegratedLufs : target.integratedLufs;
  }
  if (options.profile) return options.profile.integratedLufs.typical;
  // The validator guarantees a fallback whenever integratedLufs is null.
  return target.fallbackIntegratedLufs!;
}
