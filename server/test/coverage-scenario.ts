// Test helper for the audit coverage test: one organisation driven through every state-changing
// endpoint of the contract with the real browser flows over real HTTP, every API request recorded
// with the audit rows it wrote. Plaintexts the scenario used are collected for the leak scan.
import { randomBytes } from 'node:crypto';
import {
  abortLogin,
  addAuditWitness,
  createAuditExport,
  getAuditHead,
  setAuditRetention,
  confirmEmailFactorSetup,
  createInvitation,
  confirmRecoveryKit,
  confirmTotpSetup,
  createBackupCodes,
  deactivateUser,
  deleteUser,
  endSession,
  endUserSessions,
  finishLogin,
  finishPasskeyLogin,
  finishPasskeyRegistration,
  getSettings,
  listInvitations,
  listSessions,
  listTrustedDevices,
  listUsers,
  logout,
  logoutEverywhere,
  lookupInvitation,
  markThreadRead,
  reactivateUser,
  removePasskeyUnlock,
  removeSecondFactor,
  removeUserSecondFactor,
  renameSecondFactor,
  restoreUser,
  revokeInvitation,
  revokeTrustedDevice,
  revokeUserTrustedDevices,
  sendLoginEmailCode,
  startEmailFactorSetup,
  startLogin,
  startPasskeyLogin,
  startPasskeyRegistration,
  startTotpSetup,
  unlockUser,
  updateProfile,
  updateSettings,
  verifySecondFactor,
  adoptSpace,
  approveReset,
  cancelReset,
} from '../../shared/api';
import { isApiError } from '../../shared/api/api-error';
import { AUDIT_WITNESS_CONTEXT } from '../../shared/audit';
import { ARGON2ID_FLOOR, OPAQUE_BENCH_KEY_STRETCHING, finishOpaqueLogin, signStatement, startOpaqueLogin, toBase64Url, utf8 } from '../../shared/crypto';
import { certifiedIdentity, changePassword, invite, loadDirectory, login, recoverWithKit, sealProfile } from '../../shared/flows/account-flows';
import { completeEscrowReset, parseResetFragment, startEscrowReset } from '../../shared/flows/escrow-reset';
import { checkRotation, continueRotation, finishRotation, startRotation } from '../../shared/flows/escrow-rotation';
import { PASSKEY_UNLOCK_PRF_SALT, enablePasskeyUnlock } from '../../shared/flows/passkey-unlock';
import { changeRole } from '../../shared/flows/role-change';
import { spaceCreateDraft } from '../../shared/flows/space-entries';
import type { AuditEventRow } from '../db/database';
import { newId } from '../lib/ids';
import type { BrowserLikeClient } from '../lib/node-api-client';
import type { Notification } from '../services/notifications';
import { inSpace, signFor } from './history-fixture';
import { createTestOrganisation, fast, type Member, type TestOrganisation } from './org-fixture';
import { decodeBase32, totp } from './rfc6238';
import { SoftwareAuthenticator } from './software-authenticator';
import { addDocument, addMember, newVersion, opaque, openSpace, rawCall, uploadBlob, type RawAnswer } from './space-fixture';

/** One API request as the server saw it, with the audit rows committed while it ran. */
export interface AuditedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Events recorded while it ran (counted by the server, committed or not). */
  readonly eventsRecorded: number;
  /** The audit rows with seq after the previous request's last and up to this one's. */
  rows: AuditEventRow[];
}

/** A state-changing request the server refused on purpose, and the request as recorded. */
export interface Refusal {
  readonly operationId: string;
  readonly code: string;
  readonly request: AuditedRequest;
}

export interface CoverageScenario {
  readonly org: TestOrganisation;
  readonly requests: readonly AuditedRequest[];
  /** Every audit row, in seq order. */
  readonly rows: readonly AuditEventRow[];
  /** Plaintexts the scenario sent or typed (names, e-mail addresses, passwords, codes, content). */
  readonly plaintexts: readonly string[];
  /** Refused attempts: a role, a cross-site request, an address outside the allowlist, a locked account. */
  readonly refusals: readonly Refusal[];
  close(): Promise<void>;
}

/** Strings of at least 6 characters are scanned for (shorter ones match by chance). */
const MIN_SCANNED = 6;

