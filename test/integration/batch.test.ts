// `lathe batch`: a batch killed mid-way (SIGKILL, a simulated crash) resumes and redoes only what
// was not finished — a half-written deliverable planted under a final name is not taken for done —
// while finished deliverables stay untouched (same inode, same bytes). Every deliverable is checked
// with ffmpeg's meter; the summary lists each one in JSON, CSV and HTML. Ctrl-C cancels cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { latheBin, lathe, scratchDir } from '../helpers/cli.js';
import { ffmpegEbur128 } from '../helpers/ffmpeg.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('batch');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());

const TRACKS = 5;
const SECONDS = 12;
let inputs: string[] = [];
beforeAll(() => {
  inputs = Array.from({ length: TRACKS }, (_, i) => {
    const [l, r] = musicLike(44_100, SECONDS, 40 + i);
    const g = 0.3 + 0.1 * i;
    for (const p of [l, r]) for (let k = 0; k < p.length; k++) p[k]! *= g;
    return writeWav(at(`song${i + 1}.wav`), [l, r], 44_100, 'pcm24');
  });
});

const recordsIn = (out: string) => (existsSync(join(out, '.lathe-batch', 'done')) ? readdirSync(join(out, '.lathe-batch', 'done')).filter((f) => f.endsWith('.json')) : []);

/** Starts `lathe batch` and resolves once `n` deliverables are recorded, with the child. */
function startBatch(args: string[], out: string, n: number) {
  const child = spawn(process.execPath, [latheBin, 'batch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const recorded = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (recordsIn(out).length >= n) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`lathe batch ended before ${n} deliverables were recorded: ${stderr}`));
    });
  });
  return { child, recorded, exited, stderr: () => stderr };
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field.replace(/\r$/, '')), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  return rows;
}

describe('lathe batch', () => {
  it('resumes after a crash, redoing only the unfinished tracks', async () => {
    const out = at('out');
    const args = [...inputs, '--targets', 'spotify', '--out', out, '--codec-checks', 'none', '--jobs', '1'];
    const run = startBatch(args, out, 1);
    await run.recorded;
    run.child.kill('SIGKILL');
    await run.exited;
    const before = recordsIn(out);
    expect(before.length, 'the crash must come before the batch finished').toBeLessThan(TRACKS);
    const finished = before.map((f) => JSON.parse(readFileSync(join(out, '.lathe-batch', 'done', f), 'utf8')) as { input: string; files: { path: string }[] });
    const untouched = new Map(finished.map((r) => [r.input, { path: join(out, r.files[0]!.path), ino: statSync(join(out, r.files[0]!.path)).ino, mtime: statSync(join(out, r.files[0]!.path)).mtimeMs }]));
    // A half-written deliverable under the final name of a track that was not finished, as a
    // crash in a careless writer would leave it: it must not be taken for done.
    const unfinished = inputs.filter((i) => !untouched.has(i));
    const victim = unfinished.at(-1)!;
    const plantedPath = join(out, `${victim.replace(/^.*\//, '').replace(/\.wav$/, '')}.spotify.flac`);
    writeFileSync(plantedPath, Buffer.from('fLaC half a file'));
    // A work folder the killed batch left for a unit this run will not have (its name says which
    // host and process own it: that process is dead, so it goes).
    const stale = join(out, '.lathe-batch', 'work', `00ff-${createHash('sha256').update(hostname()).digest('hex').slice(0, 8)}-${run.child.pid}-beef`);
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'song9.spotify.flac'), 'partial');

    const r = lathe([...['batch'], ...args, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.deliverables).toHaveLength(TRACKS);
    for (const d of result.deliverables) {
      expect(d.status, d.input).toBe(untouched.has(d.input) ? 'reused' : 'done');
      expect(d.pass).toBe(true);
    }
    expect(result.counts.done).toBe(unfinished.length);
    expect(result.counts.reused).toBe(before.length);
    // What was finished before the crash was not made again: the same file, not rewritten.
    for (const [, f] of untouched) {
      expect(statSync(f.path).ino).toBe(f.ino);
      expect(statSync(f.path).mtimeMs).toBe(f.mtime);
    }
    // Every deliverable is whole and on target by ffmpeg's meter (one decimal; its own peaks).
    for (const d of result.deliverables) {
      const ff = ffmpegEbur128(d.file);
      expect(Math.abs(ff.integratedLufs - -14), `${d.file} I ${ff.integratedLufs}`).toBeLessThanOrEqual(0.15);
      expect(ff.truePeakDbtp, d.file).toBeLessThanOrEqual(-1 + 0.2);
    }
    expect(statSync(plantedPath).size).toBeGreaterThan(100_000);
    // Each report names its deliverable where it was delivered, not the work folder it was made in.
    for (const d of result.deliverables) {
      const report = JSON.parse(readFileSync(d.file.replace(/\.flac$/, '.report.json'), 'utf8'));
      expect(report.deliverable.file).toBe(d.file);
      expect(readFileSync(d.file.replace(/\.flac$/, '.report.html'), 'utf8')).not.toContain('.lathe-batch');
    }
    // Nothing partial is left behind: no work folders, no temporary files.
    expect(readdirSync(join(out, '.lathe-batch', 'work'))).toEqual([]);
    expect(readdirSync(out).filter((f) => f.includes('partial') || f.startsWith('.lathe-export'))).toEqual([]);
    // The summary lists every deliverable with its verdict, in all three forms.
    const csv = parseCsv(readFileSync(join(out, 'batch-summary.csv'), 'utf8'));
    expect(csv[0]!.slice(0, 4)).toEqual(['input', 'target', 'status', 'pass']);
    expect(csv.slice(1).map((row) => row[0]).sort()).toEqual([...inputs].sort());
    for (const row of csv.slice(1)) expect(row[3]).toBe('true');
    const html = readFileSync(join(out, 'batch-summary.html'), 'utf8');
    for (const i of inputs) expect(html).toContain(i);
    expect(JSON.parse(readFileSync(join(out, 'batch-summary.json'), 'utf8')).counts.pass).toBe(TRACKS);

    // A third run finds everything done and makes nothing.
    const again = JSON.parse(lathe(['batch', ...args, '--json']).stdout);
    expect(again.counts.reused).toBe(TRACKS);
    expect(again.counts.done).toBe(0);
  }, 240_000);

  it('cancels on Ctrl-C without leaving anything half-made', async () => {
    const out = at('cancel');
    const run = startBatch([...inputs, '--targets', 'spotify', '--out', out, '--codec-checks', 'none', '--jobs', '1'], out, 1);
    await run.recorded;
    run.child.kill('SIGINT');
    const code = await run.exited;
    expect(code, run.stderr()).toBe(130);
    const records = recordsIn(out);
    expect(records.length).toBeLessThan(TRACKS);
    // Exactly the recorded deliverables exist (with their reports); nothing else was written.
    const deliverables = readdirSync(out).filter((f) => f.endsWith('.flac'));
    expect(deliverables).toHaveLength(records.length);
    expect(readdirSync(join(out, '.lathe-batch', 'work'))).toEqual([]);
    expect(readdirSync(out).filter((f) => f.includes('partial'))).toEqual([]);
    const summary = JSON.parse(readFileSync(join(out, 'batch-summary.json'), 'utf8'));
    expect(summary.counts.cancelled).toBe(TRACKS - records.length);
  }, 240_000);
});
