// Hostile inputs through the CLI, as an engineer meets them: every file of the generated corpus,
// odd paths, destinations that refuse or fill up, a missing ffmpeg, bad chains, a corrupt model.
// Each case: a defined exit status, one line naming the file and the problem, no output or
// partial output left behind, the source byte-for-byte untouched (SHA-256 before and after), and
// no hang (every run has a hard timeout and is killed past it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile } from '../../main/core/analysis/analyze.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { scratchDir } from '../helpers/cli.js';
import { generateCorpus, hostileChains, sha256, type CorpusEntry } from './corpus.js';
import { cli, expectRefusal, expectSuccess, isRoot, listing, NOBODY, partials } from './harness.js';

// `npm run soak` (LATHE_SOAK=1) renders and masters every file; `npm test` a sample.
const SOAK = process.env.LATHE_SOAK === '1';
const scratch = scratchDir('hostile');
// Readable by an unprivileged user too (the read-only destination runs the CLI as one when root).
chmodSync(scratch.dir, 0o755);
const corpusDir = join(scratch.dir, 'corpus');
const corpus: CorpusEntry[] = generateCorpus(corpusDir);
const byName = (name: string) => corpus.find((e) => e.name === name)!;
const accepted = corpus.filter((e) => e.refusal === null);
const refused = corpus.filter((e) => e.refusal !== null);
const hashes = new Map<string, string>();
const track = (file: string) => hashes.set(file, sha256(file));
for (const e of corpus) track(e.file);

/** Every stage but the sends on, loud into the limiter: the chain a master is likely to be. */
function fullChain() {
  const c = defaultChain();
  c.eq.lowShelf = { enabled: true, freqHz: 90, q: 0.7, gainDb: 2 };
  c.eq.peaks = [
    { enabled: true, freqHz: 250, q: 1, gainDb: -2 },
    { enabled: true, freqHz: 1000, q: 1.4, gainDb: 1 },
    { enabled: true, freqHz: 3000, q: 2, gainDb: 2 },
    { enabled: true, freqHz: 8000, q: 1, gainDb: 1.5 },
  ];
  c.compressor.enabled = true;
  c.imager = { ...c.imager, enabled: true, width: 1.2 };
  c.saturation = { ...c.saturation, enabled: true, driveDb: 4 };
  c.limiter.inputGainDb = 8;
  c.dither.enabled = true;
  return c;
}
const chainFile = join(scratch.dir, 'full-chain.json');
writeFileSync(chainFile, JSON.stringify(fullChain()));
track(chainFile);

afterAll(() => {
  // The sources, every one: byte for byte as they were.
  for (const [file, hash] of hashes) expect(sha256(file), file).toBe(hash);
  scratch.cleanup();
});

const analyzeJson = (file: string) => {
  const r = cli(['analyze', file, '--json']);
  expectSuccess(r);
  return JSON.parse(r.stdout);
};
/** Checking an output in process (quicker than another CLI run). */
const measure = (file: string) => analyzeFile(file, { meters: 'loudness' });

describe('lathe analyze: every file of the corpus', () => {
  it.each(accepted.map((e) => [e.name, e] as const))('accepts %s', (_name, e) => {
    const j = analyzeJson(e.file);
    expect(j.format.frames).toBeGreaterThan(0);
    for (const v of [j.loudness.integratedLufs, j.loudness.truePeakDbtp, j.loudness.samplePeakDbfs]) {
      if (v !== null) expect(Number.isFinite(v)).toBe(true);
    }
    if (e.qc) expect(j.qc.map((q: { kind: string }) => q.kind)).toContain(e.qc);
  });

  it.each(refused.map((e) => [e.name, e] as const))('refuses %s clearly', (_name, e) => {
    expectRefusal(cli(['analyze', e.file]), e.file, e.refusal!);
  });

  it('reads the content, not the extension', () => {
    expect(analyzeJson(byName('flac-named.wav').file).format.codec).toBe('flac');
    expect(analyzeJson(byName('wav-named.mp3').file).format.codec).toBe('pcm_s16le');
  });
});

