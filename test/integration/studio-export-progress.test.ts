// A real export from the studio (desktop mode, 'electron' mocked) for two targets on a synthesised
// mix at 48 kHz: Spotify (FLAC at the input's rate: one pass) and CD (44.1 kHz, 16-bit dithered:
// rendered and resampled, then dithered and encoded in a second pass). Every job:progress event
// (checked against the contract) names both targets in order; each target goes through its own
// stages, its fraction never goes back, the CD is started only once Spotify is done, and the last
// event before job:done has both done at 1. Then each report opens through output:open in the
// locked-down report window, which loads the studio's URL for the very file the export wrote
// (served by the app's protocol byte for byte); the deliverable, the JSON report, an unknown id
// and a report that has since gone are refused.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { events, type EventChannel, type EventPayload, type OutputFile, type TargetProgress } from '../../preload/contract.js';
import { scratchDir } from '../helpers/cli.js';
import { musicLike } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const windows: { options: any; loadURL: ReturnType<typeof vi.fn> }[] = [];
class FakeWindow {
  webContents = { setWindowOpenHandler: vi.fn(), on: vi.fn() };
  loadURL = vi.fn(async () => undefined);
  once = vi.fn();
  constructor(readonly options: any) {
    windows.push(this);
  }
}
vi.mock('electron', () => ({ default: {}, BrowserWindow: FakeWindow, shell: { openPath: vi.fn() }, ipcMain: {}, app: {}, protocol: {}, session: {} }));

const electron = await import('electron');
const { reportOpener } = await import('../../main/electron/report-window.js');
const { respond } = await import('../../main/electron/protocol.js');
const { Studio } = await import('../../main/server/studio.js');
const { JobPool } = await import('../../main/core/jobs/pool.js');
const { dispatchInvoke } = await import('../../main/server/dispatch.js');

type Seen = { [C in EventChannel]: { channel: C; payload: EventPayload<C> } }[EventChannel];

const scratch = scratchDir('studio-export-progress');
const pool = new JobPool(2);
const studio = new Studio({
  mode: 'electron',
  pool,
  workDir: join(scratch.dir, 'work'),
  autosaveDir: join(scratch.dir, 'autosave'),
  appVersion: 'test',
  urlFor: (id, name) => `lathe://media/${id}/${encodeURIComponent(name)}`,
  openReport: reportOpener(electron.BrowserWindow as never),
});
const seen: Seen[] = [];
studio.onEvent((channel, payload) => {
  // Everything the engine sends must pass the contract, as the UI's bridge would check it.
  seen.push({ channel, payload: events[channel].parse(payload, channel) } as Seen);
});

const call = async (channel: string, payload: unknown) => {
  const outcome = await dispatchInvoke(studio.handlers, channel, payload);
  if (!outcome.ok) throw Object.assign(new Error(outcome.error.message), { code: outcome.error.code });
  return outcome.value as any;
};

