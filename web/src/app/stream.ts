// The live stream (/v1/stream): StreamMessage JSON texts over a WebSocket. Browsers cannot set an
// Authorization header on a WebSocket, so the token travels as a subprotocol
// (`tradepulse.bearer.<token>`) beside `tradepulse.v1`, which the server selects. Reconnects with
// exponential back-off (1 s … 30 s, with jitter); after a reconnect or a `lagged` message the
// listeners are told to re-fetch what they show.

import type { Schemas } from './api';

export type StreamMessage = Schemas['StreamMessage'];
export type StreamState = 'connecting' | 'open' | 'closed';

export interface StreamEvents {
  message(m: StreamMessage): void;
  /** Something may have been missed: re-read. */
  resync(): void;
  state(s: StreamState, detail?: string): void;
}

/** The delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s, ±20 % jitter. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export const PROTOCOL = 'tradepulse.v1';

export function protocols(token: string): string[] {
  return [PROTOCOL, `tradepulse.bearer.${token}`];
}

export class LiveStream {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private everOpened = false;
  private readonly listeners = new Set<Partial<StreamEvents>>();
  state: StreamState = 'connecting';

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly make: (url: string, protocols: string[]) => WebSocket = (u, p) => new WebSocket(u, p),
  ) {}

  on(l: Partial<StreamEvents>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit<K extends keyof StreamEvents>(k: K, ...args: Parameters<StreamEvents[K]>): void {
    for (const l of this.listeners) (l[k] as ((...a: Parameters<StreamEvents[K]>) => void) | undefined)?.(...args);
  }

  private setState(s: StreamState, detail?: string): void {
    this.state = s;
    this.emit('state', s, detail);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting');
    let ws: WebSocket;
    try {
      ws = this.make(this.url, protocols(this.token));
    } catch (e) {
      this.retry(`cannot open ${this.url}: ${(e as Error).message}`);
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('open');
      if (this.everOpened) this.emit('resync');
      this.everOpened = true;
    };
    ws.onmessage = (e: MessageEvent) => {
      let m: StreamMessage;
      try {
        m = JSON.parse(String(e.data)) as StreamMessage;
      } catch {
        return;
      }
      if (m.type === 'lagged') this.emit('resync');
      this.emit('message', m);
    };
    ws.onclose = () => {
      if (this.socket === ws) this.socket = null;
      this.retry('disconnected');
    };
    // An error is followed by close; nothing to do here (and nothing to log).
    ws.onerror = () => {};
  }

  private retry(detail: string): void {
    if (this.stopped) return;
    const delay = backoff(this.attempt++);
    this.setState('closed', `${detail}; retrying in ${Math.round(delay / 1000)} s`);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.socket;
    this.socket = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      // Closing a socket still connecting makes the browser log a warning: close it once open.
      if (ws.readyState === 0) ws.onopen = () => ws.close();
      else ws.close();
    }
    this.setState('closed', 'stopped');
  }
}
