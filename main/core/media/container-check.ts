// Reads the chunk headers of RIFF/WAVE and AIFF files to catch truncation that ffmpeg does not
// report: its demuxers quietly clamp a data chunk to the bytes present, so a WAV cut on a frame
// boundary decodes "successfully" to a shorter file. Only headers are read, never samples.
import { open } from 'node:fs/promises';

export interface ContainerCheck {
  /** Bytes of audio data the header declares. */
  declaredDataBytes: number;
  /** Bytes of audio data actually present in the file. */
  presentDataBytes: number;
}

const HEADER_BYTES = 1 << 16;

export async function checkContainer(file: string, fileSize: number): Promise<ContainerCheck | null> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(HEADER_BYTES, fileSize));
    await handle.read(buf, 0, buf.length, 0);
    const id = buf.toString('latin1', 0, 4);
    const form = buf.toString('latin1', 8, 12);
    if (id === 'RIFF' && form === 'WAVE') return walk(buf, fileSize, 'data', 0, (b, o) => b.readUInt32LE(o));
    if (id === 'FORM' && (form === 'AIFF' || form === 'AIFC')) {
      // SSND: 8 bytes of offset and block size precede the samples.
      return walk(buf, fileSize, 'SSND', 8, (b, o) => b.readUInt32BE(o));
    }
    return null;
  } finally {
    await handle.close();
  }
}

function walk(
  buf: Buffer,
  fileSize: number,
  dataId: string,
  dataPreamble: number,
  readSize: (b: Buffer, offset: number) => number,
): ContainerCheck | null {
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const chunk = buf.toString('latin1', offset, offset + 4);
    const size = readSize(buf, offset + 4);
    if (chunk === dataId) {
      // 0 and 0xFFFFFFFF mean "unknown" (streamed or RF64-style writers): nothing to check.
      if (size === 0 || size === 0xffffffff) return null;
      const start = offset + 8 + dataPreamble;
      return { declaredDataBytes: size - dataPreamble, presentDataBytes: Math.max(0, fileSize - start) };
    }
    offset += 8 + size + (size % 2);
  }
  return null;
}
