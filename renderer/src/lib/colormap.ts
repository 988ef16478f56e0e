// A perceptual dark-to-bright palette (magma-like, from a few anchor colours) for spectrograms,
// and a diverging blue–white–red one for differences.
function lut(anchors: [number, number, number][]): Uint8ClampedArray {
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (anchors.length - 1);
    const k = Math.min(anchors.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = anchors[k]![c]! + f * (anchors[k + 1]![c]! - anchors[k]![c]!);
  }
  return out;
}

export const MAGMA = lut([
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 253, 191],
]);

export const DIVERGING = lut([
  [90, 170, 255],
  [40, 90, 160],
  [18, 30, 52],
  [12, 13, 16],
  [58, 24, 20],
  [170, 60, 40],
  [255, 120, 80],
]);

export interface Grid {
  columns: number;
  rows: number;
  rowHz: number[];
  db: number[];
}

/** Paints a column-major dB grid into an ImageData (row 0 at the bottom). */
export function paint(grid: Grid, palette: Uint8ClampedArray, lo: number, hi: number, value: (i: number) => number = (i) => grid.db[i]!): ImageData {
  const { columns, rows } = grid;
  const img = new ImageData(columns, rows);
  const span = hi - lo;
  for (let c = 0; c < columns; c++) {
    for (let r = 0; r < rows; r++) {
      const v = value(c * rows + r);
      const k = Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255)));
      const o = ((rows - 1 - r) * columns + c) * 4;
      img.data[o] = palette[k * 3]!;
      img.data[o + 1] = palette[k * 3 + 1]!;
      img.data[o + 2] = palette[k * 3 + 2]!;
      img.data[o + 3] = 255;
    }
  }
  return img;
}
