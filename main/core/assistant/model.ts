// The one owner of the assistant's onnxruntime-node session: loads the model lazily, checks it
// against its card (file hash, input/output names, dtypes and shapes, the feature layout and the
// parameter set this build of Lathe maps onto a chain), runs it, and releases it explicitly. A
// missing, corrupt or mismatched model is a LatheError('MODEL_INVALID') with the reason; nothing
// else in the app depends on the model being there.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LatheError } from '../errors.js';
import { cardProblem, type AssistantCard } from './card.js';
import { FEATURE_COUNT, featureNames } from './features.js';
import { PARAMETERS, PARAMETER_COUNT } from './parameters.js';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

/** models/ at the repository (or app) root: three levels up from the sources, four from dist/. */
export function defaultModelPath(): string {
  if (process.env.LATHE_ASSISTANT_MODEL) return process.env.LATHE_ASSISTANT_MODEL;
  const candidates = ['../../../../models/assistant.onnx', '../../../models/assistant.onnx'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** The card sits next to the model: NAME.onnx → NAME.card.json. */
export const cardPathFor = (modelPath: string) => modelPath.replace(/\.onnx$/i, '') + '.card.json';

export interface Prediction {
  /** Model units, PARAMETERS order. */
  mean: number[];
  logVariance: number[];
  /** Softmax over card.styles. */
  styleProbabilities: number[];
}

const invalid = (file: string, reason: string, cause?: unknown) =>
  new LatheError('MODEL_INVALID', `the assistant model cannot be used: ${reason}`, { file, cause });

function readCard(cardPath: string): AssistantCard {
  let text: string;
  try {
    text = readFileSync(cardPath, 'utf8');
  } catch (e) {
    throw invalid(cardPath, `its model card cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch (e) {
    throw invalid(cardPath, `its model card is not valid JSON (${(e as Error).message})`, e);
  }
  const problem = cardProblem(card);
  if (problem) throw invalid(cardPath, `its model card is not usable: ${problem}`);
  return card as AssistantCard;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Checks the card against what this build computes and maps (features and parameters). */
function checkCardAgainstApp(card: AssistantCard, cardPath: string) {
  if (!sameList(card.featureNames, featureNames())) {
    throw invalid(cardPath, `the card's ${card.featureNames.length} input features are not the ${FEATURE_COUNT} this Lathe computes (model and app are from different versions)`);
  }
  if (!sameList(card.parameters.map((p) => p.id), PARAMETERS.map((p) => p.id))) {
    throw invalid(cardPath, `the card's parameters (${card.parameters.map((p) => p.id).join(', ')}) are not the ones this Lathe maps onto a chain`);
  }
}

function checkSession(session: Session, card: AssistantCard, modelPath: string) {
  const inNames = card.inputs.map((t) => t.name);
  const outNames = card.outputs.map((t) => t.name);
  if (!sameList(session.inputNames, inNames)) throw invalid(modelPath, `its inputs are [${session.inputNames.join(', ')}], the card says [${inNames.join(', ')}]`);
  if (!sameList(session.outputNames, outNames)) throw invalid(modelPath, `its outputs are [${session.outputNames.join(', ')}], the card says [${outNames.join(', ')}]`);
  const metas = [...session.inputMetadata, ...session.outputMetadata];
  for (const spec of [...card.inputs, ...card.outputs]) {
    const meta = metas.find((m) => m.name === spec.name);
    if (!meta || !meta.isTensor) throw invalid(modelPath, `${spec.name} is not a tensor`);
    if (meta.type !== spec.dtype) throw invalid(modelPath, `${spec.name} is ${meta.type}, the card says ${spec.dtype}`);
    const shape = meta.shape;
    const ok = shape.length === spec.shape.length && spec.shape.every((d, i) => (d === 'batch' ? typeof shape[i] === 'string' || shape[i] === -1 : shape[i] === d));
    if (!ok) throw invalid(modelPath, `${spec.name} has shape [${shape.join(', ')}], the card says [${spec.shape.join(', ')}]`);
  }
  const want: Record<string, number> = { features: FEATURE_COUNT, mean: PARAMETER_COUNT, logVariance: PARAMETER_COUNT, styleLogits: card.styles.length };
  for (const spec of [...card.inputs, ...card.outputs]) {
    if (want[spec.name] !== undefined && spec.shape[1] !== want[spec.name]) throw invalid(modelPath, `${spec.name} has ${spec.shape[1]} columns, this Lathe needs ${want[spec.name]}`);
  }
}

export class AssistantModel {
  private constructor(
    private session: Session | null,
    private readonly ort: Ort,
    readonly card: AssistantCard,
    readonly modelPath: string,
  ) {}

  /** Loads and checks the model; throws LatheError('MODEL_INVALID') with the reason. */
  static async load(modelPath = defaultModelPath(), cardPath = cardPathFor(modelPath)): Promise<AssistantModel> {
    const card = readCard(cardPath);
    checkCardAgainstApp(card, cardPath);
    let bytes: Buffer;
    try {
      bytes = readFileSync(modelPath);
    } catch (e) {
      throw invalid(modelPath, `the model file cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== card.model.sha256) throw invalid(modelPath, `the file's SHA-256 ${sha.slice(0, 12)}… is not the card's ${card.model.sha256.slice(0, 12)}… (corrupt, or not the model this card describes)`);
    let ort: Ort;
    try {
      ort = await import('onnxruntime-node');
    } catch (e) {
      throw invalid(modelPath, `onnxruntime-node cannot be loaded (${(e as Error).message})`, e);
    }
    let session: Session;
    try {
      // One intra-op thread: the model is tiny and inference runs beside decoding and DSP.
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (e) {
      throw invalid(modelPath, `onnxruntime cannot open it (${(e as Error).message.split('\n')[0]})`, e);
    }
    try {
      checkSession(session, card, modelPath);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new AssistantModel(session, ort, card, modelPath);
  }

  get released(): boolean {
    return this.session === null;
  }

  /** Runs the model on feature vectors (one per row). */
  async predict(rows: Float32Array[]): Promise<Prediction[]> {
    if (!this.session) throw new LatheError('MODEL_INVALID', 'the assistant model was released');
    if (rows.length === 0) return [];
    const data = new Float32Array(rows.length * FEATURE_COUNT);
    rows.forEach((r, i) => {
      if (r.length !== FEATURE_COUNT) throw new Error(`feature row ${i} has ${r.length} entries, expected ${FEATURE_COUNT}`);
      data.set(r, i * FEATURE_COUNT);
    });
    const input = new this.ort.Tensor('float32', data, [rows.length, FEATURE_COUNT]);
    const out = await this.session.run({ [this.card.inputs[0]!.name]: input });
    try {
      const mean = out.mean!.data as Float32Array;
      const logVar = out.logVariance!.data as Float32Array;
      const logits = out.styleLogits!.data as Float32Array;
      const s = this.card.styles.length;
      return rows.map((_, i) => {
        const l = Array.from(logits.subarray(i * s, (i + 1) * s));
        const top = Math.max(...l);
        const e = l.map((x) => Math.exp(x - top));
        const sum = e.reduce((a, b) => a + b, 0);
        return {
          mean: Array.from(mean.subarray(i * PARAMETER_COUNT, (i + 1) * PARAMETER_COUNT)),
          logVariance: Array.from(logVar.subarray(i * PARAMETER_COUNT, (i + 1) * PARAMETER_COUNT)),
          styleProbabilities: e.map((x) => x / sum),
        };
      });
    } finally {
      input.dispose();
      for (const t of Object.values(out)) t.dispose();
    }
  }

  /** Frees the native session; the object cannot predict afterwards. */
  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }
}

let shared: Promise<AssistantModel> | null = null;

/** The app's model, loaded on first use; a failed load is not cached (a fixed file loads next time). */
export function getAssistantModel(): Promise<AssistantModel> {
  if (!shared) {
    shared = AssistantModel.load();
    shared.catch(() => (shared = null));
  }
  return shared;
}

/** Releases the shared model (on quit, or to free memory); the next use loads it again. */
export async function releaseAssistantModel(): Promise<void> {
  const p = shared;
  shared = null;
  if (p) await (await p.catch(() => null))?.release();
}
