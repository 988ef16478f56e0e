// `lathe album --queue` with two `lathe worker`s on a real BullMQ queue (Debian's redis-server on
// 127.0.0.1): the album is one job; the worker that takes it is SIGKILLed in the middle of the
// album. The other worker takes the job over once its lock lapses, reuses every track master the
// dead one had finished (the same files: same inode), discards its partial work and masters the
// rest. Every deliverable then exists exactly once and passes (ffmpeg's meter), and the album's
// own results — anchor, relative loudness, consistency QC, CD layout — are those of the same album
// mastered on this machine without a queue. Enqueueing it again masters nothing; Ctrl-C before any
// worker has started the album takes its job back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expectSameAlbum, type AlbumJson } from '../helpers/album.js';
import { scratchDir } from '../helpers/cli.js';
import { ffmpegEbur128 } from '../helpers/ffmpeg.js';
import { redisServer, startLathe, startRedis } from '../helpers/redis.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

if (!redisServer) console.warn('album-queue.test.ts: skipped — redis-server is not installed (apt-get install redis-server; .ci/run installs it)');

const scratch = scratchDir('album-queue');
const at = (n: string) => join(scratch.dir, n);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  scratch.cleanup();
});

const GAINS_DB = [-7, -4, -11, -9];
const LOUDEST = 1;
const TARGETS = 'spotify,cd';
let inputs: string[] = [];
let url = '';

interface TrackRecord {
  key: string;
  input: string;
  target: string;
  producedBy: string;
  files: { name: string }[];
}
const records = (out: string): TrackRecord[] => {
  const dir = join(out, '.lathe-album', 'done');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TrackRecord) : [];
};

