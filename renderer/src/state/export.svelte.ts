// Export: the target checklist, profile and options; one job masters every chosen target; its
// reports (JSON) are read back to show each rule's pass or fail, with the HTML report to open.
import type { LatheApi, ExportSettings, OutputFile, TargetProgress, TargetStage } from '../../../preload/contract.js';

export interface TargetOption {
  id: string;
  name: string;
  integratedLufs: number | null;
  truePeakCeilingDbtp: number;
  container: string;
  normalization?: 'down-only' | 'up-and-down' | 'none';
}

export interface RuleView {
  rule: string;
  requested: string;
  achieved: string;
  pass: boolean;
  message: string;
}

export interface MeasuredView {
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  loudnessRangeLu: number | null;
}

export interface CodecCheckView {
  codec: string;
  bitrateKbps: number;
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  pass: boolean;
}

export interface TargetResult {
  target: string;
  name: string;
  pass: boolean;
  summary: string;
  rules: RuleView[];
  deliverable: OutputFile | null;
  report: OutputFile | null;
  /** The deliverable as measured after writing it, the codec round trips, the loudness loop's rounds. */
  measured: MeasuredView | null;
  codecChecks: CodecCheckView[];
  iterations: number;
}

/** One target's row while an export runs. `stage` and `fraction` come from the engine's progress
 *  per target; an engine that sends only its stage text leaves them out (the row then says
 *  working or done, from the text). */
export interface TargetRow {
  id: string;
  name: string;
  state: 'queued' | 'working' | 'done' | 'failed';
  message: string;
  stage?: TargetStage;
  fraction?: number;
}

const STAGE_WORDS: Record<TargetStage, string> = { queued: 'waiting', rendering: 'rendering', encoding: 'encoding', verifying: 'verifying', done: 'done', failed: 'failed' };

export class ExportState {
  #targets = $state.raw<TargetOption[]>([]);
  #profiles = $state.raw<{ id: string; name: string; typicalLufs: number }[]>([]);
  #settings = $state.raw<ExportSettings>({ targets: ['spotify'], profile: null, codecChecks: 'full', maxLimitingDb: 6 });
  #jobId = $state<string | null>(null);
  #fraction = $state(0);
  #stage = $state('');
  #state = $state<'idle' | 'running' | 'done' | 'failed' | 'cancelled'>('idle');
  #results = $state.raw<TargetResult[]>([]);
  #error = $state<string | null>(null);
  #folder = $state.raw<{ folderId: string; name: string } | null>(null);
  /** Each target of the running export: the targets are mastered in order, and the engine's stage
   *  names the one it works on ("spotify: encoding"). */
  #perTarget = $state.raw<TargetRow[]>([]);
  readonly #api: LatheApi;

  constructor(api: LatheApi) {
    this.#api = api;
  }

