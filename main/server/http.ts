// Browser mode: the built renderer and the contract over a WebSocket, on 127.0.0.1 only.
//
// Security model: a random token is made per launch and printed in the URL to open. Every HTTP
// request and WebSocket upgrade needs it (in the URL, or in the SameSite=Strict cookie set when the
// page was opened with it). The Host header must name this server (127.0.0.1/localhost and its
// port), so a DNS-rebound name cannot reach it; a request that carries an Origin must come from
// this server's own origin, so no other site can drive it, even from the engineer's browser. Files
// come in only by upload and go out only by download of what the engine produced.
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventChannel, WireError } from '../../preload/contract.js';
import { dispatchInvoke, dispatchSend, wireErrorOf } from './dispatch.js';
import type { Studio } from './studio.js';

export interface ServeOptions {
  studio: Studio;
  /** 0: any free port. */
  port?: number;
  /** The built renderer (index.html and its assets); a small page says so when it is missing. */
  rendererDir?: string;
  /** For tests; otherwise random per launch. */
  token?: string;
  /** Largest upload accepted (bytes). */
  maxUploadBytes?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'lathe_token';
const HOST = '127.0.0.1';
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};
/** The renderer needs its own scripts, styles, WebSocket and media; nothing else. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; media-src 'self' blob:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Lathe</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code{background:#eee;padding:0 .3em}</style>
<h1>Lathe</h1><p>The engine is running, but the user interface has not been built (<code>renderer/dist</code> is missing).</p>
<p>The contract is served over the WebSocket at <code>/ws</code> on this address (with this page's token), so scripts and tests can drive the engine.</p>`;

function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === COOKIE) return rest.join('=');
  }
  return null;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { studio } = options;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const maxUpload = options.maxUploadBytes ?? 4 * 1024 ** 3;
  const rendererDir = options.rendererDir && existsSync(join(options.rendererDir, 'index.html')) ? resolve(options.rendererDir) : null;
  let port = 0;
  const ourHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const ourOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  /** null when the request may go on, else the status and reason for refusing it. */
  function refuse(req: IncomingMessage, url: URL): [number, string] | null {
    if (!ourHosts().has(req.headers.host ?? '')) return [421, 'wrong Host'];
    const origin = req.headers.origin;
    if (origin !== undefined && !ourOrigins().has(origin)) return [403, 'foreign Origin'];
    if (!tokenMatches(url.searchParams.get('token'), token) && !tokenMatches(cookieToken(req), token)) return [401, 'missing or wrong token'];
    return null;
  }

  const sockets = new Set<WebSocket>();
  const unsubscribe = studio.onEvent((channel: EventChannel, payload: unknown) => {
    const text = JSON.stringify({ type: 'event', channel, payload });
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(text);
  });

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) sendJson(res, 500, { error: wireErrorOf(e) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const refusal = refuse(req, url);
    if (refusal) {
      res.writeHead(refusal[0], { 'content-type': 'text/plain; charset=utf-8' }).end(`refused: ${refusal[1]}\n`);
      return;
    }
    const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cross-origin-resource-policy': 'same-origin' };
    if (req.method === 'POST' && url.pathname === '/upload') {
      const name = url.searchParams.get('name') ?? 'upload';
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > maxUpload) {
        sendJson(res, 413, { error: { code: 'BAD_PAYLOAD', message: `uploads are limited to ${maxUpload} bytes` } });
        return;
      }
      const path = studio.uploadPath(name);
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > maxUpload) req.destroy(new Error('upload too large'));
      });
      try {
        await pipeline(req, createWriteStream(path));
      } catch (e) {
        await rm(path, { force: true });
        throw e;
      }
      const info = studio.handOver(path, 'upload', name.split(/[\\/]/).pop() || 'upload');
      sendJson(res, 200, info, common);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD, POST' }).end();
      return;
    }
    const mediaMatch = /^\/media\/([A-Za-z0-9_-]+)(?:\/[^/]*)?$/.exec(url.pathname);
    if (mediaMatch) {
      const media = studio.mediaFile(mediaMatch[1]!);
      if (!media || !existsSync(media.path)) {
        res.writeHead(404, common).end();
        return;
      }
      serveFile(req, res, media.path, media.contentType, { ...common, 'content-disposition': `${url.searchParams.has('download') ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(media.name)}` });
      return;
    }
    // The page (and its assets): opening it with the token sets the cookie its assets and socket use.
    const cookie = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    if (!rendererDir) {
      if (url.pathname !== '/' && url.pathname !== '/index.html') {
        res.writeHead(404, common).end();
        return;
      }
      res.writeHead(200, { ...common, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'set-cookie': cookie }).end(NOT_BUILT_PAGE);
      return;
    }
    let rel: string;
    try {
      rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    } catch {
      res.writeHead(400, common).end();
      return;
    }
    const file = normalize(join(rendererDir, rel));
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, common).end();
      return;
    }
    const type = STATIC_TYPES[extname(file)] ?? 'application/octet-stream';
    if (type.startsWith('text/html')) {
      res.writeHead(200, { ...common, 'content-type': type, 'content-security-policy': CSP, 'set-cookie': cookie }).end(readFileSync(file));
      return;
    }
    serveFile(req, res, file, type, common);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    const refusal = url.pathname === '/ws' ? refuse(req, url) : ([404, 'not found'] as [number, string]);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal[0]} Refused\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nrefused: ${refusal[1]}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    // A protocol error (a frame over maxPayload, a bad opcode) ends this socket only: without a
    // listener the 'error' event would be thrown and take the whole server down.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      let message: { type?: unknown; id?: unknown; channel?: unknown; payload?: unknown };
      try {
        if (isBinary) throw new Error('binary frames are not part of the contract');
        message = JSON.parse(data.toString());
        if (typeof message !== 'object' || message === null) throw new Error('not an object');
      } catch (e) {
        ws.send(JSON.stringify({ type: 'error', error: { code: 'BAD_PAYLOAD', message: `not a contract message (${(e as Error).message})` } satisfies WireError }));
        return;
      }
      if (message.type === 'invoke') {
        const id = message.id;
        if (typeof id !== 'number' && typeof id !== 'string') {
          ws.send(JSON.stringify({ type: 'error', error: { code: 'BAD_PAYLOAD', message: 'an invoke needs an id' } }));
          return;
        }
        void dispatchInvoke(studio.handlers, message.channel, message.payload).then((outcome) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'result', id, ...outcome }));
        });
      } else if (message.type === 'send') {
        const error = dispatchSend(
          { 'playback:playhead': ({ seconds }) => studio.setPlayhead(seconds), 'log:error': ({ message: m }) => process.stderr.write(`lathe ui: ${m}\n`) },
          message.channel,
          message.payload,
        );
        if (error) ws.send(JSON.stringify({ type: 'error', error }));
      } else {
        ws.send(JSON.stringify({ type: 'error', error: { code: 'BAD_PAYLOAD', message: 'type must be "invoke" or "send"' } }));
      }
    });
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      unsubscribe();
      for (const s of sockets) s.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A file with Range support (the audio element seeks with ranges). */
function serveFile(req: IncomingMessage, res: ServerResponse, path: string, contentType: string, headers: Record<string, string>): void {
  const size = statSync(path).size;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    } else {
      start = Math.max(0, size - Number(range[2]));
    }
    if (start > end || start >= size) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-type': contentType, 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) });
  } else {
    res.writeHead(200, { ...headers, 'content-type': contentType, 'accept-ranges': 'bytes', 'content-length': String(size) });
  }
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  createReadStream(path, { start, end }).pipe(res);
}
