// Export as a job: master every target into a staging folder beside the destination, and move
// the deliverables and reports into place only when every target is done, so a cancelled or failed
// export leaves nothing behind (master writes its files atomically one by one; this makes the
// whole export atomic too).
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { master } from '../delivery/master.js';
import { getProfile, getTarget } from '../delivery/targets.js';
import type { ExportParams, JobResults } from './kinds.js';

export async function runExport(p: ExportParams, signal: AbortSignal, onProgress: (fraction: number, stage: string) => void): Promise<JobResults['export']> {
  const targets = p.targetIds.map((id) => getTarget(id));
  mkdirSync(p.outDir, { recursive: true });
  const staging = mkdtempSync(join(p.outDir, '.lathe-export-'));
  try {
    let step = 0;
    const result = await master(p.input, targets, {
      outDir: staging,
      chain: p.chain,
      ...(p.profileId ? { profile: getProfile(p.profileId) } : {}),
      maxLimiterGainReductionDb: p.maxLimitingDb,
      codecChecks: p.codecChecks,
      signal,
      appVersion: p.appVersion,
      onProgress: (message) => {
        // master says "<target>: <what>"; the fraction follows the targets in order.
        const index = targets.findIndex((t) => message.startsWith(`${t.id}:`));
        if (index >= 0) step = Math.max(step, index);
        onProgress(Math.min(0.99, (index < 0 ? 0.02 : (step + 0.5) / targets.length)), message);
      },
    });
    signal.throwIfAborted();
    const files: string[] = [];
    for (const name of readdirSync(staging)) {
      const dest = join(p.outDir, name);
      renameSync(join(staging, name), dest);
      files.push(dest);
    }
    return { files, pass: result.targets.every((t) => t.pass), summaries: result.targets.map((t) => `${t.target}: ${t.summary}`) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