async function until<T>(find: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let jobId = '';
let outputs: OutputFile[] = [];
let progress: EventPayload<'job:progress'>[] = [];

beforeAll(async () => {
  const [left, right] = musicLike(48_000, 8, 7);
  const wav = writeWav(join(scratch.dir, 'mix.wav'), [left, right], 48_000, 'pcm24');
  const { fileId } = studio.handOver(wav, 'dialog');
  await call('track:open', { fileId });
  ({ jobId } = await call('export:start', { settings: { targets: ['spotify', 'cd'], profile: null, codecChecks: 'full', maxLimitingDb: 6 } }));
  const end = await until(() => seen.find((e) => (e.channel === 'job:done' || e.channel === 'job:failed') && e.payload.jobId === jobId), 280_000);
  if (end.channel === 'job:failed') throw new Error(`the export failed: ${end.payload.message}`);
  outputs = (end.payload as EventPayload<'job:done'>).outputs;
  const doneAt = seen.indexOf(end);
  progress = seen.slice(0, doneAt).flatMap((e) => (e.channel === 'job:progress' && e.payload.jobId === jobId ? [e.payload] : []));
}, 300_000);

afterAll(async () => {
  await studio.close({ clean: true });
  scratch.cleanup();
});

describe('export progress per target', () => {
  it('names both targets, in order, in every progress event', () => {
    expect(progress.length).toBeGreaterThan(5);
    for (const p of progress) expect(p.targets?.map((t) => t.targetId)).toEqual(['spotify', 'cd']);
  });

  it('moves each target through its own stages, its fraction never going back', () => {
    const of = (id: string) => progress.map((p) => p.targets!.find((t) => t.targetId === id)!);
    for (const id of ['spotify', 'cd']) {
      const rows = of(id);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.fraction).toBeGreaterThanOrEqual(rows[i - 1]!.fraction);
      for (const r of rows) expect(r.fraction === 1).toBe(r.stage === 'done');
      // Rendering shows how far the render is, not only that it runs.
      expect(rows.some((r) => r.stage === 'rendering' && r.fraction > 0 && r.fraction < 1)).toBe(true);
      expect(rows.some((r) => r.stage === 'verifying')).toBe(true);
      expect(rows.some((r) => r.stage === 'failed')).toBe(false);
    }
    // Only the CD (another rate, dithered to 16 bits) has a separate encoding pass.
    const stagesOf = (id: string) => [...new Set(of(id).map((r) => r.stage))];
    expect(stagesOf('cd')).toEqual(expect.arrayContaining(['queued', 'rendering', 'encoding', 'verifying', 'done']));
    expect(stagesOf('spotify')).not.toContain('encoding');
    expect(stagesOf('spotify')).toEqual(expect.arrayContaining(['rendering', 'verifying', 'done']));
  });

  it('masters the targets in order, and ends with each at done', () => {
    for (const p of progress) {
      const [spotify, cd] = p.targets as [TargetProgress, TargetProgress];
      if (cd.stage !== 'queued') expect(spotify.stage).toBe('done');
    }
    expect(progress.at(-1)!.targets).toEqual([
      { targetId: 'spotify', stage: 'done', fraction: 1 },
      { targetId: 'cd', stage: 'done', fraction: 1 },
    ]);
    // The job's own fraction follows its targets and never goes back.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.fraction).toBeGreaterThanOrEqual(progress[i - 1]!.fraction);
  });
});

describe('opening the reports (desktop)', () => {
  const named = (name: string) => {
    const o = outputs.find((x) => x.name === name);
    if (!o?.mediaId || !o.path) throw new Error(`no ${name} among ${outputs.map((x) => x.name).join(', ')}`);
    return o as OutputFile & { mediaId: string; path: string };
  };

  it('opens each report the export wrote, in the report window, from the studio\'s own URL for that file', async () => {
    for (const target of ['spotify', 'cd']) {
      const report = named(`mix.${target}.report.html`);
      // The file the export itself wrote, in the studio's outputs folder.
      expect(report.path.startsWith(join(scratch.dir, 'work', 'outputs') + sep)).toBe(true);
      windows.length = 0;
      expect(await call('output:open', { mediaId: report.mediaId })).toEqual({ opened: true });
      expect(windows).toHaveLength(1);
      expect(windows[0]!.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false });
      const url = windows[0]!.loadURL.mock.calls[0]![0] as string;
      expect(url).toBe(`lathe://media/${report.mediaId}/mix.${target}.report.html`);
      // What that URL serves in the app is the report on disk, byte for byte, under the CSP.
      const served = await respond(url, join(scratch.dir, 'no-renderer'), (id) => studio.mediaFile(id));
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^text\/html/);
      expect(served.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
      expect(Buffer.from(await served.arrayBuffer()).equals(readFileSync(report.path))).toBe(true);
    }
  });

  it('refuses the deliverable, the JSON report, an unknown id, and a report that is gone', async () => {
    windows.length = 0;
    for (const name of ['mix.spotify.flac', 'mix.cd.wav', 'mix.spotify.report.json']) {
      await expect(call('output:open', { mediaId: named(name).mediaId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await expect(call('output:open', { mediaId: 'media-ffffffffffffffff' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const cd = named('mix.cd.report.html');
    rmSync(cd.path);
    await expect(call('output:open', { mediaId: cd.mediaId })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringMatching(/mix\.cd\.report\.html/) });
    expect(windows).toHaveLength(0);
  });
});
