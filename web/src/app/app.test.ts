// @vitest-environment node
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { getJson } from './api';
import { parseRoute } from './router';

describe('routes', () => {
  it('parses hash routes', () => {
    expect(parseRoute('')).toEqual({ page: 'overview' });
    expect(parseRoute('#/')).toEqual({ page: 'overview' });
    expect(parseRoute('#/backtests')).toEqual({ page: 'backtests' });
    expect(parseRoute('#/backtests/run%2042')).toEqual({ page: 'run', id: 'run 42' });
    expect(parseRoute('#/nope/x/y')).toEqual({ page: 'missing', path: '/nope/x/y' });
  });
});

// A real HTTP server on loopback answers the client.
describe('API client states', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/v1/backtests') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(req.headers.authorization === 'Bearer t0k' ? [{ id: 'a' }] : []));
      } else if (req.url === '/v1/broken') {
        res.end('not json');
      } else {
        res.statusCode = 403;
        res.end(JSON.stringify({ code: 'forbidden', message: 'viewer may not do that' }));
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('returns data, with the token sent', async () => {
    expect(await getJson(`${base}/v1/backtests`, fetch, 't0k')).toEqual({ state: 'ok', data: [{ id: 'a' }] });
    expect(await getJson(`${base}/v1/backtests`, fetch)).toEqual({ state: 'ok', data: [] });
  });

  it('turns API errors, bad bodies and unreachable servers into messages', async () => {
    expect(await getJson(`${base}/v1/kill`, fetch)).toEqual({ state: 'error', message: `${base}/v1/kill: 403 viewer may not do that` });
    expect(await getJson(`${base}/v1/broken`, fetch)).toEqual({ state: 'error', message: `${base}/v1/broken: the answer is not JSON.` });
    const down = await getJson('http://127.0.0.1:9/v1/x', fetch);
    expect(down.state).toBe('error');
  });
});
