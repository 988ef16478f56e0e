// The studio's views rendered in jsdom with the session on a bridge built from the contract:
// the meters show the analysis, the keys switch A/B/R and play, a numeric entry in the parameter
// table sends the edit, the assistant's absence is said in words, export results show each rule.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../src/App.svelte';
import { PlaybackState } from '../src/state/playback.svelte.js';
import { SessionState } from '../src/state/session.svelte.js';
import { analysis, mockBridge, refusal, TRACK } from './bridge.js';

const settle = async () => {
  await new Promise((r) => setTimeout(r, 20));
  await tick();
};

async function studio(handlers: Parameters<typeof mockBridge>[0] = {}) {
  const bridge = mockBridge({ 'analysis:get': ({ fileId }) => (fileId === TRACK.fileId ? analysis(-19.04, { truePeakDbtp: -0.4, qc: [{ kind: 'clipping', severity: 'error', startSeconds: 6, endSeconds: 6.5, channel: 'FL', message: 'clipped' }] }) : null), ...handlers });
  const session = new SessionState({ api: bridge.api, decode: null, playback: new PlaybackState({ audio: null }) });
  render(App, { props: { session, autostart: false } });
  await session.start();
  await settle();
  return { bridge, session };
}

describe('the studio views', () => {
  it('shows the meters of the analysis, warning on a true peak over −1 dBTP', async () => {
    await studio();
    const row = screen.getByTestId('meters-A');
    expect(within(row).getByText('−19.0')).toBeInTheDocument();
    const peak = row.querySelector('[data-meter=truePeak]')!;
    expect(peak).toHaveClass('warn');
    expect(screen.getByTestId('meters-B')).toHaveTextContent(/measuring the preview/);
  });

  it('draws a QC marker that moves the playhead to the finding', async () => {
    const { session } = await studio();
    const marker = screen.getByRole('button', { name: /QC error: clipping at 0:06\.0/ });
    await fireEvent.click(marker);
    expect(session.playback.position).toBe(6);
  });

  it('switches A, B and R with the keys and plays with Space', async () => {
    const { session } = await studio();
    await fireEvent.keyDown(window, { key: 'a' });
    expect(screen.getByTestId('source-A')).toHaveAttribute('aria-checked', 'true');
    await fireEvent.keyDown(window, { key: 'b' });
    expect(screen.getByTestId('source-B')).toHaveAttribute('aria-checked', 'true');
    // No reference yet: R is disabled and the key does nothing.
    expect(screen.getByTestId('source-R')).toBeDisabled();
    await fireEvent.keyDown(window, { key: 'r' });
    expect(screen.getByTestId('source-B')).toHaveAttribute('aria-checked', 'true');
    await fireEvent.keyDown(window, { key: ' ' });
    expect(session.playback.playing).toBe(true);
    await fireEvent.keyDown(window, { key: ' ' });
    expect(session.playback.playing).toBe(false);
  });

  it('sends a numeric entry from the parameter table as an edit of that path', async () => {
    const { bridge } = await studio();
    const input = screen.getByRole('spinbutton', { name: 'Bell 2: gain' });
    await fireEvent.change(input, { target: { value: '3.46' } });
    await settle();
    const set = bridge.calls.filter((c) => c.channel === 'chain:set').at(-1)!;
    expect(set.payload).toMatchObject({ coalesceKey: 'eq.peaks[1].gainDb' });
    // Rounded to the control's 0.1 dB step.
    expect((set.payload as { chain: { eq: { peaks: { gainDb: number }[] } } }).chain.eq.peaks[1]!.gainDb).toBe(3.5);
  });

  it('says plainly when the assistant is not available, and keeps the current values', async () => {
    await studio({ 'assistant:propose': () => Promise.reject(refusal('NOT_AVAILABLE', 'the assistant model is not installed')) });
    await fireEvent.click(screen.getByTestId('propose'));
    await settle();
    expect(screen.getByTestId('proposal-unavailable')).toHaveTextContent(/not available.*model is not installed/);
    expect(screen.getByRole('spinbutton', { name: 'Ceiling' })).toHaveValue(-1);
  });

  it('moves between the views with the arrow keys on the tabs, and with the number keys', async () => {
    const { session } = await studio();
    const tab = screen.getByRole('tab', { name: /Parameters/ });
    expect(tab).toHaveAttribute('aria-selected', 'true');
    await fireEvent.keyDown(tab, { key: 'ArrowRight' });
    expect(session.view).toBe('spectrum');
    expect(screen.getByRole('tab', { name: /Spectrum/ })).toHaveAttribute('aria-selected', 'true');
    await fireEvent.keyDown(screen.getByRole('tab', { name: /Spectrum/ }), { key: 'ArrowLeft' });
    await fireEvent.keyDown(screen.getByRole('tab', { name: /Parameters/ }), { key: 'ArrowLeft' });
    expect(session.view).toBe('export');
    // The arrows on a tab do not move the playhead.
    expect(session.playback.position).toBe(0);
    await fireEvent.keyDown(window, { key: '4' });
    expect(session.view).toBe('reference');
  });

  it('shows an export result with a verdict and every rule', async () => {
    const { session } = await studio();
    await fireEvent.keyDown(window, { key: '6' });
    await fireEvent.click(screen.getByTestId('export-start'));
    await settle();
    await session.exporter.done('export-1', [{ name: 'mix.spotify.report.json', url: '/r.json', path: null }], async () => ({
      target: { id: 'spotify', name: 'Spotify' },
      pass: true,
      summary: 'on target',
      rules: [
        { rule: 'integrated loudness', requested: '-14.0 LUFS', achieved: '-14.0 LUFS', pass: true, message: '' },
        { rule: 'true peak', requested: '≤ -1.0 dBTP', achieved: '-1.2 dBTP', pass: true, message: '' },
      ],
      deliverable: { file: 'mix.spotify.ogg' },
    }));
    await settle();
    expect(screen.getByTestId('verdict-spotify')).toHaveTextContent('PASS');
    expect(within(screen.getByTestId('result-spotify')).getAllByText('✓ pass')).toHaveLength(2);
  });
});
