// Faults: the process killed (SIGKILL, at seeded random moments) while it exports a file or saves
// a session, and a worker thread that crashes mid-job. Afterwards there is either the complete,
// valid file or none (an existing file stays as it was), the previous session is intact, and the
// job pool reports the crash, replaces the worker and keeps running.
//
// `npm test` runs a few kills of each; `npm run soak` (LATHE_SOAK=1) runs many.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultChain } from '../../main/core/chain/document.js';
import { newSession } from '../../main/core/session/document.js';
import { loadSession, saveSession } from '../../main/core/session/store.js';
import { latheBin, repoRoot, scratchDir } from '../helpers/cli.js';
import { ffmpeg } from '../helpers/ffmpeg.js';
import { sha256, XorShift } from './corpus.js';
import { cli, expectSuccess } from './harness.js';

const SOAK = process.env.LATHE_SOAK === '1';
const KILLS = { render: SOAK ? 40 : 4, master: SOAK ? 15 : 2, session: SOAK ? 200 : 8 };
// The loops run for minutes in the soak on a loaded machine; each kill itself is bounded.
const LOOP_TIMEOUT = SOAK ? 1_200_000 : 240_000;
const seed = Number(process.env.LATHE_FAULT_SEED ?? 20261206);

const scratch = scratchDir('faults');
chmodSync(scratch.dir, 0o755);
afterAll(() => scratch.cleanup());

/** Starts `lathe ARGS`, SIGKILLs it after `delayMs` (if still running); resolves with how it ended. */
function killAfter(args: string[], delayMs: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [latheBin, ...args], { stdio: 'ignore' });
    let killed = false;
    const timer = setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, delayMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ killed: killed && code === null, code });
    });
  });
}

/** Waits until no ffmpeg started for `dir` still writes into it (the encoder outlives a killed
 *  parent by the time it takes to drain its pipe). */
async function settle(ms = 300): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

const analyze = (file: string) => {
  const r = cli(['analyze', file, '--json']);
  return r.status === 0 ? JSON.parse(r.stdout) : null;
};

describe('SIGKILL during an export', () => {
  const src = join(scratch.dir, 'programme.wav');
  const chainFile = join(scratch.dir, 'chain.json');
  let srcHash = '';
  let frames = 0;
  let fullRunMs = 0;
  let reference = '';

  it('prepares a 40 s programme and a reference render', () => {
    ffmpeg(['-f', 'lavfi', '-i', 'anoisesrc=color=pink:amplitude=0.3:duration=40:sample_rate=48000:seed=7', '-af', 'volume=0.8,aformat=channel_layouts=stereo', '-c:a', 'pcm_s24le', src]);
    const c = defaultChain();
    c.compressor.enabled = true;
    c.saturation = { ...c.saturation, enabled: true, driveDb: 3 };
    c.limiter.inputGainDb = 6;
    writeFileSync(chainFile, JSON.stringify(c));
    srcHash = sha256(src);
    frames = analyze(src).format.frames;
    const dest = join(scratch.dir, 'reference.wav');
    const t0 = Date.now();
    expectSuccess(cli(['render', src, '--chain', chainFile, '--out', dest]));
    fullRunMs = Date.now() - t0;
    reference = sha256(dest);
    // Renders are deterministic, so "complete" can be checked byte for byte.
    expectSuccess(cli(['render', src, '--chain', chainFile, '--out', join(scratch.dir, 'again.wav')]));
    expect(sha256(join(scratch.dir, 'again.wav'))).toBe(reference);
  });

  it(`render: killed at ${KILLS.render} seeded moments, the output is the whole render, the previous file, or absent`, async () => {
    const rng = new XorShift(seed);
    const dir = join(scratch.dir, 'render-kills');
    mkdirSync(dir);
    const previous = join(scratch.dir, 'previous.wav');
    copyFileSync(src, previous);
    const previousHash = sha256(previous);
    const outcomes = { absent: 0, previous: 0, complete: 0, killed: 0 };
    for (let i = 0; i < KILLS.render; i++) {
      const dest = join(dir, `out-${i}.wav`);
      // Half the runs replace an existing file (the previous master must survive the kill).
      const replacing = i % 2 === 1;
      if (replacing) copyFileSync(previous, dest);
      const at = Math.floor(rng.next() * fullRunMs * 1.1);
      const r = await killAfter(['render', src, '--chain', chainFile, '--out', dest], at);
      if (r.killed) outcomes.killed++;
      else expect(r.code).toBe(0);
      await settle();
      if (!existsSync(dest)) {
        expect(replacing, `kill at ${at} ms removed the previous file`).toBe(false);
        outcomes.absent++;
      } else {
        const h = sha256(dest);
        if (h === previousHash && replacing) outcomes.previous++;
        else {
          expect(h, `kill at ${at} ms left a file that is not the whole render`).toBe(reference);
          outcomes.complete++;
        }
      }
    }
    // Only hidden temporary files may remain (never under the deliverable's name).
    for (const name of readdirSync(dir)) expect(name).toMatch(/^out-\d+\.wav$|^\.out-\d+\.wav\.[0-9a-f]+\.partial$/);
    expect(sha256(src)).toBe(srcHash);
    console.log(`render kills: ${JSON.stringify(outcomes)} over ${KILLS.render} runs (full run ${fullRunMs} ms)`);
    expect(outcomes.killed).toBeGreaterThan(0);
  }, LOOP_TIMEOUT);

  it(`master: killed at ${KILLS.master} seeded moments, each deliverable is whole or absent`, async () => {
    const rng = new XorShift(seed ^ 0x5a5a);
    const src = join(scratch.dir, 'song.wav');
    ffmpeg(['-f', 'lavfi', '-i', 'anoisesrc=color=pink:amplitude=0.3:duration=12:sample_rate=48000:seed=9', '-ac', '2', '-c:a', 'pcm_s24le', src]);
    const srcHash = sha256(src);
    const frames = 12 * 48_000;
    const t0 = Date.now();
    const full = join(scratch.dir, 'master-full');
    expectSuccess(cli(['master', src, '--chain', chainFile, '--targets', 'cd,spotify', '--codec-checks', 'none', '--out', full]), [0, 3]);
    const masterMs = Date.now() - t0;
    let killed = 0;
    for (let i = 0; i < KILLS.master; i++) {
      const dir = join(scratch.dir, `master-kill-${i}`);
      const at = Math.floor(masterMs * (0.2 + 0.8 * rng.next()));
      const r = await killAfter(['master', src, '--chain', chainFile, '--targets', 'cd,spotify', '--codec-checks', 'none', '--out', dir], at);
      if (r.killed) killed++;
      await settle();
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        const file = join(dir, name);
        if (/\.partial$/.test(name)) continue;
        if (/\.(wav|flac)$/.test(name)) {
          const j = analyze(file);
          expect(j, `${name} after a kill at ${at} ms is not a readable file`).not.toBeNull();
          expect(Math.abs(j.format.durationSeconds - frames / 48_000), `${name} is cut short`).toBeLessThan(0.001);
        } else if (name.endsWith('.json')) {
          expect(() => JSON.parse(readFileSync(file, 'utf8')), `${name} is not whole JSON`).not.toThrow();
        } else {
          expect(name).toMatch(/\.report\.html$/);
          expect(readFileSync(file, 'utf8').trimEnd()).toMatch(/<\/html>$/);
        }
      }
    }
    expect(sha256(src)).toBe(srcHash);
    console.log(`master kills: ${killed} of ${KILLS.master} runs killed mid-way (full run ${masterMs} ms)`);
  }, LOOP_TIMEOUT);
});

