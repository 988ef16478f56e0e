// The engine's one error type: a stable code for programs, and a message for people that names
// the file and the problem in one line.

export type LatheErrorCode =
  | 'FILE_NOT_FOUND'
  | 'IS_DIRECTORY'
  | 'PERMISSION_DENIED'
  | 'EMPTY_FILE'
  | 'NOT_AUDIO'
  | 'NO_AUDIO_STREAM'
  | 'CORRUPT_AUDIO'
  | 'TRUNCATED_AUDIO'
  | 'NO_SAMPLES'
  | 'UNSUPPORTED_FORMAT'
  | 'FFMPEG_NOT_FOUND'
  | 'FFMPEG_FAILED'
  | 'WRITE_FAILED'
  | 'NATIVE_DSP'
  | 'CANCELLED'
  | 'MODEL_INVALID'
  | 'QUEUE_UNREACHABLE'
  | 'QUEUE_JOB_FAILED'
  | 'USAGE';

export class LatheError extends Error {
  readonly code: LatheErrorCode;
  readonly file: string | undefined;

  constructor(code: LatheErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(options.file ? `${options.file}: ${message}` : message, { cause: options.cause });
    this.name = 'LatheError';
    this.code = code;
    this.file = options.file;
  }
}

export function isLatheError(e: unknown): e is LatheError {
  return e instanceof LatheError;
}
