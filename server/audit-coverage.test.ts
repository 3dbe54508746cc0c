// Integration: audit coverage (issue 22 item 1). One organisation is driven through every
// state-changing endpoint of the contract with real crypto and the real browser flows; every API
// request is recorded with the audit rows it wrote. Each state-changing endpoint must have been
// called successfully, every successful call must have written an event (except the exemptions
// below, each with its reason), with the actions written by hand below, and no row may hold a
// plaintext the scenario used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, type Endpoint } from '../shared/api';
import type { AuditEventRow } from './db/database';
import { budget } from './test/budget';
import { runCoverageScenario, type AuditedRequest, type CoverageScenario } from './test/coverage-scenario';

/** Successful calls of these write no event, on purpose. */
const exempt: Readonly<Record<string, string>> = {
  startSetup: 'OPAQUE registration start: ephemeral state only; finishSetup records the organisation',
  startLogin: 'OPAQUE login start: ephemeral state only; the finish, abort or second step records the outcome',
  lookupInvitation: 'a read (POST keeps the token out of URLs and logs); the sign-up records the use',
  startSignup: 'OPAQUE registration start: ephemeral state only; finishSignup records the account',
  startPasswordChange: 'OPAQUE registration start: ephemeral state only; the finish records the change',
  startRecovery: 'OPAQUE registration start: ephemeral state only; finishRecovery records the recovery',
  startPasskeyLogin: 'a WebAuthn challenge: ephemeral state only; the finish records the sign-in',
  startTotpSetup: 'an unconfirmed secret in ephemeral state; the confirmation records the factor',
  startEmailFactorSetup: 'mails a set-up code to the account\'s own address; the confirmation records the factor',
  startPasskeyRegistration: 'a WebAuthn challenge: ephemeral state only; the finish records the factor',
  createUpload: 'an upload session for ciphertext only; recorded when the upload completes, is aborted or expires',
  uploadPart: 'a part of an upload session; recorded when the upload completes',
  startResetPassword: 'OPAQUE registration start: ephemeral state only; the finish records the reset',
};

/** For every state-changing endpoint: actions that its successful calls, together, must have written. */
const expectedActions: Readonly<Record<string, readonly string[]>> = {
  startSetup: [],
  finishSetup: ['setup.organisation_created'],
  startLogin: [],
  finishLogin: ['auth.login_succeeded', 'auth.password_verified'],
  abortLogin: ['auth.login_failed'],
  logout: ['auth.logout'],
  logoutEverywhere: ['auth.logout_everywhere'],
  endSession: ['auth.session_ended'],
  endUserSessions: ['auth.sessions_ended_by_staff'],
  createInvitation: ['invitation.created'],
  revokeInvitation: ['invitation.revoked'],
  lookupInvitation: [],
  startSignup: [],
  finishSignup: ['account.signed_up'],
  startPasswordChange: [],
  finishPasswordChange: ['account.password_changed'],
  confirmRecoveryKit: ['setup.recovery_kit_confirmed'],
  unlockUser: ['auth.account_unlocked'],
  updateOrganisationSettings: ['settings.changed'],
  updateProfile: ['profile.updated'],
  grantEscrow: ['escrow.granted'],
  acceptEscrowGrant: ['escrow.grant_accepted'],
  startRecovery: [],
  finishRecovery: ['recovery.completed'],
  verifySecondFactor: ['auth.second_factor_used', 'auth.login_succeeded', 'auth.trusted_device_added'],
  sendLoginEmailCode: ['auth.login_code_sent'],
  startPasskeyLogin: [],
  finishPasskeyLogin: ['auth.login_succeeded'],
  startTotpSetup: [],
  confirmTotpSetup: ['second_factor.added'],
  startEmailFactorSetup: [],
  confirmEmailFactorSetup: ['second_factor.added'],
  startPasskeyRegistration: [],
  finishPasskeyRegistration: ['second_factor.added'],
  setPasskeyUnlock: ['passkey.unlock_set'],
  removePasskeyUnlock: ['passkey.unlock_removed'],
  renameSecondFactor: ['second_factor.renamed'],
  removeSecondFactor: ['second_factor.removed'],
  createBackupCodes: ['second_factor.backup_codes_created'],
  revokeTrustedDevice: ['auth.trusted_device_revoked'],
  removeUserSecondFactor: ['second_factor.removed'],
  revokeUserTrustedDevices: ['auth.trusted_device_revoked'],
  createUpload: [],
  uploadPart: [],
  completeUpload: ['upload.completed'],
  abortUpload: ['upload.aborted'],
  createSpace: ['space.created'],
  adoptSpace: ['space.adopted'],
  createFolder: ['folder.created'],
  renameFolder: ['folder.renamed'],
  deleteFolder: ['folder.deleted'],
  createDocument: ['document.created'],
  addVersion: ['document.version_added'],
  moveDocument: ['document.moved'],
  deleteDocument: ['document.deleted'],
  createThread: ['thread.created'],
  postMessage: ['message.posted'],
  reviseMessage: ['message.revised'],
  markThreadRead: ['thread.read'],
  createRequest: ['request.created'],
  closeRequest: ['request.closed'],
  issueCertificate: ['certificate.issued'],
  addSigningKey: ['account.signing_key_added'],
  putEscrowCopyStatement: ['account.escrow_copy_signed'],
  updateKeySafe: ['account.key_safe_updated'],
  createReset: ['escrow.reset_started'],
  approveReset: ['escrow.reset_approved', 'escrow.reset_sent'],
  cancelReset: ['escrow.reset_cancelled'],
  openReset: ['escrow.reset_opened'],
  startResetPassword: [],
  finishResetPassword: ['escrow.reset_completed'],
  startRotation: ['escrow.rotation_started'],
  resealRotationItems: ['escrow.rotation_resealed'],
  finishRotation: ['escrow.rotation_finished'],
  changeRole: ['user.role_changed'],
  deactivateUser: ['user.deactivated'],
  reactivateUser: ['user.reactivated'],
  deleteUser: ['user.deleted'],
  restoreUser: ['user.restored'],
  addAuditWitness: ['audit.witnessed'],
  createAuditExport: ['audit.exported'],
  setAuditRetention: ['audit.retention_changed'],
};

