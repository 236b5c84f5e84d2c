// The core API client. Its paths, parameters and answers are the types generated from the
// service's OpenAPI document (src/api/core.d.ts, `npm run gen:api`), so a changed endpoint breaks
// the type check. Every call answers a `Load` (never throws): the data, or a message a page shows.

import type { components, paths } from '../api/core';

export type Schemas = components['schemas'];

export type Load<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; message: string; status: number; code: string };

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

type Method = 'get' | 'post' | 'delete';
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Responses<O> = O extends { responses: infer R } ? R : never;
/** The JSON of the operation's 2xx answers. */
export type Success<O> = JsonOf<Responses<O>[200 & keyof Responses<O>]> | JsonOf<Responses<O>[201 & keyof Responses<O>]> | JsonOf<Responses<O>[202 & keyof Responses<O>]>;
/** The `{name}`s of a path template. */
type TemplateParams<S> = S extends `${string}{${infer P}}${infer Rest}` ? P | TemplateParams<Rest> : never;
type DeclaredQuery<O> = O extends { parameters: { query?: infer Q } } ? (Q extends undefined ? unknown : Q) : unknown;
type DeclaredPath<O> = O extends { parameters: { path: infer P } } ? (P extends undefined ? unknown : P) : unknown;
/**
 * Path parameters: those the document declares `in: path` that the template has. A parameter
 * declared `in: path` that the template lacks could only be a query parameter, and is typed as
 * one (an older core.json declared `?limit=` so).
 */
type PathOf<P, O> = Pick<DeclaredPath<O>, TemplateParams<P> & keyof DeclaredPath<O>>;
type QueryOf<P, O> = DeclaredQuery<O> & Partial<Omit<DeclaredPath<O>, TemplateParams<P>>>;
type BodyOf<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
/** Paths that have method `M`. */
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P][M] extends undefined | never ? never : P }[keyof paths];

export interface Options<P, O> {
  path?: PathOf<P, O>;
  query?: QueryOf<P, O>;
  body?: BodyOf<O>;
}

/** `/v1/orders/{id}` with `{id: 'a b'}` → `/v1/orders/a%20b`; query values that are null/undefined/'' are left out. */
export function buildPath(template: string, path: Record<string, unknown> = {}, query: Record<string, unknown> = {}): string {
  const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = path[name];
    if (v === undefined || v === null) throw new Error(`missing path parameter ${name} of ${template}`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.append(k, String(v));
  const s = q.toString();
  return s ? `${filled}?${s}` : filled;
}

/** `https://h/x/` + `/v1/status` → `https://h/x/v1/status` (an empty base: relative to the page). */
export function joinUrl(base: string, path: string): string {
  if (!base) return path.replace(/^\//, '');
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\//, '')}`;
}

/** The WebSocket URL of `path` under an http(s) base: ws(s)://… */
export function wsUrl(base: string, path: string, pageUrl: string): string {
  const url = new URL(joinUrl(base, path), pageUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

async function send<T>(url: string, init: RequestInit, fetcher: Fetch): Promise<Load<T>> {
  let response: Response;
  try {
    response = await fetcher(url, init);
  } catch (e) {
    return { state: 'error', status: 0, code: 'UNREACHABLE', message: `The TradePulse API is unreachable (${(e as Error).message}).` };
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const err = body && typeof body === 'object' ? (body as { code?: unknown; message?: unknown }) : {};
    const code = typeof err.code === 'string' ? err.code : `HTTP_${response.status}`;
    const detail = typeof err.message === 'string' ? err.message : response.statusText || 'request failed';
    const hint = response.status === 401 ? ' Sign in again.' : response.status === 403 ? ' Your role may not do this.' : '';
    return { state: 'error', status: response.status, code, message: `${response.status} ${detail}.${hint}`.replace(/\.\./, '.') };
  }
  if (body === undefined) {
    return { state: 'error', status: response.status, code: 'NOT_JSON', message: `${url}: the answer is not JSON.` };
  }
  return { state: 'ok', data: body as T };
}

export class Client {
  constructor(
    readonly base: string,
    readonly token: string | null,
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
  ) {}

  private init(method: string, body?: unknown): RequestInit {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return { method: method.toUpperCase(), headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
  }

  url(path: string): string {
    return joinUrl(this.base, path);
  }

  get<P extends PathsWith<'get'>>(path: P, options: Options<P, Op<P, 'get'>> = {}): Promise<Load<Success<Op<P, 'get'>>>> {
    return this.call('get', path, options);
  }

  post<P extends PathsWith<'post'>>(path: P, options: Options<P, Op<P, 'post'>> = {}): Promise<Load<Success<Op<P, 'post'>>>> {
    return this.call('post', path, options);
  }

  delete<P extends PathsWith<'delete'>>(path: P, options: Options<P, Op<P, 'delete'>> = {}): Promise<Load<Success<Op<P, 'delete'>>>> {
    return this.call('delete', path, options);
  }

  /** Any GET whose answer the OpenAPI document does not type (the chart payload). */
  getUntyped(path: string): Promise<Load<unknown>> {
    return send(this.url(path), this.init('get'), this.fetcher);
  }

  private call<T>(method: Method, path: string, options: { path?: unknown; query?: unknown; body?: unknown }): Promise<Load<T>> {
    let url: string;
    try {
      url = this.url(buildPath(path, (options.path ?? {}) as Record<string, unknown>, (options.query ?? {}) as Record<string, unknown>));
    } catch (e) {
      return Promise.resolve({ state: 'error', status: 0, code: 'CLIENT', message: (e as Error).message });
    }
    return send<T>(url, this.init(method, options.body), this.fetcher);
  }
}
