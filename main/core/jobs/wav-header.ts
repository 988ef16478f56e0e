// The 58-byte header of a 32-bit float WAV (WAVE_FORMAT_IEEE_FLOAT with a fact chunk, as the RIFF
// spec asks of non-PCM formats), for preview files whose frames native code writes behind it.

export const FLOAT_WAV_HEADER_BYTES = 58;

export function floatWavHeader(sampleRate: number, channels: number, frames: number): Buffer {
  const dataBytes = frames * channels * 4;
  const b = Buffer.alloc(FLOAT_WAV_HEADER_BYTES);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(FLOAT_WAV_HEADER_BYTES - 8 + dataBytes, 4);
  b.write('WAVE', 8, 'latin1');
  b.write('fmt ', 12, 'latin1');
  b.writeUInt32LE(18, 16);
  b.writeUInt16LE(3, 20); // WAVE_FORMAT_IEEE_FLOAT
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * channels * 4, 28);
  b.writeUInt16LE(channels * 4, 32);
  b.writeUInt16LE(32, 34);
  b.writeUInt16LE(0, 36); // cbSize
  b.write('fact', 38, 'latin1');
  b.writeUInt32LE(4, 42);
  b.writeUInt32LE(frames, 46);
  b.write('data', 50, 'latin1');
  b.writeUInt32LE(dataBytes, 54);
  return b;
}
