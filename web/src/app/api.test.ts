// @vitest-environment node
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildPath, Client, joinUrl, wsUrl } from './api';

describe('paths and URLs', () => {
  it('fills path parameters, encoded, and drops empty query values', () => {
    expect(buildPath('/v1/orders/{client_order_id}/fills', { client_order_id: 'a b/c' })).toBe('/v1/orders/a%20b%2Fc/fills');
    expect(buildPath('/v1/orders', {}, { status: 'open', strategy: '', instrument: undefined, limit: 50 })).toBe('/v1/orders?status=open&limit=50');
    expect(() => buildPath('/v1/backtests/{id}', {})).toThrow(/missing path parameter id/);
  });
  it('joins the base URL and derives the WebSocket URL', () => {
    expect(joinUrl('http://h:1/', '/v1/status')).toBe('http://h:1/v1/status');
    expect(joinUrl('', '/v1/status')).toBe('v1/status');
    expect(wsUrl('', '/v1/stream', 'https://dash.example/app/#/')).toBe('wss://dash.example/app/v1/stream');
    expect(wsUrl('http://127.0.0.1:9/', '/v1/stream', 'https://x/')).toBe('ws://127.0.0.1:9/v1/stream');
  });
});

// A real HTTP server on loopback answers the client.
describe('API client states', () => {
  let server: Server;
  let base = '';
  const seen: Array<{ method: string; url: string; auth: string | undefined; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v1/positions') res.end(JSON.stringify(req.headers.authorization === 'Bearer t0k' ? [{ instrument: 'X.SIM' }] : []));
        else if (req.url === '/v1/balances') res.end('not json');
        else if (req.url === '/v1/fills?limit=5') res.end('');
        else if (req.url === '/v1/status') {
          res.statusCode = 401;
          res.end(JSON.stringify({ code: 'UNAUTHENTICATED', message: 'a bearer token is required' }));
        } else if (req.url === '/v1/equity') {
          res.statusCode = 502;
          res.end('<html>bad gateway</html>');
        } else {
          res.statusCode = 403;
          res.end(JSON.stringify({ code: 'FORBIDDEN', message: 'needs role admin' }));
        }
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('returns data with the bearer token sent, and an empty list as data', async () => {
    expect(await new Client(base, 't0k').get('/v1/positions')).toEqual({ state: 'ok', data: [{ instrument: 'X.SIM' }] });
    expect(await new Client(base, null).get('/v1/positions')).toEqual({ state: 'ok', data: [] });
    expect(seen.at(-2)?.auth).toBe('Bearer t0k');
    expect(seen.at(-1)?.auth).toBeUndefined();
  });

  it('sends JSON bodies', async () => {
    const r = await new Client(base, 't').post('/v1/kill-switch', { body: { scope: 'global', engaged: true, reason: 'test run' } });
    expect(r).toMatchObject({ state: 'error', status: 403, code: 'FORBIDDEN', message: '403 needs role admin. Your role may not do this.' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/v1/kill-switch', body: '{"scope":"global","engaged":true,"reason":"test run"}' });
  });

  it('turns API errors, bad or empty bodies and unreachable servers into messages', async () => {
    const c = new Client(base, 't');
    expect(await c.get('/v1/status')).toMatchObject({ state: 'error', status: 401, code: 'UNAUTHENTICATED', message: '401 a bearer token is required. Sign in again.' });
    expect(await c.get('/v1/balances')).toMatchObject({ state: 'error', code: 'NOT_JSON' });
    expect(await c.get('/v1/fills', { query: { limit: 5 } })).toMatchObject({ state: 'error', code: 'NOT_JSON' });
    expect(await c.get('/v1/equity')).toMatchObject({ state: 'error', status: 502, code: 'HTTP_502' });
    const down = await new Client('http://127.0.0.1:9', 't').get('/v1/status');
    expect(down).toMatchObject({ state: 'error', status: 0, code: 'UNREACHABLE' });
  });
});
