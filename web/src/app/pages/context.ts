// What every page gets: where to draw, the session, the live stream; it returns its cleanup.

import type { Session } from '../session';
import type { LiveStream } from '../stream';

export interface PageContext {
  main: HTMLElement;
  session: Session;
  stream: LiveStream | null;
  /** Settles `main`'s `aria-busy` and marks the page ready for tests (`data-ready`). */
  ready(): void;
}

export type Cleanup = () => void;

/** Calls `fn` at most once per `ms`, the last call's arguments winning (trailing edge). */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  run.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return run;
}
