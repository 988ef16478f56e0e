// The session document (`.lathe`): the track, references, chain, snapshots, export settings, the
// assistant's proposal and the engineer's edit history, as versioned JSON. `parseSession` reads
// every version this Lathe has written and migrates it to the current one; it refuses anything
// else with the field and the reason.
import { ChainError, defaultChain, validateChain, type ChainDocument } from '../chain/document.js';

export const SESSION_SCHEMA = 'lathe.session';
export const SESSION_VERSION = 2;

export interface SessionFile {
  /** As the engineer handed it over (a path on this machine). */
  path: string;
  name: string;
}

export interface SessionExportSettings {
  targets: string[];
  profile: string | null;
  codecChecks: 'full' | 'none';
  maxLimitingDb: number;
}

export interface SessionDocument {
  schema: typeof SESSION_SCHEMA;
  version: typeof SESSION_VERSION;
  name: string;
  savedAt: string;
  track: SessionFile | null;
  references: SessionFile[];
  chain: ChainDocument;
  snapshots: { name: string; createdAt: string; chain: ChainDocument }[];
  exportSettings: SessionExportSettings;
  proposal: { chain: ChainDocument; summary: string } | null;
  /** Undo and redo stacks of chain edits, so they survive a save and a crash. */
  history: { undo: ChainDocument[]; redo: ChainDocument[] };
  playheadSeconds: number;
}

export class SessionError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'SessionError';
  }
}

export function defaultExportSettings(): SessionExportSettings {
  return { targets: ['spotify', 'apple-music'], profile: null, codecChecks: 'full', maxLimitingDb: 6 };
}

export function newSession(name = 'Untitled'): SessionDocument {
  return {
    schema: SESSION_SCHEMA,
    version: SESSION_VERSION,
    name,
    savedAt: new Date(0).toISOString(),
    track: null,
    references: [],
    chain: defaultChain(),
    snapshots: [],
    exportSettings: defaultExportSettings(),
    proposal: null,
    history: { undo: [], redo: [] },
    playheadSeconds: 0,
  };
}

type Obj = Record<string, unknown>;
function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SessionError(field, 'must be an object');
  return v as Obj;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new SessionError(field, `must be text, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}
function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new SessionError(field, 'must be a list');
  return v;
}
function chainAt(v: unknown, field: string): ChainDocument {
  try {
    return validateChain(v);
  } catch (e) {
    if (e instanceof ChainError) throw new SessionError(`${field}.${e.field}`, e.reason);
    throw e;
  }
}
function file(v: unknown, field: string): SessionFile {
  const o = obj(v, field);
  return { path: str(o.path, `${field}.path`), name: str(o.name, `${field}.name`) };
}
const nameOf = (path: string) => path.split(/[\\/]/).pop() ?? path;

/** Version 1 (the first builds): paths as plain strings, the targets and profile at the top. */
function migrateV1(d: Obj): Obj {
  const track = d.track === null || d.track === undefined ? null : str(d.track, 'track');
  return {
    schema: SESSION_SCHEMA,
    version: 2,
    name: typeof d.name === 'string' ? d.name : track ? nameOf(track).replace(/\.[^.]+$/, '') : 'Untitled',
    savedAt: typeof d.savedAt === 'string' ? d.savedAt : new Date(0).toISOString(),
    track: track ? { path: track, name: nameOf(track) } : null,
    references: list(d.references ?? [], 'references').map((r, i) => {
      const path = str(r, `references[${i}]`);
      return { path, name: nameOf(path) };
    }),
    chain: d.chain,
    snapshots: [],
    exportSettings: {
      ...defaultExportSettings(),
      ...(d.targets !== undefined ? { targets: list(d.targets, 'targets').map((t, i) => str(t, `targets[${i}]`)) } : {}),
      ...(typeof d.profile === 'string' ? { profile: d.profile } : {}),
    },
    proposal: null,
    history: { undo: [], redo: [] },
    playheadSeconds: 0,
  };
}

const MIGRATIONS: Record<number, (d: Obj) => Obj> = { 1: migrateV1 };

/** Checks (and migrates) a parsed session; returns the current version's document. */
export function validateSession(value: unknown): SessionDocument {
  let d = obj(value, 'session');
  if (d.schema !== SESSION_SCHEMA) throw new SessionError('schema', `must be "${SESSION_SCHEMA}", got ${JSON.stringify(d.schema) ?? 'nothing'}`);
  if (typeof d.version !== 'number' || !Number.isInteger(d.version) || d.version < 1) throw new SessionError('version', `must be a version number, got ${JSON.stringify(d.version) ?? 'nothing'}`);
  if (d.version > SESSION_VERSION) throw new SessionError('version', `${d.version} was written by a newer Lathe (this one reads up to ${SESSION_VERSION})`);
  while ((d.version as number) < SESSION_VERSION) d = MIGRATIONS[d.version as number]!(d);
  const x = obj(d.exportSettings, 'exportSettings');
  const maxLimitingDb = x.maxLimitingDb;
  if (typeof maxLimitingDb !== 'number' || !(maxLimitingDb >= 0 && maxLimitingDb <= 24)) throw new SessionError('exportSettings.maxLimitingDb', 'must be a number of dB from 0 to 24');
  if (x.codecChecks !== 'full' && x.codecChecks !== 'none') throw new SessionError('exportSettings.codecChecks', 'must be "full" or "none"');
  const history = obj(d.history, 'history');
  const proposal = d.proposal === null ? null : obj(d.proposal, 'proposal');
  const playhead = d.playheadSeconds;
  if (typeof playhead !== 'number' || !(playhead >= 0)) throw new SessionError('playheadSeconds', 'must be a number of seconds ≥ 0');
  return {
    schema: SESSION_SCHEMA,
    version: SESSION_VERSION,
    name: str(d.name, 'name'),
    savedAt: str(d.savedAt, 'savedAt'),
    track: d.track === null ? null : file(d.track, 'track'),
    references: list(d.references, 'references').map((r, i) => file(r, `references[${i}]`)),
    chain: chainAt(d.chain, 'chain'),
    snapshots: list(d.snapshots, 'snapshots').map((s, i) => {
      const o = obj(s, `snapshots[${i}]`);
      return { name: str(o.name, `snapshots[${i}].name`), createdAt: str(o.createdAt, `snapshots[${i}].createdAt`), chain: chainAt(o.chain, `snapshots[${i}].chain`) };
    }),
    exportSettings: {
      targets: list(x.targets, 'exportSettings.targets').map((t, i) => str(t, `exportSettings.targets[${i}]`)),
      profile: x.profile === null ? null : str(x.profile, 'exportSettings.profile'),
      codecChecks: x.codecChecks,
      maxLimitingDb,
    },
    proposal: proposal ? { chain: chainAt(proposal.chain, 'proposal.chain'), summary: str(proposal.summary, 'proposal.summary') } : null,
    history: {
      undo: list(history.undo, 'history.undo').map((c, i) => chainAt(c, `history.undo[${i}]`)),
      redo: list(history.redo, 'history.redo').map((c, i) => chainAt(c, `history.redo[${i}]`)),
    },
    playheadSeconds: playhead,
  };
}

export function parseSession(text: string, source: string): SessionDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SessionError(source, `not valid JSON (${(e as Error).message})`);
  }
  return validateSession(value);
}
