// Number formatting for meters and tables: fixed decimals, a real minus sign, "—" for undefined.
export function num(value: number | null | undefined, digits = 1, unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  const sign = value < 0 && Number(text) !== 0 ? '−' : '';
  return `${sign}${text}${unit ? `\u2009${unit}` : ''}`;
}

export function signed(value: number | null | undefined, digits = 1, unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  const sign = Number(text) === 0 ? '±' : value < 0 ? '−' : '+';
  return `${sign}${text}${unit ? `\u2009${unit}` : ''}`;
}

export function time(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

export function hz(value: number): string {
  return value >= 1000 ? `${Number((value / 1000).toFixed(value >= 10_000 ? 1 : 2))}\u2009kHz` : `${Math.round(value)}\u2009Hz`;
}