export async function runCoverageScenario(): Promise<CoverageScenario> {
  const requests: AuditedRequest[] = [];
  const seqAfter: Promise<number>[] = [];
  const plaintexts = new Set<string>();
  const refusals: Refusal[] = [];
  /** Runs a request that must be refused with `code`, and keeps it (the last request recorded). */
  async function refused(operationId: string, code: string, call: () => Promise<unknown>): Promise<void> {
    let got: string | undefined;
    try {
      const answer = await call();
      // rawCall answers instead of throwing.
      if (answer && typeof answer === 'object' && 'json' in answer) got = (answer as RawAnswer).json.error?.code;
    } catch (error) {
      if (!isApiError(error)) throw error;
      got = error.code;
    }
    if (got !== code) throw new Error(`${operationId} was not refused with ${code} (${got ?? 'it succeeded'})`);
    refusals.push({ operationId, code, request: requests.at(-1)! });
  }
  const remember = (...values: string[]) => values.forEach((v) => v.length >= MIN_SCANNED && plaintexts.add(v));
  // The server's clock: moved forward for TOTP steps and lock expiry, never back.
  const clock = { offsetMs: 0 };
  const now = () => new Date(Date.now() + clock.offsetMs);
  const database: { db?: TestOrganisation['testApp']['db'] } = {};
  const org = await createTestOrganisation(['team', 'client', 'auditor'], {
    now,
    // A signed tree head every 50 events: the Auditor countersigns one below.
    env: { KLUIS_LOGIN_LIMIT_PER_IP: '100000', KLUIS_AUDIT_HEAD_EVERY_EVENTS: '50' },
    onAuditedRequest: (request) => {
      requests.push({ ...request, rows: [] });
      // Queued on the database's one connection before the client sees the answer, so it reads
      // the chain head as this request left it.
      // Before the fixture hands over its database (its requests all succeed, one after another),
      // the request's own count places its rows.
      seqAfter.push(database.db ? database.db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow().then((r) => Number(r.seq ?? 0)) : Promise.resolve(-1));
    },
  });
  database.db = org.testApp.db;
  const { testApp, admin } = org;
  const team = org.members.team!;
  const client = org.members.client!;
  const auditor = org.members.auditor!;
  remember(admin.email, team.email, client.email, auditor.email, admin.password, team.password, client.password, auditor.password, 'Kantoor De Vries', 'Anna Admin');
  for (const m of [team, client, auditor]) remember(`${m.role} Persoon`);
  const sent = () => (testApp.notifier as unknown as { sent: { to: string; notification: Notification }[] }).sent;
  const lastMail = <K extends Notification['kind']>(to: string, kind: K) => {
    const found = sent().filter((m) => m.to === to && m.notification.kind === kind).at(-1)?.notification;
    if (!found) throw new Error(`no ${kind} mail to ${to}`);
    return found as Extract<Notification, { kind: K }>;
  };

  /** Signs in with the password alone; returns the second-factor challenge when one is asked for. */
  async function passwordStep(member: Member, browser: BrowserLikeClient = org.newClient()) {
    const attempt = await startOpaqueLogin(member.password);
    const started = await browser.api(startLogin, { body: { email: member.email, startLoginRequest: attempt.request } });
    const finished = await finishOpaqueLogin(attempt.state, started.loginResponse, member.password, OPAQUE_BENCH_KEY_STRETCHING);
    const outcome = await browser.api(finishLogin, { body: { loginId: started.loginId, finishLoginRequest: finished.finishRequest } });
    return { browser, outcome };
  }

  /** A wrong password: the OPAQUE finish fails in the browser, the server counts a failure on abort/finish. */
  async function wrongPassword(member: Member) {
    const browser = org.newClient();
    const attempt = await startOpaqueLogin(`${member.password}-wrong`);
    const started = await browser.api(startLogin, { body: { email: member.email, startLoginRequest: attempt.request } });
    try {
      await finishOpaqueLogin(attempt.state, started.loginResponse, `${member.password}-wrong`, OPAQUE_BENCH_KEY_STRETCHING);
      throw new Error('a wrong password was accepted');
    } catch {
      await browser.api(abortLogin, { body: { loginId: started.loginId } }).catch(() => undefined);
    }
  }

  // --- Organisation: recovery kit, settings, profile, invitations ------------------------------------
  await admin.client.api(confirmRecoveryKit, {});
  const settings = await admin.client.api(getSettings, {});
  await admin.client.api(updateSettings, { body: { ...settings, resetNeedsApproval: true, lockout: { maxFailures: 3, durationMinutes: 15 } } });
  const profile = { name: 'Cornelia Klant-Vertrouwelijk', phone: '+31 6 1234 5678', address: 'Geheimstraat 17, Utrecht', notes: 'bijzonder-vertrouwelijke-notitie' };
  remember(...Object.values(profile));
  await client.client.api(updateProfile, { body: { profile: await sealProfile(client.vault, profile) } });
  const invitedEmail = 'uitgenodigd-en-ingetrokken@kluis.test';
  remember(invitedEmail);
  await invite(admin.client.api, admin.vault, { email: invitedEmail, role: 'client', language: 'en' });
  const invitation = (await admin.client.api(listInvitations, {})).invitations.find((i) => i.email === invitedEmail)!;
  const inviteLink = (lastMail(invitedEmail, 'invitation')).link;
  const inviteToken = new URLSearchParams(new URL(inviteLink).hash.slice(1)).get('t')!;
  remember(inviteToken);
  await org.newClient().api(lookupInvitation, { body: { token: inviteToken } });
  await admin.client.api(revokeInvitation, { params: { id: invitation.id } });

  // --- Members who are changed, deleted and reset later -----------------------------------------------
  const client2 = await addMember(org, 'client', 'tweede-klant@kluis.test');
  const client3 = await addMember(org, 'client', 'derde-klant@kluis.test');
  const auditor2 = await addMember(org, 'auditor', 'tweede-auditor@kluis.test');
  const team2 = await addMember(org, 'team', 'tweede-teamlid@kluis.test');
  // An account made before everyone had a signing key and a signed escrow copy: its next sign-in adds both.
  await testApp.db.updateTable('users').set({ signing_public_key: null, wrapped_signing_key: null, escrow_copy_statement: null }).where('id', '=', client3.userId).execute();
  await org.relogin(client3);
  remember(client2.email, client3.email, auditor2.email, team2.email, client2.password, 'Tweede Persoon');

  // --- Sessions ---------------------------------------------------------------------------------------
  const newPassword = 'gele-kanaries-in-de-tuin';
  remember(newPassword);
  auditor.vault = await changePassword(auditor.client.api, auditor.vault, auditor.password, newPassword, fast);
  auditor.password = newPassword;
  const second = await org.relogin(auditor2);
  const other = await login(org.newClient().api, auditor2.email, auditor2.password, fast);
  void other;
  const sessions = (await second.client.api(listSessions, {})).sessions;
  await second.client.api(endSession, { params: { id: sessions.find((s) => !s.current)!.id } });
  await second.client.api(logoutEverywhere, {});
  await org.relogin(auditor2);
  await admin.client.api(endUserSessions, { params: { id: auditor2.userId } });
  await org.relogin(auditor2);
  await auditor2.client.api(logout, {});

  // --- Lockout and unlock (three wrong passwords with the settings above) ------------------------------
  for (let i = 0; i < 3; i++) await wrongPassword(client3);
  await wrongPassword(client3); // refused while locked
  await admin.client.api(unlockUser, { params: { id: client3.userId } });
  await org.relogin(client3);

  // --- Second factors ---------------------------------------------------------------------------------
  // TOTP for the client, with backup codes, a rename, a sign-in that trusts the browser, a wrong code.
  const totpSetup = await client.client.api(startTotpSetup, { body: {} });
  const totpSecret = decodeBase32(totpSetup.secret);
  remember(totpSetup.secret);
  const totpCode = totp(totpSecret, now().getTime());
  const totpFactor = await client.client.api(confirmTotpSetup, { body: { setupId: totpSetup.setupId, code: totpCode, name: 'Telefoon van Cornelia' } });
  remember('Telefoon van Cornelia');
  const { codes } = await client.client.api(createBackupCodes, { body: {} });
  remember(...codes);
  await client.client.api(renameSecondFactor, { params: { id: totpFactor.id }, body: { name: 'Werktelefoon van Cornelia' } });
  remember('Werktelefoon van Cornelia');
  clock.offsetMs += 31_000;
  {
    const { browser, outcome } = await passwordStep(client);
    if (!('secondFactor' in outcome)) throw new Error('the client signed in without the second factor');
    const good = totp(totpSecret, now().getTime());
    const wrong = String((Number(good) + 500_000) % 1_000_000).padStart(6, '0');
    await browser.api(verifySecondFactor, { body: { challengeId: outcome.secondFactor.challengeId, method: 'totp', code: wrong, trustDevice: false } }).catch(() => undefined);
    await browser.api(verifySecondFactor, { body: { challengeId: outcome.secondFactor.challengeId, method: 'totp', code: good, trustDevice: true } });
    const devices = (await browser.api(listTrustedDevices, {})).devices;
    await browser.api(revokeTrustedDevice, { params: { id: devices[0]!.id } });
  }
  clock.offsetMs += 31_000;
  {
    const { browser, outcome } = await passwordStep(client);
    if (!('secondFactor' in outcome)) throw new Error('the client signed in without the second factor');
    await browser.api(verifySecondFactor, { body: { challengeId: outcome.secondFactor.challengeId, method: 'backup', code: codes[0]!, trustDevice: true } });
    client.client = browser;
  }
  await org.relogin(team);
  await team.client.api(revokeUserTrustedDevices, { params: { id: client.userId } });

  // E-mail codes for the first auditor: set up, then a sign-in with a code sent on request.
  const { setupId } = await auditor.client.api(startEmailFactorSetup, { body: {} });
  const setupCode = lastMail(auditor.email, 'second_factor_code').code;
  remember(setupCode);
  const emailFactor = await auditor.client.api(confirmEmailFactorSetup, { body: { setupId, code: setupCode } });
  {
    const { browser, outcome } = await passwordStep(auditor);
    if (!('secondFactor' in outcome)) throw new Error('the auditor signed in without the second factor');
    await browser.api(sendLoginEmailCode, { body: { challengeId: outcome.secondFactor.challengeId } });
    const loginCode = lastMail(auditor.email, 'second_factor_code').code;
    remember(loginCode);
    await browser.api(verifySecondFactor, { body: { challengeId: outcome.secondFactor.challengeId, method: 'email', code: loginCode, trustDevice: false } });
    auditor.client = browser;
  }
  await auditor.client.api(removeSecondFactor, { params: { id: emailFactor.id } });

  // A passkey for the team member: registered, unlock on and off, a passkey-only sign-in.
  const authenticator = new SoftwareAuthenticator(testApp.config.publicOrigin);
  const registration = await team.client.api(startPasskeyRegistration, { body: {} });
  const made = authenticator.register(registration.options);
  const passkey = await team.client.api(finishPasskeyRegistration, { body: { ceremonyId: registration.ceremonyId, name: 'Sleutel van het team', response: made.response } });
  remember('Sleutel van het team');
  const credentialId = made.credential.id.toString('base64url');
  await enablePasskeyUnlock(team.client.api, team.vault, { factorId: passkey.id, credentialId }, authenticator.prf(made.credential, PASSKEY_UNLOCK_PRF_SALT));
  {
    const browser = org.newClient();
    const { ceremonyId, options } = await browser.api(startPasskeyLogin, { body: {} });
    await browser.api(finishPasskeyLogin, { body: { ceremonyId, response: authenticator.assert(options).response } });
  }
  await team.client.api(removePasskeyUnlock, { params: { id: passkey.id } });
  // An Administrator removes the client's authenticator app (fresh sign-in: a sensitive action).
  await org.relogin(admin);
  await admin.client.api(removeUserSecondFactor, { params: { id: client.userId, factorId: totpFactor.id } });

  // --- Escrow resets (four eyes: settings above) -------------------------------------------------------
  const listed = async (resetter: Member, userId: string) => (await resetter.client.api(listUsers, {})).users.find((u) => u.id === userId)!;
  {
    const cancelled = await startEscrowReset(team.client.api, team.vault, await listed(team, client.userId), { liftLockout: false, removeSecondFactors: false });
    await team.client.api(cancelReset, { params: { id: cancelled.reset.id } });
    const started = await startEscrowReset(team.client.api, team.vault, await listed(team, client2.userId), { liftLockout: true, removeSecondFactors: false });
    remember(started.code, started.code.replace(/-/g, ''));
    await admin.client.api(approveReset, { params: { id: started.reset.id } });
    const link = parseResetFragment(new URL(lastMail(client2.email, 'password_reset').link).hash)!;
    remember(link.linkSecret);
    const resetPassword = 'paarse-vlinders-bij-de-sloot';
    remember(resetPassword);
    await completeEscrowReset(org.newClient().api, { ...link, code: started.code, newPassword: resetPassword }, fast);
    client2.password = resetPassword;
  }

  // --- Roles and account life-cycle --------------------------------------------------------------------
  await org.relogin(admin);
  const promoted = await certifiedIdentity(admin.client.api, admin.vault, team2.userId);
  if (!promoted) throw new Error('the second team member is not certified');
  await changeRole(admin.client.api, { userId: admin.userId, signingKey: admin.vault.signingKey! }, promoted, 'admin');
  await admin.client.api(deactivateUser, { params: { id: client3.userId } });
  await admin.client.api(reactivateUser, { params: { id: client3.userId } });
  await admin.client.api(deleteUser, { params: { id: client3.userId } });
  await admin.client.api(restoreUser, { params: { id: client3.userId } });

  // --- Escrow key rotation (before the spaces below, whose seals are stand-ins) ----------------------
  let recoverySecret: string;
  {
    const directory = await loadDirectory(admin.client.api, admin.vault);
    const started = await startRotation(admin.client.api, admin.vault, directory, { recoveryParams: ARGON2ID_FLOOR });
    await continueRotation(admin.client.api, started.vault, directory, () => undefined, { batchSize: 50 });
    const check = await checkRotation(admin.client.api, started.vault, directory, () => undefined, { batchSize: 200 });
    await finishRotation(admin.client.api, check);
    admin.vault = started.vault;
    recoverySecret = started.recoverySecret;
  }

  // --- Spaces, documents, messages, requests -----------------------------------------------------------
  await org.relogin(client);
  const clientSpace = await openSpace(client);
  const teamSpace = await openSpace(team);
  void teamSpace;
  const inClient = inSpace(client, clientSpace);
  const asTeam = inSpace(team, clientSpace);
  const folderName = opaque();
  const folder = await inClient.createFolder({ id: newId(), parentId: null, name: folderName });
  const folderRename = opaque();
  await inClient.renameFolder(folder.id, folderRename);
  const document = await addDocument(org, client, clientSpace);
  const contentBlob = await uploadBlob(org, client, `space:${clientSpace}`, randomBytes(700));
  const version = newVersion(contentBlob);
  await inClient.addVersion(document.id, version);
  const download = await rawCall(org, team, 'GET', `/api/versions/${version.versionId}/content`);
  if (download.status !== 200) throw new Error(`download refused: ${download.status}`);
  await inClient.moveDocument(document.id, folder.id);
  await inClient.deleteDocument(document.id);
  await inClient.deleteFolder(folder.id);
  {
    const aborted = await rawCall(org, client, 'POST', '/api/uploads', { json: { size: 10, partSize: 1024 * 1024, purpose: `space:${clientSpace}` } });
    await rawCall(org, client, 'DELETE', `/api/uploads/${aborted.json.uploadId as string}`);
  }
  const threadId = newId();
  const subject = opaque();
  const firstMessage = { messageId: newId(), body: opaque(), attachments: [] };
  await asTeam.createThread({ threadId, subject, message: firstMessage });
  const reply = { messageId: newId(), body: opaque(), attachments: [] };
  await inClient.postMessage(threadId, reply);
  const revised = opaque();
  await inClient.reviseMessage(threadId, reply.messageId, 2, revised);
  await client.client.api(markThreadRead, { params: { threadId } });
  const requestBody = opaque(400);
  const request = await asTeam.createRequest({ requestId: newId(), body: requestBody, dueDate: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10), items: [{ itemId: newId(), body: opaque() }] });
  await asTeam.closeRequest(request.id);
  // A space made before signed histories (as migration 0006 leaves one), adopted by its client.
  await org.relogin(client2);
  {
    const legacyId = newId();
    const at = now().toISOString();
    await testApp.db
      .insertInto('spaces')
      .values({ id: legacyId, kind: 'client', client_id: client2.userId, sealed_for_client: opaque(256), wrapped_for_client: null, sealed_for_escrow: opaque(256), legacy: 1, created_by: client2.userId, created_at: at, last_activity_at: at })
      .execute();
    const wrappedForClient = opaque(60);
    const sealedForEscrow = opaque(256);
    const draft = spaceCreateDraft({ id: legacyId, kind: 'client', sealedForEscrow, wrappedForClient }, client2.userId, randomBytes(32).toString('hex'));
    await client2.client.api(adoptSpace, { params: { spaceId: legacyId }, body: { wrappedForClient, sealedForEscrow, entry: await signFor(client2, legacyId, draft, null) } });
  }
  remember(folderName, folderRename, subject, firstMessage.body, reply.body, revised, requestBody);

  // --- The audit log: a countersigned head, an export, the retention setting ----------------------------
  {
    const { logId, treeHead } = await auditor.client.api(getAuditHead, {});
    if (!treeHead) throw new Error('no signed tree head yet');
    const payload = { kind: 'audit-witness', logId, keyId: treeHead.keyId, treeSize: treeHead.treeSize, rootHash: treeHead.rootHash, headSignedAt: treeHead.signedAt, witnessedAt: now().toISOString() };
    const bytes = utf8(JSON.stringify(payload));
    const signature = await signStatement(auditor.vault.signingKey!, AUDIT_WITNESS_CONTEXT, bytes);
    await auditor.client.api(addAuditWitness, { body: { statement: { payload: toBase64Url(bytes), signature: toBase64Url(signature) } } });
    await auditor.client.api(createAuditExport, { body: { filter: {}, format: 'json' } });
    await admin.client.api(createAuditExport, { body: { filter: { action: 'document.' }, format: 'csv' } });
    await admin.client.api(setAuditRetention, { body: { retentionDays: 3650 } });
  }

  // --- Refused attempts -----------------------------------------------------------------------------
  await refused('createInvitation', 'forbidden', () => client.client.api(createInvitation, { body: { id: newId(), email: 'x@kluis.test', role: 'client', language: 'en', fragment: 'x' } }));
  await refused('unlockUser', 'forbidden', () => team.client.api(unlockUser, { params: { id: admin.userId } }));
  await refused('logoutEverywhere', 'csrf_rejected', () => rawCall(org, client, 'POST', '/api/auth/logout-everywhere', { headers: { Origin: 'https://elders.example' } }));
  {
    const stored = await testApp.db.selectFrom('organisation').select('settings').executeTakeFirstOrThrow();
    const outside = { ...(JSON.parse(stored.settings) as Record<string, unknown>), teamIpAllowlist: ['192.0.2.0/24'] };
    await testApp.db.updateTable('organisation').set({ settings: JSON.stringify(outside) }).execute();
    await refused('markThreadRead', 'ip_not_allowed', () => team.client.api(markThreadRead, { params: { threadId } }));
    await testApp.db.updateTable('organisation').set({ settings: stored.settings }).execute();
  }
  // The team member's account locked by wrong passwords: the passkey sign-in is refused.
  for (let i = 0; i < 3; i++) await wrongPassword(team);
  await refused('finishPasskeyLogin', 'account_locked', async () => {
    const browser = org.newClient();
    const { ceremonyId, options } = await browser.api(startPasskeyLogin, { body: {} });
    return browser.api(finishPasskeyLogin, { body: { ceremonyId, response: authenticator.assert(options).response } });
  });
  await admin.client.api(unlockUser, { params: { id: team.userId } });

  // --- Organisation recovery with the kit (last: every account must reset afterwards) ----------------
  {
    const organisation = await testApp.db.selectFrom('organisation').select('opaque_server_public_key').executeTakeFirstOrThrow();
    const recoveryToken = await testApp.services.setup.enterRecoveryMode(organisation.opaque_server_public_key);
    const recoveredPassword = 'koude-winter-op-het-ijs';
    remember(recoveredPassword, recoverySecret);
    await recoverWithKit(org.newClient().api, { recoveryToken, email: admin.email, recoverySecret, newPassword: recoveredPassword }, fast);
  }

  // Rows per request: those after the previous request's head up to this one's.
  const heads = await Promise.all(seqAfter);
  const rows = await testApp.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  let previous = 0;
  requests.forEach((request, i) => {
    const head = heads[i]! >= 0 ? heads[i]! : previous + (request.status < 400 ? request.eventsRecorded : 0);
    request.rows = rows.filter((row) => row.seq > previous && row.seq <= head);
    previous = head;
  });
  return { org, requests, rows, plaintexts: [...plaintexts], refusals, close: () => org.close() };
}
