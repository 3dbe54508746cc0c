// Integration: the whole account life-cycle through the browser flows over real HTTP and a real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endSession, endUserSessions, getSession, listEscrowHolders, listSessions, listUsers, logout, logoutEverywhere } from '../../shared/api';
import { DecryptionError, OPAQUE_KEY_STRETCHING, generateSecretKey, sealSecretKey, toBase64Url } from '../../shared/crypto';
import { escrowUserKeyContext } from '../../shared/flows/vault';
import { changePassword, EscrowCopyUnverifiedError, escrowCopyProof, invite, login, LoginRejectedError, openProfile, signup } from '../../shared/flows/account-flows';
import { verifyHolderStatements } from '../../shared/flows/escrow-ledger';
import { verifyAuditChain } from './audit.service';
import { createTestOrganisation, fast, invitationLinkFor, parseInvitationLink, type TestOrganisation } from '../test/org-fixture';
import { budget } from '../test/budget';

describe('account life-cycle', () => {
  let org: TestOrganisation;

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client', 'auditor']);
  }, budget(120_000));
  afterAll(() => org?.close());

  it('sets up the organisation and logs the Administrator in with the pinned keys', async () => {
    const session = await org.admin.client.api(getSession, {});
    expect(session.user).toMatchObject({ email: 'admin@kluis.test', role: 'admin' });
    expect(session.organisation.name).toBe('Kantoor De Vries');
    expect(org.admin.vault.escrow).toBeDefined();
    const organisation = await org.testApp.db.selectFrom('organisation').selectAll().executeTakeFirstOrThrow();
    expect(org.admin.vault.keySafe.opaqueServerPublicKey).toBe(organisation.opaque_server_public_key);
    expect(org.admin.vault.keySafe.escrowFingerprint).toBe(organisation.escrow_fingerprint);
    expect(org.recoverySecret).toMatch(/^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
  });

  it('gives the Team Member the escrow key, accepted and re-wrapped under their own key', async () => {
    const team = org.members.team!;
    expect(team.vault.escrow?.publicKey.fingerprint).toEqual(org.admin.vault.escrow?.publicKey.fingerprint);
    expect(team.vault.escrowGrantNeedsAccept).toBe(false);
    const grant = await org.testApp.db.selectFrom('escrow_grants').selectAll().where('user_id', '=', team.userId).executeTakeFirstOrThrow();
    expect(grant.kind).toBe('wrapped');
  });

  it('lets the Team Member read every client\'s profile through escrow, and nobody else', async () => {
    const team = org.members.team!;
    const { users } = await team.client.api(listUsers, {});
    const client = users.find((u) => u.role === 'client')!;
    expect(users.length).toBeGreaterThan(0);
    expect(users.every((u) => u.role === 'client')).toBe(true);
    // Only with the certified owner's signed statement about the escrow copy.
    const proof = await escrowCopyProof(team.client.api, team.vault, client.id);
    expect(await openProfile(team.vault, client, proof)).toEqual({ name: 'client Persoon' });
    await expect(openProfile(team.vault, client)).rejects.toBeInstanceOf(EscrowCopyUnverifiedError);
    // A copy the statement does not name (the server's choice) is refused.
    const forged = await sealSecretKey(team.vault.escrow!.publicKey, await generateSecretKey('user'), escrowUserKeyContext(client.id));
    await expect(openProfile(team.vault, { ...client, escrowUserKey: toBase64Url(forged) }, proof)).rejects.toBeInstanceOf(EscrowCopyUnverifiedError);
    // The auditor holds no escrow key: the same row does not open.
    await expect(openProfile(org.members.auditor!.vault, client, proof)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('verifies the signed escrow holder list back to the pinned root', async () => {
    const team = org.members.team!;
    const { statements, signingKeys } = await team.client.api(listEscrowHolders, {});
    const verified = await verifyHolderStatements(statements, signingKeys, team.vault.keySafe);
    expect(verified.map((v) => [v.statement.holderId, v.verified])).toEqual([
      [org.admin.userId, true],
      [team.userId, true],
    ]);
    // A statement whose signature does not match is not verified.
    const forged = statements.map((s, i) => (i === 1 ? { ...s, signature: statements[0]!.signature } : s));
    expect((await verifyHolderStatements(forged, signingKeys, team.vault.keySafe))[1]!.verified).toBe(false);
  });

  it('signs up and logs in with the real Argon2id key stretching (64 MiB, t=3), which is part of the password', async () => {
    const team = org.members.team!;
    await invite(team.client.api, team.vault, { email: 'real-stretching@kluis.test', role: 'client', language: 'en' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, 'real-stretching@kluis.test'));
    const password = 'een echt wachtwoord met Argon2id';
    await signup(org.newClient().api, { token, fragment, name: 'Eva Smit', password, language: 'en' });
    const { vault } = await login(org.newClient().api, 'real-stretching@kluis.test', password, { keyStretching: OPAQUE_KEY_STRETCHING });
    expect(vault.role).toBe('client');
    // The same password with other key stretching is another password.
    await expect(login(org.newClient().api, 'real-stretching@kluis.test', password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
  }, budget(30_000));

  it('changes a password: only the user key is re-wrapped, other sessions end, old password stops working', async () => {
    const member = await org.relogin(org.members.client!);
    const other = org.newClient();
    await login(other.api, member.email, member.password, fast);
    const before = await org.testApp.db.selectFrom('users').selectAll().where('id', '=', member.userId).executeTakeFirstOrThrow();

    const before2 = await org.testApp.db.selectFrom('sessions').select('id').where('user_id', '=', member.userId).where('revoked_at', 'is', null).execute();
    expect(before2.length).toBeGreaterThanOrEqual(2);
    member.vault = await changePassword(member.client.api, member.vault, member.password, 'een-heel-nieuw-wachtwoord', fast);

    const after = await org.testApp.db.selectFrom('users').selectAll().where('id', '=', member.userId).executeTakeFirstOrThrow();
    expect(after.wrapped_user_key).not.toBe(before.wrapped_user_key);
    expect(after.opaque_record).not.toBe(before.opaque_record);
    for (const column of ['key_safe', 'wrapped_private_key', 'escrow_user_key', 'public_key', 'profile'] as const) expect(after[column]).toBe(before[column]);
    await expect(other.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(member.client.api(getSession, {})).resolves.toMatchObject({ user: { id: member.userId } });
    await expect(login(org.newClient().api, member.email, member.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
    member.password = 'een-heel-nieuw-wachtwoord';
    const fresh = await login(org.newClient().api, member.email, member.password, fast);
    expect(fresh.vault.userId).toBe(member.userId);
    const sent = (org.testApp.notifier as unknown as { sent: { to: string; notification: { kind: string } }[] }).sent;
    expect(sent.filter((m) => m.to === member.email && m.notification.kind === 'password_changed')).toHaveLength(1);
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/ and ends the old session on a new login', async () => {
    const member = await org.relogin(org.members.auditor!);
    const line = member.client.setCookies.find((l) => l.startsWith('kluis_session='))!;
    expect(line).toMatch(/; HttpOnly/i);
    expect(line).toMatch(/; SameSite=Strict/i);
    expect(line).toMatch(/; Path=\//i);
    expect(line).toMatch(/^kluis_session=[A-Za-z0-9_-]{43};/);
    const oldCookie = [...member.client.cookies][0]!;
    await login(member.client.api, member.email, member.password, fast);
    const stale = org.newClient();
    stale.cookies.set(oldCookie[0], oldCookie[1]);
    await expect(stale.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(member.client.api(getSession, {})).resolves.toMatchObject({ user: { id: member.userId } });
  });

  it('lists the user\'s sessions, ends one, and ends all with "log out everywhere"', async () => {
    const member = await org.relogin(org.members.auditor!);
    const other = org.newClient();
    await login(other.api, member.email, member.password, fast);
    const { sessions } = await member.client.api(listSessions, {});
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const otherId = sessions.find((s) => !s.current)!.id;
    await member.client.api(endSession, { params: { id: otherId } });
    await expect(other.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
    const third = org.newClient();
    await login(third.api, member.email, member.password, fast);
    await member.client.api(logoutEverywhere, {});
    await expect(third.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(member.client.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('lets staff end every session of a person they manage', async () => {
    const client = await org.relogin(org.members.client!);
    const team = await org.relogin(org.members.team!);
    await team.client.api(endUserSessions, { params: { id: client.userId } });
    await expect(client.client.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('normalises passwords (NFKC): typed composed at sign-up, decomposed at login', async () => {
    const team = await org.relogin(org.members.team!);
    await invite(team.client.api, team.vault, { email: 'nfkc@kluis.test', role: 'client', language: 'nl' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, 'nfkc@kluis.test'));
    await signup(org.newClient().api, { token, fragment, name: 'Zoë', password: 'crème brûlée in café', language: 'nl' }, fast);
    const decomposed = 'cre\u0300me bru\u0302le\u0301e in cafe\u0301';
    expect(decomposed).not.toBe('crème brûlée in café');
    await expect(login(org.newClient().api, 'nfkc@kluis.test', decomposed, fast)).resolves.toMatchObject({ vault: { role: 'client' } });
  });

  it('ends the session on logout; the old cookie is refused afterwards', async () => {
    const member = await org.relogin(org.members.auditor!);
    const cookie = [...member.client.cookies][0]!;
    await member.client.api(logout, {});
    const replay = org.newClient();
    replay.cookies.set(cookie[0], cookie[1]);
    await expect(replay.api(getSession, {})).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('keeps an intact audit chain of everything above', async () => {
    const result = await verifyAuditChain(org.testApp.db);
    expect(result.ok).toBe(true);
    const actions = (await org.testApp.db.selectFrom('audit_events').select('action').execute()).map((r) => r.action);
    for (const action of ['setup.organisation_created', 'invitation.created', 'account.signed_up', 'auth.login_succeeded', 'escrow.granted', 'escrow.grant_accepted', 'account.password_changed', 'auth.logout']) {
      expect(actions).toContain(action);
    }
  });
});
