// `lathe`: the engine from the command line. Errors print one line and exit 1 (2 for usage
// mistakes); results go to stdout, diagnostics to stderr.
import { accessSync, constants, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import dsp from '#native-dsp';
import { analyzeFile } from './core/analysis/analyze.js';
import { renderAnalysis } from './core/analysis/report-text.js';
import { LatheError, isLatheError } from './core/errors.js';
import { resolveTool } from './core/media/tools.js';
import { formatForPath } from './core/media/encode.js';
import { probeFile } from './core/media/probe.js';
import { getProfile, listTargets, parseTargetList } from './core/delivery/targets.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { toolVersion } from './core/media/spawn.js';
import { readChainFile } from './chain-file.js';
import { parseReferences } from './references-arg.js';

// The heavy engines (render, master, matching, the demo) load only for the commands that use them,
// so `lathe analyze` does not pay for them at start-up.
const renderEngine = () => import('./core/chain/render.js');
const masterEngine = () => import('./core/delivery/master.js');
const matchEngine = async () => ({ ...(await import('./core/matching/match.js')), ...(await import('./core/matching/run.js')) });

const HELP = `lathe — the mastering studio's engine from the command line

Usage:
  lathe analyze FILE [--json]      measure a file: loudness (BS.1770 / EBU R128), true peak,
                                   spectrum, stereo, dynamics and QC findings
  lathe render FILE --chain CHAIN.json --out OUT [--bits 16|24|32]
                                   render a chain to a file (format from OUT's extension)
  lathe master FILE --targets spotify,ebu-r128,cd --out DIR [--chain CHAIN.json] [--assistant]
               [--profile NAME] [--max-limiting DB] [--codec-checks full|none]
               [--reference REF[:WEIGHT] …] [--json]
                                   deliverables and reports for each target, verified after
                                   encoding (exit 3 when a target was delivered but fails a rule);
                                   --codec-checks none skips the platform codec round trips
                                   (a quick master; its report says they were not checked);
                                   --reference matches tone, dynamics and width first
  lathe match TARGET --reference REF[:WEIGHT] [--reference …] [--amount tone=0.8,loudness=1,
              dynamics=0.5,width=1] [--out OUT.wav|.flac] [--chain-out CHAIN.json]
              [--max-eq DB] [--ceiling DBTP] [--json]
                                   move a mix toward reference tracks (tone, loudness, dynamics,
                                   width) as an editable chain; --out renders the matched master
  lathe assist FILE [--profile NAME] [--target-lufs LUFS] [--json] [--chain-out CHAIN.json]
               [--variation gentle|balanced|loud] [--learn EDITED.json] [--no-habits]
  lathe assist --adjustments | --reset-adjustments [--profile NAME]
                                   the mastering assistant: a chain proposal with a confidence and a
                                   reason per move (low confidence: suggested, not applied);
                                   --learn remembers how you edited it; --adjustments shows what
                                   it learned; master FILE --assistant masters with the proposal
  lathe targets [--json]           the delivery targets and their specs
  lathe album FILES… | --list ALBUM.json --targets LIST --out DIR [--policy anchor|per-track]
              [--anchor FILE] [--chain CHAIN.json] [--profile NAME] [--gap SECONDS]
              [--assistant] [--reference REF[:WEIGHT] …] [--queue redis://HOST:PORT] [--verify]
              [--json]
                                   master an album: one gain for all tracks so their relative
                                   loudness is kept (anchored on the loudest track or --anchor),
                                   or each track to the target (per-track); consistency QC with
                                   outliers named; for cd, one image WAV + CUE sheet dithered once;
                                   an interrupted album resumes, as a batch does: run it again and
                                   the tracks it finished (kept in DIR/.lathe-album, checked by
                                   SHA-256; --verify rereads them) are reused, the album-wide
                                   steps redone over all; --queue hands the album to a lathe
                                   worker as one job
  lathe batch FILES… --targets LIST --out DIR [--jobs N] [--chain CHAIN.json] [--profile NAME]
              [--codec-checks full|none] [--queue redis://HOST:PORT] [--verify] [--json]
                                   master many files in parallel; an interrupted batch resumes
                                   where it stopped (--verify rereads finished files to check
                                   their SHA-256); batch-summary.{html,csv,json} in DIR;
                                   --queue enqueues on Redis for lathe workers and follows them
  lathe worker --queue redis://HOST:PORT [--concurrency N]
                                   run batch and album jobs from the queue (as many workers as
                                   machines)
  lathe serve [--port N]           browser mode: the studio on 127.0.0.1 (0 = any free port);
                                   the first line printed is the URL to open, token included
  lathe demo [--out DIR]           synthesise a demo mix, master it for three targets and say
                                   where the reports are (DIR defaults to ./lathe-demo)
  lathe --version                  versions of Lathe, its DSP addon and the ffmpeg it uses
  lathe --help                     this text

Options for analyze:
  --json                           one JSON object on stdout instead of the table
  --spectrogram                    with --json, include the spectrogram (1024 × 160 dB values)

Exit status: 0 success, 1 error (the message says why), 2 usage error, 3 a target missed its spec.
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

async function renderCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { chain: { type: 'string' }, out: { type: 'string' }, bits: { type: 'string', default: '24' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1 || !values.out) throw new LatheError('USAGE', 'render takes FILE --chain CHAIN.json --out OUT (see lathe --help)');
  const bits = Number(values.bits);
  if (bits !== 16 && bits !== 24 && bits !== 32) throw new LatheError('USAGE', `--bits must be 16, 24 or 32, not ${values.bits}`);
  const chain = readChainFile(values.chain);
  const input = positionals[0]!;
  const out = resolve(values.out);
  if (resolve(input) === out) throw new LatheError('USAGE', 'the output would overwrite the source; choose another --out', { file: input });
  const probe = await probeFile(input);
  const format = formatForPath(out, bits as 16 | 24 | 32);
  const { renderToFile } = await renderEngine();
  const r = await renderToFile(probe, chain, out, { ...format, sampleRate: probe.sampleRate, channels: probe.channels, channelLayout: probe.channelLayout });
  console.log(`wrote ${out} (chain latency ${r.latencyFrames} frames compensated; limiter up to ${r.limiterMaxGrDb.toFixed(1)} dB of gain reduction)`);
  return 0;
}

async function masterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      targets: { type: 'string' },
      out: { type: 'string' },
      chain: { type: 'string' },
      profile: { type: 'string' },
      'max-limiting': { type: 'string' },
      'codec-checks': { type: 'string' },
      reference: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      assistant: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1 || !values.targets || !values.out) {
    throw new LatheError('USAGE', 'master takes FILE --targets LIST --out DIR (see lathe --help)');
  }
  const targets = parseTargetList(values.targets);
  const maxGr = values['max-limiting'] === undefined ? undefined : Number(values['max-limiting']);
  if (maxGr !== undefined && !(maxGr >= 0 && maxGr <= 24)) throw new LatheError('USAGE', '--max-limiting must be a number of dB from 0 to 24');
  const codecChecks = values['codec-checks'] ?? 'full';
  if (codecChecks !== 'full' && codecChecks !== 'none') throw new LatheError('USAGE', '--codec-checks must be full or none');
  let chain = readChainFile(values.chain);
  if (values.assistant) chain = await (await import('./assist-command.js')).assistantChainForMaster(positionals[0]!, values.profile);
  if (values.reference?.length) {
    // Tone, dynamics and width from the references; each target then sets its own loudness.
    const { matchFile, FULL_MATCH } = await matchEngine();
    const matched = await matchFile(positionals[0]!, { references: parseReferences(values.reference), amounts: { ...FULL_MATCH, loudness: 0 }, chain, appVersion: packageVersion(), onProgress: values.json ? undefined : (m) => process.stderr.write(`  ${m}\n`) });
    for (const w of matched.plan.warnings) process.stderr.write(`lathe: warning: ${w}\n`);
    chain = matched.plan.chain;
  }
  const { master } = await masterEngine();
  const result = await master(positionals[0]!, targets, {
    codecChecks,
    outDir: resolve(values.out),
    chain,
    ...(values.profile ? { profile: getProfile(values.profile) } : {}),
    ...(maxGr !== undefined ? { maxLimiterGainReductionDb: maxGr } : {}),
    appVersion: packageVersion(),
    onProgress: values.json ? undefined : (m) => process.stderr.write(`  ${m}\n`),
  });
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        input: result.input,
        targets: result.targets.map((t) => ({
          target: t.target,
          file: t.file,
          integratedLufs: t.integratedLufs,
          truePeakDbtp: t.truePeakDbtp,
          codecChecks: t.codecChecks.map((c) => ({ codec: c.codec, bitrateKbps: c.bitrateKbps, truePeakDbtp: c.truePeakDbtp })),
          pass: t.pass,
          report: t.reportHtml,
        })),
      })}\n`,
    );
  } else {
    for (const t of result.targets) {
      console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.target.padEnd(13)} ${t.file}`);
      console.log(`      ${t.summary}`);
      console.log(`      report: ${t.reportHtml}`);
    }
  }
  return result.targets.every((t) => t.pass) ? 0 : 3;
}

const DEMO_TARGETS = 'spotify,apple-music,ebu-r128';

async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string', default: 'lathe-demo' } } });
  const dir = resolve(values.out!);
  mkdirSync(dir, { recursive: true });
  const mix = join(dir, 'demo-mix.wav');
  console.log(`synthesising a 30 s demo mix (drums, bass, chords, lead; unmastered) → ${mix}`);
  await (await import('./core/demo.js')).writeDemoMix(mix);
  console.log(`mastering it for ${DEMO_TARGETS.split(',').join(', ')} …`);
  const status = await masterCommand([mix, '--targets', DEMO_TARGETS, '--out', dir]);
  console.log(`\nopen the reports (the .report.html files above) in a browser; analyse any file with: lathe analyze ${mix}`);
  return status;
}

function targetsCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const targets = listTargets();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(targets)}\n`);
    return 0;
  }
  for (const t of targets) {
    const lufs = t.integratedLufs === null ? `profile (or ${t.fallbackIntegratedLufs})` : `${t.integratedLufs} LUFS ±${t.toleranceLu}`;
    const checks = t.codecChecks.map((c) => `${c.codec} ${c.bitrateKbps}k`).join(', ');
    console.log(`${t.id.padEnd(13)} ${lufs.padEnd(22)} ${`${t.truePeakCeilingDbtp} dBTP`.padEnd(10)} ${t.deliverable.container}${t.bitDepth ? ` ${t.bitDepth}-bit` : ''}${t.sampleRateHz ? ` ${t.sampleRateHz / 1000} kHz` : ''}${checks ? `; checks ${checks}` : ''}`);
  }
  return 0;
}

