// End to end, in browser mode: a real studio (job pool, engine, `lathe serve`'s HTTP/WebSocket
// server with the built renderer) driven by Debian's Chromium through playwright-core. Walks the
// main flows — the demo opens; the meters and the QC markers of a mix with a clipped passage;
// the assistant's proposal (or its graceful absence); an EQ edit that changes the spectrum
// overlay and the re-rendered preview; a reference added and matched; level-matched A/B/R;
// an export to Spotify that passes — with no console errors, saving a screenshot of each view.
// Skipped, saying why, where /usr/bin/chromium is missing (CI installs it: .ci/run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { JobPool } from '../../main/core/jobs/pool.js';
import { startServer, type RunningServer } from '../../main/server/http.js';
import { Studio } from '../../main/server/studio.js';
import { connect, type BrowserClient } from '../../preload/ws-client.js';
import { scratchDir } from '../helpers/cli.js';
import { musicLike } from '../helpers/signals.js';
import { wsFactory } from '../helpers/studio.js';
import { wavBytes } from '../helpers/wav.js';

const CHROMIUM = process.env.LATHE_CHROMIUM ?? '/usr/bin/chromium';
const RENDERER = resolve(import.meta.dirname, '../../renderer/dist');
// The committed screenshots (shown in the README) are rewritten only on request, so a test run
// leaves the working tree as it was: LATHE_UPDATE_SCREENSHOTS=1 npx vitest run test/e2e/studio.test.ts
const SHOTS = process.env.LATHE_UPDATE_SCREENSHOTS === '1' ? resolve(import.meta.dirname, 'screenshots') : resolve(import.meta.dirname, '../../test-output/e2e-screenshots');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`e2e: skipped — no Chromium at ${CHROMIUM} (install Debian's chromium, or set LATHE_CHROMIUM)`);

const fs = 44_100;
/** Each step waits on real renders and analyses: generous on a loaded 2-core machine. */
const LONG = 300_000;

/** A 12 s mix with a clipped passage at 6.0–6.5 s (full-scale runs: the QC's clipping finding). */
function clippedMix(): Buffer {
  const [l, r] = musicLike(fs, 12, 21);
  for (let i = 6 * fs; i < 6.5 * fs; i++) {
    l![i] = Math.max(-1, Math.min(1, l![i]! * 12));
    r![i] = Math.max(-1, Math.min(1, r![i]! * 12));
  }
  return wavBytes([l!, r!], fs, 'pcm16');
}

/** A reference: the same kind of music, louder and brighter (a crude high shelf by differencing). */
function referenceMix(): Buffer {
  const [l, r] = musicLike(fs, 12, 33);
  const out = [l!, r!].map((x) => {
    const y = new Float32Array(x.length);
    for (let i = 1; i < x.length; i++) y[i] = 1.2 * x[i]! + 0.6 * (x[i]! - x[i - 1]!);
    return y;
  });
  return wavBytes(out, fs, 'pcm24');
}

