import { describe, expect, it } from 'vitest';

import { clear, normaliseBase, save, signIn, stored } from './session';

describe('session', () => {
  it('keeps the token and base URL in storage until sign-out', () => {
    clear();
    expect(stored()).toBeNull();
    save({ token: 't', base: 'http://h:1' });
    expect(stored()).toEqual({ token: 't', base: 'http://h:1' });
    save({ token: 't2', base: '' });
    expect(stored()).toEqual({ token: 't2', base: '' });
    clear();
    expect(stored()).toBeNull();
  });
  it('normalises the base URL', () => {
    expect(normaliseBase('  ')).toBe('');
    expect(normaliseBase('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(normaliseBase('ftp://x')).toBeInstanceOf(Error);
    expect(normaliseBase('not a url')).toBeInstanceOf(Error);
  });
  it('signs in with whoami, sending the token', async () => {
    const seen: string[] = [];
    const fetcher = async (url: string, init?: RequestInit) => {
      seen.push(`${url} ${(init?.headers as Record<string, string>).authorization}`);
      return new Response(JSON.stringify({ name: 'ops', role: 'admin' }), { status: 200 });
    };
    expect(await signIn({ token: 'abc', base: 'http://h' }, fetcher)).toMatchObject({ name: 'ops', role: 'admin', token: 'abc' });
    expect(seen).toEqual(['http://h/v1/whoami Bearer abc']);
    const denied = async () => new Response(JSON.stringify({ code: 'UNAUTHENTICATED', message: 'unknown token' }), { status: 401 });
    expect(await signIn({ token: 'x', base: '' }, denied)).toEqual({ error: '401 unknown token. Sign in again.' });
  });
});

describe('remembered role', () => {
  it('starts with the last whoami of the same token only', async () => {
    const { remember, remembered } = await import('./session');
    clear();
    save({ token: 'secret-token-1234', base: '' });
    expect(remembered()).toBeNull();
    remember({ token: 'secret-token-1234', base: '', name: 'ops', role: 'admin' } as never);
    expect(remembered()).toMatchObject({ name: 'ops', role: 'admin', token: 'secret-token-1234' });
    expect(localStorage.getItem('tradepulse.whoami')).not.toContain('secret');
    save({ token: 'other-token-9999', base: '' });
    expect(remembered()).toBeNull();
    clear();
    expect(localStorage.getItem('tradepulse.whoami')).toBeNull();
  });
});
