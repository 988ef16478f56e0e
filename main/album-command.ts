// `lathe album FILES… | --list ALBUM.json --targets LIST --out DIR [--policy anchor|per-track]
// [--anchor FILE] [--chain CHAIN.json] [--profile NAME] [--max-limiting DB] [--codec-checks full|none]
// [--gap SECONDS] [--title T] [--performer P] [--name STEM] [--queue redis://HOST:PORT] [--verify]
// [--json]`:
// master an album.
//
// An album resumes, as a batch does: run again with the same inputs and settings after it was
// killed or cancelled, it reuses every track master it finished (kept, with a record and its
// SHA-256, in DIR/.lathe-album) and masters only the rest; the album's own steps run over all
// tracks every time. --queue hands the album to a `lathe worker` as one job and follows it.
//
// ALBUM.json: { "title", "performer", "songwriter", "catalog" (13 digits), "gapSeconds",
//   "tracks": [ { "file", "chain" (a path or a chain document), "title", "performer",
//   "songwriter", "isrc", "pregapSeconds" } ] } — relative paths from the list's folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { masterAlbum, type AlbumDocument, type AlbumResult, type AlbumTrack } from './core/album/album.js';
import { ChainError, validateChain, type ChainDocument } from './core/chain/document.js';
import { getProfile, parseTargetList } from './core/delivery/targets.js';
import { LatheError } from './core/errors.js';
import { readChainFile } from './chain-file.js';
import { parseReferences } from './references-arg.js';


const str = (v: unknown, where: string, list: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new LatheError('USAGE', `${where} must be a string`, { file: list });
  return v;
};
const num = (v: unknown, where: string, list: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LatheError('USAGE', `${where} must be a number`, { file: list });
  return v;
};

/** Reads an album list; relative paths are taken from the list's folder. */
export function readAlbumList(list: string): AlbumDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(list, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LatheError(code ? 'FILE_NOT_FOUND' : 'USAGE', code ? `cannot read the album list (${code})` : `the album list is not valid JSON (${(e as Error).message})`, { file: list });
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { tracks?: unknown }).tracks)) throw new LatheError('USAGE', 'the album list needs a "tracks" array', { file: list });
  const d = doc as Record<string, unknown> & { tracks: unknown[] };
  const base = dirname(resolve(list));
  const tracks: AlbumTrack[] = d.tracks.map((raw, i) => {
    const where = `tracks[${i}]`;
    if (!raw || typeof raw !== 'object') throw new LatheError('USAGE', `${where} must be an object with a "file"`, { file: list });
    const t = raw as Record<string, unknown>;
    const file = str(t.file, `${where}.file`, list);
    if (!file) throw new LatheError('USAGE', `${where} has no "file"`, { file: list });
    let chain: ChainDocument | undefined;
    if (typeof t.chain === 'string') chain = readChainFile(resolve(base, t.chain));
    else if (t.chain !== undefined) {
      try {
        chain = validateChain(t.chain as never);
      } catch (e) {
        if (e instanceof ChainError) throw new LatheError('USAGE', `${where}.chain is invalid: ${e.message}`, { file: list });
        throw e;
      }
    }
    const out: AlbumTrack = { file: resolve(base, file) };
    if (chain) out.chain = chain;
    for (const k of ['title', 'performer', 'songwriter', 'isrc'] as const) {
      const v = str(t[k], `${where}.${k}`, list);
      if (v !== undefined) out[k] = v;
    }
    const pregap = num(t.pregapSeconds, `${where}.pregapSeconds`, list);
    if (pregap !== undefined) out.pregapSeconds = pregap;
    return out;
  });
  const album: AlbumDocument = { tracks };
  for (const k of ['title', 'performer', 'songwriter', 'catalog'] as const) {
    const v = str(d[k], k, list);
    if (v !== undefined) album[k] = v;
  }
  const gap = num(d.gapSeconds, 'gapSeconds', list);
  if (gap !== undefined) album.gapSeconds = gap;
  return album;
}