describe.skipIf(!haveChromium)('the studio in Chromium (browser mode)', () => {
  const scratch = scratchDir('e2e');
  let studio: Studio;
  let server: RunningServer;
  let browser: BrowserContext;
  let page: Page;
  let probe: BrowserClient;
  const consoleErrors: string[] = [];
  let stopped = false;

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();
  /** A meter's value as a number (the UI writes a real minus sign). */
  const meter = async (row: 'A' | 'B' | 'R', key: string) => Number((await text(`[data-testid=meters-${row}] [data-meter=${key}] .v`)).replace('−', '-'));

  beforeAll(async () => {
    if (!existsSync(join(RENDERER, 'index.html'))) throw new Error(`the renderer is not built (${RENDERER}): run npm run build:renderer`);
    mkdirSync(SHOTS, { recursive: true });
    studio = new Studio({
      mode: 'browser',
      pool: new JobPool(2),
      workDir: join(scratch.dir, 'work'),
      autosaveDir: join(scratch.dir, 'autosave'),
      appVersion: 'e2e',
      urlFor: (id, name) => `/media/${id}/${encodeURIComponent(name)}`,
    });
    server = await startServer({ studio, port: 0, rendererDir: RENDERER });
    probe = await connect(server.url, wsFactory);
    const { chromium } = await import('playwright-core');
    // A fresh profile each run.
    browser = await chromium.launchPersistentContext(join(scratch.dir, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(90_000);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    probe?.close();
    if (!stopped) await server?.close();
    await studio?.close();
    scratch.cleanup();
  }, LONG);

  it('opens the demo at first start: meters for the original and the master preview', async () => {
    await page.goto(server.url);
    await expect.poll(() => text('[data-testid=track-name]'), { timeout: 90_000 }).toBe('Lathe demo mix.wav');
    await page.waitForSelector('[data-testid=meters-A] [data-meter=integrated]');
    await page.waitForSelector('[data-testid=meters-B] [data-meter=integrated]');
    const integrated = await meter('A', 'integrated');
    // The demo is an unmastered mix: quieter than any streaming target, with headroom.
    expect(integrated).toBeLessThan(-12);
    expect(integrated).toBeGreaterThan(-40);
    expect(await meter('A', 'truePeak')).toBeLessThan(0);
    // The API's own analysis says the same as the meter on screen.
    const files = await probe.api['file:list']({});
    const demo = files.find((f) => f.origin === 'demo')!;
    const analysis = await probe.api['analysis:get']({ fileId: demo.fileId });
    expect(integrated).toBeCloseTo(analysis!.loudness.integratedLufs!, 1);
    await shot('studio-demo');
  }, LONG);

  it('shows the meters and the QC markers of a mix with a clipped passage; a marker moves the playhead there', async () => {
    await page.locator('input[aria-label="Choose an audio file to open"]').setInputFiles({ name: 'clipped mix.wav', mimeType: 'audio/wav', buffer: clippedMix() });
    await expect.poll(() => text('[data-testid=track-name]')).toBe('clipped mix.wav');
    await page.waitForSelector('[data-testid=qc-marker]');
    const findings = await page.locator('[data-testid=qc-finding]').allTextContents();
    expect(findings.some((f) => /clipping/.test(f))).toBe(true);
    expect(await meter('A', 'samplePeak')).toBeGreaterThan(-0.1);
    const clip = page.locator('[data-testid=qc-marker][aria-label*="clipping"]').first();
    await clip.click();
    // The clipped passage starts at 6.0 s: the clock shows 0:06.0 (to a tenth).
    await expect.poll(() => text('.clock')).toMatch(/^0:0(5\.9|6\.0|6\.1)/);
    await page.waitForSelector('[data-testid=meters-B] [data-meter=integrated]');
    await shot('analysis');
  }, LONG);

  it('fills the parameter table from the assistant, or says plainly that it is not available', async () => {
    let available = true;
    try {
      await probe.api['assistant:propose']({});
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'NOT_AVAILABLE' && code !== 'MODEL_INVALID') throw e;
      available = false;
    }
    await page.click('#tab-parameters');
    await page.click('[data-testid=propose]');
    if (available) {
      await page.waitForSelector('[data-testid=proposal-summary]');
      // Every move of the proposal lands in its row of the table, with a confidence badge.
      const proposed = page.locator('tr.proposed');
      expect(await proposed.count()).toBeGreaterThan(0);
      expect((await proposed.first().locator('.c-prop').textContent())?.trim()).not.toBe('');
      expect(await proposed.first().locator('.conf').count()).toBe(1);
    } else {
      await expect.poll(() => text('[data-testid=proposal-unavailable]')).toMatch(/not available/);
      // The table still shows the current chain's values.
      expect(await page.locator('tr[data-path="limiter.ceilingDbtp"] input[type=number]').inputValue()).toBe('-1.0');
    }
    await shot('parameters');
  }, LONG);

  it('an EQ edit changes the spectrum overlay and re-renders the master preview', async () => {
    const before = await meter('B', 'integrated');
    await page.locator('tr[data-path="eq.peaks[1].enabled"] input[type=checkbox]').check();
    const gain = page.locator('tr[data-path="eq.peaks[1].gainDb"] input[type=number]');
    await gain.fill('6');
    await gain.press('Enter');
    await expect.poll(() => gain.inputValue()).toBe('6.0');
    await page.click('#tab-spectrum');
    // A bell's gain at its centre frequency is its gain: +6 dB at 1 kHz (the curve is drawn on a
    // log grid of 256 points, so its highest point lies within a grid step, ~2.7 %, of 1 kHz).
    await expect.poll(() => text('[data-testid=eq-summary]')).toMatch(/most boost \+6\.0\s*dB at/);
    const at = /most boost \+6\.0\s*dB at ([\d.]+)\s*(k?)Hz/.exec(await text('[data-testid=eq-summary]'))!;
    const peakHz = Number(at[1]) * (at[2] ? 1000 : 1);
    expect(Math.abs(Math.log(peakHz / 1000))).toBeLessThan(0.028);
    // The preview re-rendered and was measured again: +6 dB around 1 kHz, where this music has most
    // of its energy, reads louder (the limiter only works in the clipped half second).
    await expect.poll(() => meter('B', 'integrated'), { timeout: 90_000 }).toBeGreaterThan(before + 0.5);
    await page.waitForTimeout(300);
    await shot('spectrum');
    await page.click('#tab-spectrogram');
    await page.waitForSelector('#sg-difference');
    await shot('spectrogram');
  }, LONG);

  it('adds a reference and matches to it: its values as one undoable chain, then its loudness', async () => {
    await page.click('#tab-reference');
    await page.locator('[data-testid=reference-input]').setInputFiles({ name: 'reference master.wav', mimeType: 'audio/wav', buffer: referenceMix() });
    await page.waitForSelector('[data-testid=reference-card] dl');
    await page.click('[data-testid=match]');
    await page.waitForSelector('[data-testid=match-result]');
    expect(await text('[data-testid=match-result] p')).toMatch(/LUFS/);
    await page.waitForSelector('[data-testid=meters-R] [data-meter=integrated]');
    // Before applying, the table's Match column shows the matched values that differ from the chain.
    await page.click('#tab-parameters');
    const matched = page.locator('tr[data-path] td.c-match:not(:empty)');
    expect(await matched.count()).toBeGreaterThan(0);
    const row = matched.first().locator('xpath=..');
    const path = (await row.getAttribute('data-path'))!;
    const value = Number((await row.locator('td.c-match').textContent())!.replace('−', '-').replace(/[^\d.-]/g, ''));
    await page.click('#tab-reference');
    await page.click('[data-testid=apply-match]');
    // The matched chain is the engine's chain now (that value is the current one), and it can be undone.
    await expect.poll(async () => (await probe.api['chain:get']({})).canUndo).toBe(true);
    await page.click('#tab-parameters');
    await expect.poll(async () => Number(await page.locator(`tr[data-path="${path}"] input[type=number]`).inputValue())).toBeCloseTo(value, 1);
    await page.click('#tab-reference');
    // Its loudness too: rounds of measuring the re-rendered master and moving the gain into the
    // limiter bring the master's meter to the reference's.
    const reference = await meter('R', 'integrated');
    await page.click('[data-testid=match-loudness]');
    await expect.poll(() => text('[data-testid=leveling]'), { timeout: 200_000 }).toMatch(/^Master at/);
    expect(Math.abs((await meter('B', 'integrated')) - reference)).toBeLessThanOrEqual(0.3);
    await shot('reference');
  }, LONG);

  it('A/B/R switch with the keys, level-matched: every source plays at the quietest loudness', async () => {
    await page.waitForSelector('[data-testid=meters-B] [data-meter=integrated]');
    await page.locator('body').click({ position: { x: 5, y: 880 } });
    await page.keyboard.press('a');
    expect(await page.locator('[data-testid=source-A]').getAttribute('aria-checked')).toBe('true');
    await page.keyboard.press('r');
    expect(await page.locator('[data-testid=source-R]').getAttribute('aria-checked')).toBe('true');
    await page.keyboard.press('b');
    expect(await page.locator('[data-testid=source-B]').getAttribute('aria-checked')).toBe('true');
    // Level matching: gain = quietest loudness − own loudness (the meters on screen are the loudness).
    await expect.poll(async () => Number.isFinite(await meter('B', 'integrated'))).toBe(true);
    const lufs = { A: await meter('A', 'integrated'), B: await meter('B', 'integrated'), R: await meter('R', 'integrated') };
    const quietest = Math.min(lufs.A, lufs.B, lufs.R);
    for (const s of ['A', 'B', 'R'] as const) {
      const shown = Number((await text(`[data-testid=gain-${s}]`)).replace('−', '-').replace('±', '').replace(/\s*dB$/, ''));
      expect(shown).toBeCloseTo(quietest - lufs[s], 0);
    }
    // The loudest source is turned down by the difference: louder never wins by accident.
    const loudest = (['A', 'B', 'R'] as const).reduce((a, b) => (lufs[a] >= lufs[b] ? a : b));
    expect(Number((await text(`[data-testid=gain-${loudest}]`)).replace('−', '-').replace(/\s*dB$/, ''))).toBeLessThan(0);
    // Dragging across the timeline loops that region: a quarter to a half of the 12 s track.
    const plot = (await page.locator('.timeline .hit').boundingBox())!;
    await page.mouse.move(plot.x + plot.width * 0.25, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.4, plot.y + plot.height / 2, { steps: 4 });
    await page.mouse.move(plot.x + plot.width * 0.5, plot.y + plot.height / 2, { steps: 4 });
    await page.mouse.up();
    const loopButton = page.locator('button[title^="Loop"]');
    expect(await loopButton.getAttribute('aria-pressed')).toBe('true');
    const [, from, to] = /0:0?(\d+\.\d)–0:0?(\d+\.\d)/.exec((await loopButton.textContent()) ?? '')!;
    expect(Number(from)).toBeCloseTo(3, 0);
    expect(Number(to)).toBeCloseTo(6, 0);
    await loopButton.click();
    expect(await loopButton.getAttribute('aria-pressed')).toBe('false');
    await page.locator('body').click({ position: { x: 5, y: 880 } });
    // Space plays: the clock moves.
    const start = await text('.clock');
    await page.keyboard.press('Space');
    await expect.poll(() => text('.clock'), { timeout: 20_000 }).not.toBe(start);
    await page.keyboard.press('Space');
    // M turns matching off: every gain back to ±0.0.
    await page.keyboard.press('m');
    expect(await text('[data-testid=gain-A]')).toMatch(/±0\.0/);
    await page.keyboard.press('m');
    // Hear it as Spotify: the master through Spotify's codec, turned to Spotify's −14 LUFS.
    await page.selectOption('select[aria-label="Hear it as a platform plays it"]', 'spotify');
    await expect.poll(() => text('[data-testid=hearing]'), { timeout: 90_000 }).toBe('B via libvorbis 320 kbps');
    const gainB = Number((await text('[data-testid=gain-B]')).replace('−', '-').replace('±', '').replace(/\s*dB$/, ''));
    if (lufs.B > -14) expect(gainB).toBeCloseTo(-14 - lufs.B, 0);
    else expect(gainB).toBeGreaterThanOrEqual(0);
    await shot('playback');
    await page.selectOption('select[aria-label="Hear it as a platform plays it"]', '');
  }, LONG);

  it('stores snapshots and morphs between them; a blind test hides A and B until the reveal', async () => {
    const gain = () => page.locator('tr[data-path="eq.inputGainDb"] input[type=number]');
    await page.keyboard.press('1');
    const a0 = Number(await gain().inputValue());
    await page.keyboard.press('5');
    await page.click('button[aria-label="Store the current chain as snapshot A"]');
    await page.waitForSelector('button[aria-label="Recall snapshot A"]');
    await page.keyboard.press('1');
    await gain().fill(String(a0 + 4));
    await gain().press('Enter');
    await expect.poll(() => gain().inputValue()).toBe((a0 + 4).toFixed(1));
    await page.locator('body').click({ position: { x: 5, y: 880 } });
    await page.keyboard.press('5');
    await page.click('button[aria-label="Store the current chain as snapshot B"]');
    await page.waitForSelector('button[aria-label="Recall snapshot B"]');
    // Half way from A to B: the input gain half way too, sent to the engine as the chain.
    await page.locator('input[aria-label="Morph amount"]').evaluate((el) => {
      const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
      input.value = '0.5';
      input.dispatchEvent(new (globalThis as unknown as { Event: new (t: string, o: object) => unknown }).Event('input', { bubbles: true }));
    });
    await expect.poll(async () => (await probe.api['chain:get']({})).chain.eq.inputGainDb).toBeCloseTo(a0 + 2, 6);
    await shot('snapshots');

    await page.locator('body').click({ position: { x: 5, y: 880 } });
    await page.click('button:has-text("Blind")');
    await page.keyboard.press('a');
    await page.click('button[title="I prefer X"]');
    await page.click('button:has-text("Reveal")');
    const x = (await text('button[title^="Listen to X"]')).replace(/^X\s*=\s*/, '');
    expect(['Original', 'Master']).toContain(x);
    expect(await text('[data-testid=blind-verdict]')).toBe(`You preferred ${x}`);
    // Listening to X played the source behind it.
    await page.click('button:has-text("End blind test")');
    expect(await page.locator(`[data-testid=source-${x === 'Original' ? 'A' : 'B'}]`).getAttribute('aria-checked')).toBe('true');
  }, LONG);

  it('exports to Spotify: the job completes with progress, and every rule passes', async () => {
    await page.keyboard.press('6');
    await page.waitForSelector('[data-testid=target-spotify]');
    for (const box of await page.locator('input[data-testid^=target-]').all()) {
      const id = (await box.getAttribute('data-testid'))!.replace('target-', '');
      if ((await box.isChecked()) !== (id === 'spotify')) await box.click();
    }
    await page.click('[data-testid=export-start]');
    await page.waitForSelector('[role=progressbar][aria-label="Export progress"]');
    const verdict = page.locator('[data-testid=verdict-spotify]');
    await verdict.waitFor({ timeout: 300_000 });
    expect(await verdict.textContent()).toBe('PASS');
    const rules = page.locator('[data-testid=result-spotify] tbody tr');
    expect(await rules.count()).toBeGreaterThan(1);
    expect(await page.locator('[data-testid=result-spotify] tbody tr:not(.ok)').count()).toBe(0);
    await shot('export');
  }, LONG);

  it('logged no console errors on the way', () => {
    expect(consoleErrors).toEqual([]);
  });

  it('says so, with what to do, when the engine stops', async () => {
    await server.close();
    stopped = true;
    const alert = page.locator('[role=alert]', { hasText: 'not reachable' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(/start `lathe serve` again and reload this page/);
  }, LONG);
});
