// What each kind of job takes and gives back. Jobs run in worker threads (./worker.ts); these
// types are the messages between the pool and a worker, so they hold only structured-clone data.
import type { AnalysisResult } from '../analysis/analyze.js';
import type { ChainDocument } from '../chain/document.js';
import type { EncodeFormat } from '../media/encode.js';
import type { AudioProbe } from '../media/probe.js';
import type { Proposal } from '../assistant/propose.js';
import type { TargetProgress } from '../delivery/master.js';

export interface JobParams {
  /** Decodes a file once into interleaved f32 frames (the preview renders read from it). */
  decode: { probe: AudioProbe; cacheFile: string };
  analysis: { file: string; includeSpectrogram: boolean };
  preview: PreviewParams;
  render: { probe: AudioProbe; chain: ChainDocument; output: string; format: EncodeFormat };
  export: ExportParams;
  /** Plans a reference match (the matching engine) from the track's and the reference's files. */
  match: { target: string; reference: string; chain: ChainDocument; /** A weighted blend of references (replaces `reference`). */ references?: { file: string; weight: number }[] };
  /** Listens to a file and asks the assistant's model for a proposal. */
  assist: { file: string; profile: string | null; targetLufs: number | null; adjustmentsPath: string | null };
}

export interface JobResults {
  decode: { cacheFile: string; frames: number };
  analysis: AnalysisResult;
  preview: PreviewRegion;
  render: { files: string[]; latencyFrames: number; limiterMaxGrDb: number };
  export: { files: string[]; pass: boolean; summaries: string[] };
  match: { chain: ChainDocument; summary: string };
  assist: Proposal;
}

export type JobKindName = keyof JobParams;

export interface PreviewParams {
  /** The decoded track (interleaved f32le, `frames` frames). */
  cacheFile: string;
  sampleRate: number;
  channels: number;
  frames: number;
  chain: ChainDocument;
  playheadSeconds: number;
  windowSeconds: number;
  /** Where the window and the whole track go (float WAV). */
  windowFile: string;
  fullFile: string;
}

export interface PreviewRegion {
  region: 'window' | 'full';
  file: string;
  startSeconds: number;
  endSeconds: number;
}

export interface ExportParams {
  input: string;
  targetIds: string[];
  profileId: string | null;
  chain: ChainDocument;
  codecChecks: 'full' | 'none';
  maxLimitingDb: number;
  /** Where the deliverables and reports end up; they appear only when every target is done. */
  outDir: string;
  appVersion: string;
}

/** Pool → worker. `cancel` is an Int32Array over shared memory: non-zero means stop, seen even
 *  while the worker is inside a long synchronous stretch between event-loop turns. */
export type ToWorker =
  | { type: 'run'; jobId: string; kind: JobKindName; params: unknown; cancel: Int32Array }
  | { type: 'cancel'; jobId: string };

/** Worker → pool. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; fraction: number; stage: string; /** An export's targets, in order. */ targets?: TargetProgress[] }
  | { type: 'partial'; jobId: string; value: unknown }
  | { type: 'done'; jobId: string; value: unknown }
  | { type: 'failed'; jobId: string; code: string; message: string };