/**
 * Events written outside any request (the operator's recovery mode at start-up) or by a sweep on
 * someone else's request (so not with that requester's address): they have no IP or user agent.
 */
const withoutRequest = new Set(['recovery.mode_entered', 'auth.second_factor_abandoned', 'upload.expired', 'request.reminder_sent', 'request.reminder_failed']);

/** Actions the whole scenario must have written somewhere (sign-in events not tied to one route). */
const expectedAnywhere = ['auth.account_locked', 'auth.account_unlocked', 'document.downloaded', 'auth.second_factor_failed'];

const stateChanging = Object.values(endpoints as Record<string, Endpoint>).filter((e) => e.method !== 'get');

/** The endpoint whose method and path pattern match: literal segments before `:param` ones. */
function endpointOf(method: string, path: string): Endpoint | undefined {
  const candidates = Object.values(endpoints as Record<string, Endpoint>).filter((e) => e.method.toUpperCase() === method);
  const matches = candidates.filter((e) => {
    const pattern = e.path.split('/');
    const actual = path.split('/');
    return pattern.length === actual.length && pattern.every((segment, i) => segment.startsWith(':') ? actual[i] !== '' : segment === actual[i]);
  });
  const literal = (e: Endpoint) => e.path.split('/').filter((s) => !s.startsWith(':')).length;
  return matches.sort((a, b) => literal(b) - literal(a))[0];
}

const ok = (request: AuditedRequest) => request.status >= 200 && request.status < 300;

let scenario: CoverageScenario;
const byOperation = new Map<string, AuditedRequest[]>();

beforeAll(async () => {
  scenario = await runCoverageScenario();
  for (const request of scenario.requests) {
    const endpoint = endpointOf(request.method, request.path);
    if (!endpoint) continue;
    byOperation.set(endpoint.operationId, [...(byOperation.get(endpoint.operationId) ?? []), request]);
  }
}, budget(600_000));
afterAll(() => scenario?.close());

describe('audit coverage of the contract', () => {
  it('the hand-written tables name every state-changing endpoint, and only those', () => {
    const ids = stateChanging.map((e) => e.operationId).sort();
    expect(Object.keys(expectedActions).sort()).toEqual(ids);
    for (const id of Object.keys(exempt)) expect(expectedActions[id], id).toEqual([]);
  });

  it.each(stateChanging.map((e) => [e.operationId, e] as const))('%s: called with success, every success recorded', (operationId) => {
    const calls = byOperation.get(operationId) ?? [];
    const succeeded = calls.filter(ok);
    expect(succeeded.length, `${operationId} was never called with success: drive it in server/test/coverage-scenario.ts`).toBeGreaterThan(0);
    if (exempt[operationId]) return;
    for (const call of succeeded) expect(call.rows.length, `${call.method} ${call.path} (${call.status}) recorded no event`).toBeGreaterThan(0);
    const written = new Set(succeeded.flatMap((call) => call.rows.map((row) => row.action)));
    for (const action of expectedActions[operationId] ?? []) expect([...written], `${operationId} should record ${action}`).toContain(action);
  });
});

