// The authorisation rules beyond "which roles may call an endpoint" (that part is in the contract).
import type { Role } from '../../shared/api';
import { fail } from '../errors';

/** Who may invite whom: Administrators invite staff and auditors; Team Members invite clients. */
const invitable: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin', 'team', 'auditor', 'client'],
  team: ['client'],
  client: [],
  auditor: [],
};

/** Whose account an actor manages (sees in the people list, may unlock): deny by default. */
const manageable: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin', 'team', 'auditor', 'client'],
  team: ['client'],
  client: [],
  auditor: [],
};

export function rolesInvitableBy(actor: Role): readonly Role[] {
  return invitable[actor];
}

export function rolesManagedBy(actor: Role): readonly Role[] {
  return manageable[actor];
}

export function assertMayInvite(actor: Role, role: Role): void {
  if (!invitable[actor].includes(role)) throw fail('forbidden', `A ${actor} cannot invite a ${role}.`);
}

/**
 * WARNING: lifting a lockout is deliberately narrower than managing: Administrators lift staff and
 * auditors, Team Members lift clients (issue: "Administrators lift lockouts of Team Members; Team
 * Members lift lockouts of Clients"). Administrators may also lift clients, as Team Members themselves.
 */
export function assertMayManage(actor: Role, target: Role): void {
  if (!manageable[actor].includes(target)) throw fail('forbidden', `A ${actor} cannot manage a ${target} account.`);
}

/** Holding the escrow key is for staff only; Administrators are Team Members too. */
export function mayHoldEscrow(role: Role): boolean {
  return role === 'admin' || role === 'team';
}

/**
 * Roles whose accounts carry staff power: Administrators, Team Members and auditors (who read the
 * audit log). Granting such a role (an invitation) or restoring such an account (lifting its
 * lockout) needs a recent login, like the escrow grant and the settings (SECURITY.md 5.5).
 */
export function isStaffPower(role: Role): boolean {
  return role !== 'client';
}

/**
 * The account life-cycle (issue 21): whose account an actor may deactivate, reactivate or delete.
 * Administrators act on everyone (Team Members, auditors, clients, other Administrators); Team
 * Members on clients only; nobody on themselves (checked by the caller: `cannot_change_self`).
 * Restoring a deleted account and changing roles are for Administrators only (the contract's gate).
 */
const lifecycleManaged: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin', 'team', 'auditor', 'client'],
  team: ['client'],
  client: [],
  auditor: [],
};

/**
 * Whose password an actor may reset through escrow (issue 21, SECURITY.md 5.8): Administrators reset
 * Administrators, Team Members and auditors; Team Members reset Clients, and Administrators may reset
 * Clients too (they are Team Members as well). Nobody resets themselves (assertMayReset); deny by default.
 * The same table decides who may approve (four eyes) and cancel a reset.
 */
const resettable: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin', 'team', 'auditor', 'client'],
  team: ['client'],
  client: [],
  auditor: [],
};

export function assertMayManageLifecycle(actor: Role, target: Role): void {
  if (!lifecycleManaged[actor].includes(target)) throw fail('forbidden', `A ${actor} cannot deactivate, reactivate or delete a ${target} account.`);
}

/** Role changes: only between Administrator and Team Member, in either direction. */
export function isAllowedRoleChange(from: Role, to: Role): boolean {
  return (from === 'admin' && to === 'team') || (from === 'team' && to === 'admin');
}

export function rolesResettableBy(actor: Role): readonly Role[] {
  return resettable[actor];
}

/** WARNING: the hierarchy of escrow resets; never oneself (a reset would bypass one's own password). */
export function mayReset(actor: { readonly userId: string; readonly role: Role }, target: { readonly id: string; readonly role: Role }): boolean {
  return actor.userId !== target.id && resettable[actor.role].includes(target.role);
}

export function assertMayReset(actor: { readonly userId: string; readonly role: Role }, target: { readonly id: string; readonly role: Role }): void {
  if (actor.userId === target.id) throw fail('reset_not_allowed', 'Nobody can reset their own password through escrow. Use "Change password", or ask an Administrator.');
  if (!mayReset(actor, target)) throw fail('reset_not_allowed', `A ${actor.role} cannot reset the password of a ${target.role}.`);
}
