// The coach's dashboard: sign in (auth.ts), then the roster (#/) or one athlete
// (#/athletes/<id>), read through the client generated from openapi/openapi.json.
import './style.css';
import { client } from './generated/client.gen';
import * as auth from './auth';
import { h } from './dom';
import { showAthlete } from './athlete';
import { showRoster } from './roster';

const main = document.getElementById('main')!;
const signOutButton = document.getElementById('sign-out') as HTMLButtonElement;

client.setConfig({ baseUrl: location.origin });
client.interceptors.request.use((request) => {
  const token = auth.accessToken();
  if (token) request.headers.set('Authorization', `Bearer ${token}`);
  return request;
});

function signInScreen(message?: string): void {
  signOutButton.hidden = true;
  const button = h('button', { type: 'button', class: 'primary', id: 'sign-in' },
    'Sign in with Backstride');
  button.addEventListener('click', () => { void auth.signIn(); });
  main.replaceChildren(
    h('h1', {}, 'Your athletes, who needs attention first'),
    message ? h('p', { role: 'alert', class: 'message' }, message) : '',
    h('p', {}, 'Sign in with your Backstride coach account. You choose what this dashboard may '
      + 'read on the next page; your athletes see each of its reads in their access log.'),
    button);
}

async function route(): Promise<void> {
  if (!auth.signedIn()) { signInScreen(); return; }
  signOutButton.hidden = false;
  const match = location.hash.match(/^#\/athletes\/([0-9a-f-]{36})$/);
  main.setAttribute('aria-busy', 'true');
  try {
    if (match) await showAthlete(main, match[1]);
    else await showRoster(main);
    main.dataset.ready = location.hash || '#/';
  } catch (error) {
    main.replaceChildren(h('p', { role: 'alert', class: 'message' }, String(error)));
  } finally {
    main.removeAttribute('aria-busy');
  }
  main.focus();
}

auth.whenSignedOut(() => signInScreen('You are signed out.'));
signOutButton.addEventListener('click', () => auth.signOut());
window.addEventListener('hashchange', () => { delete main.dataset.ready; void route(); });

// The registered redirect is on 127.0.0.1 (a loopback IP, RFC 8252); come back there.
if (location.hostname === 'localhost') {
  location.replace(location.href.replace('//localhost', '//127.0.0.1'));
} else {
  auth.finishSignIn().then(() => route(), (error) => signInScreen(String(error.message ?? error)));
}