describe('audit event fields', () => {
  const all = () => scenario.rows.filter((row) => row.encoding === 2);

  it('every event has server time, result, ip and user agent; an actor has a role', () => {
    expect(all().length).toBeGreaterThan(100);
    for (const row of all()) {
      const where = `${row.seq} ${row.action}`;
      expect(Number.isNaN(Date.parse(row.occurred_at)), where).toBe(false);
      expect(['success', 'failure', 'denied'], where).toContain(row.result);
      if (withoutRequest.has(row.action)) continue;
      expect(row.ip, where).toBe('127.0.0.1');
      expect(row.user_agent, where).toBeTruthy();
      if (row.actor_id) expect(['admin', 'team', 'client', 'auditor'], where).toContain(row.actor_role);
    }
  });

  it('records sign-in failures as failures, refusals as denied, and a lockout, an unlock and both outcomes of a second factor', () => {
    const actions = new Set(all().map((row) => row.action));
    for (const action of expectedAnywhere) expect([...actions]).toContain(action);
    const resultsOf = (action: string) => new Set(all().filter((row) => row.action === action).map((row) => row.result));
    expect([...resultsOf('auth.login_failed')]).toEqual(['failure']);
    expect([...resultsOf('auth.second_factor_failed')]).toEqual(['failure']);
    expect([...resultsOf('auth.account_locked')]).toEqual(['failure']);
    expect([...resultsOf('auth.login_succeeded')]).toEqual(['success']);
    expect(all().filter((row) => row.action === 'auth.login_succeeded').map((row) => (JSON.parse(row.details) as { method: string }).method)).toEqual(
      expect.arrayContaining(['password', 'second_factor', 'passkey']),
    );
  });

  it('leaves a denied event for each refused attempt: a role, a cross-site request, an address outside the allowlist, a locked account', () => {
    // Hand-written: the event each refusal must leave, with its actor's role (null: nobody signed in).
    const expected: Readonly<Record<string, { action: string; role: string | null; details: Record<string, string> }>> = {
      'createInvitation forbidden': { action: 'access.denied', role: 'client', details: { operationId: 'createInvitation', code: 'forbidden' } },
      'unlockUser forbidden': { action: 'access.denied', role: 'team', details: { operationId: 'unlockUser', code: 'forbidden' } },
      'logoutEverywhere csrf_rejected': { action: 'access.denied', role: null, details: { operationId: 'logoutEverywhere', code: 'csrf_rejected' } },
      'markThreadRead ip_not_allowed': { action: 'access.denied', role: 'team', details: { operationId: 'markThreadRead', code: 'ip_not_allowed' } },
      'finishPasskeyLogin account_locked': { action: 'auth.login_refused', role: 'team', details: { reason: 'account_locked', step: 'passkey' } },
    };
    expect(scenario.refusals.map((r) => `${r.operationId} ${r.code}`)).toEqual(Object.keys(expected));
    for (const refusal of scenario.refusals) {
      const want = expected[`${refusal.operationId} ${refusal.code}`]!;
      expect(refusal.request.status, refusal.operationId).toBeGreaterThanOrEqual(400);
      const rows = refusal.request.rows.map((row) => ({ action: row.action, result: row.result, role: row.actor_role, details: JSON.parse(row.details) as unknown }));
      expect(rows, refusal.operationId).toEqual([{ action: want.action, result: 'denied', role: want.role, details: want.details }]);
    }
  });

  it('no event holds a plaintext the scenario used (names, content, e-mail addresses, passwords, codes)', () => {
    expect(scenario.plaintexts.length).toBeGreaterThan(30);
    const fields = (row: AuditEventRow) => [row.details, row.target_id ?? '', row.target_type ?? '', row.action, row.user_agent ?? ''].join('\n').toLowerCase();
    const leaks = all().flatMap((row) => scenario.plaintexts.filter((text) => fields(row).includes(text.toLowerCase())).map((text) => `${row.seq} ${row.action}: ${text}`));
    expect(leaks).toEqual([]);
  });
});
