// The export room's channels: output:open names a report only by the opaque id the engine gave
// its output (never a path, a URL or anything else), and job:progress carries each target's stage
// and fraction while staying what it was for every other job (older payloads still pass). Checked
// on the validators and through the dispatch wrapper every transport uses.
import { describe, expect, it, vi } from 'vitest';
import { events, invoke } from '../../preload/contract.js';
import { dispatchInvoke } from '../../main/server/dispatch.js';
import { refusal } from '../helpers/contract.js';

describe('contract: output:open', () => {
  it('accepts an output id and nothing else', () => {
    expect(invoke['output:open'].request.parse({ mediaId: 'media-0123abcd' })).toEqual({ mediaId: 'media-0123abcd' });
    expect(invoke['output:open'].response.parse({ opened: true })).toEqual({ opened: true });
  });

  it('refuses ids that are not the engine\'s form, paths, URLs and extra fields, naming the field', () => {
    for (const bad of ['', '../../etc/passwd', '/tmp/report.html', 'C:\\x.html', 'lathe://media/media-1/r.html', 'file:///etc/passwd', 'media 1', 'x'.repeat(65)]) {
      expect(refusal(() => invoke['output:open'].request.parse({ mediaId: bad })).path, bad).toBe('payload.mediaId');
    }
    expect(refusal(() => invoke['output:open'].request.parse({ mediaId: 42 })).reason).toMatch(/must be text/);
    expect(refusal(() => invoke['output:open'].request.parse({})).path).toBe('payload.mediaId');
    expect(refusal(() => invoke['output:open'].request.parse({ mediaId: 'media-1', path: '/etc/passwd' })).path).toBe('payload.path');
    expect(refusal(() => invoke['output:open'].request.parse(JSON.parse('{"mediaId":"media-1","__proto__":{"path":"/x"}}'))).path).toBe('payload.__proto__');
    expect(refusal(() => invoke['output:open'].response.parse({ opened: 'yes' })).path).toBe('payload.opened');
  });

  it('never reaches the handler with a bad payload', async () => {
    const handler = vi.fn(() => ({ opened: true }));
    const handlers = { 'output:open': handler } as never;
    expect(await dispatchInvoke(handlers, 'output:open', { mediaId: '/etc/passwd' })).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD', message: expect.stringMatching(/mediaId/) } });
    expect(await dispatchInvoke(handlers, 'output:open', { url: 'file:///etc/passwd' })).toMatchObject({ ok: false, error: { code: 'BAD_PAYLOAD' } });
    expect(handler).not.toHaveBeenCalled();
    expect(await dispatchInvoke(handlers, 'output:open', { mediaId: 'media-1' })).toEqual({ ok: true, value: { opened: true } });
    expect(handler).toHaveBeenCalledWith({ mediaId: 'media-1' });
  });

  it('outputs carry their id, optionally (older engines sent none)', () => {
    expect(invoke['file:media'].response.parse({ name: 'a.wav', url: '/media/media-1/a.wav', path: null, mediaId: 'media-1' }).mediaId).toBe('media-1');
    expect(invoke['file:media'].response.parse({ name: 'a.wav', url: '/media/media-1/a.wav', path: null }).mediaId).toBeUndefined();
    expect(refusal(() => events['job:done'].parse({ jobId: 'job-1', kind: 'export', outputs: [{ name: 'r.html', url: '/m', path: null, mediaId: '../r' }] })).path).toBe('payload.outputs[0].mediaId');
  });
});

describe('contract: job:progress per target', () => {
  const base = { jobId: 'job-1', kind: 'export' as const, fraction: 0.5, stage: 'spotify: rendering mix.spotify.flac' };

  it('carries every target\'s stage and fraction, and stays valid without them', () => {
    const p = events['job:progress'].parse({ ...base, targets: [{ targetId: 'spotify', stage: 'rendering', fraction: 0.4 }, { targetId: 'cd', stage: 'queued', fraction: 0 }] });
    expect(p.targets).toEqual([{ targetId: 'spotify', stage: 'rendering', fraction: 0.4 }, { targetId: 'cd', stage: 'queued', fraction: 0 }]);
    for (const stage of ['queued', 'rendering', 'encoding', 'verifying', 'done', 'failed']) {
      expect(events['job:progress'].parse({ ...base, targets: [{ targetId: 'cd', stage, fraction: 1 }] }).targets![0]!.stage).toBe(stage);
    }
    expect(events['job:progress'].parse(base)).toEqual(base);
  });

  it('refuses a stage it does not know, a fraction outside 0…1, a missing target id and extra fields', () => {
    const one = (t: unknown) => refusal(() => events['job:progress'].parse({ ...base, targets: [t] }));
    expect(one({ targetId: 'cd', stage: 'mixing', fraction: 0.1 }).path).toBe('payload.targets[0].stage');
    expect(one({ targetId: 'cd', stage: 'rendering', fraction: 1.2 }).path).toBe('payload.targets[0].fraction');
    expect(one({ targetId: 'cd', stage: 'rendering', fraction: Number.NaN }).path).toBe('payload.targets[0].fraction');
    expect(one({ stage: 'rendering', fraction: 0.1 }).path).toBe('payload.targets[0].targetId');
    expect(one({ targetId: '', stage: 'rendering', fraction: 0.1 }).path).toBe('payload.targets[0].targetId');
    expect(one({ targetId: 'cd', stage: 'rendering', fraction: 0.1, file: '/x' }).path).toBe('payload.targets[0].file');
    expect(refusal(() => events['job:progress'].parse({ ...base, targets: 'spotify' })).path).toBe('payload.targets');
    expect(refusal(() => events['job:progress'].parse({ ...base, targets: Array.from({ length: 33 }, () => ({ targetId: 'cd', stage: 'queued', fraction: 0 })) })).reason).toMatch(/at most 32/);
  });
});
