// Hostile payloads against the contract's validators and browser mode's server: wrong types,
// huge arrays and strings, deep nesting, path traversal and prototype-pollution keys are refused
// with {code, message}; nothing leaks onto Object.prototype; the server serves nothing outside
// its renderer folder, writes uploads only into its own folder, never reads a path a session
// names, listens on loopback only and stays up. (The who-may-connect basics are in
// test/integration/browser-mode.test.ts; the Electron window rules in test/unit/electron-main.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { constants, existsSync, mkdirSync, openSync, closeSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { defaultChain } from '../../main/core/chain/document.js';
import { newSession } from '../../main/core/session/document.js';
import { JobPool } from '../../main/core/jobs/pool.js';
import { startServer, type RunningServer } from '../../main/server/http.js';
import { Studio } from '../../main/server/studio.js';
import { ContractError, invoke, invokeChannels, send, sendChannels } from '../../preload/contract.js';
import { scratchDir } from '../helpers/cli.js';
import { XorShift } from './corpus.js';
import { cli } from './harness.js';

const prototypeIsClean = () => {
  const probe = {} as Record<string, unknown>;
  for (const key of ['polluted', 'isAdmin', 'sampleRate', 'channels', 'fileId', 'path']) expect(probe[key], `Object.prototype.${key}`).toBeUndefined();
};

/** Valid requests for the channels that take fields, to graft hostile keys onto. */
const VALID: Record<string, unknown> = {
  'file:choose': { purpose: 'track' },
  'track:open': { fileId: 'file-1' },
  'reference:add': { fileId: 'file-1' },
  'reference:remove': { fileId: 'file-1' },
  'analysis:get': { fileId: 'file-1' },
  'chain:set': { chain: defaultChain() },
  'snapshot:take': { name: 'A' },
  'snapshot:restore': { index: 0 },
  'match:reference': { referenceFileId: 'file-1' },
  'preview:render': { playheadSeconds: 0 },
  'render:start': { container: 'wav', bits: 24 },
  'export:settings': { targets: ['spotify'], profile: null, codecChecks: 'full', maxLimitingDb: 6 },
  'job:cancel': { jobId: 'job-1' },
  'session:open': { fileId: 'file-1' },
};
const validFor = (channel: string) => structuredClone(VALID[channel] ?? {});

