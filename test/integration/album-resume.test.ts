// `lathe album` resumes: an album SIGKILLed part-way (a simulated crash) and run again with the
// same inputs and settings reuses every track master it had finished — the very same file (same
// inode, same time), not a copy or a new render — and masters only the rest; a finished track whose
// staged file was damaged after the crash is not taken for done; the album's own steps (the anchor's
// level, the consistency QC, the CD image and CUE sheet) come out as an uninterrupted run of the
// same album gives them; every deliverable exists once and passes (ffmpeg's meter on the files).
// Then one source changes: only that track is mastered again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expectSameAlbum, type AlbumJson } from '../helpers/album.js';
import { latheBin, scratchDir } from '../helpers/cli.js';
import { ffmpegEbur128 } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('album-resume');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());

const FS = 44_100;
const SECONDS = 8;
const GAINS_DB = [-6, -10.5, -3, -13];
const ANCHOR = 2; // the loudest input
const TARGETS = ['spotify', 'cd'];

function writeTrack(name: string, seed: number, gainDb: number): string {
  const [l, r] = musicLike(FS, SECONDS, seed);
  const g = 10 ** (gainDb / 20);
  for (const p of [l, r]) for (let i = 0; i < p.length; i++) p[i]! *= g;
  return writeWav(at(name), [l, r], FS, 'pcm24');
}

let inputs: string[] = [];
beforeAll(() => {
  inputs = GAINS_DB.map((g, i) => writeTrack(`song${i + 1}.wav`, 51 + i, g));
});

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `lathe album …` as a child process (no time limit of its own: the test's covers it). */
function album(out: string, env: Record<string, string> = {}, onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, [latheBin, 'album', ...inputs, '--targets', TARGETS.join(','), '--out', out, '--codec-checks', 'none', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  onSpawn?.(child);
  return new Promise((resolve) => child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr })));
}

interface TrackRecord {
  key: string;
  input: string;
  target: string;
  producedBy: string;
  files: { name: string; sha256: string }[];
}
const records = (out: string): TrackRecord[] => {
  const dir = join(out, '.lathe-album', 'done');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TrackRecord) : [];
};

const flacsIn = (out: string) => readdirSync(out).filter((f) => f.endsWith('.flac')).sort();
const stems = () => inputs.map((i) => basename(i, '.wav'));

