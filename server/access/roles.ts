/**
 * Who may do what. Each role includes the ones before it: a manager can see what a viewer sees, an
 * admin can do what a manager does.
 * - viewer: the wall display and every read-only figure, alert and history;
 * - manager: acknowledge, snooze, silence, alert rules, phone alerts, reports;
 * - admin: users and access tokens.
 */
export const ROLES = ['viewer', 'manager', 'admin'] as const;

export type Role = (typeof ROLES)[number];

/** Someone the server has recognised: a logged-in person or a token's holder. */
export interface Principal {
  /** The person's user name, or the token's name (e.g. "control-room TV"): recorded with their actions. */
  name: string;
  role: Role;
  via: 'session' | 'token';
  /**
   * What the credential hangs on (`session:…`, `user:…`, `token:…`): when one of them ends (a
   * logout, a removal, a role change, a revocation) the sockets it opened are closed.
   */
  holders: string[];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Why `principal` may not do what needs `needed`, or undefined when they may. */
export function refusal(principal: Pick<Principal, 'name' | 'role'>, needed: Role): string | undefined {
  return mayAct(principal, needed)
    ? undefined
    : `this needs the ${needed} role; ${principal.name} is a ${principal.role}`;
}

export function mayAct(principal: Pick<Principal, 'role'> | undefined, needed: Role): boolean {
  return principal !== undefined && ROLES.indexOf(principal.role) >= ROLES.indexOf(needed);
}