describe('lathe render: odd files through the full chain', () => {
  const out = join(scratch.dir, 'render');
  mkdirSync(out, { recursive: true });
  const sample = SOAK
    ? accepted.map((e) => e.name).filter((n) => !/^rate-(8000|11025)\.wav$/.test(n))
    : ['format-u8.wav', 'format-f64.wav', 'rate-384000.wav', 'channels-8.wav', 'one-sample.wav', 'nan-inf.wav', 'square.wav', 'flac-named.wav'];

  it.each(sample)('%s: as long as the source, same channels, finite, under the ceiling', async (name) => {
    const src = byName(name).file;
    const dest = join(out, `${name}.out.wav`);
    expectSuccess(cli(['render', src, '--chain', chainFile, '--out', dest]));
    const before = await measure(src);
    const after = await measure(dest);
    expect(after.format.frames).toBe(before.format.frames);
    expect(after.format.channels).toBe(before.format.channels);
    if (name === 'nan-inf.wav') {
      // The NaN and infinities are silence in the render, and the programme after them survives.
      const last = after.loudness.series.momentaryLufs.at(-1);
      expect(last, 'the end of the render is not silent').toBeGreaterThan(-40);
    }
    // The limiter's promise, on the meter: −1 dBTP, plus 24-bit quantisation and dither.
    if (after.loudness.truePeakDbtp !== null) expect(after.loudness.truePeakDbtp).toBeLessThanOrEqual(-1 + 0.02);
  });

  it('a chain that cannot run at 8 kHz (an EQ band above Nyquist) is refused before anything is written', async () => {
    const dest = join(out, 'rate-8000.out.wav');
    expectRefusal(cli(['render', byName('rate-8000.wav').file, '--chain', chainFile, '--out', dest]), byName('rate-8000.wav').file, /the chain cannot run at 8000 Hz: .*8000 Hz is outside/, 2);
    // The neutral chain runs there.
    expectSuccess(cli(['render', byName('rate-8000.wav').file, '--out', dest]));
    expect((await measure(dest)).format.sampleRate).toBe(8000);
  });

  it.each(refused.map((e) => [e.name, e] as const))('refuses %s and writes nothing', (_name, e) => {
    const dir = join(out, `refused-${e.name}`);
    mkdirSync(dir);
    expectRefusal(cli(['render', e.file, '--chain', chainFile, '--out', join(dir, 'x.wav')]), e.file, e.refusal!);
    expect(listing(dir)).toEqual([]);
  });

  it('leaves no partial file anywhere', () => {
    expect(partials(out)).toEqual([]);
  });
});

describe('lathe master: odd files are delivered or honestly failed, never half-written', () => {
  const out = join(scratch.dir, 'master');

  it.each(SOAK ? ['one-sample.wav', 'silence.wav', 'nan-inf.wav', 'dc.wav', 'denormal.wav', 'square.wav', 'channels-1.wav', 'channels-6.wav', 'channels-8.wav', 'rate-8000.wav', 'rate-384000.wav', 'format-u8.wav', 'format-f64.wav'] : ['silence.wav', 'nan-inf.wav', 'channels-6.wav'])('%s', async (name) => {
    const dir = join(out, name);
    const r = cli(['master', byName(name).file, '--targets', 'spotify,cd', '--codec-checks', 'none', '--out', dir, '--json']);
    expectSuccess(r, [0, 3]);
    const result = JSON.parse(r.stdout);
    expect(result.targets).toHaveLength(2);
    const channels = (await measure(byName(name).file)).format.channels;
    for (const t of result.targets) {
      // Whatever the verdict, the deliverable is a whole, readable file.
      const j = await measure(t.file);
      expect(j.format.channels).toBe(channels);
      expect(j.loudness.truePeakDbtp === null || Number.isFinite(j.loudness.truePeakDbtp)).toBe(true);
    }
    expect(partials(dir)).toEqual([]);
  });

  it.each(['truncated.flac', 'not-audio.wav', 'zero-length.wav', 'header-lies-long.wav'])('refuses %s and creates nothing', (name) => {
    const e = byName(name);
    const dir = join(out, `refused-${name}`);
    expectRefusal(cli(['master', e.file, '--targets', 'spotify', '--codec-checks', 'none', '--out', dir, '--json']), e.file, e.refusal!);
    expect(listing(dir)).toEqual([]);
  });
});

