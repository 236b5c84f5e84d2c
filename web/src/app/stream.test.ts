import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { backoff, LiveStream, protocols, type StreamMessage } from './stream';

class FakeSocket {
  static made: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  readyState = 1;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.made.push(this);
  }
  close() {
    this.closed = true;
  }
}

describe('stream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.made = [];
  });
  afterEach(() => vi.useRealTimers());

  it('offers the token as a subprotocol beside tradepulse.v1', () => {
    expect(protocols('abc')).toEqual(['tradepulse.v1', 'tradepulse.bearer.abc']);
  });

  it('backs off 1 s doubling to 30 s with jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => backoff(a, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoff(0, () => 0)).toBe(800);
    expect(backoff(0, () => 1)).toBe(1200);
  });

  it('delivers messages, reconnects after a close and re-syncs after a reconnect or lag', () => {
    const s = new LiveStream('ws://x/v1/stream', 'tok', (u, p) => new FakeSocket(u, p) as unknown as WebSocket);
    const got: StreamMessage[] = [];
    const states: string[] = [];
    let resyncs = 0;
    s.on({ message: (m) => got.push(m), resync: () => resyncs++, state: (st) => states.push(st) });
    s.start();
    const first = FakeSocket.made[0] as FakeSocket;
    expect(first.protocols).toEqual(['tradepulse.v1', 'tradepulse.bearer.tok']);
    first.onopen?.();
    first.onmessage?.({ data: JSON.stringify({ type: 'kill_switch', scope: 'global', engaged: true }) });
    first.onmessage?.({ data: 'not json' });
    expect(got).toEqual([{ type: 'kill_switch', scope: 'global', engaged: true }]);
    expect(resyncs).toBe(0);
    first.onmessage?.({ data: JSON.stringify({ type: 'lagged', missed: 7 }) });
    expect(resyncs).toBe(1);
    first.onclose?.();
    expect(s.state).toBe('closed');
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1300);
    expect(FakeSocket.made).toHaveLength(2);
    (FakeSocket.made[1] as FakeSocket).onopen?.();
    expect(resyncs).toBe(2);
    expect(states).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
    s.stop();
    expect((FakeSocket.made[1] as FakeSocket).closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(2);
  });
});
