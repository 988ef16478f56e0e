import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { openDoor } from './lib/client.js';
import { SessionState } from './state/session.svelte.js';

const target = document.getElementById('app')!;

openDoor()
  .then((door) => {
    const session = new SessionState({ api: door.api, ...(door.upload ? { upload: door.upload } : {}) });
    mount(App, { target, props: { session } });
    door.onDisconnect?.(() => session.notices.error('Lathe’s engine is not reachable', { code: 'DISCONNECTED', message: 'the connection to the engine closed' }));
    window.addEventListener('error', (e) => door.api.send('log:error', { message: String(e.message).slice(0, 2000) }));
  })
  .catch((e: Error) => {
    target.textContent = '';
    const box = document.createElement('div');
    box.className = 'fatal';
    box.setAttribute('role', 'alert');
    box.textContent = `Lathe cannot reach its engine: ${e.message}. Start it with \`lathe serve\` (or \`npm run web\`) and open the URL it prints.`;
    target.append(box);
  });
