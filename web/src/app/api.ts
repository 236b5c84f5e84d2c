// The core API client. The API itself (issue 13) is not there yet: until it is, every page shows
// its error state against a plain static server, which is the honest answer.

export type Load<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; message: string };

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface RunSummary {
  id: string;
  strategy: string;
  instrument: string;
  created_at: string;
}

/** GET `path` as JSON, with the stored API token; errors become a message, never a throw. */
export async function getJson<T>(path: string, fetcher: Fetch = fetch, token: string | null = null): Promise<Load<T>> {
  let response: Response;
  try {
    response = await fetcher(path, {
      headers: token ? { accept: 'application/json', authorization: `Bearer ${token}` } : { accept: 'application/json' },
    });
  } catch (e) {
    return { state: 'error', message: `The TradePulse API is unreachable (${(e as Error).message}).` };
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body === 'object' && 'message' in body ? String((body as { message: unknown }).message) : response.statusText;
    return { state: 'error', message: `${path}: ${response.status} ${detail}`.trim() };
  }
  if (body === null) return { state: 'error', message: `${path}: the answer is not JSON.` };
  return { state: 'ok', data: body as T };
}
