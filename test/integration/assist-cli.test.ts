// `lathe assist` end to end on a generated file: the JSON has the promised shape, its chain is
// accepted unchanged by `lathe render`, `lathe master --assistant` masters with it, and a broken
// model file gives a clear one-line error while the rest of the CLI keeps working.
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultChain } from '../../main/core/chain/document.js';
import { cardPathFor, defaultModelPath } from '../../main/core/assistant/model.js';
import { lathe, scratchDir } from '../helpers/cli.js';
import { writeWav } from '../helpers/wav.js';
import { boomyMix } from '../helpers/assistant-mix.js';

const scratch = scratchDir('assist');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());
const env = { LATHE_CONFIG_DIR: scratch.dir };

// A mix with a +6 dB low shelf, written as a 24-bit WAV.
const SR = 44_100;
const mix = writeWav(at('boomy.wav'), boomyMix(SR), SR, 'pcm24');

describe('lathe assist', () => {
  it('prints a proposal whose chain lathe render accepts unchanged', () => {
    const r = lathe(['assist', mix, '--json', '--chain-out', at('proposal.json')], env);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toEqual({ name: 'lathe-assistant', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(out.parameters.map((p: { path: string }) => p.path)).toEqual(['eq.lowShelf.gainDb', 'eq.peaks[0].gainDb', 'eq.peaks[1].gainDb', 'eq.peaks[2].gainDb', 'eq.highShelf.gainDb', 'imager.width', 'eq.inputGainDb']);
    for (const p of out.parameters) {
      expect(Object.keys(p).sort()).toEqual(['autoApply', 'confidence', 'path', 'reason', 'unit', 'value']);
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
    }
    const ls = out.parameters[0];
    // The boom is heard and cut (the shipped model shrinks hard toward the corpus prior: the
    // direction is what it gets right; see models/training/README.md).
    expect(ls.value).toBeLessThan(0);
    expect(out.parameters[6].value).toBeGreaterThan(2); // the 6 dB level drop is heard
    writeFileSync(at('stdout-chain.json'), JSON.stringify(out.chain));
    const rendered = lathe(['render', mix, '--chain', at('stdout-chain.json'), '--out', at('rendered.wav')], env);
    expect(rendered.status, rendered.stderr).toBe(0);
    const human = lathe(['assist', mix, '--profile', 'pop'], env);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/low shelf at 100 Hz/);
    expect(human.stdout).toMatch(/using profile pop/);
  });

  it('masters with the proposal (master --assistant)', () => {
    const r = lathe(['master', mix, '--assistant', '--targets', 'spotify', '--codec-checks', 'none', '--out', at('master'), '--json'], env);
    expect([0, 3], r.stderr).toContain(r.status);
    const out = JSON.parse(r.stdout);
    expect(out.targets[0].integratedLufs).toBeCloseTo(-14, 0);
  });

  it('a corrupt model gives a clear error and the rest of the CLI keeps working', () => {
    const bad = at('assistant.onnx');
    writeFileSync(bad, Buffer.from('this is not an onnx model'));
    copyFileSync(cardPathFor(defaultModelPath()), cardPathFor(bad));
    const r = lathe(['assist', mix, '--json'], { ...env, LATHE_ASSISTANT_MODEL: bad });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^lathe: .*assistant\.onnx: the assistant model cannot be used: the file's SHA-256/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const analyze = lathe(['analyze', mix, '--json'], { ...env, LATHE_ASSISTANT_MODEL: bad });
    expect(analyze.status, analyze.stderr).toBe(0);
  });

  it('shows and resets what it learned', () => {
    writeFileSync(at('edited.json'), JSON.stringify({ ...defaultChain(), eq: { ...defaultChain().eq, highShelf: { enabled: true, freqHz: 8000, q: 0.707, gainDb: 2.5 } } }));
    const learn = lathe(['assist', mix, '--profile', 'rock', '--learn', at('edited.json')], env);
    expect(learn.status, learn.stderr).toBe(0);
    const shown = lathe(['assist', '--adjustments', '--json'], env);
    expect(JSON.parse(shown.stdout).profiles.rock.highShelf8k.count).toBe(1);
    expect(lathe(['assist', '--reset-adjustments'], env).status).toBe(0);
    expect(JSON.parse(lathe(['assist', '--adjustments', '--json'], env).stdout).profiles).toEqual({});
  });
});
