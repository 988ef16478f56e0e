// The export room while an export runs and after it: a row per target with the engine's own stage
// and a bar at its fraction (from job:progress's `targets`, checked by the contract's validator on
// the way in), and the report opened through the bridge on the desktop (output:open with the
// report's mediaId) or as a link to its served URL in the browser.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../src/App.svelte';
import { PlaybackState } from '../src/state/playback.svelte.js';
import { SessionState } from '../src/state/session.svelte.js';
import { mockBridge, refusal } from './bridge.js';

const settle = async () => {
  await new Promise((r) => setTimeout(r, 20));
  await tick();
};

async function exportRoom(options: { browser?: boolean; handlers?: Parameters<typeof mockBridge>[0] } = {}) {
  const bridge = mockBridge(options.handlers);
  const session = new SessionState({
    api: bridge.api,
    decode: null,
    playback: new PlaybackState({ audio: null }),
    // Browser mode is the one with uploads.
    ...(options.browser ? { upload: async () => ({ fileId: 'file-up', name: 'up.wav', sizeBytes: 1, origin: 'upload' as const }) } : {}),
  });
  render(App, { props: { session, autostart: false } });
  await session.start();
  await settle();
  session.setView('export');
  await settle();
  return { bridge, session };
}

const REPORT = {
  target: { id: 'spotify', name: 'Spotify' },
  pass: true,
  summary: 'on target',
  rules: [{ rule: 'integrated loudness', requested: '-14.0 LUFS', achieved: '-14.0 LUFS', pass: true, message: '' }],
  deliverable: { file: 'mix.spotify.flac' },
};
const OUTPUTS = [
  { name: 'mix.spotify.flac', url: 'lathe://media/media-a1/mix.spotify.flac', path: '/out/mix.spotify.flac', mediaId: 'media-a1' },
  { name: 'mix.spotify.report.json', url: 'lathe://media/media-a2/mix.spotify.report.json', path: '/out/mix.spotify.report.json', mediaId: 'media-a2' },
  { name: 'mix.spotify.report.html', url: 'lathe://media/media-a3/mix.spotify.report.html', path: '/out/mix.spotify.report.html', mediaId: 'media-a3' },
];

describe('the export room', () => {
  it('shows a row per target with its stage and a bar at its fraction', async () => {
    const { bridge, session } = await exportRoom();
    session.exporter.toggleTarget('cd', true);
    await fireEvent.click(screen.getByTestId('export-start'));
    await settle();
    bridge.emit('job:progress', {
      jobId: 'export-1',
      kind: 'export',
      fraction: 0.4,
      stage: 'cd: rendering mix.cd.wav',
      targets: [
        { targetId: 'spotify', stage: 'done', fraction: 1 },
        { targetId: 'cd', stage: 'rendering', fraction: 0.25 },
      ],
    });
    await settle();
    const spotify = screen.getByTestId('progress-spotify');
    const cd = screen.getByTestId('progress-cd');
    expect(spotify).toHaveAttribute('data-stage', 'done');
    expect(within(spotify).getByRole('progressbar', { name: 'Spotify progress' })).toHaveAttribute('aria-valuenow', '100');
    expect(cd).toHaveAttribute('data-stage', 'rendering');
    const bar = within(cd).getByRole('progressbar', { name: 'CD progress' });
    expect(bar).toHaveAttribute('aria-valuenow', '25');
    expect((bar.firstElementChild as HTMLElement).style.width).toBe('25%');
    expect(cd).toHaveTextContent('rendering · 25%');

    bridge.emit('job:progress', {
      jobId: 'export-1',
      kind: 'export',
      fraction: 0.8,
      stage: 'cd: measuring it',
      targets: [
        { targetId: 'spotify', stage: 'done', fraction: 1 },
        { targetId: 'cd', stage: 'verifying', fraction: 0.72 },
      ],
    });
    await settle();
    expect(screen.getByTestId('progress-cd')).toHaveAttribute('data-stage', 'verifying');
    expect(within(screen.getByTestId('progress-cd')).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '72');
    expect(screen.getByTestId('progress-cd')).toHaveTextContent('verifying · 72%');
  });

  it('marks a target that failed', async () => {
    const { bridge } = await exportRoom();
    await fireEvent.click(screen.getByTestId('export-start'));
    await settle();
    bridge.emit('job:progress', { jobId: 'export-1', kind: 'export', fraction: 0.3, stage: 'spotify: rendering', targets: [{ targetId: 'spotify', stage: 'failed', fraction: 0.3 }] });
    await settle();
    const row = screen.getByTestId('progress-spotify');
    expect(row).toHaveAttribute('data-stage', 'failed');
    expect(row).toHaveClass('failed');
    expect(row).toHaveTextContent('failed');
  });

  it('opens the report through the bridge on the desktop, by its mediaId', async () => {
    const { bridge, session } = await exportRoom({ handlers: { 'output:open': () => ({ opened: true }) } });
    await fireEvent.click(screen.getByTestId('export-start'));
    await settle();
    await session.exporter.done('export-1', OUTPUTS, async () => REPORT);
    await settle();
    const open = screen.getByRole('button', { name: 'Open report' });
    await fireEvent.click(open);
    await settle();
    expect(bridge.calls.filter((c) => c.channel === 'output:open').map((c) => c.payload)).toEqual([{ mediaId: 'media-a3' }]);
    expect(session.exporter.error).toBeNull();
  });

  it('says in words when the engine refuses to open the report', async () => {
    const { session } = await exportRoom({ handlers: { 'output:open': () => Promise.reject(refusal('FILE_NOT_FOUND', 'mix.spotify.report.html: the report is no longer where the export wrote it')) } });
    await fireEvent.click(screen.getByTestId('export-start'));
    await settle();
    await session.exporter.done('export-1', OUTPUTS, async () => REPORT);
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Open report' }));
    await settle();
    expect(screen.getByRole('alert')).toHaveTextContent(/Could not open the report for Spotify: .*no longer where the export wrote it/);
  });

  it('links to the served report in the browser, without the bridge', async () => {
    const { bridge, session } = await exportRoom({ browser: true });
    await fireEvent.click(screen.getByTestId('export-start'));
    await settle();
    const served = OUTPUTS.map((o) => ({ ...o, url: o.url.replace('lathe://media', '/media'), path: null }));
    await session.exporter.done('export-1', served, async () => REPORT);
    await settle();
    const link = screen.getByRole('link', { name: 'Open report' });
    expect(link).toHaveAttribute('href', '/media/media-a3/mix.spotify.report.html');
    expect(link).toHaveAttribute('target', '_blank');
    await fireEvent.click(link);
    expect(bridge.calls.some((c) => c.channel === 'output:open')).toBe(false);
  });
});
