// `lathe batch --queue` and `lathe worker` on a real BullMQ queue: Debian's redis-server on
// 127.0.0.1 (a free port, no persistence), two workers, a batch of synthesised tracks enqueued,
// one worker SIGKILLed in the middle of a job. The other worker takes that job over once its lock
// expires (short locks for the test), the dead worker's partial work is discarded, and every
// deliverable exists exactly once and passes (checked with ffmpeg's meter). Enqueueing the same
// batch again does nothing: the jobs are idempotent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lathe, scratchDir } from '../helpers/cli.js';
import { ffmpegEbur128 } from '../helpers/ffmpeg.js';
import { freePort, redisServer, startLathe, startRedis } from '../helpers/redis.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

if (!redisServer) console.warn('queue.test.ts: skipped — redis-server is not installed (apt-get install redis-server; .ci/run installs it)');

const scratch = scratchDir('queue');
const at = (n: string) => join(scratch.dir, n);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  scratch.cleanup();
});

/** A `lathe` child whose stdout lines are collected; `waitFor` resolves when a line matches. */
const start = (args: string[]) => startLathe(args, children);

const TRACKS = 6;
let inputs: string[] = [];
let url = '';

describe.skipIf(!redisServer)('lathe batch --queue with two lathe workers on Redis', () => {
  beforeAll(async () => {
    inputs = Array.from({ length: TRACKS }, (_, i) => {
      const [l, r] = musicLike(44_100, 12, 70 + i);
      for (const p of [l, r]) for (let k = 0; k < p.length; k++) p[k]! *= 0.35 + 0.05 * i;
      return writeWav(at(`track${i + 1}.wav`), [l, r], 44_100, 'pcm24');
    });
    url = await startRedis(scratch.dir, children);
  }, 240_000);

  it('a killed worker’s job is taken over; every deliverable exists exactly once and passes', async () => {
    const out = at('out');
    // Short locks so the dead worker's job is noticed within seconds.
    const workerArgs = ['worker', '--queue', url, '--lock-ms', '4000', '--stalled-ms', '1500'];
    const a = start(workerArgs);
    const b = start(workerArgs);
    await Promise.all([a.waitFor(/^worker \d+ ready/), b.waitFor(/^worker \d+ ready/)]);
    const batch = start(['batch', ...inputs, '--targets', 'spotify', '--out', out, '--codec-checks', 'none', '--queue', url, '--json']);
    // Kill worker A in the middle of its first job.
    const started = await a.waitFor(/^start unit-/);
    const victimJob = started.split(' ')[1]!;
    // Mid-job: its private work folder (named with its process id) is there.
    const workDir = join(out, '.lathe-batch', 'work');
    const aFolder = () => (existsSync(workDir) ? readdirSync(workDir).filter((d) => d.includes(`-${a.child.pid}-`)) : []);
    for (let i = 0; i < 400 && aFolder().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(a.lines.some((l) => l.startsWith(`done ${victimJob}`)), 'worker A finished before it was killed').toBe(false);
    a.child.kill('SIGKILL');
    await a.exited;
    const partial = aFolder();
    expect(partial, 'the killed worker left its partial work').toHaveLength(1);

    const code = await batch.exited;
    expect(code, batch.stderr()).toBe(0);
    const result = JSON.parse(batch.lines.join('\n'));
    expect(result.deliverables).toHaveLength(TRACKS);
    for (const d of result.deliverables) {
      expect(d.status, `${d.input}: ${d.error}`).toBe('done');
      expect(d.pass).toBe(true);
    }
    // Worker B took the killed job over and finished it.
    expect(b.lines.some((l) => l.startsWith(`start ${victimJob}`))).toBe(true);
    expect(b.lines.some((l) => l.startsWith(`done ${victimJob}`))).toBe(true);
    const victimInput = started.split(' ')[2]!;
    const records = readdirSync(join(out, '.lathe-batch', 'done')).map((f) => JSON.parse(readFileSync(join(out, '.lathe-batch', 'done', f), 'utf8')));
    expect(records).toHaveLength(TRACKS);
    expect(records.find((r) => r.input === victimInput).producedBy).toMatch(new RegExp(`:${b.child.pid}$`));

    // Exactly one deliverable per track, nothing partial, the dead worker's work folder gone.
    const flacs = readdirSync(out).filter((f) => f.endsWith('.flac')).sort();
    expect(flacs).toEqual(inputs.map((i) => i.replace(/^.*\//, '').replace(/\.wav$/, '.spotify.flac')).sort());
    expect(readdirSync(out).filter((f) => f.includes('partial'))).toEqual([]);
    expect(readdirSync(join(out, '.lathe-batch', 'work')), 'the partial work was discarded').toEqual([]);
    for (const d of result.deliverables) {
      const ff = ffmpegEbur128(d.file);
      expect(Math.abs(ff.integratedLufs - -14), `${d.file} I ${ff.integratedLufs}`).toBeLessThanOrEqual(0.15);
      expect(ff.truePeakDbtp, d.file).toBeLessThanOrEqual(-1 + 0.2);
    }

    // The same batch again: everything is already done, nothing is enqueued or made.
    const again = start(['batch', ...inputs, '--targets', 'spotify', '--out', out, '--codec-checks', 'none', '--queue', url, '--json']);
    expect(await again.exited, again.stderr()).toBe(0);
    const second = JSON.parse(again.lines.join('\n'));
    expect(second.counts.reused).toBe(TRACKS);
    expect(second.counts.done).toBe(0);

    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 240_000);

  it('Ctrl-C on lathe batch --queue takes back the jobs no worker has started', async () => {
    // No worker is running now: the jobs wait in the queue until the batch is cancelled.
    const out = at('cancelled');
    const batch = start(['batch', ...inputs.slice(0, 3), '--targets', 'spotify', '--out', out, '--codec-checks', 'none', '--queue', url, '--json']);
    await batch.waitForStderr(/3 jobs on the queue/);
    batch.child.kill('SIGINT');
    expect(await batch.exited, batch.stderr()).toBe(130);
    const result = JSON.parse(batch.lines.join('\n'));
    expect(result.counts.cancelled).toBe(3);
    expect(result.counts.done).toBe(0);
    // The queue holds none of them any more, and nothing was written.
    const { Queue } = await import('bullmq');
    const queue = new Queue('lathe-master', { connection: { host: '127.0.0.1', port: Number(new URL(url).port) } });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused');
      expect(Object.values(counts).reduce((a, b) => a + b, 0), JSON.stringify(counts)).toBe(0);
    } finally {
      await queue.close();
    }
    expect(readdirSync(out).filter((f) => f.endsWith('.flac'))).toEqual([]);
  }, 240_000);
});

describe('a queue that is not there', () => {
  it('is one clear line and exit status 1, not a silent wait', async () => {
    const port = await freePort(); // nothing listens on it now
    for (const args of [['worker', '--queue', `redis://127.0.0.1:${port}`], ['batch', at('nothing.wav'), '--targets', 'spotify', '--out', at('nowhere'), '--queue', `redis://127.0.0.1:${port}`]]) {
      if (args[0] === 'batch') writeWav(at('nothing.wav'), musicLike(44_100, 1, 5), 44_100, 'pcm16');
      const r = lathe(args);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toBe(`lathe: cannot reach Redis at 127.0.0.1:${port} (ECONNREFUSED); is redis-server running there?\n`);
    }
  }, 240_000);
});
