import { describe, expect, it } from 'vitest';

import { allowed, can, parseRole } from './roles';

describe('role → visible buttons', () => {
  it('viewer sees no action button', () => {
    expect(allowed('viewer')).toEqual([]);
    expect(can('viewer', 'kill_switch')).toBe(false);
    expect(can('viewer', 'strategy_control')).toBe(false);
  });
  it('trader controls strategies and launches, but no kill switch', () => {
    expect(allowed('trader')).toEqual(['strategy_control', 'launch_backtest', 'cancel_order']);
    expect(can('trader', 'kill_switch')).toBe(false);
  });
  it('admin may do everything', () => {
    expect(allowed('admin')).toEqual(['kill_switch', 'strategy_control', 'launch_backtest', 'cancel_order']);
  });
  it('an unknown or missing role may do nothing', () => {
    expect(allowed(null)).toEqual([]);
    expect(can('root' as never, 'kill_switch')).toBe(false);
    expect(parseRole('root')).toBe('viewer');
    expect(parseRole('admin')).toBe('admin');
    expect(allowed(parseRole('superuser'))).toEqual([]);
  });
});