describe('paths', () => {
  const base = byName('base.wav').file;
  const long = join(scratch.dir, ...Array.from({ length: 6 }, (_, i) => `${String(i).repeat(3)}-${'ü'.repeat(60)}`));
  const names: [string, string][] = [
    ['unicode', join(scratch.dir, 'ünïcödé', 'Mïx – 日本語 🎛️ (final).wav')],
    ['spaces and quotes', join(scratch.dir, 'with spaces', `it's a "mix" \`v2\` $(touch pwned) ; & | .wav`)],
    ['a leading dash', join(scratch.dir, 'dash', '-rf --out.wav')],
    ['a protocol-like name', join(scratch.dir, 'proto', 'concat:a.wav|b.wav')],
    ['a very long path (a 230-byte name, 6 deep, over 1000 bytes)', join(long, `${'ж'.repeat(113)}.wav`)],
  ];

  it.each(names)('%s: analysed, rendered and mastered', async (what, file) => {
    mkdirSync(join(file, '..'), { recursive: true });
    copyFileSync(base, file);
    track(file);
    const j = analyzeJson(file);
    expect(j.format.frames).toBe(66_150);
    const dest = join(file, '..', `out ${'ø'.repeat(3)}.flac`);
    expectSuccess(cli(['render', file, '--out', dest]));
    expect((await measure(dest)).format.codec).toBe('flac');
    if (SOAK || /unicode|long/.test(what)) {
      const masterDir = join(file, '..', 'masters ✓');
      expectSuccess(cli(['master', file, '--targets', 'cd', '--codec-checks', 'none', '--out', masterDir]), [0, 3]);
      expect(listing(masterDir).filter((p) => p.endsWith('.cd.wav'))).toHaveLength(1);
    }
    expect(partials(join(file, '..'))).toEqual([]);
    expect(listing(scratch.dir)).not.toContain('pwned');
  });

  it('a name too long for its reports: one line naming the file that cannot be made', () => {
    const file = join(long, `${'ж'.repeat(121)}.wav`);
    copyFileSync(base, file);
    track(file);
    const dir = join(long, 'long-masters');
    const report = join(dir, `${'ж'.repeat(121)}.cd.report.json`);
    expectRefusal(cli(['master', file, '--targets', 'cd', '--codec-checks', 'none', '--out', dir, '--json']), report, /cannot move the file into place: the name is too long$/);
    expect(partials(dir)).toEqual([]);
  });

  it('a missing file inside a unicode folder is named as it is', () => {
    const file = join(scratch.dir, 'ünïcödé', 'nicht da.wav');
    expectRefusal(cli(['analyze', file]), file, /file not found$/);
  });
});

/**
 * Makes `dir` read-only for the CLI: chmod when not root; as root (which writes anywhere) a
 * read-only bind mount, or else running the CLI as an unprivileged user who can read the
 * checkout; null when none of these is possible here.
 */