async function matchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      reference: { type: 'string', multiple: true },
      amount: { type: 'string' },
      out: { type: 'string' },
      'chain-out': { type: 'string' },
      chain: { type: 'string' },
      'max-eq': { type: 'string' },
      ceiling: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1 || !values.reference?.length) throw new LatheError('USAGE', 'match takes TARGET and at least one --reference REF (see lathe --help)');
  const { matchFile, parseAmounts } = await matchEngine();
  let amounts;
  try {
    amounts = parseAmounts(values.amount);
  } catch (e) {
    throw new LatheError('USAGE', `--amount: ${(e as Error).message}`);
  }
  const num = (name: string, v: string | undefined, lo: number, hi: number) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!(x >= lo && x <= hi)) throw new LatheError('USAGE', `--${name} must be a number from ${lo} to ${hi}`);
    return x;
  };
  const r = await matchFile(positionals[0]!, {
    references: parseReferences(values.reference),
    amounts,
    chain: readChainFile(values.chain),
    maxEqDb: num('max-eq', values['max-eq'], 0, 24),
    ceilingDbtp: num('ceiling', values.ceiling, -24, 0),
    out: values.out,
    appVersion: packageVersion(),
    onProgress: values.json ? undefined : (m) => process.stderr.write(`  ${m}\n`),
  });
  if (values['chain-out']) {
    const file = resolve(values['chain-out']);
    const tmp = `${file}.${process.pid}.partial`;
    try {
      writeFileSync(tmp, `${JSON.stringify(r.plan.chain, null, 2)}\n`);
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ chain: r.plan.chain, targetLufs: r.plan.targetLufs, target: r.target, references: r.references, output: r.output, curves: r.plan.curves, width: r.plan.width, dynamics: r.plan.dynamics, warnings: r.plan.warnings })}\n`);
  } else {
    for (const w of r.plan.warnings) console.log(`warning: ${w}`);
    const eq = r.plan.chain.eq;
    const moves = [eq.lowShelf, ...eq.peaks, eq.highShelf].filter((b) => b.enabled).map((b) => `${b.gainDb >= 0 ? '+' : ''}${b.gainDb.toFixed(1)} dB at ${Math.round(b.freqHz)} Hz (Q ${b.q.toFixed(2)})`);
    console.log(`tone:     ${moves.length ? moves.join(', ') : 'no EQ'}`);
    console.log(`loudness: ${r.target.integratedLufs?.toFixed(1) ?? '—'} → ${r.plan.targetLufs.toFixed(1)} LUFS under ${r.plan.ceilingDbtp} dBTP`);
    console.log(`dynamics: ${r.plan.dynamics.ratio ? `compressor ${r.plan.dynamics.ratio}:1 from ${r.plan.dynamics.thresholdDbfs} dBFS (LRA ${r.plan.dynamics.targetLraLu?.toFixed(1)} → reference ${r.plan.dynamics.referenceLraLu?.toFixed(1)} LU)` : 'unchanged'}`);
    console.log(`width:    ${r.plan.width.map((b) => `${b.band} ×${b.width.toFixed(2)}`).join(', ')}`);
    if (r.output) console.log(`wrote ${r.output.file}: ${r.output.integratedLufs?.toFixed(2)} LUFS, ${r.output.truePeakDbtp?.toFixed(2)} dBTP, LRA ${r.output.loudnessRangeLu?.toFixed(1)} LU; report ${r.output.report}`);
  }
  return r.output && !r.output.pass ? 3 : 0;
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
    if (command === 'render') return await renderCommand(rest);
    if (command === 'master') return await masterCommand(rest);
    if (command === 'targets') return targetsCommand(rest);
    if (command === 'match') return await matchCommand(rest);
    if (command === 'assist') return await (await import('./assist-command.js')).assistCommand(rest);
    if (command === 'demo') return await demoCommand(rest);
    if (command === 'album') return await (await import('./album-command.js')).albumCommand(rest, packageVersion());
    if (command === 'batch') return await (await import('./batch-command.js')).batchCommand(rest, packageVersion());
    if (command === 'worker') return await (await import('./batch-command.js')).workerCommand(rest);
    if (command === 'serve') return await (await import('./serve-command.js')).serveCommand(rest, packageVersion());
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
    const fsProblem = fileSystemProblem(e);
    if (fsProblem) {
      process.stderr.write(`lathe: ${fsProblem}\n`);
      return 1;
    }
    // Anything else is a bug in Lathe: still one line, with a pointer to report it.
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`lathe: internal error: ${message.split('\n')[0]} (please report this)\n`);
    return 1;
  }
}

const ERRNO_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};
const SYSCALL_VERBS: Record<string, string> = { mkdir: 'create the folder', mkdtemp: 'create a folder', open: 'open', write: 'write', rename: 'move the file into place', unlink: 'remove', rmdir: 'remove', scandir: 'list', stat: 'read', lstat: 'read' };

/** A file-system error (Node's ErrnoException) as one line naming the path and the problem. */
function fileSystemProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string' || !ERRNO_REASONS[err.code]) return null;
  let code = err.code;
  // A recursive mkdir on a read-only file system reports ENOENT; the parent that exists says why.
  if (err.syscall === 'mkdir' && code === 'ENOENT' && err.path && existsSync(dirname(err.path))) {
    try {
      accessSync(dirname(err.path), constants.W_OK);
    } catch (a) {
      code = (a as NodeJS.ErrnoException).code ?? code;
    }
  }
  const verb = SYSCALL_VERBS[err.syscall ?? ''] ?? err.syscall ?? 'use';
  // A rename names the destination: the temporary source is an implementation detail.
  const path = err.syscall === 'rename' ? ((err as { dest?: string }).dest ?? err.path) : err.path;
  return `${path ?? 'a file'}: cannot ${verb}: ${ERRNO_REASONS[code] ?? ERRNO_REASONS[err.code]}`;
}