describe('contract validators against hostile payloads', () => {
  it('the valid requests below are valid (so the refusals are about the hostility)', () => {
    for (const channel of Object.keys(VALID)) expect(() => invoke[channel as keyof typeof invoke].request.parse(validFor(channel), channel), channel).not.toThrow();
  });

  it('prototype-pollution keys are refused as unknown fields on every channel, and pollute nothing', () => {
    const hostileKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
    for (const channel of [...invokeChannels, ...sendChannels]) {
      const validator = channel in invoke ? invoke[channel as keyof typeof invoke].request : send[channel as keyof typeof send];
      for (const key of hostileKeys) {
        // As JSON carries it: "__proto__" an own key (JSON.parse never sets the prototype).
        const base = JSON.stringify(validFor(channel));
        const text = base === '{}' ? `{"${key}": {"polluted": true, "isAdmin": true}}` : `${base.slice(0, -1)}, "${key}": {"polluted": true, "isAdmin": true}}`;
        const payload = JSON.parse(text);
        let error: unknown;
        try {
          validator.parse(payload, channel);
        } catch (e) {
          error = e;
        }
        expect(error, `${channel} accepted a "${key}" key`).toBeInstanceOf(ContractError);
        expect((error as ContractError).path).toBe(`${channel}.${key}`);
        prototypeIsClean();
      }
    }
  });

  it('nested prototype keys inside a chain are dropped, never merged', () => {
    const text = JSON.stringify({ chain: defaultChain() }).replace('"limiter":{', '"limiter":{"__proto__":{"polluted":true},"constructor":{"prototype":{"isAdmin":true}},');
    const parsed = invoke['chain:set'].request.parse(JSON.parse(text), 'chain:set');
    expect(Object.keys(parsed.chain.limiter).sort()).toEqual(Object.keys(defaultChain().limiter).sort());
    expect(Object.getPrototypeOf(parsed.chain.limiter)).toBe(Object.prototype);
    prototypeIsClean();
  });

  it('wrong types, huge arrays and strings, traversal ids and deep nesting: ContractError, quickly, every time', () => {
    const rng = new XorShift(0x5ec);
    const huge = Array.from({ length: 100_000 }, () => 'spotify');
    let deep: unknown = {};
    for (let i = 0; i < 20_000; i++) deep = { chain: deep };
    const hostile: unknown[] = [undefined, null, 0, -1, NaN, Infinity, -0, 1e308, '1', '', 'x'.repeat(1_000_000), true, [], [{}], huge, deep, () => 1, new Date(0), new Uint8Array(16), '../../etc/passwd', '/etc/passwd', '..', 'C:\\Windows\\system32', '%2e%2e%2f', 'file-1\u0000', 'file-1/../../x', { $gt: '' }];
    for (const channel of invokeChannels) {
      const validator = invoke[channel].request;
      const valid = validFor(channel) as Record<string, unknown>;
      const keys = Object.keys(valid);
      for (let t = 0; t < 25; t++) {
        const value = rng.pick(hostile);
        // Either the whole payload is hostile, or one field of a valid one is.
        const payload = keys.length && rng.next() < 0.8 ? { ...valid, [rng.pick(keys)]: value } : value;
        let result: unknown;
        try {
          result = validator.parse(payload, channel);
        } catch (e) {
          expect(e, `${channel}: ${(e as Error).message}`).toBeInstanceOf(ContractError);
          expect((e as Error).message.length).toBeLessThan(300);
          continue;
        }
        // Accepted: only because the hostile value was valid there (e.g. 0 as an index).
        expect(result).toBeTypeOf('object');
      }
      prototypeIsClean();
    }
    // Ids never carry a path.
    for (const id of ['../../etc/passwd', '/etc/passwd', '..', 'a/b', 'a\\b', '.', 'x'.repeat(65), '', 'file 1', 'file-1\n']) {
      expect(() => invoke['track:open'].request.parse({ fileId: id }, 'track:open'), JSON.stringify(id)).toThrow(ContractError);
    }
    expect(() => invoke['export:settings'].request.parse({ ...(VALID['export:settings'] as object), targets: huge }, 'export:settings')).toThrow(/at most 32 allowed/);
    expect(() => invoke['snapshot:take'].request.parse({ name: 'x'.repeat(10_000_000) }, 'snapshot:take')).toThrow(/1…120 characters/);
  });
});

