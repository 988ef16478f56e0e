// A tiny PNG encoder (8-bit RGBA, no interlace) so the delivery report can inline its spectrograms
// as data URIs without an image library. PNG structure per the W3C PNG specification (3rd ed.):
// signature, IHDR, one IDAT (zlib stream of filtered scanlines), IEND; each chunk carries a CRC-32
// (ISO 3309 / ITU-T V.42 polynomial, as in zlib) over its type and data.
import { deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Colour type 6: truecolour with alpha, 4 bytes per pixel at bit depth 8. */
const COLOR_TYPE_RGBA = 6;
const BYTES_PER_PIXEL = 4;
/** Filter type 1 (Sub): each byte minus the one a pixel to its left; smooth images deflate better. */
const FILTER_SUB = 1;

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG (and zlib) define it: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode `rgba` (row-major, top row first, 4 bytes per pixel, straight alpha) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new RangeError(`PNG dimensions must be positive integers, got ${width}×${height}`);
  }
  const stride = width * BYTES_PER_PIXEL;
  if (rgba.length !== stride * height) {
    throw new RangeError(`expected ${stride * height} RGBA bytes for ${width}×${height}, got ${rgba.length}`);
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE_RGBA;
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method: adaptive (the only one)
  ihdr[12] = 0; // no interlace

  const scanlines = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const src = y * stride;
    const dst = y * (stride + 1);
    scanlines[dst] = FILTER_SUB;
    for (let i = 0; i < stride; i++) {
      const left = i >= BYTES_PER_PIXEL ? rgba[src + i - BYTES_PER_PIXEL]! : 0;
      scanlines[dst + 1 + i] = (rgba[src + i]! - left) & 0xff;
    }
  }

  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(scanlines, { level: 9 })), chunk('IEND', new Uint8Array(0))]);
}
