// The signed-in session: API token and base URL in localStorage, the caller from /v1/whoami.

import { Client, type Fetch } from './api';
import { parseRole, type Role } from './roles';

export const TOKEN_KEY = 'tradepulse.token';
export const BASE_KEY = 'tradepulse.apiBase';
/** The last /v1/whoami answer for the stored token: the pages start with it, checked at once. */
export const WHO_KEY = 'tradepulse.whoami';

export interface Stored {
  token: string;
  /** '' : the page's own origin. */
  base: string;
}

export function stored(storage: Storage = localStorage): Stored | null {
  const token = storage.getItem(TOKEN_KEY);
  if (!token) return null;
  return { token, base: storage.getItem(BASE_KEY) ?? '' };
}

export function save(s: Stored, storage: Storage = localStorage): void {
  storage.setItem(TOKEN_KEY, s.token);
  if (s.base) storage.setItem(BASE_KEY, s.base);
  else storage.removeItem(BASE_KEY);
}

export function clear(storage: Storage = localStorage): void {
  storage.removeItem(TOKEN_KEY);
  storage.removeItem(BASE_KEY);
  storage.removeItem(WHO_KEY);
}

/** Remembers who the stored token is (name, role), keyed by a hash of nothing secret: the token's length and last 4 characters. */
export function remember(s: Session, storage: Storage = localStorage): void {
  storage.setItem(WHO_KEY, JSON.stringify({ name: s.name, role: s.role, tag: tag(s.token) }));
}

const tag = (token: string) => `${token.length}:${token.slice(-4)}`;

/** The session the stored token had last time, without asking the server (null: unknown). */
export function remembered(storage: Storage = localStorage): Session | null {
  const s = stored(storage);
  const text = storage.getItem(WHO_KEY);
  if (!s || !text) return null;
  try {
    const who = JSON.parse(text) as { name?: unknown; role?: unknown; tag?: unknown };
    if (typeof who.name !== 'string' || typeof who.role !== 'string' || who.tag !== tag(s.token)) return null;
    return { client: new Client(s.base, s.token), token: s.token, base: s.base, name: who.name, role: parseRole(who.role) };
  } catch {
    return null;
  }
}

/** A base URL as typed: trimmed, no trailing slash, http(s) only; '' stays '' (same origin). */
export function normaliseBase(text: string): string | Error {
  const t = text.trim();
  if (!t) return '';
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return new Error(`${t} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new Error('the API base URL must be http:// or https://');
  return url.toString().replace(/\/+$/, '');
}

export interface Session {
  client: Client;
  token: string;
  base: string;
  name: string;
  role: Role;
}

/** Checks the token with /v1/whoami. */
export async function signIn(s: Stored, fetcher?: Fetch): Promise<Session | { error: string }> {
  const client = new Client(s.base, s.token, fetcher);
  const who = await client.get('/v1/whoami');
  if (who.state !== 'ok') return { error: who.state === 'error' ? who.message : 'not signed in' };
  return { client, token: s.token, base: s.base, name: who.data.name, role: parseRole(who.data.role) };
}
