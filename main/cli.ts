// `lathe`: the engine from the command line. Errors print one line and exit 1 (2 for usage
// mistakes); results go to stdout, diagnostics to stderr.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import dsp from '#native-dsp';
import { analyzeFile } from './core/analysis/analyze.js';
import { renderAnalysis } from './core/analysis/report-text.js';
import { LatheError, isLatheError } from './core/errors.js';
import { resolveTool } from './core/media/tools.js';
import { toolVersion } from './core/media/spawn.js';

const HELP = `lathe — the mastering studio's engine from the command line

Usage:
  lathe analyze FILE [--json]      measure a file: loudness (BS.1770 / EBU R128), true peak,
                                   spectrum, stereo, dynamics and QC findings
  lathe --version                  versions of Lathe, its DSP addon and the ffmpeg it uses
  lathe --help                     this text

Options for analyze:
  --json                           one JSON object on stdout instead of the table
  --spectrogram                    with --json, include the spectrogram (1024 × 160 dB values)

Exit status: 0 success, 1 the file could not be analysed (the message says why), 2 usage error.
Environment: LATHE_FFMPEG / LATHE_FFPROBE choose the ffmpeg and ffprobe binaries.`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function versionText(): Promise<string> {
  const lines = [`lathe ${packageVersion()}`, `native-dsp ${dsp.version()}`, `node ${process.versions.node}`];
  for (const name of ['ffmpeg', 'ffprobe'] as const) {
    try {
      const tool = resolveTool(name);
      lines.push(`${name} ${tool.path} (from ${tool.origin}): ${await toolVersion(name)}`);
    } catch (e) {
      lines.push(`${name}: ${(e as Error).message}`);
    }
  }
  return lines.join('\n');
}

async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      spectrogram: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new LatheError('USAGE', 'analyze takes exactly one FILE (see lathe --help)');
  const result = await analyzeFile(positionals[0]!, { includeSpectrogram: values.spectrogram });
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${renderAnalysis(result)}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      console.log(HELP);
      return command ? 0 : 2;
    }
    if (command === '--version' || command === '-v' || command === 'version') {
      console.log(await versionText());
      return 0;
    }
    if (command === 'analyze') return await analyzeCommand(rest);
    throw new LatheError('USAGE', `unknown command "${command}" (see lathe --help)`);
  } catch (e) {
    if (isLatheError(e)) {
      process.stderr.write(`lathe: ${e.message}\n`);
      return e.code === 'USAGE' ? 2 : 1;
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`lathe: ${e.message} (see lathe --help)\n`);
      return 2;
    }
    // Anything else is a bug in Lathe: still one line, with a pointer to report it.
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`lathe: internal error: ${message.split('\n')[0]} (please report this)\n`);
    return 1;
  }
}