describe('SIGKILL during a session save', () => {
  it(`killed at ${KILLS.session} seeded moments: the session file is always a whole session, the previous or the new`, async () => {
    const dir = join(scratch.dir, 'sessions');
    mkdirSync(dir);
    const file = join(dir, 'album.lathe');
    // A session with a long undo history, so a save takes long enough to be interrupted.
    const big = (gain: number) => {
      const doc = newSession(`gain ${gain}`);
      const c = defaultChain();
      c.limiter.inputGainDb = gain;
      doc.chain = c;
      doc.history.undo = Array.from({ length: 400 }, (_, i) => ({ ...c, name: `step ${i} ${'x'.repeat(200)}` }));
      return doc;
    };
    saveSession(file, big(0));
    const store = new URL('../../dist/main/core/session/store.js', import.meta.url).href;
    const documentModule = new URL('../../dist/main/core/session/document.js', import.meta.url).href;
    const chainModule = new URL('../../dist/main/core/chain/document.js', import.meta.url).href;
    // A child that saves sessions over the same file as fast as it can, each with a new gain.
    const script = `
      import { saveSession } from ${JSON.stringify(store)};
      import { newSession } from ${JSON.stringify(documentModule)};
      import { defaultChain } from ${JSON.stringify(chainModule)};
      const file = process.argv[1];
      for (let gain = 1; ; gain = (gain % 24) + 1) {
        const doc = newSession('gain ' + gain);
        const c = defaultChain();
        c.limiter.inputGainDb = gain;
        doc.chain = c;
        doc.history.undo = Array.from({ length: 400 }, (_, i) => ({ ...c, name: 'step ' + i + ' ' + 'x'.repeat(200) }));
        saveSession(file, doc);
        if (gain === 1) process.stdout.write('saving\\n');
      }`;
    const rng = new XorShift(seed ^ 0x1234);
    const seen = new Set<string>();
    for (let i = 0; i < KILLS.session; i++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'], cwd: repoRoot });
      // Kill only once it is saving (start-up takes a variable time), then at a random moment.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, Math.floor(rng.next() * 60)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const doc = loadSession(file);
      expect(doc.name).toMatch(/^gain \d+$/);
      expect(doc.chain.limiter.inputGainDb).toBe(Number(doc.name.slice(5)));
      expect(doc.history.undo).toHaveLength(400);
      seen.add(doc.name);
    }
    // The temporary files of interrupted saves are hidden and never the session's own name.
    for (const name of readdirSync(dir)) expect(name).toMatch(/^album\.lathe$|^\.album\.lathe\.[0-9a-f]+\.partial$/);
    console.log(`session kills: ${KILLS.session}, ${seen.size} distinct saved states seen, ${readdirSync(dir).length - 1} stray temporary files`);
    rmSync(dir, { recursive: true });
  }, LOOP_TIMEOUT);
});

