// Hash routes (`#/backtests/RUN`), so the static files work from any path and any server.

export type Route = { page: 'overview' } | { page: 'backtests' } | { page: 'run'; id: string } | { page: 'missing'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'backtests' && parts.length === 1) return { page: 'backtests' };
  if (parts[0] === 'backtests' && parts.length === 2) return { page: 'run', id: parts[1] as string };
  return { page: 'missing', path };
}
