// Jobs in flight (with progress and cancel) and errors shown in words, with what to do.
import type { JobKind } from '../../../preload/contract.js';

export interface JobView {
  jobId: string;
  kind: JobKind;
  label: string;
  fraction: number;
  stage: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
}

export interface Notice {
  id: number;
  title: string;
  message: string;
  hint: string;
  code: string;
}

const HINTS: Record<string, string> = {
  NOT_AVAILABLE: 'This needs something this build or mode does not have; the rest of the studio works without it.',
  MODEL_INVALID: 'The assistant model is missing or does not match its card: the table shows the current values, edit them directly.',
  DISCONNECTED: 'The engine stopped: start `lathe serve` again and reload this page.',
  CORRUPT_AUDIO: 'Check that the file plays elsewhere, or export it again as WAV or FLAC.',
  NOT_AUDIO: 'Choose an audio file (WAV, AIFF, FLAC, MP3, AAC, Ogg, Opus).',
  NO_AUDIO_STREAM: 'The file has no audio stream: choose an audio file.',
  EMPTY_FILE: 'The file is empty: export it again from your DAW.',
  TRUNCATED_AUDIO: 'The file ends early: export or copy it again.',
  BAD_PAYLOAD: 'A value is out of range: correct it and try again.',
  NOT_FOUND: 'Open a track first (or the demo), then try again.',
  FFMPEG_NOT_FOUND: 'Install ffmpeg or set LATHE_FFMPEG, then restart Lathe.',
  INTERNAL: 'This is a bug in Lathe: please report it with what you were doing.',
};

export function hintFor(code: string): string {
  return HINTS[code] ?? '';
}

export class JobsState {
  #jobs = $state.raw<JobView[]>([]);

  get all() { return this.#jobs; }
  get running() { return this.#jobs.filter((j) => j.state === 'running'); }
  byId(jobId: string) { return this.#jobs.find((j) => j.jobId === jobId); }

  progress(p: { jobId: string; kind: JobKind; fraction: number; stage: string }, label?: string): void {
    const existing = this.byId(p.jobId);
    const job: JobView = { jobId: p.jobId, kind: p.kind, label: label ?? existing?.label ?? p.kind, fraction: p.fraction, stage: p.stage, state: 'running' };
    this.#jobs = existing ? this.#jobs.map((j) => (j.jobId === p.jobId ? job : j)) : [...this.#jobs, job].slice(-30);
  }

  finish(jobId: string, state: 'done' | 'failed' | 'cancelled', stage: string): void {
    this.#jobs = this.#jobs.map((j) => (j.jobId === jobId ? { ...j, state, stage, fraction: state === 'done' ? 1 : j.fraction } : j));
  }
}

export class NoticesState {
  #items = $state.raw<Notice[]>([]);
  #next = 1;

  get items() { return this.#items; }

  error(title: string, e: unknown): void {
    const code = (e as { code?: string })?.code ?? 'INTERNAL';
    const message = e instanceof Error ? e.message : String((e as { message?: string })?.message ?? e);
    this.#items = [...this.#items, { id: this.#next++, title, message, hint: hintFor(code), code }].slice(-5);
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((n) => n.id !== id);
  }
}
