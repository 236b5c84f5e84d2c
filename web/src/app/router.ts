// Hash routes (`#/backtests/RUN`), so the static files work from any path and any server.

export type Route =
  | { page: 'overview' }
  | { page: 'strategies' }
  | { page: 'backtests' }
  | { page: 'run'; id: string }
  | { page: 'sweep'; id: string }
  | { page: 'orders' }
  | { page: 'signin' }
  | { page: 'missing'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { page: 'missing', path };
  }
  if (parts.length === 0) return { page: 'overview' };
  if (parts.length === 1 && (parts[0] === 'strategies' || parts[0] === 'backtests' || parts[0] === 'orders' || parts[0] === 'signin')) {
    return { page: parts[0] };
  }
  if (parts[0] === 'backtests' && parts.length === 2) return { page: 'run', id: parts[1] as string };
  // `jobs` and `configs` are the API's routes beside a sweep's, never a sweep's id.
  if (parts[0] === 'sweeps' && parts.length === 2 && parts[1] !== 'jobs' && parts[1] !== 'configs') return { page: 'sweep', id: parts[1] as string };
  return { page: 'missing', path };
}

/** The nav entry a route belongs to. */
export function section(route: Route): string {
  return route.page === 'run' || route.page === 'sweep' ? 'backtests' : route.page;
}
