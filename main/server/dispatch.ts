// The one wrapper every request passes through, whatever carried it (Electron IPC or browser
// mode's WebSocket): the channel must be in the contract, the payload must pass its validator, and
// the handler's answer must pass the response's. Every failure becomes `{code, message}`: the
// transport's own checks (the sender, the token) come before this.
import { ContractError, invoke, isInvokeChannel, isSendChannel, send, type Handlers, type Outcome, type SendChannel, type SendPayload, type WireError } from '../../preload/contract.js';
import { isLatheError } from '../core/errors.js';
import { StudioError } from './studio.js';

export function wireErrorOf(e: unknown): WireError {
  if (e instanceof ContractError) return { code: 'BAD_PAYLOAD', message: e.message };
  if (e instanceof StudioError || isLatheError(e)) return { code: (e as { code: string }).code, message: (e as Error).message };
  // Anything else is a bug in Lathe: one line, never a stack trace, across the boundary.
  const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  return { code: 'INTERNAL', message: `internal error: ${message}` };
}

export async function dispatchInvoke(handlers: Handlers, channel: unknown, payload: unknown): Promise<Outcome<unknown>> {
  if (!isInvokeChannel(channel)) return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: `unknown channel ${JSON.stringify(channel)?.slice(0, 80) ?? 'nothing'}` } };
  const entry = invoke[channel];
  let request: unknown;
  try {
    request = entry.request.parse(payload, channel);
  } catch (e) {
    return { ok: false, error: wireErrorOf(e) };
  }
  let value: unknown;
  try {
    value = await (handlers[channel] as (r: unknown) => unknown)(request);
  } catch (e) {
    return { ok: false, error: wireErrorOf(e) };
  }
  try {
    return { ok: true, value: entry.response.parse(value, `${channel} response`) };
  } catch (e) {
    return { ok: false, error: { code: 'INTERNAL', message: `internal error: the engine's answer broke the contract (${(e as Error).message})` } };
  }
}

/** Fire-and-forget messages: validated the same way; a refusal is returned for logging. */
export function dispatchSend(receivers: { [C in SendChannel]: (payload: SendPayload<C>) => void }, channel: unknown, payload: unknown): WireError | null {
  if (!isSendChannel(channel)) return { code: 'UNKNOWN_CHANNEL', message: `unknown channel ${JSON.stringify(channel)?.slice(0, 80) ?? 'nothing'}` };
  try {
    (receivers[channel] as (p: unknown) => void)(send[channel].parse(payload, channel));
    return null;
  } catch (e) {
    return wireErrorOf(e);
  }
}
