// What each role may press. The server checks every call; the dashboard only hides the buttons
// a role may not use (viewer < trader < admin).

/** The roles, least to most. */
export type Role = 'viewer' | 'trader' | 'admin';

/** The role /v1/whoami names; an unknown name gets the least (a newer server's role is not trusted more). */
export function parseRole(text: string): Role {
  return text === 'admin' || text === 'trader' ? text : 'viewer';
}

export type Action = 'kill_switch' | 'strategy_control' | 'launch_backtest' | 'cancel_order';

const RANK: Record<Role, number> = { viewer: 0, trader: 1, admin: 2 };
const NEEDS: Record<Action, Role> = {
  kill_switch: 'admin',
  strategy_control: 'trader',
  launch_backtest: 'trader',
  cancel_order: 'trader',
};

export function can(role: Role | null | undefined, action: Action): boolean {
  const rank = role ? RANK[role] : undefined;
  return rank !== undefined && rank >= RANK[NEEDS[action]];
}

/** The actions a role may take, in a fixed order (what the buttons show). */
export function allowed(role: Role | null | undefined): Action[] {
  return (Object.keys(NEEDS) as Action[]).filter((a) => can(role, a));
}
