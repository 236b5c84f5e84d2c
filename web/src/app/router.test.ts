import { describe, expect, it } from 'vitest';

import { parseRoute, section } from './router';

describe('routes', () => {
  it('parses hash routes', () => {
    expect(parseRoute('')).toEqual({ page: 'overview' });
    expect(parseRoute('#/')).toEqual({ page: 'overview' });
    expect(parseRoute('#/strategies')).toEqual({ page: 'strategies' });
    expect(parseRoute('#/orders')).toEqual({ page: 'orders' });
    expect(parseRoute('#/signin')).toEqual({ page: 'signin' });
    expect(parseRoute('#/backtests')).toEqual({ page: 'backtests' });
    expect(parseRoute('#/backtests/run%2042')).toEqual({ page: 'run', id: 'run 42' });
    expect(parseRoute('#/sweeps/sma_spx')).toEqual({ page: 'sweep', id: 'sma_spx' });
    expect(parseRoute('#/sweeps/jobs')).toEqual({ page: 'missing', path: '/sweeps/jobs' });
    expect(parseRoute('#/nope/x/y')).toEqual({ page: 'missing', path: '/nope/x/y' });
    expect(parseRoute('#/backtests/%E0%A4%A')).toEqual({ page: 'missing', path: '/backtests/%E0%A4%A' });
  });
  it('puts a run and a sweep under Backtests', () => {
    expect(section({ page: 'run', id: '1' })).toBe('backtests');
    expect(section({ page: 'sweep', id: 'a' })).toBe('backtests');
    expect(section({ page: 'orders' })).toBe('orders');
  });
});
