// The assistant's entry points for the CLI and the app: listen to a file (native analysis →
// features), ask the model, and return the proposal with the user's remembered lean and the chosen
// style profile folded in; remember a user's edits of a proposal.
import type { NativeAnalysis } from '#native-dsp';
import type { ChainDocument } from '../chain/document.js';
import { getProfile, type StyleProfile } from '../delivery/targets.js';
import { NO_PROFILE, leanFor, readAdjustments, recordAdjustments, type AdjustmentsDocument } from './adjustments.js';
import { analyseFileForAssistant, featuresFromNative } from './features.js';
import { getAssistantModel, type AssistantModel } from './model.js';
import { PARAMETERS, type ParameterId } from './parameters.js';
import { buildProposal, movesFromChain, type Proposal } from './propose.js';

export interface AssistOptions {
  /** A style profile id from profiles.json. */
  profile?: string;
  targetLufs?: number;
  /** false: ignore the remembered user adjustments. */
  useAdjustments?: boolean;
  adjustmentsPath?: string;
  signal?: AbortSignal;
  /** A model other than the app's (tests). */
  model?: AssistantModel;
}

/** Proposal for already-measured audio (the analysis must come from analyseFileForAssistant / analysePlanes). */
export async function proposeFromAnalysis(analysis: NativeAnalysis, options: AssistOptions = {}): Promise<Proposal> {
  const profile: StyleProfile | undefined = options.profile ? getProfile(options.profile) : undefined;
  const model = options.model ?? (await getAssistantModel());
  const [prediction] = await model.predict([featuresFromNative(analysis)]);
  const lean = options.useAdjustments === false ? undefined : leanFor(readAdjustments(options.adjustmentsPath), profile?.id ?? NO_PROFILE);
  return buildProposal(prediction!, analysis, model.card, { profile, targetLufs: options.targetLufs, lean });
}

/** Listens to a file and proposes a chain. */
export async function assistFile(file: string, options: AssistOptions = {}): Promise<Proposal> {
  const { analysis } = await analyseFileForAssistant(file, { signal: options.signal });
  return proposeFromAnalysis(analysis, options);
}

/** The chain `lathe master --assistant` uses: the balanced proposal. */
export async function assistantChainFor(file: string, options: AssistOptions = {}): Promise<ChainDocument> {
  return (await assistFile(file, options)).chain;
}

/** Remembers how the user's exported chain differs from the model's proposal for the same audio. */
export function rememberEdits(proposal: Proposal, userChain: ChainDocument, path?: string): AdjustmentsDocument {
  const modelValues = Object.fromEntries(proposal.parameters.map((p) => [p.id, p.model.value])) as Record<ParameterId, number>;
  const user = movesFromChain(userChain);
  // Only parameters the user actually changed from what was proposed count as a habit.
  const changed = Object.fromEntries(
    PARAMETERS.filter((s) => {
      const p = proposal.parameters.find((q) => q.id === s.id)!;
      const shown = s.id === 'width' ? Math.log2(p.value) : p.value;
      return Math.abs(user[s.id] - (p.autoApply ? shown : 0)) > 1e-3;
    }).map((s) => [s.id, user[s.id]]),
  ) as Partial<Record<ParameterId, number>>;
  return recordAdjustments(proposal.style.applied ?? NO_PROFILE, modelValues, changed, path);
}
