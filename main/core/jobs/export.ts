// Export as a job: master every target into a staging folder beside the destination, and move
// the deliverables and reports into place only when every target is done, so a cancelled or failed
// export leaves nothing behind (master writes its files atomically one by one; this makes the
// whole export atomic too).
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { master } from '../delivery/master.js';
import { getProfile, getTarget } from '../delivery/targets.js';
import type { ExportParams, JobResults } from './kinds.js';
import type { TargetProgress } from '../delivery/master.js';

export async function runExport(p: ExportParams, signal: AbortSignal, onProgress: (fraction: number, stage: string, targets: TargetProgress[]) => void): Promise<JobResults['export']> {
  const targets = p.targetIds.map((id) => getTarget(id));
  mkdirSync(p.outDir, { recursive: true });
  const staging = mkdtempSync(join(p.outDir, '.lathe-export-'));
  try {
    // Every target of the job, in order, each with its own stage and fraction; the job's fraction
    // is their mean after the shared start (analysing the input, the chain before the limiter).
    const state: TargetProgress[] = targets.map((t) => ({ targetId: t.id, stage: 'queued', fraction: 0 }));
    let stage = 'starting';
    let current = 0;
    let fraction = 0;
    let sent = { fraction: -1, stages: '' };
    const post = () => {
      const mean = state.reduce((sum, t) => sum + t.fraction, 0) / state.length;
      fraction = Math.max(fraction, Math.min(0.99, 0.05 + 0.94 * mean));
      // Renders report every block: a change of stage always goes out, progress in 0.5 % steps.
      const stages = state.map((t) => t.stage).join();
      if (stages === sent.stages && fraction - sent.fraction < 0.005) return;
      sent = { fraction, stages };
      onProgress(fraction, stage, state.map((t) => ({ ...t })));
    };
    const result = await master(p.input, targets, {
      outDir: staging,
      chain: p.chain,
      ...(p.profileId ? { profile: getProfile(p.profileId) } : {}),
      maxLimiterGainReductionDb: p.maxLimitingDb,
      codecChecks: p.codecChecks,
      signal,
      appVersion: p.appVersion,
      onProgress: (message) => {
        // master says "<target>: <what>" (or what it does for every target first).
        stage = message;
        sent.stages = '';
        post();
      },
      onTargetProgress: (t) => {
        // Targets are mastered in order (the same target twice is two rows).
        const at = state.findIndex((s, i) => i >= current && s.targetId === t.targetId);
        if (at < 0) return;
        state[at] = { ...t };
        if (t.stage === 'done' || t.stage === 'failed') current = at + 1;
        post();
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