describe('lathe album, killed and run again', () => {
  let reference: AlbumJson;
  let resumed: AlbumJson;
  const out = at('out');

  it('reuses every finished track untouched, masters only the rest, and ends as an uninterrupted run does', async () => {
    const ref = await album(at('reference'));
    expect(ref.status, ref.stderr).toBe(0);
    reference = JSON.parse(ref.stdout) as AlbumJson;
    expect(basename(reference.anchor)).toBe(basename(inputs[ANCHOR]!));

    // The crash: SIGKILL once three of the eight track masters are finished (one track at a time,
    // so the kill falls in the middle of the album).
    const killed = await album(out, { LATHE_ALBUM_CONCURRENCY: '1' }, (child) => {
      const timer = setInterval(() => {
        if (records(out).length >= 3) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 20);
      child.on('exit', () => clearInterval(timer));
    });
    expect(killed.signal, `the album ended before it was killed: ${killed.stderr}`).toBe('SIGKILL');
    const finished = records(out);
    expect(finished.length).toBeGreaterThanOrEqual(3);
    expect(finished.length, 'the kill must come before the album finished').toBeLessThan(inputs.length * TARGETS.length);
    // Nothing was delivered: half an album is not a delivery.
    expect(flacsIn(out)).toEqual([]);
    expect(existsSync(join(out, 'album.album.json'))).toBe(false);

    // A finished master whose staged file was damaged after the crash must not be taken for done:
    // the first finished one that is not the anchor's (whose level every other track follows).
    const staged = (r: TrackRecord) => join(out, '.lathe-album', 'tracks', r.key, r.files[0]!.name);
    const damaged = finished.find((r) => r.input !== inputs[ANCHOR])!;
    expect(damaged, 'a finished track other than the anchor').toBeDefined();
    const bytes = readFileSync(staged(damaged));
    bytes.fill(0, bytes.length >> 1);
    writeFileSync(staged(damaged), bytes);
    utimesSync(staged(damaged), new Date(), new Date(Date.now() + 10_000)); // a rewrite moves the time, even on coarse clocks
    const intact = finished.filter((r) => r !== damaged);
    const before = new Map(intact.map((r) => [`${r.input}|${r.target}`, { ino: statSync(staged(r)).ino, mtimeMs: statSync(staged(r)).mtimeMs, name: r.files[0]!.name, sha256: r.files[0]!.sha256 }]));

    const again = await album(out);
    expect(again.status, again.stderr).toBe(0);
    resumed = JSON.parse(again.stdout) as AlbumJson;
    // Exactly the intact finished masters were reused; the job log says so.
    for (const t of resumed.tracks) expect(t.reused, `${basename(t.input)} ${t.target}`).toBe(before.has(`${t.input}|${t.target}`));
    // …and not made again: the same file (inode and time), now delivered (spotify) or still
    // staged for the disc image (cd's 24-bit masters).
    for (const t of resumed.tracks.filter((x) => x.reused)) {
      const b = before.get(`${t.input}|${t.target}`)!;
      const now = t.target === 'cd' ? join(out, '.lathe-album', 'tracks', records(out).find((r) => r.files[0]!.sha256 === b.sha256)!.key, b.name) : t.file;
      expect(statSync(now).ino, t.file).toBe(b.ino);
      expect(statSync(now).mtimeMs, t.file).toBe(b.mtimeMs);
    }
    // The damaged one was mastered again: its deliverable is whole.
    const redone = resumed.tracks.find((t) => t.input === damaged.input && t.target === damaged.target)!;
    expect(redone.reused).toBe(false);

    // Every deliverable once, nothing partial, no work left; every track passes.
    expect(flacsIn(out)).toEqual(stems().map((s) => `${s}.spotify.flac`).sort());
    expect(readdirSync(out).filter((f) => f.endsWith('.report.json')).sort()).toEqual(stems().map((s) => `${s}.spotify.report.json`).sort());
    expect(readdirSync(out).filter((f) => f.includes('partial'))).toEqual([]);
    expect(readdirSync(join(out, '.lathe-album', 'work'))).toEqual([]);
    expect(existsSync(join(out, 'album.cd.wav')) && existsSync(join(out, 'album.cue'))).toBe(true);
    for (const t of resumed.tracks) expect(t.pass, `${basename(t.input)} ${t.target}`).toBe(true);
    // The reports name the deliverables where they are.
    for (const t of resumed.tracks.filter((x) => x.target === 'spotify')) expect(JSON.parse(readFileSync(t.report!, 'utf8')).deliverable.file).toBe(t.file);
    // By ffmpeg's meter: the anchor on −14 LUFS, every track under the ceiling and at its distance
    // from the anchor that the inputs had (one decimal in four readings: ±0.2).
    const ff = (f: string) => ffmpegEbur128(f);
    const spotify = inputs.map((i) => resumed.tracks.find((t) => t.input === i && t.target === 'spotify')!.file);
    const outFf = spotify.map(ff);
    const inFf = inputs.map(ff);
    expect(Math.abs(outFf[ANCHOR]!.integratedLufs - -14)).toBeLessThanOrEqual(0.15);
    for (let i = 0; i < inputs.length; i++) {
      expect(outFf[i]!.truePeakDbtp, spotify[i]).toBeLessThanOrEqual(-1 + 0.2);
      const rel = outFf[i]!.integratedLufs - outFf[ANCHOR]!.integratedLufs - (inFf[i]!.integratedLufs - inFf[ANCHOR]!.integratedLufs);
      expect(Math.abs(rel), spotify[i]).toBeLessThanOrEqual(0.2 + 1e-9);
    }
    // The album's own results are those of the uninterrupted run.
    expectSameAlbum(resumed, reference);
    // Byte for byte where nothing random enters: the CUE sheet.
    expect(readFileSync(join(out, 'album.cue'), 'utf8').replace(/^REM COMMENT.*$/m, '')).toBe(readFileSync(join(at('reference'), 'album.cue'), 'utf8').replace(/^REM COMMENT.*$/m, ''));
  }, 600_000);

  it('a changed source masters only that track again', async () => {
    expect(resumed, 'the resume test ran').toBeDefined();
    const changed = 3; // the quietest, not the anchor
    const old = resumed.tracks.filter((t) => t.input === inputs[changed]).map((t) => t.integratedLufs);
    // The same music 1 dB louder: a new content hash.
    writeTrack(basename(inputs[changed]!), 51 + changed, GAINS_DB[changed]! + 1);
    const r = await album(out);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as AlbumJson;
    for (const t of res.tracks) {
      expect(t.reused, `${basename(t.input)} ${t.target}`).toBe(t.input !== inputs[changed]);
      expect(t.pass).toBe(true);
    }
    // The new source is 1 dB louder: its master follows it (the album gain is the anchor's).
    const now = res.tracks.filter((t) => t.input === inputs[changed]).map((t) => t.integratedLufs);
    for (let k = 0; k < now.length; k++) expect(Math.abs(now[k]! - old[k]! - 1), res.tracks.filter((t) => t.input === inputs[changed])[k]!.target).toBeLessThanOrEqual(0.1);
    // Still one deliverable per track.
    expect(flacsIn(out)).toEqual(stems().map((s) => `${s}.spotify.flac`).sort());
    expect(readdirSync(join(out, '.lathe-album', 'work'))).toEqual([]);
  }, 600_000);
});
