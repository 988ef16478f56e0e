// The demo: with no input at all, synthesise a short unmastered multi-instrument mix (native-dsp
// demo.rs: drums, bass, chords, lead, in sections) and write it as a 24-bit WAV, so a new user has
// something to master, hear and look at before bringing their own music.
import dsp from '#native-dsp';
import { LatheError } from './errors.js';
import { EncodeSession } from './media/encode.js';

export const DEMO_SAMPLE_RATE = 48_000;
export const DEMO_SECONDS = 30;

export async function writeDemoMix(output: string, options: { seconds?: number; seed?: number } = {}): Promise<void> {
  const { pipeCreate, fdClose, demoWriteFd } = dsp;
  if (!pipeCreate || !fdClose || !demoWriteFd) throw new LatheError('USAGE', 'the demo needs the native pipe functions, which this platform build lacks');
  const pipe = pipeCreate();
  let encoder: EncodeSession | undefined;
  try {
    try {
      encoder = new EncodeSession(output, { muxer: 'wav', codec: 'pcm_s24le', sampleRate: DEMO_SAMPLE_RATE, channels: 2, channelLayout: 'stereo' }, pipe.readFd);
    } finally {
      fdClose(pipe.readFd);
    }
    demoWriteFd({ sampleRate: DEMO_SAMPLE_RATE, seconds: options.seconds ?? DEMO_SECONDS, seed: options.seed ?? 1 }, pipe.writeFd);
    fdClose(pipe.writeFd);
    pipe.writeFd = -1;
    await encoder.finish();
  } finally {
    if (pipe.writeFd >= 0) fdClose(pipe.writeFd);
    encoder?.close();
  }
}
