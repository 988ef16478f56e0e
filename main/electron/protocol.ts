// The app's own scheme: `lathe://app/…` serves the built renderer (or a page saying it is not
// built) with the CSP on every response; `lathe://media/<id>` serves what the engine produced
// (previews, outputs) by id. Nothing else on disk is reachable from the page.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { CSP } from './window.js';

export const SCHEME = 'lathe';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Lathe</title><body style="font:16px system-ui;margin:4em;color:#ddd;background:#16181c"><h1>Lathe</h1><p>The user interface has not been built (renderer/dist is missing).</p></body>`;

/** Registered before the app is ready: a standard, secure scheme (so it has a real origin). */
export const PRIVILEGES = [{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }];

export type MediaLookup = (id: string) => { path: string; contentType: string } | undefined;

/** Answers one request of the scheme. */
export async function respond(url: string, rendererDir: string, media: MediaLookup, range?: string | null): Promise<Response> {
  const u = new URL(url);
  const headers = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' };
  if (u.host === 'media') {
    const found = media(u.pathname.split('/')[1] ?? '');
    if (!found || !existsSync(found.path)) return new Response('not found', { status: 404, headers });
    // Streamed, so a long preview never holds up the main process.
    const size = statSync(found.path).size;
    const stream = (start: number, end: number) => Readable.toWeb(createReadStream(found.path, { start, end })) as unknown as ReadableStream<Uint8Array>;
    const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
    if (m && size > 0) {
      const start = Math.min(Number(m[1]), size - 1);
      const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      return new Response(stream(start, end), { status: 206, headers: { ...headers, 'content-type': found.contentType, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' } });
    }
    return new Response(size > 0 ? stream(0, size - 1) : '', { headers: { ...headers, 'content-type': found.contentType, 'accept-ranges': 'bytes', 'content-length': String(size) } });
  }
  if (u.host !== 'app') return new Response('not found', { status: 404, headers });
  const root = resolve(rendererDir);
  if (!existsSync(join(root, 'index.html'))) {
    return u.pathname === '/' || u.pathname === '/index.html' ? new Response(NOT_BUILT, { headers: { ...headers, 'content-type': TYPES['.html']! } }) : new Response('not found', { status: 404, headers });
  }
  const file = normalize(join(root, decodeURIComponent(u.pathname === '/' ? '/index.html' : u.pathname)));
  if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) return new Response('not found', { status: 404, headers });
  return new Response(readFileSync(file), { headers: { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' } });
}

export function registerProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string, media: MediaLookup): void {
  protocol.handle(SCHEME, (request) => respond(request.url, rendererDir, media, request.headers.get('range')));
}