export async function albumCommand(args: string[], appVersion: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      list: { type: 'string' },
      targets: { type: 'string' },
      out: { type: 'string' },
      policy: { type: 'string', default: 'anchor' },
      anchor: { type: 'string' },
      chain: { type: 'string' },
      profile: { type: 'string' },
      'max-limiting': { type: 'string' },
      'codec-checks': { type: 'string' },
      gap: { type: 'string' },
      title: { type: 'string' },
      performer: { type: 'string' },
      name: { type: 'string' },
      assistant: { type: 'boolean', default: false },
      reference: { type: 'string', multiple: true },
      queue: { type: 'string' },
      verify: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if ((positionals.length === 0) === !values.list || !values.targets || !values.out) {
    throw new LatheError('USAGE', 'album takes FILES… or --list ALBUM.json, with --targets LIST --out DIR (see lathe --help)');
  }
  const policy = values.policy;
  if (policy !== 'anchor' && policy !== 'per-track') throw new LatheError('USAGE', `--policy must be anchor or per-track, not ${policy}`);
  if (values.anchor && policy !== 'anchor') throw new LatheError('USAGE', '--anchor goes with --policy anchor');
  const targets = parseTargetList(values.targets);
  const maxGr = values['max-limiting'] === undefined ? undefined : Number(values['max-limiting']);
  if (maxGr !== undefined && !(maxGr >= 0 && maxGr <= 24)) throw new LatheError('USAGE', '--max-limiting must be a number of dB from 0 to 24');
  const codecChecks = values['codec-checks'] ?? 'full';
  if (codecChecks !== 'full' && codecChecks !== 'none') throw new LatheError('USAGE', '--codec-checks must be full or none');
  const album: AlbumDocument = values.list ? readAlbumList(values.list) : { tracks: positionals.map((f) => ({ file: resolve(f) })) };
  if (values.gap !== undefined) {
    const g = Number(values.gap);
    if (!(g >= 0 && g <= 60)) throw new LatheError('USAGE', '--gap must be a number of seconds from 0 to 60');
    album.gapSeconds = g;
  }
  if (values.title !== undefined) album.title = values.title;
  if (values.performer !== undefined) album.performer = values.performer;
  const shared = readChainFile(values.chain);
  const say = values.json ? () => {} : (m: string) => process.stderr.write(`  ${m}\n`);
  if (values.assistant || values.reference?.length) {
    // Each track without a chain of its own gets the assistant's proposal, and then (with
    // --reference) its tone, dynamics and width moved toward the references; the album's
    // loudness policy sets the levels afterwards.
    const references = parseReferences(values.reference ?? []);
    let assistant: typeof import('./core/assistant/assist.js') | undefined;
    try {
      for (const t of album.tracks) {
        let chain = t.chain ?? shared;
        if (values.assistant && !t.chain) {
          assistant ??= await import('./core/assistant/assist.js');
          say(`asking the assistant about ${t.file}`);
          chain = await assistant.assistantChainFor(t.file, { profile: values.profile });
        }
        if (references.length) {
          const { FULL_MATCH } = await import('./core/matching/match.js');
          const { matchFile } = await import('./core/matching/run.js');
          const matched = await matchFile(t.file, { references, amounts: { ...FULL_MATCH, loudness: 0 }, chain, appVersion, onProgress: say });
          for (const w of matched.plan.warnings) process.stderr.write(`lathe: warning: ${t.file}: ${w}\n`);
          chain = matched.plan.chain;
        }
        t.chain = chain;
      }
    } finally {
      if (assistant) await (await import('./core/assistant/model.js')).releaseAssistantModel();
    }
  }
  // Ctrl-C cancels: nothing of this run is delivered (half an album is not a delivery), and the
  // tracks it finished are kept for the next run. With --queue it takes back a job no worker has
  // started (a running album finishes on its worker).
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(values.queue ? 'lathe: no longer following the album (a job no worker has started is taken back)\n' : 'lathe: cancelling the album\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: AlbumResult;
  try {
    if (values.queue) {
      const { enqueueAlbum } = await import('./core/queue/album-queue.js');
      if (values.profile) getProfile(values.profile);
      for (const t of album.tracks) t.file = resolve(t.file);
      const queued = await enqueueAlbum(
        values.queue,
        {
          kind: 'album',
          album,
          targetIds: targets.map((t) => t.id),
          chain: shared,
          policy,
          anchor: values.anchor ? resolve(values.anchor) : null,
          profileId: values.profile ?? null,
          maxLimitingDb: maxGr ?? null,
          codecChecks,
          name: values.name ?? 'album',
          outDir: resolve(values.out),
          verify: values.verify,
          appVersion,
        },
        { signal: controller.signal, onProgress: (stage, worker) => say(`${stage}${worker ? ` (${worker})` : ''}`), onNotice: (m) => process.stderr.write(`lathe: ${m}\n`) },
      );
      if (!queued.result) {
        process.stderr.write('lathe: the album was taken back from the queue before a worker started it\n');
        return 130;
      }
      result = queued.result;
    } else result = await masterAlbum(album, targets, {
      signal: controller.signal,
      outDir: resolve(values.out),
      chain: shared,
      policy,
      ...(values.anchor ? { anchor: values.anchor } : {}),
      ...(values.profile ? { profile: getProfile(values.profile) } : {}),
      ...(maxGr !== undefined ? { maxLimiterGainReductionDb: maxGr } : {}),
      codecChecks,
      ...(values.name ? { name: values.name } : {}),
      verify: values.verify,
      appVersion,
      onProgress: say,
    });
  } catch (e) {
    if (controller.signal.aborted && !values.queue) {
      process.stderr.write(`lathe: album cancelled; nothing of it was delivered (the tracks it finished are kept in ${resolve(values.out)}/.lathe-album: run it again to resume)\n`);
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        policy: result.policy,
        anchor: result.anchor,
        tracks: result.tracks.map((t) => ({ input: t.input, target: t.target, file: t.file, requestedLufs: t.requestedLufs, integratedLufs: t.integratedLufs, truePeakDbtp: t.truePeakDbtp, pass: t.pass, reused: t.reused, ...(t.cd ? { cd: t.cd } : {}), report: t.report })),
        consistency: result.consistency,
        consistencyByTarget: result.consistencyByTarget,
        preLimiterLufs: result.preLimiterLufs,
        cd: result.cd ? { image: result.cd.image, cue: result.cd.cue } : null,
        report: result.report,
        reportHtml: result.reportHtml,
      })}\n`,
    );
  } else {
    if (result.anchor) console.log(`anchor: ${result.anchor} (every track keeps its loudness relative to it)`);
    for (const t of result.tracks) {
      console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.target.padEnd(13)} ${t.input}${t.reused ? ' (reused from an earlier run)' : ''}`);
      console.log(`      requested ${t.requestedLufs.toFixed(2)} LUFS, achieved ${t.integratedLufs?.toFixed(2) ?? '—'} LUFS, true peak ${t.truePeakDbtp?.toFixed(2) ?? '—'} dBTP → ${t.file}${t.cd ? ` (track ${t.cd.number}, INDEX 01 ${t.cd.index01})` : ''}`);
    }
    const c = result.consistency;
    console.log(`consistency (${c.target}): loudness spread ${c.spread.integratedLu?.toFixed(1) ?? '—'} LU, loudness range spread ${c.spread.loudnessRangeLu?.toFixed(1) ?? '—'} LU, tone up to ${c.spread.toneDistanceMaxDb?.toFixed(1) ?? '—'} dB from the album mean, width spread ${c.spread.sideToMidDb?.toFixed(1) ?? '—'} dB`);
    for (const o of result.consistencyByTarget.flatMap((r) => r.outliers.map((x) => ({ ...x, target: r.target })))) console.log(`  outlier (${o.aspect}, ${o.target}): ${o.message}`);
    if (result.cd) console.log(`cd: ${result.cd.image} + ${result.cd.cue}`);
    console.log(`report: ${result.reportHtml}`);
  }
  return result.pass ? 0 : 3;
}
