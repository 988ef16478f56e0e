// The contract's validators: good payloads pass (typed, unknown keys refused), bad ones are
// refused naming the field; buildApi validates before anything leaves.
import { describe, expect, it } from 'vitest';
import { buildApi, ContractError, events, invoke, invokeChannels, isInvokeChannel, send, v } from '../../preload/contract.js';
import { defaultChain } from '../../main/core/chain/document.js';
import { refusal } from '../helpers/contract.js';


describe('contract validators', () => {
  it('accepts good requests', () => {
    expect(invoke['track:open'].request.parse({ fileId: 'file-ab12' })).toEqual({ fileId: 'file-ab12' });
    expect(invoke['preview:render'].request.parse({ playheadSeconds: 12.5 })).toEqual({ playheadSeconds: 12.5 });
    expect(invoke['render:start'].request.parse({ container: 'wav', bits: 24 })).toEqual({ container: 'wav', bits: 24 });
    expect(invoke['chain:set'].request.parse({ chain: defaultChain(), coalesceKey: 'eq.gain' }).chain).toEqual(defaultChain());
    expect(invoke['export:settings'].request.parse({ targets: ['spotify'], profile: null, codecChecks: 'none', maxLimitingDb: 4 })).toMatchObject({ targets: ['spotify'] });
    expect(send['playback:playhead'].parse({ seconds: 3 })).toEqual({ seconds: 3 });
    expect(events['job:progress'].parse({ jobId: 'render-1', kind: 'render', fraction: 0.5, stage: 'rendering' })).toMatchObject({ fraction: 0.5 });
  });

  it('refuses bad requests, naming the field and the reason', () => {
    expect(refusal(() => invoke['track:open'].request.parse({ fileId: '../etc/passwd' }, 'track:open')).path).toBe('track:open.fileId');
    expect(refusal(() => invoke['track:open'].request.parse({ fileId: 'a', path: '/etc/passwd' })).reason).toMatch(/not a known field/);
    expect(refusal(() => invoke['track:open'].request.parse(null)).reason).toMatch(/must be an object/);
    expect(refusal(() => invoke['preview:render'].request.parse({ playheadSeconds: -1 })).reason).toMatch(/outside/);
    expect(refusal(() => invoke['preview:render'].request.parse({ playheadSeconds: Number.NaN })).reason).toMatch(/must be a number/);
    expect(refusal(() => invoke['render:start'].request.parse({ container: 'exe', bits: 24 })).path).toBe('payload.container');
    expect(refusal(() => invoke['render:start'].request.parse({ container: 'wav', bits: 20 })).reason).toMatch(/one of 16, 24, 32/);
    const chain: any = defaultChain();
    chain.eq.peaks[2].gainDb = 40;
    expect(refusal(() => invoke['chain:set'].request.parse({ chain })).path).toBe('payload.chain.eq.peaks[2].gainDb');
    expect(refusal(() => invoke['export:settings'].request.parse({ targets: 'spotify', profile: null, codecChecks: 'full', maxLimitingDb: 6 })).reason).toMatch(/must be a list/);
    expect(refusal(() => invoke['snapshot:take'].request.parse({ name: '' })).reason).toMatch(/characters long/);
    expect(refusal(() => v.array(v.number(), { max: 2 }).parse([1, 2, 3])).reason).toMatch(/at most 2/);
    expect(refusal(() => send['log:error'].parse({ message: 'x'.repeat(5000) })).reason).toMatch(/characters long/);
  });

  it('checks the engine\'s answers too', () => {
    expect(() => invoke['chain:get'].response.parse({ chain: defaultChain(), canUndo: false, canRedo: false })).not.toThrow();
    expect(refusal(() => invoke['chain:get'].response.parse({ chain: defaultChain(), canUndo: 'no', canRedo: false })).path).toBe('payload.canUndo');
    expect(refusal(() => events['analysis:ready'].parse({ fileId: 'f', analysis: { file: 'x' } })).reason).toMatch(/missing/);
  });

  it('has namespaced channels, and only its own', () => {
    for (const c of invokeChannels) expect(c).toMatch(/^[a-z]+:[a-zA-Z]+$/);
    expect(isInvokeChannel('toString')).toBe(false);
    expect(isInvokeChannel('__proto__')).toBe(false);
    expect(isInvokeChannel('chain:get')).toBe(true);
  });

  it('buildApi validates requests before they leave and turns errors into LatheCallError', async () => {
    const sent: unknown[] = [];
    const api = buildApi({
      invoke: async (channel, payload) => {
        sent.push([channel, payload]);
        return channel === 'session:get' ? { ok: false, error: { code: 'NOT_FOUND', message: 'none' } } : { ok: true, value: 42 };
      },
      send: (c, p) => sent.push(['send', c, p]),
      subscribe: () => () => undefined,
    });
    await expect(api['track:open']({ fileId: 'bad id!' })).rejects.toBeInstanceOf(ContractError);
    expect(sent).toEqual([]);
    await expect(api['session:get']({})).rejects.toMatchObject({ name: 'LatheCallError', code: 'NOT_FOUND' });
    expect(await api['chain:get']({})).toBe(42);
    expect(() => api.send('playback:playhead' as never, { seconds: 'x' } as never)).toThrow(ContractError);
    expect(() => api.on('nope' as never, () => undefined)).toThrow(/unknown event/);
  });
});