function readOnly(dir: string): { as: Parameters<typeof cli>[1]; release: () => void } | null {
  if (!isRoot()) {
    chmodSync(dir, 0o555);
    return { as: {}, release: () => chmodSync(dir, 0o755) };
  }
  if (spawnSync('mount', ['--bind', dir, dir]).status === 0) {
    if (spawnSync('mount', ['-o', 'remount,bind,ro', dir]).status === 0) return { as: {}, release: () => void spawnSync('umount', [dir]) };
    spawnSync('umount', [dir]);
  }
  const canRead = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(import.meta.dirname, '../../bin/lathe.js'))})`], { uid: NOBODY, gid: NOBODY, cwd: '/' }).status === 0;
  if (!canRead) return null;
  chmodSync(dir, 0o555);
  return { as: { uid: NOBODY, gid: NOBODY, cwd: '/' }, release: () => chmodSync(dir, 0o755) };
}

describe('destinations that refuse', () => {
  const src = byName('rate-96000.wav').file;

  it('the output would overwrite the source', () => {
    expectRefusal(cli(['render', src, '--out', src]), src, /the output would overwrite the source/, 2);
  });

  it('an output whose folder does not exist', () => {
    const dest = join(scratch.dir, 'no', 'such', 'folder', 'out.wav');
    expectRefusal(cli(['render', src, '--out', dest]), dest, /cannot write the file|No such file|no such file/);
    expect(listing(join(scratch.dir, 'no'))).toEqual([]);
  });

  it('an output with an extension Lathe does not write', () => {
    expectRefusal(cli(['render', src, '--out', join(scratch.dir, 'out.xyz')]), null, /cannot tell the format of .*out\.xyz from "\.xyz"/, 2);
  });

  it('a read-only folder: render and master say so and leave nothing', ({ skip }) => {
    const dir = join(scratch.dir, 'read-only');
    mkdirSync(dir);
    const ro = readOnly(dir);
    if (!ro) skip();
    try {
      const dest = join(dir, 'out.wav');
      expectRefusal(cli(['render', src, '--out', dest], ro!.as), dest, /cannot write the file: (permission denied|the destination is on a read-only file system)$/);
      const sub = join(dir, 'masters');
      expectRefusal(cli(['master', src, '--targets', 'cd', '--codec-checks', 'none', '--out', sub, '--json'], ro!.as), sub, /cannot create the folder: (permission denied|read-only file system)$/);
      const r = cli(['master', src, '--targets', 'cd', '--codec-checks', 'none', '--out', dir], ro!.as);
      expect(r.status).toBe(1);
      expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^lathe: .*read-only\/rate-96000\.cd\.wav: cannot write the file: (permission denied|the destination is on a read-only file system)$/);
      expect(listing(dir)).toEqual([]);
    } finally {
      ro!.release();
    }
  });

  it('a file size limit reached mid-write (ulimit -f: works without privileges)', () => {
    const dir = join(scratch.dir, 'size-limit');
    mkdirSync(dir);
    const dest = join(dir, 'out.wav');
    // 100 blocks of 512 bytes: the 0.75 s 96 kHz stereo source needs about 430 kB at 24 bits.
    expectRefusal(cli(['render', src, '--out', dest], { shellPrefix: 'ulimit -f 100;' }), dest, /cannot write the file: it exceeds the file size limit$/);
    expect(listing(dir)).toEqual([]);
  });

  describe('a destination that fills up (a 256 KiB tmpfs; skipped where mounting is not permitted)', () => {
    const mnt = join(scratch.dir, 'full');
    let mounted = false;
    beforeAll(() => {
      mkdirSync(mnt);
      mounted = isRoot() && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status === 0;
    });
    afterAll(() => {
      if (mounted) spawnSync('umount', [mnt]);
    });

    it('render: no space left, nothing left behind', ({ skip }) => {
      if (!mounted) skip();
      const dest = join(mnt, 'out.wav');
      expectRefusal(cli(['render', byName('rate-384000.wav').file, '--out', dest]), dest, /cannot write the file: no space left on the device$/);
      expect(listing(mnt)).toEqual([]);
    });

    it('a session save that does not fit: an error, the previous session intact, no partial file', async ({ skip }) => {
      if (!mounted) skip();
      const { newSession } = await import('../../main/core/session/document.js');
      const { loadSession, saveSession } = await import('../../main/core/session/store.js');
      const file = join(mnt, 'album.lathe');
      saveSession(file, newSession('before'));
      const before = sha256(file);
      const big = newSession('after');
      big.history.undo = Array.from({ length: 200 }, () => ({ ...defaultChain(), name: 'x'.repeat(2000) }));
      expect(() => saveSession(file, big)).toThrow(/ENOSPC|no space/i);
      expect(sha256(file)).toBe(before);
      expect(loadSession(file).name).toBe('before');
      expect(listing(mnt)).toEqual(['album.lathe']);
      rmSync(file);
    });

    it('master (FLAC, whose trailer fails while ffmpeg still exits 0): no truncated deliverable', ({ skip }) => {
      if (!mounted) skip();
      const dir = join(mnt, 'masters');
      const r = cli(['master', byName('channels-8.wav').file, '--targets', 'spotify', '--codec-checks', 'none', '--out', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^lathe: .*channels-8\.spotify\.flac: cannot write the file: no space left on the device$/);
      expect(listing(dir)).toEqual([]);
    });
  });
});

describe('a missing or broken ffmpeg', () => {
  const src = byName('base.wav').file;
  it.each([
    ['LATHE_FFMPEG pointing nowhere', { LATHE_FFMPEG: '/nonexistent/ffmpeg' }, /ffmpeg not found: LATHE_FFMPEG=\/nonexistent\/ffmpeg is not an executable file$/],
    ['LATHE_FFPROBE pointing nowhere', { LATHE_FFPROBE: '/nonexistent/ffprobe' }, /ffprobe not found: LATHE_FFPROBE=\/nonexistent\/ffprobe is not an executable file$/],
    ['LATHE_FFMPEG pointing at a folder', { LATHE_FFMPEG: '/tmp' }, /ffmpeg not found: LATHE_FFMPEG=\/tmp is not an executable file$/],
  ] as const)('%s: render and master stop with one line, writing nothing', (_what, env, pattern) => {
    const dir = join(scratch.dir, `no-ffmpeg-${Object.keys(env)[0]}-${Object.values(env)[0]!.length}`);
    expectRefusal(cli(['render', src, '--out', join(dir, 'out.wav')], { env }), null, pattern);
    expectRefusal(cli(['master', src, '--targets', 'cd', '--out', dir, '--json'], { env }), null, pattern);
    expect(listing(dir).filter((p) => !p.endsWith('/'))).toEqual([]);
  });

  it('an ffmpeg that runs but fails (/bin/false): one line, nothing written', () => {
    const dir = join(scratch.dir, 'false-ffmpeg');
    mkdirSync(dir);
    const dest = join(dir, 'out.wav');
    const r = cli(['render', src, '--out', dest], { env: { LATHE_FFMPEG: '/bin/false' } });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^lathe: .*(out\.wav|base\.wav): /);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(listing(dir)).toEqual([]);
  });
});

describe('chain documents with out-of-range and wrong-typed values', () => {
  const src = byName('base.wav').file;
  const cases = hostileChains(() => JSON.parse(JSON.stringify(defaultChain())));
  it.each(cases.map((c) => [c.name, c] as const))('%s: exit 2 naming the chain file and the field', (name, c) => {
    const file = join(scratch.dir, 'chains', `${name.replace(/[^a-z0-9]+/gi, '-')}.json`);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, c.text);
    const dir = join(scratch.dir, 'chains', `out-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    expectRefusal(cli(['render', src, '--chain', file, '--out', join(dir, 'out.wav')]), file, new RegExp(`invalid chain: .*${c.field.source}`), 2);
    expect(listing(dir)).toEqual([]);
    // Nothing leaked onto Object.prototype in this process either.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a chain file that does not exist', () => {
    const file = join(scratch.dir, 'chains', 'missing.json');
    expectRefusal(cli(['render', src, '--chain', file, '--out', join(scratch.dir, 'x.wav')]), file, /cannot read the chain \(ENOENT\)$/);
  });
});

