// Writes WAV files for tests: 16/24/32-bit integer or 32-bit float, any channel count, with a
// WAVE_FORMAT_EXTENSIBLE header and channel mask when a layout is given (so ffprobe reports it).
import { writeFileSync } from 'node:fs';

export type WavFormat = 'pcm16' | 'pcm24' | 'pcm32' | 'float32';

/** Speaker-position bits of WAVEFORMATEXTENSIBLE's dwChannelMask. */
export const CHANNEL_MASKS = {
  mono: 0x4,
  stereo: 0x3,
  '5.0': 0x37, // FL FR FC BL BR
  '5.1': 0x3f, // FL FR FC LFE BL BR
  '5.1(side)': 0x60f, // FL FR FC LFE SL SR
} as const;

export function wavBytes(planes: Float32Array[], sampleRate: number, format: WavFormat, channelMask?: number): Buffer {
  const channels = planes.length;
  const frames = planes[0]!.length;
  const bits = format === 'pcm16' ? 16 : format === 'pcm24' ? 24 : 32;
  const bytesPerSample = bits / 8;
  const dataBytes = frames * channels * bytesPerSample;
  const extensible = channelMask !== undefined;
  const fmtSize = extensible ? 40 : 16;
  const buf = Buffer.alloc(12 + 8 + fmtSize + 8 + dataBytes);
  let o = 0;
  const str = (s: string) => {
    buf.write(s, o, 'latin1');
    o += 4;
  };
  const u32 = (v: number) => {
    buf.writeUInt32LE(v, o);
    o += 4;
  };
  const u16 = (v: number) => {
    buf.writeUInt16LE(v, o);
    o += 2;
  };
  const formatTag = format === 'float32' ? 3 : 1;
  str('RIFF');
  u32(buf.length - 8);
  str('WAVE');
  str('fmt ');
  u32(fmtSize);
  u16(extensible ? 0xfffe : formatTag);
  u16(channels);
  u32(sampleRate);
  u32(sampleRate * channels * bytesPerSample);
  u16(channels * bytesPerSample);
  u16(bits);
  if (extensible) {
    u16(22);
    u16(bits);
    u32(channelMask);
    // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: {0000000X-0000-0010-8000-00aa00389b71}
    u16(formatTag);
    u16(0);
    u32(0x00100000);
    u32(0xaa000080);
    u32(0x719b3800);
  }
  str('data');
  u32(dataBytes);
  const full = 2 ** (bits - 1);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const x = planes[c]![i]!;
      if (format === 'float32') {
        buf.writeFloatLE(x, o);
      } else {
        const v = Math.max(-full, Math.min(full - 1, Math.round(x * full)));
        if (bits === 16) buf.writeInt16LE(v, o);
        else if (bits === 24) buf.writeIntLE(v, o, 3);
        else buf.writeInt32LE(v, o);
      }
      o += bytesPerSample;
    }
  }
  return buf;
}

export function writeWav(path: string, planes: Float32Array[], sampleRate: number, format: WavFormat = 'pcm24', channelMask?: number): string {
  writeFileSync(path, wavBytes(planes, sampleRate, format, channelMask));
  return path;
}