describe.skipIf(!redisServer)('lathe album --queue with two lathe workers on Redis', () => {
  beforeAll(async () => {
    inputs = GAINS_DB.map((g, i) => {
      const [l, r] = musicLike(44_100, 8, 90 + i);
      for (const p of [l, r]) for (let k = 0; k < p.length; k++) p[k]! *= 10 ** (g / 20);
      return writeWav(at(`cut${i + 1}.wav`), [l, r], 44_100, 'pcm24');
    });
    url = await startRedis(scratch.dir, children);
  }, 240_000);

  it('a killed worker’s album is taken over, finished tracks reused; every deliverable once, and the album’s results right', async () => {
    const out = at('out');
    const albumArgs = (dir: string, queue: boolean) => ['album', ...inputs, '--targets', TARGETS, '--out', dir, '--codec-checks', 'none', '--json', ...(queue ? ['--queue', url] : [])];
    // The same album on this machine, without a queue: what the album's results must be.
    const local = startLathe(albumArgs(at('local'), false), children);
    expect(await local.exited, local.stderr()).toBe(0);
    const want = JSON.parse(local.lines.join('\n')) as AlbumJson;

    // Short locks so the dead worker's job is noticed within seconds; one track at a time, so the
    // kill falls in the middle of the album.
    const workerArgs = ['worker', '--queue', url, '--lock-ms', '4000', '--stalled-ms', '1500'];
    const env = { LATHE_ALBUM_CONCURRENCY: '1' };
    const a = startLathe(workerArgs, children, env);
    const b = startLathe(workerArgs, children, env);
    await Promise.all([a.waitFor(/^worker \d+ ready/), b.waitFor(/^worker \d+ ready/)]);
    const album = startLathe(albumArgs(out, true), children);
    const first = await Promise.race([a.waitFor(/^start album-/).then((line) => ({ line, victim: a, survivor: b })), b.waitFor(/^start album-/).then((line) => ({ line, victim: b, survivor: a }))]);
    const { victim, survivor } = first;
    const jobId = first.line.split(' ')[1]!;
    expect(first.line.split(' ')[2]).toBe(join(out, 'album.album.json'));
    // Kill it once it has finished three of the eight track masters.
    for (let i = 0; i < 24_000 && records(out).length < 3 && victim.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
    victim.child.kill('SIGKILL');
    await victim.exited;
    const byVictim = records(out);
    expect(byVictim.length).toBeGreaterThanOrEqual(3);
    expect(byVictim.length, 'the worker finished the album before it was killed').toBeLessThan(inputs.length * 2);
    expect(victim.lines.some((l) => l.startsWith(`done ${jobId}`))).toBe(false);
    for (const r of byVictim) expect(r.producedBy).toMatch(new RegExp(`:${victim.child.pid}$`));
    const staged = new Map(byVictim.map((r) => [`${r.input}|${r.target}`, statSync(join(out, '.lathe-album', 'tracks', r.key, r.files[0]!.name)).ino]));

    const code = await album.exited;
    expect(code, album.stderr()).toBe(0);
    const got = JSON.parse(album.lines.join('\n')) as AlbumJson;
    // The survivor took the job over and finished it.
    expect(survivor.lines.some((l) => l.startsWith(`start ${jobId}`))).toBe(true);
    expect(survivor.lines.some((l) => l.startsWith(`done ${jobId}`))).toBe(true);
    // It reused exactly what the dead worker had finished — the same files — and made the rest.
    for (const t of got.tracks) expect(t.reused, `${basename(t.input)} ${t.target}`).toBe(staged.has(`${t.input}|${t.target}`));
    for (const t of got.tracks.filter((x) => x.reused && x.target === 'spotify')) expect(statSync(t.file).ino, t.file).toBe(staged.get(`${t.input}|spotify`));
    const all = records(out);
    expect(all).toHaveLength(inputs.length * 2);
    for (const r of all) if (!staged.has(`${r.input}|${r.target}`)) expect(r.producedBy).toMatch(new RegExp(`:${survivor.child.pid}$`));

    // Every deliverable exactly once; nothing partial; the dead worker's work folder discarded.
    const stems = inputs.map((i) => basename(i, '.wav'));
    expect(readdirSync(out).filter((f) => f.endsWith('.flac')).sort()).toEqual(stems.map((s) => `${s}.spotify.flac`).sort());
    expect(readdirSync(out).filter((f) => f.endsWith('.wav'))).toEqual(['album.cd.wav']);
    expect(readdirSync(out).filter((f) => f.includes('partial'))).toEqual([]);
    expect(readdirSync(join(out, '.lathe-album', 'work'))).toEqual([]);
    for (const t of got.tracks) expect(t.pass, `${basename(t.input)} ${t.target}`).toBe(true);
    // The album's results: the anchor is the loudest input, on −14 LUFS by ffmpeg's meter, and every
    // track keeps its distance from it (one decimal in four readings: ±0.2); and all of it as the
    // album mastered here without a queue came out.
    expect(got.anchor).toBe(inputs[LOUDEST]);
    const files = inputs.map((i) => got.tracks.find((t) => t.input === i && t.target === 'spotify')!.file);
    const outFf = files.map((f) => ffmpegEbur128(f));
    const inFf = inputs.map((f) => ffmpegEbur128(f));
    expect(Math.abs(outFf[LOUDEST]!.integratedLufs - -14)).toBeLessThanOrEqual(0.15);
    for (let i = 0; i < inputs.length; i++) {
      expect(outFf[i]!.truePeakDbtp, files[i]).toBeLessThanOrEqual(-1 + 0.2);
      expect(Math.abs(outFf[i]!.integratedLufs - outFf[LOUDEST]!.integratedLufs - (inFf[i]!.integratedLufs - inFf[LOUDEST]!.integratedLufs)), files[i]).toBeLessThanOrEqual(0.2 + 1e-9);
    }
    expectSameAlbum(got, want);

    // The same album again: a new job, every track reused, nothing mastered.
    const again = startLathe(albumArgs(out, true), children);
    expect(await again.exited, again.stderr()).toBe(0);
    const second = JSON.parse(again.lines.join('\n')) as AlbumJson;
    for (const t of second.tracks) expect(t.reused, `${basename(t.input)} ${t.target}`).toBe(true);
    expect(records(out)).toHaveLength(inputs.length * 2);

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
  }, 600_000);

  it('Ctrl-C on lathe album --queue takes the job back when no worker has started it', async () => {
    // No worker is running now: the job waits in the queue until the album is cancelled.
    const out = at('cancelled');
    const album = startLathe(['album', ...inputs, '--targets', 'spotify', '--out', out, '--codec-checks', 'none', '--queue', url], children);
    await album.waitForStderr(/is on the queue as album-/);
    album.child.kill('SIGINT');
    expect(await album.exited, album.stderr()).toBe(130);
    expect(album.stderr()).toMatch(/taken back from the queue before a worker started it/);
    const { Queue } = await import('bullmq');
    const queue = new Queue('lathe-master', { connection: { host: '127.0.0.1', port: Number(new URL(url).port) } });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
      expect(Object.values(counts).reduce((x, y) => x + y, 0), JSON.stringify(counts)).toBe(0);
    } finally {
      await queue.close();
    }
    expect(readdirSync(out).filter((f) => !f.startsWith('.'))).toEqual([]);
  }, 240_000);
});
