import { describe, expect, it } from 'vitest';

import { PayloadError, readEmbeddedPayload, validatePayload } from './payload';

const equity = { kind: 'equity', id: 'equity', title: 'Equity', initial: 100, time: [1, 2], equity: [100, 101], drawdown: [0, 0], source_points: 2 };

describe('payload validation', () => {
  it('accepts a valid payload and unknown panel kinds', () => {
    const p = validatePayload({ schema: 1, title: 't', panels: [equity, { kind: 'later', id: 'x', title: 'X' }] });
    expect(p.panels).toHaveLength(2);
  });

  it('names the panel and field at fault', () => {
    expect(() => validatePayload({ schema: 1, title: 't', panels: [{ ...equity, equity: [100] }] })).toThrow(
      /panel equity: time, equity, drawdown must have equal lengths \(got 2, 1, 2\)/,
    );
    expect(() => validatePayload({ schema: 1, title: 't', panels: [{ ...equity, drawdown: [0, 'x'] }] })).toThrow(
      /panel equity: drawdown\[1\] is not a number/,
    );
    expect(() => validatePayload({ schema: 1, title: 't', panels: [equity, equity] })).toThrow(/two panels have the id equity/);
  });

  it('refuses a newer schema and non-objects', () => {
    expect(() => validatePayload({ schema: 2, title: 't', panels: [] })).toThrow(PayloadError);
    expect(() => validatePayload([])).toThrow(/not a JSON object/);
  });

  it('checks candle markers and indicators', () => {
    const candles = {
      kind: 'candles',
      id: 'c',
      title: 'C',
      time: [1],
      open: [1],
      high: [1],
      low: [1],
      close: [1],
      volume: [0],
      markers: { time: [1], side: ['hold'], role: ['entry'], count: [1], quantity: [1], price: [1] },
      indicators: [],
    };
    expect(() => validatePayload({ schema: 1, title: 't', panels: [candles] })).toThrow(/side must be 1 values of buy\/sell/);
    const ind = { ...candles, markers: { ...candles.markers, side: ['buy'] }, indicators: [{ name: 'x', pane: 'price', time: [1], value: [null] }] };
    expect(validatePayload({ schema: 1, title: 't', panels: [ind] }).panels).toHaveLength(1);
  });

  it('reads the embedded script element', () => {
    const script = document.createElement('script');
    script.type = 'application/json';
    script.id = 'p';
    // As the Rust side writes it: every '<' escaped.
    script.textContent = JSON.stringify({ schema: 1, title: 'a<b', panels: [] }).replace(/</g, '\\u003c');
    document.body.replaceChildren(script);
    expect(readEmbeddedPayload(document, 'p').title).toBe('a<b');
    expect(() => readEmbeddedPayload(document, 'missing')).toThrow(/no element #missing/);
  });
});