describe('what interrupted writes leave behind', () => {
  it('the next successful save or export of the same file sweeps stale temporaries, never fresh ones or others', () => {
    const dir = join(scratch.dir, 'sweep');
    mkdirSync(dir);
    const file = join(dir, 'album.lathe');
    const stale = join(dir, '.album.lathe.0123456789ab.partial');
    const fresh = join(dir, '.album.lathe.ba9876543210.partial');
    const foreign = join(dir, '.other.lathe.0123456789ab.partial');
    const lookalike = join(dir, '.album.lathe.backup.partial');
    for (const f of [stale, fresh, foreign, lookalike]) writeFileSync(f, 'half a session');
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const f of [stale, foreign, lookalike]) utimesSync(f, hourAgo, hourAgo);
    saveSession(file, newSession('swept'));
    expect(readdirSync(dir).sort()).toEqual(['.album.lathe.backup.partial', '.album.lathe.ba9876543210.partial', '.other.lathe.0123456789ab.partial', 'album.lathe'].sort());
    // A render's deliverable sweeps the same way.
    const out = join(dir, 'song.wav');
    const staleRender = join(dir, '.song.wav.00000000abcd.partial');
    writeFileSync(staleRender, 'half a render');
    utimesSync(staleRender, hourAgo, hourAgo);
    const src = join(dir, 'src.wav');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=48000', '-ac', '2', src]);
    expectSuccess(cli(['render', src, '--out', out]));
    expect(existsSync(staleRender)).toBe(false);
    expect(existsSync(out)).toBe(true);
  });
});

describe('a worker thread that crashes mid-job', () => {
  it('the job is reported failed, the worker replaced, and the pool keeps running', async () => {
    const { JobPool } = await import('../../main/core/jobs/pool.js');
    const src = join(scratch.dir, 'crash.wav');
    ffmpeg(['-f', 'lavfi', '-i', 'anoisesrc=color=pink:amplitude=0.3:duration=60:sample_rate=48000:seed=3', '-ac', '2', '-c:a', 'pcm_s16le', src]);
    const pool = new JobPool(2);
    try {
      await pool.ready();
      const slots = (pool as unknown as { slots: { worker: import('node:worker_threads').Worker; job: unknown }[] }).slots;
      const victimJob = pool.run('analysis', { file: src, includeSpectrogram: false });
      // Wait until it runs, then make its thread throw outside any promise (an uncaught
      // exception: a malformed message whose cancel flag is not shared memory).
      const started = Date.now();
      while (!slots.some((s) => s.job) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 10));
      const victim = slots.find((s) => s.job)!;
      const victimWorker = victim.worker;
      victimWorker.postMessage({ type: 'run', jobId: 'crash', kind: 'analysis', params: {}, cancel: null });
      const error = await victimJob.result.then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(error, 'the job should fail, not hang or succeed').not.toBeNull();
      expect(error!.message).toMatch(/the job's worker stopped/);
      expect(slots).toHaveLength(2);
      expect(slots.map((s) => s.worker)).not.toContain(victimWorker);
      // The pool goes on: two jobs at once on the replacement and the surviving worker.
      const [a, b] = await Promise.all([pool.run('analysis', { file: src, includeSpectrogram: false }).result, pool.run('analysis', { file: src, includeSpectrogram: false }).result]);
      expect(a.loudness.integratedLufs).toBeCloseTo(b.loudness.integratedLufs!, 6);
      expect(a.format.durationSeconds).toBeCloseTo(60, 2);

      // A worker killed from outside (as the OS would end one) is replaced the same way.
      const second = pool.run('analysis', { file: src, includeSpectrogram: false });
      while (!slots.some((s) => s.job) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 10));
      await slots.find((s) => s.job)!.worker.terminate();
      await expect(second.result).rejects.toThrow(/the job's worker stopped/);
      const after = await pool.run('analysis', { file: src, includeSpectrogram: false }).result;
      expect(after.loudness.integratedLufs).toBeCloseTo(a.loudness.integratedLufs!, 6);
    } finally {
      await pool.close();
    }
  });
});

// The ffmpeg processes a killed CLI leaves behind finish on their own (their input pipe closes).
afterAll(() => {
  spawnSync('sleep', ['0.2']);
});
