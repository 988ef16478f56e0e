// The channels the studio's views need beyond the shell's: the demo, a file's media URL, the
// analysis of a full preview and the EQ curve. Good payloads pass, bad ones are refused by field.
import { describe, expect, it } from 'vitest';
import { invoke } from '../../preload/contract.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { refusal } from '../helpers/contract.js';


describe('contract: channels for the views', () => {
  it('accepts good requests and responses', () => {
    expect(invoke['demo:open'].request.parse({})).toEqual({});
    expect(invoke['file:media'].request.parse({ fileId: 'file-1' })).toEqual({ fileId: 'file-1' });
    expect(invoke['file:media'].response.parse({ name: 'a.wav', url: '/media/m-1/a.wav', path: null })).toMatchObject({ url: '/media/m-1/a.wav' });
    expect(invoke['preview:analysis'].request.parse({ generation: 3 })).toEqual({ generation: 3 });
    expect(invoke['eq:curve'].request.parse({ chain: defaultChain(), sampleRate: 48_000, points: 64 })).toMatchObject({ sampleRate: 48_000, points: 64 });
    expect(invoke['eq:curve'].response.parse({ hz: [20, 20_000], db: [0, -1.5] })).toEqual({ hz: [20, 20_000], db: [0, -1.5] });
    expect(invoke['match:reference'].request.parse({ referenceFileId: 'file-a', blend: [{ fileId: 'file-a', weight: 0.7 }, { fileId: 'file-b', weight: 0.3 }] }).blend).toHaveLength(2);
    expect(invoke['preview:codec'].request.parse({ generation: 2, targetId: 'spotify' })).toEqual({ generation: 2, targetId: 'spotify' });
    expect(invoke['preview:codec'].response.parse({ name: 'p.wav', url: '/media/m/p.wav', path: null, codec: 'aac', bitrateKbps: 256 })).toMatchObject({ codec: 'aac' });
    expect(invoke['targets:list'].response.parse([{ id: 'spotify', name: 'Spotify', integratedLufs: -14, truePeakCeilingDbtp: -1, container: 'flac', normalization: 'up-and-down' }])[0]!.normalization).toBe('up-and-down');
  });

  it('refuses bad requests, naming the field', () => {
    expect(refusal(() => invoke['demo:open'].request.parse({ path: '/etc/passwd' })).reason).toMatch(/not a known field/);
    expect(refusal(() => invoke['file:media'].request.parse({ fileId: '../../etc/passwd' })).path).toBe('payload.fileId');
    expect(refusal(() => invoke['preview:analysis'].request.parse({ generation: 0 })).reason).toMatch(/outside/);
    expect(refusal(() => invoke['preview:analysis'].request.parse({ generation: 1.5 })).reason).toMatch(/whole number/);
    expect(refusal(() => invoke['eq:curve'].request.parse({ chain: defaultChain(), sampleRate: 100 })).path).toBe('payload.sampleRate');
    expect(refusal(() => invoke['eq:curve'].request.parse({ chain: defaultChain(), sampleRate: 48_000, points: 100_000 })).path).toBe('payload.points');
    const chain: any = defaultChain();
    chain.eq.peaks[1].q = 0;
    expect(refusal(() => invoke['eq:curve'].request.parse({ chain, sampleRate: 48_000 })).path).toBe('payload.chain.eq.peaks[1].q');
    expect(refusal(() => invoke['eq:curve'].response.parse({ hz: [1], db: ['loud'] })).path).toBe('payload.db[0]');
    expect(refusal(() => invoke['match:reference'].request.parse({ referenceFileId: 'file-a', blend: [{ fileId: 'file-a', weight: 2 }] })).path).toBe('payload.blend[0].weight');
    expect(refusal(() => invoke['preview:codec'].request.parse({ generation: 2, targetId: '' })).path).toBe('payload.targetId');
    expect(refusal(() => invoke['preview:codec'].request.parse({ generation: 2 })).path).toBe('payload.targetId');
    expect(refusal(() => invoke['targets:list'].response.parse([{ id: 'x', name: 'X', integratedLufs: null, truePeakCeilingDbtp: -1, container: 'wav', normalization: 'sometimes' }])).path).toBe('payload[0].normalization');
  });
});