describe('a corrupt assistant model', () => {
  const src = byName('base.wav').file;
  it.each([
    ['garbage bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255))],
    ['an empty file', Buffer.alloc(0)],
    ['a text file', Buffer.from('this is not an ONNX model\n')],
  ] as const)('LATHE_ASSISTANT_MODEL pointing at %s: lathe assist says the model cannot be used', (what, bytes) => {
    const model = join(scratch.dir, 'models', `${what.replace(/ /g, '-')}.onnx`);
    mkdirSync(join(model, '..'), { recursive: true });
    writeFileSync(model, bytes);
    track(model);
    const r = cli(['assist', src, '--json'], { env: { LATHE_ASSISTANT_MODEL: model } });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lathe: .*(garbage-bytes|an-empty-file|a-text-file)(\.onnx|\.card\.json): the assistant model cannot be used: /);
  });

  it('LATHE_ASSISTANT_MODEL pointing nowhere', () => {
    const r = cli(['assist', src], { env: { LATHE_ASSISTANT_MODEL: '/nonexistent/model.onnx' } });
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^lathe: \/nonexistent\/model(\.onnx|\.card\.json): the assistant model cannot be used: /);
  });
});

describe('corrupt and future sessions', () => {
  // Sessions are opened by the studio (no CLI command): loadSession is what it calls.
  it.each([
    ['truncated JSON', (good: string) => good.slice(0, Math.floor(good.length / 2)), /not a session Lathe can open: .*not valid JSON/],
    ['binary garbage', () => Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131) & 255)).toString('latin1'), /not a session Lathe can open: .*not valid JSON/],
    ['an empty file', () => '', /not a session Lathe can open: .*not valid JSON/],
    ['a future version', (good: string) => good.replace('"version": 2', '"version": 7'), /not a session Lathe can open: version: 7 was written by a newer Lathe/],
    ['another schema', (good: string) => good.replace('"lathe.session"', '"evil.session"'), /not a session Lathe can open: schema: must be "lathe\.session"/],
    ['a chain out of range', (good: string) => good.replace('"ceilingDbtp": -1', '"ceilingDbtp": 6'), /not a session Lathe can open: chain\.limiter\.ceilingDbtp: 6 dBTP is outside/],
    ['__proto__ as the session', (good: string) => `{"__proto__": ${good}}`, /not a session Lathe can open: schema: must be/],
  ] as const)('%s: refused naming the file, and left as it was', async (what, make, pattern) => {
    const { newSession } = await import('../../main/core/session/document.js');
    const { loadSession, saveSession } = await import('../../main/core/session/store.js');
    const dir = join(scratch.dir, 'sessions');
    mkdirSync(dir, { recursive: true });
    const goodFile = join(dir, 'good.lathe');
    saveSession(goodFile, newSession('ok'));
    const file = join(dir, `${what.replace(/[^a-z]+/gi, '-')}.lathe`);
    writeFileSync(file, make(readFileSync(goodFile, 'utf8')));
    const before = sha256(file);
    let error: Error | undefined;
    try {
      loadSession(file);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(error?.message).toMatch(pattern);
    expect(error?.message.split('\n')).toHaveLength(1);
    expect(sha256(file)).toBe(before);
    rmSync(goodFile);
  });
});