  get targets() { return this.#targets; }
  get profiles() { return this.#profiles; }
  get settings() { return this.#settings; }
  get jobId() { return this.#jobId; }
  get fraction() { return this.#fraction; }
  get stage() { return this.#stage; }
  get state() { return this.#state; }
  get results() { return this.#results; }
  get error() { return this.#error; }
  /** Electron: the folder the deliverables go to (browser mode downloads them). */
  get folder() { return this.#folder; }
  get perTarget() { return this.#perTarget; }

  async chooseFolder(): Promise<void> {
    try {
      const f = await this.#api['export:chooseFolder']({});
      if (f) this.#folder = f;
    } catch (e) {
      this.#error = (e as Error).message;
    }
  }

  async load(): Promise<void> {
    const [targets, profiles] = await Promise.all([this.#api['targets:list']({}), this.#api['profiles:list']({})]);
    this.#targets = targets;
    this.#profiles = profiles;
  }

  adopt(settings: ExportSettings): void {
    this.#settings = settings;
  }

  toggleTarget(id: string, on: boolean): void {
    const set = new Set(this.#settings.targets);
    if (on) set.add(id);
    else set.delete(id);
    this.#settings = { ...this.#settings, targets: this.#targets.map((t) => t.id).filter((t) => set.has(t)) };
  }

  update(patch: Partial<ExportSettings>): void {
    this.#settings = { ...this.#settings, ...patch };
  }

  async start(): Promise<void> {
    this.#error = null;
    this.#results = [];
    if (this.#settings.targets.length === 0) {
      this.#error = 'Choose at least one delivery target.';
      return;
    }
    await this.#api['export:settings'](this.#settings);
    this.#state = 'running';
    this.#fraction = 0;
    this.#stage = 'starting';
    this.#perTarget = this.#settings.targets.map((id) => ({ id, name: this.#targets.find((t) => t.id === id)?.name ?? id, state: 'queued' as const, message: 'waiting' }));
    try {
      const { jobId } = await this.#api['export:start']({ settings: this.#settings, ...(this.#folder ? { folderId: this.#folder.folderId } : {}) });
      this.#jobId = jobId;
    } catch (e) {
      this.#state = 'failed';
      this.#error = (e as Error).message;
    }
  }

  async cancel(): Promise<void> {
    if (this.#jobId && this.#state === 'running') await this.#api['job:cancel']({ jobId: this.#jobId });
  }

  progress(jobId: string, fraction: number, stage: string, targets?: TargetProgress[]): void {
    if (jobId !== this.#jobId) return;
    this.#fraction = fraction;
    this.#stage = stage;
    if (targets?.length) {
      // Each target's own stage and fraction, in the job's order.
      this.#perTarget = targets.map((t, i) => {
        const row = this.#perTarget[i]?.id === t.targetId ? this.#perTarget[i]! : { id: t.targetId, name: this.#targets.find((o) => o.id === t.targetId)?.name ?? t.targetId, message: '' };
        const state = t.stage === 'queued' ? 'queued' : t.stage === 'done' ? 'done' : t.stage === 'failed' ? 'failed' : 'working';
        return { id: row.id, name: row.name, state, stage: t.stage, fraction: t.fraction, message: STAGE_WORDS[t.stage] };
      });
      return;
    }
    const at = this.#perTarget.findIndex((t) => stage.startsWith(`${t.id}: `));
    if (at >= 0) {
      this.#perTarget = this.#perTarget.map((t, i) =>
        i < at ? { ...t, state: 'done' as const } : i === at ? { ...t, state: 'working' as const, message: stage.slice(t.id.length + 2) } : t,
      );
    }
  }

  /** Electron: the report opens in a window of the app's own, through the bridge (browser mode
   *  opens the report's URL in a new tab instead). */
  async openReport(result: TargetResult): Promise<void> {
    const mediaId = result.report?.mediaId;
    if (!mediaId) {
      this.#error = `The report for ${result.name} cannot be opened: the engine did not name it.`;
      return;
    }
    try {
      await this.#api['output:open']({ mediaId });
    } catch (e) {
      this.#error = `Could not open the report for ${result.name}: ${(e as Error).message}`;
    }
  }

  failed(jobId: string, code: string, message: string): void {
    if (jobId !== this.#jobId) return;
    this.#state = code === 'CANCELLED' ? 'cancelled' : 'failed';
    this.#error = code === 'CANCELLED' ? 'Export cancelled: no files were left behind.' : message;
  }

  /** The job is done: read each target's report. */
  async done(jobId: string, outputs: OutputFile[], fetchJson: (url: string) => Promise<unknown> = defaultFetch): Promise<void> {
    if (jobId !== this.#jobId) return;
    this.#fraction = 1;
    const results: TargetResult[] = [];
    for (const out of outputs.filter((o) => o.name.endsWith('.report.json'))) {
      const report = (await fetchJson(out.url)) as {
        target: { id: string; name: string };
        pass: boolean;
        summary: string;
        rules: RuleView[];
        deliverable: { file: string; measured?: MeasuredView };
        codecChecks?: CodecCheckView[];
        iterations?: unknown[];
      };
      const base = out.name.replace(/\.report\.json$/, '');
      results.push({
        target: report.target.id,
        name: report.target.name,
        pass: report.pass,
        summary: report.summary,
        rules: report.rules,
        report: outputs.find((o) => o.name === `${base}.report.html`) ?? null,
        deliverable: outputs.find((o) => o.name.startsWith(`${base}.`) && !o.name.includes('.report.')) ?? null,
        measured: report.deliverable.measured ?? null,
        codecChecks: report.codecChecks ?? [],
        iterations: report.iterations?.length ?? 0,
      });
    }
    this.#results = results;
    this.#perTarget = this.#perTarget.map((t) => ({ ...t, state: 'done' as const, ...(t.stage ? { stage: 'done' as const, fraction: 1 } : {}), message: results.find((r) => r.target === t.id)?.pass === false ? 'delivered, misses a rule' : 'delivered' }));
    this.#state = 'done';
    this.#stage = results.every((r) => r.pass) ? 'every target passes' : 'some targets miss a rule';
  }
}

async function defaultFetch(url: string): Promise<unknown> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not read ${url} (HTTP ${r.status})`);
  return r.json();
}