describe('browser mode against hostile requests', () => {
  const scratch = scratchDir('security');
  const rendererDir = join(scratch.dir, 'renderer');
  let server: RunningServer;
  let studio: Studio;
  let pool: JobPool;
  const base = () => `http://127.0.0.1:${server.port}`;

  beforeAll(async () => {
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Lathe</title>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(scratch.dir, 'secret.txt'), 'the client master password');
    pool = new JobPool(1);
    studio = new Studio({ mode: 'browser', pool, workDir: join(scratch.dir, 'work'), autosaveDir: join(scratch.dir, 'autosave'), autosaveDelayMs: 50, appVersion: 'test', urlFor: (id, name) => `/media/${id}/${encodeURIComponent(name)}` });
    server = await startServer({ studio, port: 0, rendererDir, token: 'tok_0123456789abcdefghijklmnopqrstuv' });
  });
  afterAll(async () => {
    await server?.close();
    await studio?.close({ clean: true });
    scratch.cleanup();
  });

  /** A raw request (paths sent exactly as written, no URL normalisation). */
  function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, method, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  const token = () => `token=${server.token}`;

  it('listens on loopback only', async () => {
    expect(server.url.startsWith('http://127.0.0.1:')).toBe(true);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!external) return; // no other interface on this machine: nothing else to try
    const reached = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: external.address, port: server.port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    expect(reached, `reachable on ${external.address}`).toBe(false);
  });

  it('lathe serve has no way to bind elsewhere', () => {
    const r = cli(['serve', '--host', '0.0.0.0', '--port', '0'], { timeoutMs: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--host'/);
  });

  it('tokens must match exactly; foreign and opaque origins and other Host names are refused', async () => {
    const t = server.token;
    for (const q of ['', 'token=', `token=${t.toUpperCase()}`, `token=${t}x`, `token=${t.slice(0, -1)}`, `token=wrong&token=${t}`, `token=${encodeURIComponent(' ' + t)}`]) {
      expect((await raw(`/?${q}`)).status, q).toBe(401);
    }
    expect((await raw('/', { cookie: `lathe_token=${t}x` })).status).toBe(401);
    for (const origin of ['null', 'http://evil.example', `http://127.0.0.1:${server.port + 1}`, `http://localhost.evil.example:${server.port}`, `https://127.0.0.1:${server.port}`, 'file://']) {
      expect((await raw(`/?${token()}`, { origin })).status, origin).toBe(403);
    }
    for (const host of ['127.0.0.1', `[::1]:${server.port}`, `evil.example:${server.port}`, `127.0.0.1:${server.port}.evil.example`]) {
      expect((await raw(`/?${token()}`, { host })).status, host).toBe(421);
    }
    expect((await raw(`/?${token()}`)).status).toBe(200);
  });

  it('serves nothing outside the renderer folder, however the path is spelled', async () => {
    expect((await raw(`/assets/app.js?${token()}`)).status).toBe(200);
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '//etc/passwd', '/%2fetc%2fpasswd', '/..\\secret.txt', '/%5c..%5csecret.txt', '/index.html%00.js', '/media/..%2f..%2fsecret.txt', '/media/../secret.txt', `/media/${'a'.repeat(5000)}`, '/%E0%A4%A', '/%']) {
      const r = await raw(`${path}?${token()}`);
      expect([400, 404], `${path} → ${r.status}`).toContain(r.status);
      expect(r.body).not.toMatch(/password|root:/);
    }
  });

  it('an upload, whatever it is called, lands in the upload folder and nowhere else', async () => {
    const before = readdirSync(scratch.dir).sort();
    for (const name of ['../../escape.txt', '/tmp/escape.txt', '..', '.', 'a/../../escape.txt', '..\\..\\escape.txt', '%2e%2e%2fescape.txt', 'x'.repeat(1000), '\u0000nul.txt', '.lathe']) {
      const r = await fetch(`${base()}/upload?${token()}&name=${encodeURIComponent(name)}`, { method: 'POST', body: new Uint8Array(16) });
      expect([200, 400, 500], `${name} → ${r.status}`).toContain(r.status);
    }
    expect(readdirSync(scratch.dir).sort()).toEqual(before);
    expect(existsSync('/tmp/escape.txt')).toBe(false);
    // Every file written is inside work/uploads/<random>/.
    const uploads = join(scratch.dir, 'work', 'uploads');
    for (const dir of readdirSync(uploads)) for (const f of readdirSync(join(uploads, dir))) expect(f).not.toMatch(/[\\/]/);
    expect((await raw(`/?${token()}`)).status).toBe(200);
  });

  it('a session that names paths is opened without reading them (a FIFO would block any reader)', async () => {
    const fifo = join(scratch.dir, 'trap.wav');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return;
    const doc = newSession('trap');
    doc.track = { path: fifo, name: 'trap.wav' };
    doc.references = [{ path: '/etc/passwd', name: 'passwd' }];
    const up = await fetch(`${base()}/upload?${token()}&name=trap.lathe`, { method: 'POST', body: JSON.stringify(doc) });
    const { fileId } = (await up.json()) as { fileId: string };
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?${token()}`);
    await new Promise((r) => ws.on('open', r));
    const reply = await new Promise<{ ok: boolean; value: { missingTrack: string | null; track: unknown; references: unknown[] } }>((resolve) => {
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.id === 1) resolve(m);
      });
      ws.send(JSON.stringify({ type: 'invoke', id: 1, channel: 'session:open', payload: { fileId } }));
    });
    ws.close();
    expect(reply.ok).toBe(true);
    expect(reply.value.missingTrack).toBe('trap.wav');
    expect(reply.value.references).toEqual([]);
    // Nobody holds the FIFO open for reading: opening it for writing without blocking fails.
    let opened = false;
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      opened = true;
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENXIO');
    }
    expect(opened).toBe(false);
  });

  it('the socket survives hostile messages: deep nesting, oversize frames, binary, floods, pollution keys', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?${token()}`);
    ws.on('error', () => {}); // the oversize frame below ends this socket with an error here
    await new Promise((r) => ws.on('open', r));
    const replies: { id?: number; type: string; ok?: boolean; error?: { code: string; message: string } }[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(String(d))));
    ws.send('['.repeat(500_000) + ']'.repeat(500_000));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    ws.send(JSON.stringify({ type: 'invoke', id: 7, channel: 'chain:set', payload: JSON.parse(`{"chain": ${JSON.stringify(defaultChain())}, "__proto__": {"polluted": true}}`) }));
    ws.send(`{"type": "invoke", "id": 8, "channel": "__proto__", "payload": {}}`);
    ws.send(`{"type": "invoke", "id": 9, "channel": "constructor", "payload": {}}`);
    ws.send(`{"type": "send", "channel": "toString", "payload": {}}`);
    ws.send(`{"type": "invoke", "id": {"__proto__": 1}, "channel": "app:info", "payload": {}}`);
    for (let i = 100; i < 600; i++) ws.send(JSON.stringify({ type: 'invoke', id: i, channel: 'targets:list', payload: {} }));
    const deadline = Date.now() + 30_000;
    while (replies.filter((r) => r.id !== undefined && r.id >= 100).length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(replies.filter((r) => r.id !== undefined && r.id >= 100 && r.ok)).toHaveLength(500);
    expect(replies.find((r) => r.id === 7)).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD' } });
    expect(replies.find((r) => r.id === 8)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(replies.find((r) => r.id === 9)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(replies.filter((r) => r.type === 'error').length).toBeGreaterThanOrEqual(3);
    prototypeIsClean();
    // A frame beyond the 1 MiB limit closes that socket (1009), and only that one.
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);
    expect((await raw(`/?${token()}`)).status).toBe(200);
  });
});

describe('dependencies', () => {
  const root = join(import.meta.dirname, '..', '..');
  it('the engine and the preload neither fetch nor evaluate code at run time', async () => {
    const { readFileSync, readdirSync, statSync } = await import('node:fs');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|mjs|js)$/.test(n)) files.push(p);
      }
    };
    walk(join(root, 'main'));
    walk(join(root, 'preload'));
    const forbidden = [/\bfetch\(/, /from 'node:https'|from 'https'|require\('https?'\)/, /\bhttps?\.(get|request)\(/, /\beval\(/, /new Function\(/, /\bvm\.run/, /import\((?!['"`])/];
    for (const file of files) {
      const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
      for (const pattern of forbidden) expect(pattern.test(text), `${file.slice(root.length + 1)} matches ${pattern}`).toBe(false);
    }
  });

  it('every runtime dependency is listed in the README with its reason', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Dependencies'));
    for (const name of Object.keys(pkg.dependencies)) expect(section, `README's dependency table lacks ${name}`).toMatch(new RegExp(`\\| \`${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\` \\|`));
  });
});
