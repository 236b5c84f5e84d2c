// The dashboard shell: sign-in, the role-aware navigation, the live stream, and the pages on hash
// routes. Each page draws into <main> and returns its cleanup.

import { wsUrl } from './api';
import { button, h, stateBox } from './dom';
import { backtests } from './pages/backtests';
import type { Cleanup } from './pages/context';
import { orders } from './pages/orders';
import { overview } from './pages/overview';
import { run } from './pages/run';
import { signin } from './pages/signin';
import { strategies } from './pages/strategies';
import { sweep } from './pages/sweep';
import { parseRoute, section } from './router';
import { clear, remember, remembered, signIn, stored, type Session } from './session';
import { LiveStream } from './stream';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const user = document.getElementById('user') as HTMLElement;
const live = document.getElementById('live') as HTMLElement;

let session: Session | null = null;
let stream: LiveStream | null = null;
let cleanup: Cleanup | null = null;

function setLive(state: string, detail = ''): void {
  live.dataset.state = state;
  live.textContent = state === 'open' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline';
  live.title = detail || (state === 'open' ? 'Receiving live updates over /v1/stream' : '');
}

function signOut(): void {
  clear();
  stream?.stop();
  stream = null;
  session = null;
  user.replaceChildren();
  nav.hidden = true;
  live.hidden = true;
  location.hash = '#/signin';
}

function start(s: Session): void {
  session = s;
  remember(s);
  nav.hidden = false;
  live.hidden = false;
  user.replaceChildren(h('span', { class: 'who', 'data-role': s.role }, `${s.name} · ${s.role}`), button('Sign out', signOut, 'plain', { id: 'signout' }));
  stream?.stop();
  stream = new LiveStream(wsUrl(s.base, '/v1/stream', location.href), s.token);
  stream.on({ state: (st, d) => setLive(st, d) });
  stream.start();
}

function show(): void {
  cleanup?.();
  cleanup = null;
  main.removeAttribute('data-ready');
  const route = parseRoute(location.hash);
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a')) {
    if (section(parseRoute(a.getAttribute('href') ?? '')) === section(route)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!session || route.page === 'signin') {
    document.title = 'Sign in · TradePulse';
    signin(main, (s) => {
      start(s);
      if (route.page === 'signin') location.hash = '#/';
      else show();
    });
    return;
  }
  const ctx = { main, session, stream, ready: () => main.setAttribute('data-ready', 'true') };
  const titles: Record<string, string> = { overview: 'Overview', strategies: 'Strategies', backtests: 'Backtests', run: 'Backtest run', sweep: 'Sweep', orders: 'Orders & fills', missing: 'Not found' };
  document.title = `${titles[route.page] ?? ''} · TradePulse`;
  switch (route.page) {
    case 'overview':
      cleanup = overview(ctx);
      break;
    case 'strategies':
      cleanup = strategies(ctx);
      break;
    case 'backtests':
      cleanup = backtests(ctx);
      break;
    case 'run':
      cleanup = run(ctx, route.id);
      break;
    case 'sweep':
      cleanup = sweep(ctx, route.id);
      break;
    case 'orders':
      cleanup = orders(ctx);
      break;
    case 'missing':
      main.replaceChildren(stateBox('error', `No page at ${route.path}.`));
      ctx.ready();
  }
}

// The skip link must not change the hash (the routes live there).
document.querySelector('.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => {
  show();
  main.focus({ preventScroll: true });
});

async function boot(): Promise<void> {
  const saved = stored();
  // Seen before: show the page at once with the role remembered, and check the token meanwhile
  // (a changed role redraws; a refused token goes back to sign-in). The server checks every call.
  const known = remembered();
  if (saved && known) {
    start(known);
    show();
    const s = await signIn(saved);
    if ('error' in s) {
      if (s.error.startsWith('401')) signOut();
      return;
    }
    if (s.role !== known.role || s.name !== known.name) {
      start(s);
      show();
    }
    return;
  }
  if (saved) {
    main.replaceChildren(stateBox('loading', 'Signing in…'));
    const s = await signIn(saved);
    if ('error' in s) {
      // A stale token: back to the form, which says why.
      if (s.error.startsWith('401')) clear();
      signin(main, (ok) => {
        start(ok);
        show();
      }, `Your saved sign-in did not work: ${s.error}`);
      return;
    }
    start(s);
  }
  show();
}
void boot();
