// A bridge for component tests, built from the contract itself: `buildApi` (the same function
// the preload and the browser client use) over a transport that answers from a table of handlers
// and checks every answer with the contract's response validator, so a test cannot hand the UI
// something the real engine could not send. Events are raised with `emit`.
import { buildApi, events, invoke, type EventChannel, type EventPayload, type InvokeChannel, type LatheApi, type Request, type Response } from '../../preload/contract.js';
import { defaultChain, type ChainDocument } from '../../main/core/chain/document.js';
import type { AnalysisResult } from '../../main/core/analysis/analyze.js';

export type Handlers = { [C in InvokeChannel]?: (request: Request<C>) => Response<C> | Promise<Response<C>> };

export interface MockBridge {
  api: LatheApi;
  calls: { channel: InvokeChannel; payload: unknown }[];
  sent: { channel: string; payload: unknown }[];
  emit<C extends EventChannel>(channel: C, payload: EventPayload<C>): void;
  handlers: Handlers;
}

export function mockBridge(handlers: Handlers = {}): MockBridge {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: MockBridge['calls'] = [];
  const sent: MockBridge['sent'] = [];
  const all: Handlers = { ...defaults(), ...handlers };
  const api = buildApi({
    async invoke(channel, payload) {
      calls.push({ channel, payload });
      const h = all[channel] as ((r: unknown) => unknown) | undefined;
      if (!h) return { ok: false, error: { code: 'NOT_AVAILABLE', message: `${channel} is not part of this test` } };
      try {
        const value = await h(payload);
        return { ok: true, value: invoke[channel].response.parse(value, `${channel} response`) };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { ok: false, error: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) } };
      }
    },
    send(channel, payload) {
      sent.push({ channel, payload });
    },
    subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  });
  return {
    api,
    calls,
    sent,
    handlers: all,
    emit(channel, payload) {
      const checked = events[channel].parse(payload, channel);
      for (const l of listeners.get(channel) ?? []) l(checked);
    },
  };
}

/** An engine refusal as handlers throw it. */
export function refusal(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export const TRACK = { fileId: 'file-track', name: 'mix.wav', durationSeconds: 30, sampleRate: 48_000, channels: 2, codec: 'pcm_s24le' };

function defaults(): Handlers {
  let chain: ChainDocument = defaultChain();
  let undo: ChainDocument[] = [];
  const summary = () => ({
    name: 'test',
    path: null,
    dirty: false,
    track: TRACK,
    missingTrack: null,
    references: [],
    snapshots: [],
    exportSettings: { targets: ['spotify'], profile: null, codecChecks: 'full' as const, maxLimitingDb: 6 },
    playheadSeconds: 0,
  });
  return {
    'targets:list': () => [
      { id: 'spotify', name: 'Spotify', integratedLufs: -14, truePeakCeilingDbtp: -1, container: 'ogg' },
      { id: 'cd', name: 'CD', integratedLufs: null, truePeakCeilingDbtp: -0.3, container: 'wav' },
    ],
    'profiles:list': () => [{ id: 'pop', name: 'Pop', typicalLufs: -9 }],
    'session:get': summary,
    'chain:get': () => ({ chain, canUndo: undo.length > 0, canRedo: false }),
    'chain:set': ({ chain: next }) => {
      undo = [...undo, chain];
      chain = next;
      return { chain, canUndo: true, canRedo: false };
    },
    'chain:undo': () => {
      chain = undo.pop() ?? chain;
      return { chain, canUndo: undo.length > 0, canRedo: true };
    },
    'eq:curve': ({ points = 4 }) => ({ hz: Array.from({ length: points }, (_, i) => 20 * 1000 ** (i / (points - 1))), db: Array.from({ length: points }, () => 0) }),
    'analysis:get': () => null,
    'file:media': ({ fileId }) => ({ name: `${fileId}.wav`, url: `/media/m-${fileId}/x.wav`, path: null }),
    'preview:render': () => ({ generation: 1, jobId: 'preview-1' }),
    'export:settings': (s) => ({ ...summary(), exportSettings: s }),
    'export:start': () => ({ jobId: 'export-1' }),
    'job:cancel': () => ({ cancelled: true }),
    'session:recoverable': () => null,
  };
}

/** A minimal analysis result with the fields the views read. */
export function analysis(integratedLufs: number, extra: { truePeakDbtp?: number; qc?: AnalysisResult['qc'] } = {}): AnalysisResult {
  return {
    file: 'x.wav',
    format: { durationSeconds: 30, frames: 30 * 48_000, sampleRate: 48_000, channels: 2 },
    loudness: {
      integratedLufs,
      loudnessRangeLu: 6,
      momentaryMaxLufs: integratedLufs + 4,
      shortTermMaxLufs: integratedLufs + 2,
      truePeakDbtp: extra.truePeakDbtp ?? -3,
      samplePeakDbfs: (extra.truePeakDbtp ?? -3) - 0.2,
      plrDb: (extra.truePeakDbtp ?? -3) - integratedLufs,
      relativeGateLufs: integratedLufs - 10,
      loudnessRangeLowLufs: integratedLufs - 4,
      loudnessRangeHighLufs: integratedLufs + 2,
      channels: [],
      series: { intervalSeconds: 0.1, momentaryLufs: [], shortTermLufs: [] },
    },
    spectrum: { thirdOctave: [], curve: [], spectralCentroidHz: 2000, rolloffHz: 8000, cutoffHz: null },
    stereo: { pair: ['FL', 'FR'], correlation: 0.6, sideToMidDb: -12, monoCompatibilityLossDb: 1, bands: [], correlationSeries: { intervalSeconds: 0.1, values: [] } },
    qc: extra.qc ?? [],
  } as unknown as AnalysisResult;
}
