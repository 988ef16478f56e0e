// Sessions: the document round-trips, an old version migrates, bad ones are refused naming the
// field; saves are atomic; the autosave is written after changes and recovered after a crash;
// undo/redo covers chain edits, a dragged knob being one step.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultChain } from '../../main/core/chain/document.js';
import { newSession, parseSession, SessionError, SESSION_VERSION, validateSession } from '../../main/core/session/document.js';
import { ChainHistory } from '../../main/core/session/history.js';
import { Autosaver, loadSession, saveSession, writeFileAtomic } from '../../main/core/session/store.js';
import { scratchDir } from '../helpers/cli.js';

const scratch = scratchDir('session');
afterAll(() => scratch.cleanup());

const withGain = (gainDb: number) => {
  const c = defaultChain();
  c.limiter.inputGainDb = gainDb;
  return c;
};

describe('session document', () => {
  it('round-trips through a file', () => {
    const doc = { ...newSession('Album opener'), track: { path: '/music/mix.wav', name: 'mix.wav' }, chain: withGain(2), snapshots: [{ name: 'A', createdAt: '2026-01-01T00:00:00.000Z', chain: withGain(1) }], history: { undo: [withGain(0)], redo: [] }, playheadSeconds: 42 };
    const file = join(scratch.dir, 'opener.lathe');
    const saved = saveSession(file, doc);
    expect(saved.savedAt).not.toBe(doc.savedAt);
    expect(loadSession(file)).toEqual(saved);
  });

  it('migrates a version-1 session', () => {
    const v1 = { schema: 'lathe.session', version: 1, track: '/music/song.flac', references: ['/refs/hit.wav'], chain: withGain(1.5), targets: ['spotify', 'cd'], profile: 'pop' };
    const doc = parseSession(JSON.stringify(v1), 'old.lathe');
    expect(doc.version).toBe(SESSION_VERSION);
    expect(doc).toMatchObject({ name: 'song', track: { path: '/music/song.flac', name: 'song.flac' }, references: [{ path: '/refs/hit.wav', name: 'hit.wav' }], exportSettings: { targets: ['spotify', 'cd'], profile: 'pop', codecChecks: 'full' }, snapshots: [], history: { undo: [], redo: [] } });
    expect(doc.chain.limiter.inputGainDb).toBe(1.5);
  });

  it('refuses other schemas, newer versions and bad fields, naming them', () => {
    const refused = (value: unknown) => {
      try {
        validateSession(value);
      } catch (e) {
        return e as SessionError;
      }
      throw new Error('accepted');
    };
    expect(refused({ schema: 'other', version: 2 }).field).toBe('schema');
    expect(refused({ ...newSession(), version: 99 }).reason).toMatch(/newer Lathe/);
    expect(refused({ ...newSession(), playheadSeconds: -1 }).field).toBe('playheadSeconds');
    const bad: any = newSession();
    bad.snapshots = [{ name: 'x', createdAt: 'now', chain: { ...defaultChain(), limiter: { ...defaultChain().limiter, ceilingDbtp: 5 } } }];
    expect(refused(bad).field).toBe('snapshots[0].chain.limiter.ceilingDbtp');
    expect(() => parseSession('{', 'broken.lathe')).toThrow(/broken\.lathe: not valid JSON/);
  });
});

describe('atomic writes', () => {
  it('replace the file whole, and a failed write leaves the old one and no temporary file', () => {
    const dir = join(scratch.dir, 'atomic');
    mkdirSync(dir);
    const file = join(dir, 's.lathe');
    writeFileAtomic(file, 'old');
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['s.lathe']);
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(() => writeFileAtomic(file, 'newer')).toThrow();
      chmodSync(dir, 0o700);
      expect(readFileSync(file, 'utf8')).toBe('new');
      expect(readdirSync(dir)).toEqual(['s.lathe']);
    }
  });
});

describe('autosave and recovery', () => {
  it('writes once after a burst of changes, and a new run recovers it', async () => {
    const dir = join(scratch.dir, 'autosave');
    const a = new Autosaver(dir, 30);
    expect(a.recoverable()).toBeNull();
    for (let i = 1; i <= 5; i++) a.schedule(() => ({ ...newSession('crashy'), chain: withGain(i) }));
    await new Promise((r) => setTimeout(r, 120));
    expect(a.writes).toBe(1);
    expect(existsSync(a.file)).toBe(true);
    // The process dies here: no clear(). The next run finds it.
    const b = new Autosaver(dir, 30);
    const r = b.recoverable();
    expect(r?.doc.name).toBe('crashy');
    expect(r?.doc.chain.limiter.inputGainDb).toBe(5);
    // The new run's autosaves do not overwrite what is waiting to be recovered.
    b.schedule(() => newSession('new work'));
    b.flush();
    expect(b.recoverable()?.doc.name).toBe('crashy');
    expect(b.discardRecovery()).toBe(true);
    expect(b.recoverable()).toBeNull();
    b.clear();
    expect(new Autosaver(dir, 30).recoverable()).toBeNull();
  });

  it('an unreadable autosave is ignored rather than failing start-up', () => {
    const dir = join(scratch.dir, 'autosave-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'autosave.lathe'), '{ half a session');
    expect(new Autosaver(dir).recoverable()).toBeNull();
  });
});

describe('undo and redo', () => {
  it('covers every chain edit, coalescing a dragged knob into one step', () => {
    const h = new ChainHistory(withGain(0));
    expect(h.apply(withGain(1))).toBe(true);
    for (const g of [1.5, 2, 2.5, 3]) h.apply(withGain(g), 'limiter.inputGainDb');
    expect(h.apply(withGain(3))).toBe(false);
    expect(h.undo()).toBe(true);
    expect(h.chain.limiter.inputGainDb).toBe(1);
    expect(h.undo()).toBe(true);
    expect(h.chain.limiter.inputGainDb).toBe(0);
    expect(h.undo()).toBe(false);
    expect(h.redo()).toBe(true);
    expect(h.redo()).toBe(true);
    expect(h.chain.limiter.inputGainDb).toBe(3);
    expect(h.redo()).toBe(false);
    h.undo();
    h.apply(withGain(-2));
    expect(h.canRedo).toBe(false);
    const restored = new ChainHistory(h.chain, h.stacks);
    restored.undo();
    expect(restored.chain.limiter.inputGainDb).toBe(1);
  });
});
