// `lathe render`: a chain applied to a file end to end, checked against analytic results, with
// the output aligned and as long as the input; bad chains and failed encodes leave nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultChain } from '../../main/core/chain/document.js';
import { EncodeSession } from '../../main/core/media/encode.js';
import dsp from '#native-dsp';
import { analyzeJson, lathe, scratchDir } from '../helpers/cli.js';
import { toneSequence } from '../helpers/signals.js';
import { writeWav } from '../helpers/wav.js';

const scratch = scratchDir('render');
const at = (n: string) => join(scratch.dir, n);
afterAll(() => scratch.cleanup());

describe('lathe render', () => {
  it('a +6 dB bell at 1 kHz raises a −30 dBFS 1 kHz tone to −24 dBFS; length is kept', () => {
    const fs = 48_000;
    const x = toneSequence(fs, [[-30, 5]]);
    const input = writeWav(at('tone.wav'), [x, x], fs, 'float32');
    const chain = defaultChain();
    chain.eq.highPass.enabled = false;
    chain.eq.peaks[1] = { enabled: true, freqHz: 1000, q: 1, gainDb: 6 };
    chain.limiter.enabled = false;
    writeFileSync(at('bell.json'), JSON.stringify(chain));
    const r = lathe(['render', input, '--chain', at('bell.json'), '--out', at('out.wav'), '--bits', '32']);
    expect(r.status, r.stderr).toBe(0);
    const out = analyzeJson(at('out.wav'));
    expect(out.format.frames).toBe(x.length);
    const band = out.spectrum.thirdOctave.find((b: { hz: number }) => b.hz === 1000);
    expect(Math.abs(band.db - -24)).toBeLessThan(0.05);
  });

  it('the limiter holds a +6 dBFS tone under its ceiling on the true-peak meter', () => {
    const fs = 44_100;
    const x = toneSequence(fs, [[6, 4]], 997);
    const input = writeWav(at('hot.wav'), [x, x], fs, 'float32');
    const chain = defaultChain();
    chain.limiter.ceilingDbtp = -1;
    writeFileSync(at('limit.json'), JSON.stringify(chain));
    const r = lathe(['render', input, '--chain', at('limit.json'), '--out', at('limited.wav'), '--bits', '32']);
    expect(r.status, r.stderr).toBe(0);
    const out = analyzeJson(at('limited.wav'));
    expect(out.loudness.truePeakDbtp).toBeLessThanOrEqual(-1);
  });

  it('a bad chain is refused with the field and the reason, and nothing is written', () => {
    const x = toneSequence(44_100, [[-20, 1]]);
    const input = writeWav(at('short.wav'), [x, x], 44_100, 'pcm16');
    const chain: any = defaultChain();
    chain.compressor.band.ratio = 0.5;
    writeFileSync(at('bad.json'), JSON.stringify(chain));
    const before = readdirSync(scratch.dir).length;
    const r = lathe(['render', input, '--chain', at('bad.json'), '--out', at('never.wav')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/bad\.json: invalid chain: compressor\.band\.ratio: 0\.5 is outside 1…20$/);
    expect(readdirSync(scratch.dir).length).toBe(before);
  });

  it('a failed encode leaves no file and no partial file behind', async () => {
    const dir = at('atomic');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const pipe = dsp.pipeCreate!();
    const session = new EncodeSession(join(dir, 'out.wav'), { muxer: 'wav', codec: 'no_such_encoder', sampleRate: 48_000, channels: 2, channelLayout: 'stereo' }, pipe.readFd);
    dsp.fdClose!(pipe.readFd);
    dsp.fdClose!(pipe.writeFd);
    await expect(session.finish()).rejects.toMatchObject({ code: 'FFMPEG_FAILED' });
    session.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});
