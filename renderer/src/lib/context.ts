// The session state handed down by typed context (set once by App, read by every view).
import { getContext, setContext } from 'svelte';
import type { SessionState } from '../state/session.svelte.js';

const KEY = Symbol('lathe.session');

export function provideSession(session: SessionState): void {
  setContext(KEY, session);
}

export function useSession(): SessionState {
  const s = getContext<SessionState | undefined>(KEY);
  if (!s) throw new Error('useSession() outside the studio: App provides the session');
  return s;
}
