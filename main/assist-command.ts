// `lathe assist`: the mastering assistant on the command line. Loaded lazily by cli.ts, so a
// missing or broken model (or onnxruntime) never affects the other commands.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readChainFile } from './chain-file.js';
import { LatheError } from './core/errors.js';
import { adjustmentsPath, readAdjustments, resetAdjustments } from './core/assistant/adjustments.js';
import { assistFile, assistantChainFor, rememberEdits } from './core/assistant/assist.js';
import { releaseAssistantModel } from './core/assistant/model.js';
import type { Proposal } from './core/assistant/propose.js';
import type { ChainDocument } from './core/chain/document.js';
import { writeFileAtomic } from './core/write-all.js';

export { assistantChainFor };

/** For `lathe master --assistant`: the proposal's chain for FILE (with the profile, if any). */
export async function assistantChainForMaster(file: string, profile: string | undefined): Promise<ChainDocument> {
  try {
    return await assistantChainFor(file, { profile });
  } finally {
    await releaseAssistantModel();
  }
}

function printProposal(p: Proposal) {
  console.log(`model:    ${p.model.name} ${p.model.version} (${p.model.architecture})`);
  console.log(`style:    ${p.style.suggested} (p ${p.style.probability.toFixed(2)}; test accuracy ${(p.style.testAccuracy * 100).toFixed(0)} %${p.style.lowConfidence ? '; low confidence, a hint only' : ''})${p.style.applied ? `; using profile ${p.style.applied}` : ''}`);
  for (const q of p.parameters) {
    const v = q.unit === '×' ? `×${q.value.toFixed(2)}` : `${q.value >= 0 ? '+' : ''}${q.value.toFixed(1)} ${q.unit}`;
    console.log(`${q.autoApply ? 'apply  ' : 'suggest'}  ${q.path.padEnd(20)} ${v.padStart(9)}  confidence ${q.confidence.toFixed(2)}${q.userLean ? ` (your habit ${q.userLean.delta >= 0 ? '+' : ''}${q.userLean.delta.toFixed(2)} over ${q.userLean.count})` : ''}`);
    console.log(`         ${q.reason}`);
  }
  const l = p.loudness;
  console.log(`loudness: ${l.measuredLufs.toFixed(1)} LUFS → about ${l.expectedAfterCorrectionLufs.toFixed(1)} after the corrections${l.targetLufs !== null ? `; limiter input ${l.limiterInputGainDb >= 0 ? '+' : ''}${l.limiterInputGainDb.toFixed(1)} dB toward ${l.targetLufs} LUFS` : ''}`);
  console.log('variations: gentle (half the tonal moves, 2 dB less into the limiter), balanced (the chain), loud (2:1 glue, 3 dB more into the limiter): --variation');
}

export async function assistCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      profile: { type: 'string' },
      'target-lufs': { type: 'string' },
      json: { type: 'boolean', default: false },
      'chain-out': { type: 'string' },
      variation: { type: 'string' },
      learn: { type: 'string' },
      'no-habits': { type: 'boolean', default: false },
      adjustments: { type: 'boolean', default: false },
      'reset-adjustments': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.adjustments) {
    const doc = readAdjustments();
    if (values.json) process.stdout.write(`${JSON.stringify({ file: adjustmentsPath(), ...doc })}\n`);
    else {
      console.log(`remembered adjustments (${adjustmentsPath()}):`);
      const entries = Object.entries(doc.profiles);
      if (!entries.length) console.log('  none');
      for (const [profile, habits] of entries) {
        for (const [id, h] of Object.entries(habits)) console.log(`  ${profile.padEnd(14)} ${id.padEnd(12)} ${h!.meanDelta >= 0 ? '+' : ''}${h!.meanDelta.toFixed(2)} (model units) over ${h!.count} edit(s)`);
      }
    }
    return 0;
  }
  if (values['reset-adjustments']) {
    resetAdjustments(values.profile);
    console.log(values.profile ? `forgot the remembered adjustments for ${values.profile}` : 'forgot all remembered adjustments');
    return 0;
  }
  if (positionals.length !== 1) throw new LatheError('USAGE', 'assist takes exactly one FILE (see lathe --help)');
  const targetLufs = values['target-lufs'] === undefined ? undefined : Number(values['target-lufs']);
  if (targetLufs !== undefined && !(targetLufs >= -40 && targetLufs <= 0)) throw new LatheError('USAGE', '--target-lufs must be a number from -40 to 0');
  const variation = values.variation ?? 'balanced';
  if (variation !== 'gentle' && variation !== 'balanced' && variation !== 'loud') throw new LatheError('USAGE', '--variation must be gentle, balanced or loud');
  try {
    const proposal = await assistFile(positionals[0]!, { profile: values.profile, targetLufs, useAdjustments: !values['no-habits'] });
    if (values.learn) {
      const doc = rememberEdits(proposal, readChainFile(values.learn));
      const profile = proposal.style.applied ?? 'default';
      console.log(`remembered your edits for ${profile}: ${Object.keys(doc.profiles[profile] ?? {}).join(', ') || 'nothing changed'} (${adjustmentsPath()})`);
      return 0;
    }
    const chain = proposal.variations[variation];
    if (values['chain-out']) writeFileAtomic(resolve(values['chain-out']), `${JSON.stringify(chain, null, 2)}\n`);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({
          model: { name: proposal.model.name, version: proposal.model.version },
          chain,
          parameters: proposal.parameters.map((p) => ({ path: p.path, value: p.value, unit: p.unit, confidence: p.confidence, autoApply: p.autoApply, reason: p.reason, ...(p.userLean ? { userLean: p.userLean } : {}) })),
          style: proposal.style,
          loudness: proposal.loudness,
          variations: proposal.variations,
        })}\n`,
      );
    } else printProposal(proposal);
    return 0;
  } finally {
    await releaseAssistantModel();
  }
}
