// Signing in through Backstride's own OAuth 2 server as the first-party public client:
// authorization code with PKCE (S256). The tokens live in this module's memory only, never in
// localStorage or sessionStorage, so a reload signs in again (the consent page remembers the
// browser's sign-in for a while). Only the PKCE verifier and the state, which are worthless
// without the code, cross the redirect in sessionStorage. The access token is refreshed in the
// background before it expires; refresh tokens rotate, so each refresh keeps the new one.

export const CLIENT_ID = 'bst_app_coach_dashboard';
// Pain needs its own scope besides the athlete's grant; the coach can untick it on the consent page.
export const SCOPE = 'coach:read pain:read';
const PENDING = 'backstride.coach.pending';

type Tokens = { access: string; refresh: string; expiresAt: number };
let tokens: Tokens | null = null;
let timer: number | undefined;
let onSignedOut: () => void = () => {};

export function redirectUri(): string {
  return `${location.origin}/coach/`;
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(n: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

export async function signIn(): Promise<void> {
  const verifier = random(48);
  const state = random(16);
  const challenge = b64url(new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, route: location.hash }));
  const params = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri(), scope: SCOPE,
    state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(`/oauth/authorize?${params}`);
}

/** After the consent page sent us back: trade the code for tokens. Null if not a callback. */
export async function finishSignIn(): Promise<string | null> {
  const query = new URLSearchParams(location.search);
  if (!query.has('code') && !query.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', `/coach/${pending?.route ?? ''}`);
  if (query.has('error')) throw new Error(query.get('error_description') ?? query.get('error')!);
  if (!pending || pending.state !== query.get('state')) throw new Error('The sign-in expired; try again.');
  await tokenRequest({
    grant_type: 'authorization_code', code: query.get('code')!, redirect_uri: redirectUri(),
    client_id: CLIENT_ID, code_verifier: pending.verifier,
  });
  return pending.route ?? '';
}

async function tokenRequest(form: Record<string, string>): Promise<void> {
  const response = await fetch('/oauth/token', {
    method: 'POST', body: new URLSearchParams(form),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error_description ?? body.error ?? 'Sign-in failed');
  tokens = { access: body.access_token, refresh: body.refresh_token,
             expiresAt: Date.now() + body.expires_in * 1000 };
  window.clearTimeout(timer);
  // Refresh at four fifths of the lifetime, in the background.
  timer = window.setTimeout(() => { refresh().catch(() => signOut()); },
                            Math.max(5, body.expires_in * 0.8) * 1000);
}

export async function refresh(): Promise<void> {
  if (!tokens) throw new Error('Not signed in');
  await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh,
                       client_id: CLIENT_ID });
}

export function accessToken(): string | null {
  return tokens?.access ?? null;
}

export function signedIn(): boolean {
  return tokens !== null;
}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

export function signOut(): void {
  const old = tokens;
  tokens = null;
  window.clearTimeout(timer);
  if (old) {
    void fetch('/oauth/revoke', {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: old.refresh, client_id: CLIENT_ID }),
    });
  }
  onSignedOut();
}
