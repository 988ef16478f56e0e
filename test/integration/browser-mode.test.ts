// Browser mode (`lathe serve`): the contract over a WebSocket on 127.0.0.1. A client without the
// token, with a foreign Origin or through another Host name is refused; a client with the token
// uploads a generated file, analyses it (with progress events), renders a preview window,
// cancels a long render (no file left), and the session survives a save, an upload and a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { defaultChain } from '../../main/core/chain/document.js';
import { scratchDir } from '../helpers/cli.js';
import { musicLike } from '../helpers/signals.js';
import { nextEvent, startTestStudio, upload, type TestStudio } from '../helpers/studio.js';
import { wavBytes } from '../helpers/wav.js';

const scratch = scratchDir('browser');
let t: TestStudio;
const fs = 44_100;
const shortWav = wavBytes(musicLike(fs, 12, 3), fs, 'pcm24');
const longWav = wavBytes(musicLike(fs, 150, 4), fs, 'pcm16');

beforeAll(async () => {
  t = await startTestStudio(join(scratch.dir, 'a'));
});
afterAll(async () => {
  await t?.close();
  scratch.cleanup();
});

/** The status a raw HTTP request gets (fetch would refuse to set Host itself). */
function status(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.server.port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a WebSocket upgrade is accepted; the refusal's status otherwise. */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}${path}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

describe('browser mode: who may connect', () => {
  it('serves the page only with the token, and only to its own Host', async () => {
    expect(t.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
    expect(await status('/')).toBe(401);
    expect(await status('/?token=wrong')).toBe(401);
    expect(await status(`/?token=${t.server.token}`)).toBe(200);
    // DNS rebinding: a name that resolves here but is not ours.
    expect(await status(`/?token=${t.server.token}`, { host: `evil.example:${t.server.port}` })).toBe(421);
    expect(await status(`/?token=${t.server.token}`, { origin: 'http://evil.example' })).toBe(403);
    const page = await fetch(t.server.url);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(await page.text()).toMatch(/has not been built/);
    // The cookie the page sets lets its own assets and socket in without the token in the URL.
    expect(page.headers.get('set-cookie')).toMatch(/lathe_token=.*HttpOnly; SameSite=Strict/);
  });

  it('refuses a WebSocket without the token or from another origin', async () => {
    expect(await upgrade('/ws')).toBe(401);
    expect(await upgrade('/ws?token=nope')).toBe(401);
    expect(await upgrade(`/ws?token=${t.server.token}`, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(`/ws?token=${t.server.token}`, { origin: `http://127.0.0.1:${t.server.port}` })).toBe('open');
    expect(await upgrade('/ws', { cookie: `lathe_token=${t.server.token}`, origin: `http://localhost:${t.server.port}` })).toBe('open');
  });

  it('refuses an upload without the token or from another origin, and writes nothing', async () => {
    const before = readdirSync(join(scratch.dir, 'a', 'work', 'uploads')).length;
    const r1 = await fetch(`http://127.0.0.1:${t.server.port}/upload?name=x.wav`, { method: 'POST', body: shortWav });
    const r2 = await fetch(`http://127.0.0.1:${t.server.port}/upload?token=${t.server.token}&name=x.wav`, { method: 'POST', body: shortWav, headers: { origin: 'http://evil.example' } });
    expect([r1.status, r2.status]).toEqual([401, 403]);
    expect(readdirSync(join(scratch.dir, 'a', 'work', 'uploads')).length).toBe(before);
  });

  it('answers unknown channels, bad payloads and malformed messages with {code, message}', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/ws?token=${t.server.token}`);
    await new Promise((r) => ws.on('open', r));
    const replies: unknown[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(String(d))));
    ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'fs:readFile', payload: { path: '/etc/passwd' } }));
    ws.send(JSON.stringify({ type: 'invoke', id: 2, channel: 'track:open', payload: { fileId: '../../etc/passwd' } }));
    ws.send(JSON.stringify({ type: 'invoke', id: 3, channel: 'chain:set', payload: { chain: { ...defaultChain(), limiter: { ...defaultChain().limiter, ceilingDbtp: 3 } } } }));
    ws.send(JSON.stringify({ type: 'invoke', id: 4, channel: 'track:open', payload: { fileId: 'file-0000' } }));
    ws.send('not json');
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    const byId = (id: number) => replies.find((m) => (m as { id?: number }).id === id) as { ok: boolean; error: { code: string; message: string } };
    expect(byId(1)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(byId(2)).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD' } });
    expect(byId(3).error).toMatchObject({ code: 'BAD_PAYLOAD' });
    expect(byId(3).error.message).toMatch(/limiter\.ceilingDbtp/);
    expect(byId(4)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(replies.some((m) => (m as { type: string }).type === 'error')).toBe(true);
  });
});

describe('browser mode: the studio through the contract', () => {
  let trackId = '';

  it('uploads and analyses a generated file, with progress events and analysis:ready', async () => {
    const progress: number[] = [];
    const off = t.api.on('job:progress', (p) => {
      if (p.kind === 'analysis') progress.push(p.fraction);
    });
    const added = nextEvent(t.api, 'files:added');
    const { fileId } = await upload(t.server, 'mix.wav', 'mix.wav', shortWav);
    expect((await added)[0]!.fileId).toBe(fileId);
    trackId = fileId;
    const ready = nextEvent(t.api, 'analysis:ready', (p) => p.fileId === fileId);
    const { track, analysisJobId } = await t.api['track:open']({ fileId });
    expect(track).toMatchObject({ name: 'mix.wav', sampleRate: fs, channels: 2 });
    const done = nextEvent(t.api, 'job:done', (p) => p.jobId === analysisJobId);
    const { analysis } = await ready;
    await done;
    off();
    expect(analysis.format.frames).toBe(12 * fs);
    expect(analysis.loudness.integratedLufs).toBeGreaterThan(-40);
    expect(analysis.spectrogram?.columns).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect((await t.api['analysis:get']({ fileId }))?.loudness.integratedLufs).toBe(analysis.loudness.integratedLufs);
  });

  it('matches the track to an uploaded reference in a worker: an ordinary chain to apply, and undo', async () => {
    const [l, r] = musicLike(fs, 12, 8);
    for (let i = 0; i < l.length; i++) {
      l[i]! *= 1.6;
      r[i]! *= 1.6;
    }
    const { fileId } = await upload(t.server, 'reference.wav', 'reference.wav', wavBytes([l, r], fs, 'pcm24'));
    const before = (await t.api['chain:get']({})).chain;
    const kinds: string[] = [];
    const off = t.api.on('job:progress', (p) => kinds.push(p.kind));
    const { chain, summary } = await t.api['match:reference']({ referenceFileId: fileId });
    off();
    expect(kinds).toContain('match');
    expect(chain.schema).toBe('lathe.chain');
    expect(summary).toMatch(/loudness to -?\d+\.\d LUFS/);
    const applied = await t.api['chain:set']({ chain });
    expect(applied.chain).toEqual(chain);
    expect((await t.api['chain:undo']({})).chain).toEqual(before);
    await expect(t.api['match:reference']({ referenceFileId: 'nope' })).rejects.toMatchObject({ code: expect.any(String) });
  });

  it('renders a preview window around the playhead, then the whole track, served with the token', async () => {
    const windowReady = nextEvent(t.api, 'preview:ready', (p) => p.region === 'window');
    const fullReady = nextEvent(t.api, 'preview:ready', (p) => p.region === 'full');
    const { generation } = await t.api['preview:render']({ playheadSeconds: 6, windowSeconds: 4 });
    const w = await windowReady;
    expect(w.generation).toBe(generation);
    expect(w.startSeconds).toBeCloseTo(4, 3);
    expect(w.endSeconds).toBeCloseTo(8, 3);
    const refused = await fetch(`http://127.0.0.1:${t.server.port}${w.url}`);
    expect(refused.status).toBe(401);
    const wav = Buffer.from(await (await fetch(`http://127.0.0.1:${t.server.port}${w.url}?token=${t.server.token}`)).arrayBuffer());
    expect(wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(wav.length).toBe(58 + 4 * fs * 2 * 4);
    const ranged = await fetch(`http://127.0.0.1:${t.server.port}${w.url}?token=${t.server.token}`, { headers: { range: 'bytes=0-57' } });
    expect(ranged.status).toBe(206);
    const full = await fullReady;
    expect(full.endSeconds).toBeCloseTo(12, 3);
  });

  it('a chain edit starts a new preview and cancels the older one; undo and redo walk the edits', async () => {
    const start = await t.api['chain:get']({});
    const louder = structuredClone(start.chain);
    louder.limiter.inputGainDb = 3;
    const windowAfterEdit = nextEvent(t.api, 'preview:ready', (p) => p.region === 'window');
    const state = await t.api['chain:set']({ chain: louder });
    expect(state.canUndo).toBe(true);
    const w = await windowAfterEdit;
    expect(w.url).toMatch(/^\/media\//);
    const undone = await t.api['chain:undo']({});
    expect(undone.chain).toEqual(start.chain);
    expect(undone.canRedo).toBe(true);
    const redone = await t.api['chain:redo']({});
    expect(redone.chain.limiter.inputGainDb).toBe(3);
  });

  it('cancels a long render: the job fails as CANCELLED and leaves no file', async () => {
    const { fileId } = await upload(t.server, 'long.wav', 'long.wav', longWav);
    await t.api['track:open']({ fileId });
    const outputs = join(scratch.dir, 'a', 'work', 'outputs');
    const { jobId } = await t.api['render:start']({ container: 'wav', bits: 24 });
    const failed = nextEvent(t.api, 'job:failed', (p) => p.jobId === jobId);
    await nextEvent(t.api, 'job:progress', (p) => p.jobId === jobId && p.fraction > 0);
    expect(await t.api['job:cancel']({ jobId })).toEqual({ cancelled: true });
    expect(await failed).toMatchObject({ code: 'CANCELLED', kind: 'render' });
    const left = readdirSync(outputs, { recursive: true }).filter((f) => String(f).includes('.'));
    expect(left).toEqual([]);
    expect((await t.api['job:list']({})).find((j) => j.jobId === jobId)?.state).toBe('cancelled');
    await t.api['track:open']({ fileId: trackId });
  });

  it('a finished render is offered for download', async () => {
    const { jobId } = await t.api['render:start']({ container: 'flac', bits: 16 });
    const done = await nextEvent(t.api, 'job:done', (p) => p.jobId === jobId);
    expect(done.outputs[0]!.name).toBe('mix.master.flac');
    expect(done.outputs[0]!.path).toBeNull();
    const r = await fetch(`http://127.0.0.1:${t.server.port}${done.outputs[0]!.url}?token=${t.server.token}`);
    expect(r.headers.get('content-type')).toBe('audio/flac');
    expect(Buffer.from(await r.arrayBuffer()).subarray(0, 4).toString('latin1')).toBe('fLaC');
  });

  it('saves the session for download and opens it again from an upload', async () => {
    await t.api['snapshot:take']({ name: 'louder' });
    const { download, session } = await t.api['session:save']({ name: 'my master' });
    expect(session.dirty).toBe(false);
    const text = await (await fetch(`http://127.0.0.1:${t.server.port}${download!.url}?token=${t.server.token}`)).text();
    const saved = JSON.parse(text);
    expect(saved).toMatchObject({ schema: 'lathe.session', version: 2, name: 'my master' });
    await t.api['session:new']({});
    expect((await t.api['chain:get']({})).chain.limiter.inputGainDb).toBe(0);
    const { fileId } = await upload(t.server, 'my master.lathe', 'my master.lathe', Buffer.from(text));
    const reopened = await t.api['session:open']({ fileId });
    expect(reopened.name).toBe('my master');
    expect(reopened.snapshots.map((s) => s.name)).toEqual(['louder']);
    // Browser mode never reads a path named inside a session: the track must be uploaded again.
    expect(reopened.track).toBeNull();
    expect(reopened.missingTrack).toBe('mix.wav');
    const chain = await t.api['chain:get']({});
    expect(chain.chain.limiter.inputGainDb).toBe(3);
    expect(chain.canUndo).toBe(true);
  });
});

describe('browser mode: crash recovery', () => {
  it('an autosave left by a run that did not close cleanly is offered and recovered', async () => {
    const autosaveDir = join(scratch.dir, 'shared-autosave');
    const first = await startTestStudio(join(scratch.dir, 'b'), { autosaveDir, workers: 1 });
    const chain = defaultChain();
    chain.eq.peaks[1] = { enabled: true, freqHz: 1000, q: 1, gainDb: 2.5 };
    await first.api['chain:set']({ chain });
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(first.studio.autosaveFile)).toBe(true);
    expect(JSON.parse(readFileSync(first.studio.autosaveFile, 'utf8')).chain.eq.peaks[1].gainDb).toBe(2.5);
    await first.close(false); // as a crash: the autosave stays

    const second = await startTestStudio(join(scratch.dir, 'c'), { autosaveDir, workers: 1 });
    try {
      expect(await second.api['session:recoverable']({})).toMatchObject({ name: 'Untitled' });
      const recovered = await second.api['session:recover']({});
      expect(recovered.dirty).toBe(true);
      expect((await second.api['chain:get']({})).chain.eq.peaks[1].gainDb).toBe(2.5);
      expect(await second.api['session:recoverable']({})).toBeNull();
    } finally {
      await second.close(true);
    }
    const third = await startTestStudio(join(scratch.dir, 'd'), { autosaveDir, workers: 1 });
    try {
      expect(await third.api['session:recoverable']({})).toBeNull();
    } finally {
      await third.close(true);
    }
  });
});
