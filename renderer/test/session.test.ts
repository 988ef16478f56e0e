// The session state against a bridge built from the contract: edits are validated before they
// leave and sent as coalesced chain:set requests; the assistant's absence is graceful; the
// proposal's moves are found by path; an export's reports become per-rule results.
import { describe, expect, it } from 'vitest';
import { defaultChain } from '../../main/core/chain/document.js';
import { PlaybackState } from '../src/state/playback.svelte.js';
import { SessionState, blendChains, morphChains } from '../src/state/session.svelte.js';
import { analysis, mockBridge, refusal, TRACK } from './bridge.js';

const settle = () => new Promise((r) => setTimeout(r, 20));

function session(handlers: Parameters<typeof mockBridge>[0] = {}) {
  const bridge = mockBridge(handlers);
  const s = new SessionState({ api: bridge.api, decode: null, playback: new PlaybackState({ audio: null }) });
  return { bridge, s };
}

describe('SessionState', () => {
  it('starts on the open track, its analysis and a first preview', async () => {
    const { bridge, s } = session({ 'analysis:get': () => analysis(-19) });
    await s.start();
    expect(s.track?.name).toBe('mix.wav');
    expect(s.analysis?.loudness.integratedLufs).toBe(-19);
    expect(s.playback.loudness.A).toBe(-19);
    expect(bridge.calls.some((c) => c.channel === 'preview:render')).toBe(true);
    expect(bridge.calls.some((c) => c.channel === 'demo:open')).toBe(false);
  });

  it('sends an edit as chain:set with its path as the coalescing key, and refuses an out-of-range value locally', async () => {
    const { bridge, s } = session();
    await s.start();
    s.edit('eq.peaks[1].gainDb', 4.5);
    await settle();
    const set = bridge.calls.filter((c) => c.channel === 'chain:set');
    expect(set).toHaveLength(1);
    expect(set[0]!.payload).toMatchObject({ coalesceKey: 'eq.peaks[1].gainDb', chain: { eq: { peaks: [{}, { gainDb: 4.5 }, {}, {}] } } });
    expect(s.canUndo).toBe(true);
    s.edit('limiter.ceilingDbtp', 2);
    await settle();
    expect(s.editError).toMatch(/limiter\.ceilingDbtp.*outside/);
    expect(bridge.calls.filter((c) => c.channel === 'chain:set')).toHaveLength(1);
    expect(s.valueAt('limiter.ceilingDbtp')).toBe(-1);
  });

  it('sends only the latest of many fast edits once the previous one is answered', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { bridge, s } = session({
      'chain:set': async ({ chain }) => {
        await gate;
        return { chain, canUndo: true, canRedo: false };
      },
    });
    await s.start();
    for (const g of [1, 2, 3, 4, 5]) s.edit('eq.inputGainDb', g);
    release();
    await settle();
    const sent = bridge.calls.filter((c) => c.channel === 'chain:set').map((c) => (c.payload as { chain: { eq: { inputGainDb: number } } }).chain.eq.inputGainDb);
    expect(sent).toEqual([1, 5]);
  });

  it('shows current values without proposals when the assistant is not available', async () => {
    const { s } = session({ 'assistant:propose': () => Promise.reject(refusal('MODEL_INVALID', 'no model is installed')) });
    await s.start();
    await s.propose();
    expect(s.proposalState).toBe('unavailable');
    expect(s.proposalMessage).toMatch(/no model/);
    expect(s.proposedFor('eq.peaks[1].gainDb')).toBeUndefined();
    expect(s.valueAt('eq.peaks[1].gainDb')).toBe(0);
  });

  it('finds the proposal of each parameter by path and applies the proposed chain', async () => {
    const proposed = defaultChain();
    proposed.eq.peaks[1] = { enabled: true, freqHz: 1000, q: 1, gainDb: -2 };
    const loud = structuredClone(proposed);
    loud.limiter.inputGainDb = 4;
    const { bridge, s } = session({
      'assistant:propose': () => ({
        chain: proposed,
        summary: 'two moves',
        model: { name: 'test', version: '1', architecture: 'mlp' },
        parameters: [
          { id: 'peak1k', path: 'eq.peaks[1].gainDb', value: -2, unit: 'dB', confidence: 0.8, autoApply: true, reason: 'too much 1 kHz' },
          { id: 'width', path: 'imager.width', value: 1.2, unit: '×', confidence: 0.4, autoApply: false, reason: 'narrow' },
        ],
        style: { suggested: 'pop', probability: 0.7, lowConfidence: false, testAccuracy: 0.8, applied: null },
        loudness: { measuredLufs: -20, expectedAfterCorrectionLufs: -19, targetLufs: null, limiterInputGainDb: 0 },
        variations: { gentle: proposed, balanced: proposed, loud },
      }),
    });
    await s.start();
    await s.propose();
    expect(s.proposalState).toBe('ready');
    expect(s.proposedFor('eq.peaks[1].gainDb')).toMatchObject({ value: -2, confidence: 0.8, autoApply: true });
    expect(s.proposedFor('imager.width')?.autoApply).toBe(false);
    expect(s.proposedFor('eq.lowShelf.gainDb')).toBeUndefined();
    s.applyProposal();
    await settle();
    let last = bridge.calls.filter((c) => c.channel === 'chain:set').at(-1)!;
    expect((last.payload as { chain: typeof proposed }).chain.eq.peaks[1].gainDb).toBe(-2);
    s.applyProposal('loud');
    await settle();
    last = bridge.calls.filter((c) => c.channel === 'chain:set').at(-1)!;
    expect((last.payload as { chain: typeof proposed }).chain.limiter.inputGainDb).toBe(4);
    // A suggest-only move is applied on its own, to the current chain.
    s.applySuggestion(s.proposedFor('imager.width')!);
    await settle();
    expect(s.valueAt('imager.width')).toBe(1.2);
  });

  it('turns an export job into per-target, per-rule results from the reports', async () => {
    const { bridge, s } = session();
    await s.start();
    await s.exporter.start();
    expect(s.exporter.state).toBe('running');
    bridge.emit('job:progress', { jobId: 'export-1', kind: 'export', fraction: 0.4, stage: 'spotify: encoding' });
    expect(s.exporter.fraction).toBe(0.4);
    expect(s.exporter.perTarget).toEqual([{ id: 'spotify', name: 'Spotify', state: 'working', message: 'encoding' }]);
    const outputs = [
      { name: 'mix.spotify.ogg', url: '/media/1/mix.spotify.ogg', path: null },
      { name: 'mix.spotify.report.json', url: '/media/2/r.json', path: null },
      { name: 'mix.spotify.report.html', url: '/media/3/r.html', path: null },
    ];
    const report = {
      target: { id: 'spotify', name: 'Spotify' },
      pass: false,
      summary: 'misses the true peak',
      rules: [
        { rule: 'integrated loudness', requested: '-14.0 ± 1.0 LUFS', achieved: '-14.0 LUFS', pass: true, message: '' },
        { rule: 'true peak', requested: '≤ -1.0 dBTP', achieved: '-0.6 dBTP', pass: false, message: 'over' },
      ],
      deliverable: { file: 'mix.spotify.ogg', measured: { integratedLufs: -14.0, truePeakDbtp: -0.6, loudnessRangeLu: 5.2 } },
      codecChecks: [{ codec: 'libvorbis', bitrateKbps: 160, integratedLufs: -14.05, truePeakDbtp: -0.4, pass: false }],
      iterations: [{}, {}],
    };
    await s.exporter.done('export-1', outputs, async (url) => {
      expect(url).toBe('/media/2/r.json');
      return report;
    });
    expect(s.exporter.state).toBe('done');
    expect(s.exporter.perTarget[0]).toMatchObject({ state: 'done', message: 'delivered, misses a rule' });
    expect(s.exporter.results).toHaveLength(1);
    expect(s.exporter.results[0]).toMatchObject({ target: 'spotify', pass: false, deliverable: { name: 'mix.spotify.ogg' }, report: { name: 'mix.spotify.report.html' } });
    expect(s.exporter.results[0]!.rules.map((r) => r.pass)).toEqual([true, false]);
    expect(s.exporter.results[0]).toMatchObject({ measured: { truePeakDbtp: -0.6 }, codecChecks: [{ codec: 'libvorbis', pass: false }], iterations: 2 });
  });

  it('shows a progress bar per target: the targets are mastered in order', async () => {
    const { bridge, s } = session();
    await s.start();
    s.exporter.toggleTarget('cd', true);
    await s.exporter.start();
    expect(s.exporter.perTarget.map((t) => t.state)).toEqual(['queued', 'queued']);
    bridge.emit('job:progress', { jobId: 'export-1', kind: 'export', fraction: 0.25, stage: 'spotify: rendering' });
    expect(s.exporter.perTarget.map((t) => t.state)).toEqual(['working', 'queued']);
    bridge.emit('job:progress', { jobId: 'export-1', kind: 'export', fraction: 0.75, stage: 'cd: dithering to 16 bits' });
    expect(s.exporter.perTarget).toEqual([
      { id: 'spotify', name: 'Spotify', state: 'done', message: 'rendering' },
      { id: 'cd', name: 'CD', state: 'working', message: 'dithering to 16 bits' },
    ]);
  });

  it('matches loudness in rounds of measuring the preview and moving the gain into the limiter', async () => {
    // A stand-in for the limiter: loudness grows by 0.8 LU per dB of gain, so one round is not enough.
    let generation = 1;
    let gain = 0;
    const { bridge, s } = session({
      'chain:set': ({ chain }) => {
        gain = chain.limiter.inputGainDb;
        generation += 1;
        const g = generation;
        setTimeout(() => bridge.emit('preview:ready', { generation: g, region: 'full', startSeconds: 0, endSeconds: 30, url: `/media/p${g}/full.wav` }), 5);
        return { chain, canUndo: true, canRedo: false };
      },
      'preview:analysis': () => analysis(-20 + 0.8 * gain),
    });
    await s.start();
    bridge.emit('preview:ready', { generation: 1, region: 'full', startSeconds: 0, endSeconds: 30, url: '/media/p1/full.wav' });
    await settle();
    expect(s.processed?.loudness.integratedLufs).toBe(-20);
    await s.matchLoudness(-14);
    expect(s.leveling?.done).toBe(true);
    expect(Math.abs(s.leveling!.measured! + 14)).toBeLessThan(0.2);
    expect(s.leveling!.round).toBeGreaterThan(1);
    expect(s.leveling!.round).toBeLessThanOrEqual(4);
    expect(s.valueAt('limiter.inputGainDb')).toBeCloseTo(7.4, 1);
  });

  it('reports a cancelled export as cancelled, with no results', async () => {
    const { bridge, s } = session();
    await s.start();
    await s.exporter.start();
    bridge.emit('job:failed', { jobId: 'export-1', kind: 'export', code: 'CANCELLED', message: 'cancelled' });
    expect(s.exporter.state).toBe('cancelled');
    expect(s.exporter.error).toMatch(/no files/);
  });

  it('blends a proposal by aspect: each amount moves only its own parameters', () => {
    const base = defaultChain();
    const target = defaultChain();
    target.eq.peaks[2] = { enabled: true, freqHz: 3000, q: 1, gainDb: -4 };
    target.eq.inputGainDb = 6;
    target.compressor.enabled = true;
    target.compressor.band.ratio = 3;
    target.imager.width = 1.4;
    target.limiter.ceilingDbtp = -2;
    const b = blendChains(base, target, { tone: 0.5, dynamics: 0, width: 1, level: 0.25 });
    expect(b.eq.peaks[2]).toEqual({ enabled: true, freqHz: 3000, q: 1, gainDb: -2 });
    expect(b.eq.inputGainDb).toBe(1.5);
    expect(b.compressor.enabled).toBe(false);
    expect(b.compressor.band.ratio).toBe(2);
    expect(b.imager.width).toBeCloseTo(1.4, 12);
    // Outside the four aspects the target is taken as it is.
    expect(b.limiter.ceilingDbtp).toBe(-2);
    expect(blendChains(base, target, { tone: 0, dynamics: 0, width: 0, level: 0 }).eq).toEqual(base.eq);
  });

  it('hears B as a platform: through its codec for the latest full preview, with its normalisation', async () => {
    const { bridge, s } = session({
      'preview:codec': ({ generation, targetId }) => ({ name: `p-${targetId}.wav`, url: `/media/c${generation}/p.wav`, path: null, codec: 'libvorbis', bitrateKbps: 320 }),
      'preview:analysis': () => analysis(-12, { truePeakDbtp: -2 }),
    });
    await s.start();
    bridge.emit('preview:ready', { generation: 3, region: 'full', startSeconds: 0, endSeconds: 30, url: '/media/p3/full.wav' });
    await settle();
    expect(s.processed?.loudness.integratedLufs).toBe(-12);
    await s.hearAs('spotify');
    expect(bridge.calls.find((c) => c.channel === 'preview:codec')?.payload).toEqual({ generation: 3, targetId: 'spotify' });
    expect(s.hearing).toMatchObject({ targetId: 'spotify', codec: 'libvorbis', bitrateKbps: 320, loading: false });
    // Spotify at −14 LUFS turns this −12 LUFS master down by 2 dB.
    expect(s.playback.gainsDb.B).toBeCloseTo(-2, 10);
    // A newer full preview is heard through the codec again.
    bridge.emit('preview:ready', { generation: 4, region: 'full', startSeconds: 0, endSeconds: 30, url: '/media/p4/full.wav' });
    await settle();
    expect(bridge.calls.filter((c) => c.channel === 'preview:codec').map((c) => (c.payload as { generation: number }).generation)).toEqual([3, 4]);
    await s.hearAs(null);
    expect(s.hearing).toBeNull();
    expect(s.playback.platform).toBeNull();
  });

  it('opens a saved session by upload: its track is named when it has to be handed over again', async () => {
    const bridge = mockBridge({
      'session:open': ({ fileId }) => {
        expect(fileId).toBe('file-sess');
        return {
          name: 'album master', path: null, dirty: false, track: null, missingTrack: 'song.wav', references: [], snapshots: [],
          exportSettings: { targets: ['apple-music'], profile: null, codecChecks: 'full', maxLimitingDb: 4 }, playheadSeconds: 12,
        };
      },
    });
    const uploads: string[] = [];
    const s = new SessionState({
      api: bridge.api,
      decode: null,
      playback: new PlaybackState({ audio: null }),
      upload: async (f) => {
        uploads.push(f.name);
        return { fileId: 'file-sess', name: f.name, sizeBytes: f.size, origin: 'upload' };
      },
    });
    await s.start();
    await s.openSession(new File(['{}'], 'album master.lathe'));
    expect(uploads).toEqual(['album master.lathe']);
    expect(s.summary?.missingTrack).toBe('song.wav');
    expect(s.exporter.settings).toMatchObject({ targets: ['apple-music'], maxLimitingDb: 4 });
  });

  it('matches to a weighted blend of the references', async () => {
    const ref = (id: string) => ({ fileId: id, name: `${id}.wav`, durationSeconds: 30, sampleRate: 44_100, channels: 2, codec: 'pcm_s24le' });
    const matched = defaultChain();
    matched.eq.highShelf = { enabled: true, freqHz: 10_000, q: 0.707, gainDb: 2 };
    const { bridge, s } = session({
      'session:get': () => ({
        name: 'test', path: null, dirty: false, track: TRACK, missingTrack: null, references: [ref('file-r1'), ref('file-r2')], snapshots: [],
        exportSettings: { targets: ['spotify'], profile: null, codecChecks: 'full', maxLimitingDb: 6 }, playheadSeconds: 0,
      }),
      'match:reference': () => ({ chain: matched, summary: 'EQ +2.0 dB at 10 kHz' }),
    });
    await s.start();
    s.setWeight('file-r2', 0.25);
    s.setWeight('file-r1', 1.7);
    await s.matchBlend();
    expect(bridge.calls.find((c) => c.channel === 'match:reference')?.payload).toEqual({
      referenceFileId: 'file-r1',
      blend: [{ fileId: 'file-r1', weight: 1 }, { fileId: 'file-r2', weight: 0.25 }],
    });
    expect(s.matches.blend?.summary).toMatch(/10 kHz/);
    expect(s.matchedValue('eq.highShelf.gainDb')).toBe(2);
    s.applyMatch('blend');
    await settle();
    expect(s.valueAt('eq.highShelf.gainDb')).toBe(2);
  });

  it('asks what a file dropped on the desktop window is when a track is open, and adds it as a reference', async () => {
    const { bridge, s } = session({
      'reference:add': ({ fileId }) => ({ reference: { ...TRACK, fileId, name: 'ref.wav' }, analysisJobId: 'analysis-1' }),
    });
    await s.start();
    bridge.emit('files:added', [{ fileId: 'file-drop', name: 'ref.wav', sizeBytes: 10, origin: 'drop' }]);
    // Not opened over the current track: offered instead.
    expect(s.dropped.map((f) => f.name)).toEqual(['ref.wav']);
    expect(bridge.calls.some((c) => c.channel === 'track:open')).toBe(false);
    await s.useDropped('file-drop', 'reference');
    expect(s.dropped).toEqual([]);
    expect(bridge.calls.find((c) => c.channel === 'reference:add')?.payload).toEqual({ fileId: 'file-drop' });
    // Uploads (browser mode) are not drops on the window: they are handled where they were made.
    bridge.emit('files:added', [{ fileId: 'file-up', name: 'x.wav', sizeBytes: 10, origin: 'upload' }]);
    expect(s.dropped).toEqual([]);
  });

  it('offers an autosaved session at start and recovers it', async () => {
    const { bridge, s } = await (async () => {
      const r = session({
        'session:recoverable': () => ({ name: 'late night', savedAt: '2026-12-06T01:02:03Z' }),
        'session:recover': () => ({
          name: 'late night',
          path: null,
          dirty: true,
          track: null,
          missingTrack: 'mix.wav',
          references: [],
          snapshots: [],
          exportSettings: { targets: ['cd'], profile: null, codecChecks: 'none', maxLimitingDb: 6 },
          playheadSeconds: 0,
        }),
      });
      await r.s.start();
      return r;
    })();
    expect(s.recoverable?.name).toBe('late night');
    await s.recover();
    expect(s.recoverable).toBeNull();
    expect(s.summary?.missingTrack).toBe('mix.wav');
    expect(s.exporter.settings.targets).toEqual(['cd']);
    expect(bridge.calls.some((c) => c.channel === 'session:recover')).toBe(true);
  });

  it('takes snapshots after the session’s own, morphs the ones taken here, recalls saved ones through the engine', async () => {
    let saved = [{ name: 'from last week', createdAt: '2026-11-30T10:00:00Z' }];
    const summary = () => ({
      name: 'test', path: null, dirty: false, track: null, missingTrack: null, references: [], snapshots: saved,
      exportSettings: { targets: ['spotify'], profile: null, codecChecks: 'full' as const, maxLimitingDb: 6 }, playheadSeconds: 0,
    });
    const old = defaultChain();
    old.eq.inputGainDb = -3;
    const { bridge, s } = session({
      'session:get': summary,
      'demo:open': () => Promise.reject(refusal('NOT_AVAILABLE', 'no demo here')),
      'snapshot:take': ({ name }) => {
        saved = [...saved, { name, createdAt: '2026-12-06T00:00:00Z' }];
        return summary();
      },
      'snapshot:restore': ({ index }) => {
        expect(index).toBe(0);
        return { chain: old, canUndo: true, canRedo: false };
      },
    });
    await s.start();
    await s.takeSnapshot('A');
    bridge.emit('session:changed', summary());
    s.edit('eq.inputGainDb', 4);
    await settle();
    await s.takeSnapshot('B');
    bridge.emit('session:changed', summary());
    expect(s.snapshotNames).toEqual(['from last week', 'A', 'B']);
    s.morph(1, 2, 0.5);
    await settle();
    const last = bridge.calls.filter((c) => c.channel === 'chain:set').at(-1)!;
    expect(last.payload).toMatchObject({ coalesceKey: 'morph', chain: { eq: { inputGainDb: 2 } } });
    s.recallSnapshot(0);
    await settle();
    expect(s.valueAt('eq.inputGainDb')).toBe(-3);
  });

  it('morphs two chains: numbers in between, switches from the nearer end', () => {
    const a = defaultChain();
    const b = defaultChain();
    b.eq.inputGainDb = 4;
    b.compressor.enabled = true;
    const m = morphChains(a, b, 0.25);
    expect(m.eq.inputGainDb).toBeCloseTo(1, 10);
    expect(m.compressor.enabled).toBe(false);
    expect(morphChains(a, b, 0.75).compressor.enabled).toBe(true);
  });
});
