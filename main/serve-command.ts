// `lathe serve [--port N]`: browser mode. Serves the built renderer and the contract over a
// WebSocket on 127.0.0.1, with a random per-launch token; the first line on stdout is the URL to
// open (token included). Runs until interrupted; a clean stop leaves no autosave behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LatheError } from './core/errors.js';
import { JobPool } from './core/jobs/pool.js';
import { startServer } from './server/http.js';
import { Studio } from './server/studio.js';

/** Where autosaves live between runs: LATHE_DATA_DIR, else the platform's user data folder. */
function dataDir(): string {
  if (process.env.LATHE_DATA_DIR) return resolve(process.env.LATHE_DATA_DIR);
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Lathe');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Lathe');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'lathe');
}

export async function serveCommand(args: string[], appVersion: string): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '0' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LatheError('USAGE', `--port must be a port number from 0 to 65535 (0: any free port), not ${values.port}`);
  const workDir = mkdtempSync(join(tmpdir(), 'lathe-serve-'));
  const pool = new JobPool();
  const studio = new Studio({
    mode: 'browser',
    pool,
    workDir,
    autosaveDir: join(dataDir(), 'autosave'),
    appVersion,
    urlFor: (id, name) => `/media/${id}/${encodeURIComponent(name)}`,
  });
  const server = await startServer({ studio, port, rendererDir: resolve(import.meta.dirname, '../../renderer/dist') });
  process.stdout.write(`${server.url}\n`);
  process.stderr.write(`lathe: serving on 127.0.0.1:${server.port} with ${pool.size} job workers; open the URL above (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await studio.close({ clean: true });
  rmSync(workDir, { recursive: true, force: true });
  return 0;
}
