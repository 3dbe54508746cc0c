// Integration: the key directory over real HTTP and SQLite: setup's root certificate, sign-up's escrow-copy
// statement and binding, issuing certificates, older accounts adding keys, and the key safe's compare-and-swap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallApi } from '../../shared/api/client';
import {
  type SignedPayload,
  addSigningKey,
  createInvitation,
  finishSetup,
  finishSignup,
  getDirectory,
  grantEscrow,
  issueCertificate,
  putEscrowCopyStatement,
  updateKeySafe,
} from '../../shared/api';
import {
  fromBase64Url,
  fromUtf8,
  generateSecretKey,
  generateSigningKeyPair,
  sha256,
  signStatement,
  toBase64Url,
  toHex,
  utf8,
} from '../../shared/crypto';
import { bindingFromFragment, certifiedIdentity, grantEscrowAccess, invite, login, setupOrganisation, signup } from '../../shared/flows/account-flows';
import { CERTIFICATE_CONTEXT, ESCROW_COPY_CONTEXT, checkBinding, signCertificate, signEscrowCopy, verifyDirectory } from '../../shared/flows/certificates';
import { newClientId } from '../../shared/flows/spaces';
import { pinsToFragment } from '../../shared/flows/key-safe';
import { verifyAuditChain } from './audit.service';
import { type TestOrganisation, createTestOrganisation, fast, invitationLinkFor, parseInvitationLink } from '../test/org-fixture';
import { browserLikeClient, listen } from '../lib/node-api-client';
import { type TestApp, makeTestApp } from '../test/make-test-app';
import { budget } from '../test/budget';

type Json = Record<string, unknown>;
const decode = (signed: SignedPayload) => JSON.parse(fromUtf8(fromBase64Url(signed.payload))) as Json;
/** The same signed statement with its payload edited (the signature no longer matches: the server does not check it). */
const withPayload = (signed: SignedPayload, edit: (statement: Json) => Json): SignedPayload => ({ ...signed, payload: toBase64Url(utf8(JSON.stringify(edit(decode(signed))))) });

/** A throwaway signing key (its private half wrapped under a throwaway key: the server never opens it). */
async function throwawaySigner() {
  return generateSigningKeyPair(await generateSecretKey('user'), { id: 'test', owner: 'test' });
}

async function signJson(signer: Awaited<ReturnType<typeof throwawaySigner>>, context: string, value: Json): Promise<SignedPayload> {
  const bytes = utf8(JSON.stringify(value));
  return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer.privateKey, context, bytes)) };
}

/**
 * A CallApi that passes every call through, except the one to `target`, whose body it rewrites first.
 * This is how a tampering browser (or a test) sends what the real flow would not.
 */
function tampering(api: CallApi, target: unknown, rewrite: (body: Json) => Promise<Json>): CallApi {
  const call: CallApi = async (endpoint, input, options) => {
    if (endpoint !== target) return api(endpoint, input, options);
    const body = await rewrite(structuredClone((input as { body: Json }).body));
    return api(endpoint, { ...input, body } as typeof input, options);
  };
  return call;
}

/**
 * Replaces the account's signing key with a throwaway one and re-signs the certificate and the
 * escrow-copy statement after applying the edits, so only the edited field is wrong.
 */
function resigned(edits: { certificate?: (c: Json, fp: string) => Json; statement?: (s: Json) => Json; statementSigner?: 'other' }) {
  return async (body: Json): Promise<Json> => {
    const signer = await throwawaySigner();
    const fp = toHex(signer.publicKey.fingerprint);
    const keys = body.keys as Json;
    keys.signing = { ...(keys.signing as Json), publicKey: toBase64Url(signer.publicKey.spki) };
    const statement = decode(keys.escrowCopyStatement as SignedPayload);
    const statementSigner = edits.statementSigner === 'other' ? await throwawaySigner() : signer;
    keys.escrowCopyStatement = await signJson(statementSigner, ESCROW_COPY_CONTEXT, edits.statement ? edits.statement(statement) : statement);
    if (body.certificate) {
      const cert = { ...decode(body.certificate as SignedPayload), sigKey: fp, issuerKey: fp };
      body.certificate = await signJson(signer, CERTIFICATE_CONTEXT, edits.certificate ? edits.certificate(cert, fp) : cert);
    }
    return body;
  };
}

const OTHER_FP = 'ab'.repeat(32);

describe('setup stores only a root certificate and escrow-copy statement that check out', () => {
  const setupInput = (setupToken: string) => ({
    setupToken,
    organisationName: 'Kantoor Root',
    email: 'root@kluis.test',
    name: 'Rita Root',
    password: 'zonnige-dinsdag-met-appeltaart',
    language: 'en' as const,
  });

  /** A fresh app without an organisation, served over HTTP, with a browser-like client and a setup token. */
  async function withSetupLink(run: (setup: { testApp: TestApp; api: CallApi; token: string }) => Promise<void>): Promise<void> {
    const testApp = await makeTestApp();
    const server = await listen(testApp);
    try {
      const client = browserLikeClient(server.baseUrl, testApp.config.publicOrigin);
      await run({ testApp, api: client.api, token: await testApp.services.setup.issueSetupToken() });
    } finally {
      await server.close();
      await testApp.close();
    }
  }

  it('refuses each wrong field, then accepts the real one and keeps it', () =>
    withSetupLink(async ({ testApp, api, token }) => {
      const refused = async (rewrite: (body: Json) => Promise<Json>) =>
        expect(setupOrganisation(tampering(api, finishSetup, rewrite), setupInput(token), fast)).rejects.toMatchObject({ code: 'validation_failed' });

      // The helper itself is sound: re-signed without edits, setup would pass (checked last, below).
      await refused(resigned({ certificate: (c) => ({ ...c, encKey: OTHER_FP }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, email: 'other@kluis.test' }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, user: newClientId() }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, issuer: newClientId() }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, basis: 'first-use' }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, role: 'team' }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, issuerKey: OTHER_FP }) }));
      await refused(resigned({ certificate: (c) => ({ ...c, sigKey: OTHER_FP, issuerKey: OTHER_FP }) }));
      // A signature by a key that is not the account's signing key.
      await refused(async (body) => ({ ...body, certificate: await signJson(await throwawaySigner(), CERTIFICATE_CONTEXT, decode(body.certificate as SignedPayload)) }));
      // The escrow-copy statement: another user, another organisation key, another seal, another signer.
      await refused(resigned({ statement: (s) => ({ ...s, user: newClientId() }) }));
      await refused(resigned({ statement: (s) => ({ ...s, escrow: OTHER_FP }) }));
      await refused(resigned({ statement: (s) => ({ ...s, seal: OTHER_FP }) }));
      await refused(resigned({ statementSigner: 'other' }));
      expect(await testApp.db.selectFrom('certificates').selectAll().execute()).toEqual([]);

      // The same rewrite without edits passes, so each refusal above was about its one field.
      const done = await setupOrganisation(tampering(api, finishSetup, resigned({})), setupInput(token), fast);
      const rows = await testApp.db.selectFrom('certificates').selectAll().execute();
      expect(rows.map((r) => [r.user_id, r.issuer_id])).toEqual([[done.userId, done.userId]]);
    }), budget(120_000));

  it('refuses a founding holder statement that is not a holder statement, then accepts the real one', () =>
    withSetupLink(async ({ testApp, api, token }) => {
      const withStatement = (rewrite: (statement: SignedPayload) => SignedPayload) =>
        setupOrganisation(tampering(api, finishSetup, (body) => Promise.resolve({ ...body, holderStatement: rewrite(body.holderStatement as SignedPayload) })), setupInput(token), fast);

      await expect(withStatement((s) => ({ ...s, payload: toBase64Url(utf8('not JSON')) }))).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
      // Names the Administrator, but is no holder statement: the server once took this.
      await expect(withStatement((s) => withPayload(s, (v) => ({ holderId: v.holderId, grantedBy: v.grantedBy })))).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
      await expect(withStatement((s) => withPayload(s, (v) => ({ ...v, kind: 'escrow-copy' })))).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
      expect(await testApp.db.selectFrom('organisation').selectAll().execute()).toEqual([]);

      await withStatement((s) => s);
      expect(await testApp.db.selectFrom('organisation').select('id').execute()).toEqual([{ id: 1 }]);
    }), budget(120_000));
});

describe('escrow grants', () => {
  let org: TestOrganisation;

  beforeAll(async () => {
    org = await createTestOrganisation([]);
  }, budget(120_000));
  afterAll(() => org?.close());

  it('refuses an escrow grant whose statement is not a holder statement, then accepts the real one', async () => {
    await invite(org.admin.client.api, org.admin.vault, { email: 'second-team@kluis.test', role: 'team', language: 'en' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, 'second-team@kluis.test'));
    const { userId } = await signup(org.newClient().api, { token, fragment, name: 'Tweede Team', password: 'blauwe-fiets-bij-het-station', language: 'en' }, fast);
    const holder = await certifiedIdentity(org.admin.client.api, org.admin.vault, userId);
    const grantWith = (rewrite: (statement: SignedPayload) => SignedPayload) =>
      grantEscrowAccess(tampering(org.admin.client.api, grantEscrow, (body) => Promise.resolve({ ...body, statement: rewrite(body.statement as SignedPayload) })), org.admin.vault, holder);
    const grantRows = () => org.testApp.db.selectFrom('escrow_grants').select('user_id').where('user_id', '=', userId).execute();

    await expect(grantWith((s) => ({ ...s, payload: toBase64Url(utf8('not JSON')) }))).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    // Names the grant, but is no holder statement: the server once took this.
    await expect(grantWith((s) => withPayload(s, (v) => ({ holderId: v.holderId, grantedBy: v.grantedBy })))).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    await expect(grantWith((s) => withPayload(s, (v) => ({ ...v, holderKeyFingerprint: 'not hex' })))).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    expect(await grantRows()).toEqual([]);

    await grantWith((s) => s);
    expect(await grantRows()).toEqual([{ user_id: userId }]);
  }, budget(60_000));
});

describe('key directory', () => {
  let org: TestOrganisation;

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client', 'auditor']);
  }, budget(120_000));
  afterAll(() => org?.close());

  const entriesFor = async (api: CallApi) => (await api(getDirectory, {})).entries;

  it('serves the founding Administrator\'s root certificate, which verifies against the pin', async () => {
    const verified = await verifyDirectory(await entriesFor(org.members.client!.client.api), org.members.client!.vault.keySafe);
    expect(verified.rootFound).toBe(true);
    expect(verified.identities.get(org.admin.userId)).toMatchObject({ role: 'admin', basis: 'root' });
    expect(org.admin.vault.signingKey && toHex(org.admin.vault.signingKey.publicKey.fingerprint)).toBe(org.admin.vault.keySafe.adminRootFingerprint);
  });

  it('shows staff everyone, and clients only staff, Auditors (witnesses) and themselves', async () => {
    const all = [org.admin.userId, ...(['team', 'client', 'auditor'] as const).map((r) => org.members[r]!.userId)];
    expect((await entriesFor(org.admin.client.api)).map((e) => e.id)).toEqual(expect.arrayContaining(all));
    expect((await entriesFor(org.members.team!.client.api)).map((e) => e.id)).toEqual(expect.arrayContaining(all));
    const seenByClient = (await entriesFor(org.members.client!.client.api)).map((e) => e.id).sort();
    expect(seenByClient).toEqual([org.admin.userId, org.members.team!.userId, org.members.client!.userId, org.members.auditor!.userId].sort());
  });

  it('shows Auditors staff and Auditors (whose countersignatures they verify), no clients', async () => {
    const seenByAuditor = (await entriesFor(org.members.auditor!.client.api)).map((e) => e.id).sort();
    expect(seenByAuditor).toEqual([org.admin.userId, org.members.team!.userId, org.members.auditor!.userId].sort());
  });

  it('gives every new account a signing key and a signed escrow-copy statement, and stores the invitation binding', async () => {
    const entries = await entriesFor(org.admin.client.api);
    for (const entry of entries) {
      expect(entry.signingPublicKey).not.toBeNull();
      expect(entry.escrowCopyStatement).not.toBeNull();
    }
    const client = entries.find((e) => e.id === org.members.client!.userId)!;
    const invitation = await org.testApp.db.selectFrom('invitations').select('id').where('email', '=', org.members.client!.email).executeTakeFirstOrThrow();
    expect(client.binding?.invitationId).toBe(invitation.id);
    // An escrow holder recomputes the binding key from E and finds the MAC over exactly these keys.
    const verified = await verifyDirectory(entries, org.admin.vault.keySafe);
    expect(await checkBinding(org.admin.vault.escrow!.escrowKey, verified.unverified.get(client.id)!)).toBe(true);
  });

  it('refuses a sign-up whose escrow-copy statement does not check out', async () => {
    const email = 'tampered-signup@kluis.test';
    await invite(org.admin.client.api, org.admin.vault, { email, role: 'client', language: 'en' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
    const input = { token, fragment, name: 'Tom Tamper', password: 'rode-tulpen-langs-de-dijk', language: 'en' as const };
    const refused = (rewrite: (body: Json) => Promise<Json>) =>
      expect(signup(tampering(org.newClient().api, finishSignup, rewrite), input, fast)).rejects.toMatchObject({ code: 'validation_failed' });
    await refused(resigned({ statement: (s) => ({ ...s, user: newClientId() }) }));
    await refused(resigned({ statement: (s) => ({ ...s, escrow: OTHER_FP }) }));
    await refused(resigned({ statement: (s) => ({ ...s, seal: OTHER_FP }) }));
    await refused(resigned({ statementSigner: 'other' }));
    // Unedited, the same rewrite is accepted: only the edited field made the difference.
    const { userId } = await signup(tampering(org.newClient().api, finishSignup, resigned({})), input, fast);
    expect(userId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  }, budget(60_000));

  it('takes the inviter\'s invitation id once, and puts the binding key in the link only from escrow holders', async () => {
    const id = newClientId();
    const body = { id, email: 'once@kluis.test', role: 'client' as const, language: 'en' as const, fragment: pinsToFragment(org.admin.vault.keySafe) };
    await org.admin.client.api(createInvitation, { body });
    await expect(org.admin.client.api(createInvitation, { body: { ...body, email: 'twice@kluis.test' } })).rejects.toMatchObject({ code: 'id_taken' });

    await invite(org.admin.client.api, org.admin.vault, { email: 'bound@kluis.test', role: 'client', language: 'en' });
    const bound = bindingFromFragment(parseInvitationLink(invitationLinkFor(org.testApp, 'bound@kluis.test')).fragment);
    expect(bound?.key).toHaveLength(32);
    const withoutEscrow = { ...org.admin.vault, escrow: undefined };
    await invite(org.admin.client.api, withoutEscrow, { email: 'unbound@kluis.test', role: 'client', language: 'en' });
    expect(bindingFromFragment(parseInvitationLink(invitationLinkFor(org.testApp, 'unbound@kluis.test')).fragment)).toBeNull();
  });

  it('reads the binding part of a link strictly', () => {
    const i = newClientId();
    const k = toBase64Url(new Uint8Array(32));
    expect(bindingFromFragment(`t=x&e=1&i=${i}&k=${k}`)).toEqual({ invitationId: i, key: new Uint8Array(32) });
    expect(() => bindingFromFragment(`i=${i}`)).toThrow(/damaged/);
    expect(() => bindingFromFragment(`k=${k}`)).toThrow(/damaged/);
    expect(() => bindingFromFragment(`i=${i}x&k=${k}`)).toThrow(/damaged/);
    expect(() => bindingFromFragment(`i=${i}&k=${k}A`)).toThrow(/damaged/);
    expect(() => bindingFromFragment(`i=${i}&k=${k}&i=${i}`)).toThrow(/damaged/);
  });

  describe('issuing certificates', () => {
    const subjectOf = async (userId: string) => {
      const entry = (await entriesFor(org.admin.client.api)).find((e) => e.id === userId)!;
      const fp = async (spki: string) => toHex(await sha256(fromBase64Url(spki)));
      return { userId, email: entry.email, role: entry.role, encKey: await fp(entry.publicKey), sigKey: await fp(entry.signingPublicKey!) };
    };
    const issuerOf = (member: { userId: string; vault: { signingKey?: Parameters<typeof signCertificate>[0]['signingKey'] } }) => ({
      userId: member.userId,
      signingKey: member.vault.signingKey!,
    });
    const post = (api: CallApi, userId: string, body: SignedPayload) => api(issueCertificate, { params: { userId }, body });
    /** A certificate payload edited after signing, re-signed by `signer` (so only the edit is wrong). */
    const edited = async (cert: SignedPayload, edit: (c: Json) => Json, signer: { privateKey: Parameters<typeof signStatement>[0] }) => {
      const bytes = utf8(JSON.stringify(edit(decode(cert))));
      return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer.privateKey, CERTIFICATE_CONTEXT, bytes)) };
    };

    it('stores a certificate an Administrator signed for exactly the stored keys, with an audit event', async () => {
      const team = org.members.team!;
      const issued = () => org.testApp.db.selectFrom('audit_events').selectAll().where('action', '=', 'certificate.issued').where('target_id', '=', team.userId).execute();
      const before = (await issued()).length;
      const cert = await signCertificate(issuerOf(org.admin), { ...(await subjectOf(team.userId)), role: 'team' }, 'first-use');
      await post(org.admin.client.api, team.userId, cert);
      const verified = await verifyDirectory(await entriesFor(org.members.client!.client.api), org.members.client!.vault.keySafe);
      // The newest valid certificate states the identity (the fixture's grant certified them at first, by invitation).
      expect(verified.identities.get(team.userId)).toMatchObject({ role: 'team', issuer: org.admin.userId });
      const events = await issued();
      expect(events).toHaveLength(before + 1);
      expect(events.at(-1)).toMatchObject({ actor_id: org.admin.userId, target_id: team.userId });
      expect((await verifyAuditChain(org.testApp.db)).ok).toBe(true);
      // Append-only at the database.
      await expect(org.testApp.db.deleteFrom('certificates').execute()).rejects.toThrow(/append-only/);
    });

    it('refuses a certificate that differs from the stored person, keys or issuer in any one field', async () => {
      const client = org.members.client!;
      const admin = { privateKey: org.admin.vault.signingKey! };
      const good = await signCertificate(issuerOf(org.admin), { ...(await subjectOf(client.userId)), role: 'client' }, 'invitation');
      const refused = (body: SignedPayload, userId = client.userId, api = org.admin.client.api) =>
        expect(post(api, userId, body)).rejects.toMatchObject({ code: 'certificate_invalid' });
      await refused(await edited(good, (c) => ({ ...c, encKey: OTHER_FP }), admin));
      await refused(await edited(good, (c) => ({ ...c, sigKey: OTHER_FP }), admin));
      await refused(await edited(good, (c) => ({ ...c, email: 'someone@kluis.test' }), admin));
      await refused(await edited(good, (c) => ({ ...c, role: 'team' }), admin));
      await refused(await edited(good, (c) => ({ ...c, basis: 'root' }), admin));
      await refused(await edited(good, (c) => ({ ...c, issuerKey: OTHER_FP }), admin));
      await refused(good, org.members.team!.userId); // another person's path
      await refused(await edited(good, (c) => ({ ...c, issuer: org.members.team!.userId }), admin));
      // Signed by someone else than the issuer it names.
      await refused(await edited(good, (c) => c, { privateKey: org.members.team!.vault.signingKey! }));
      // Not the actor's certificate: a Team Member posts the Administrator's.
      await refused(good, client.userId, org.members.team!.client.api);
      await expect(post(org.admin.client.api, newClientId(), good)).rejects.toMatchObject({ code: 'not_found' });
      // Nothing was stored; the unedited certificate is accepted.
      expect(await org.testApp.db.selectFrom('certificates').selectAll().where('user_id', '=', client.userId).execute()).toEqual([]);
      await post(org.admin.client.api, client.userId, good);
    });

    it('lets Team Members certify clients only, and nobody themselves', async () => {
      const team = org.members.team!;
      const auditor = org.members.auditor!;
      const forAuditor = await signCertificate(issuerOf(team), { ...(await subjectOf(auditor.userId)), role: 'auditor' }, 'first-use');
      await expect(post(team.client.api, auditor.userId, forAuditor)).rejects.toMatchObject({ code: 'certificate_invalid' });
      const self = await signCertificate(issuerOf(org.admin), { ...(await subjectOf(org.admin.userId)), role: 'admin' }, 'first-use');
      await expect(post(org.admin.client.api, org.admin.userId, self)).rejects.toMatchObject({ code: 'certificate_invalid' });
      const forClient = await signCertificate(issuerOf(team), { ...(await subjectOf(org.members.client!.userId)), role: 'client' }, 'first-use');
      await post(team.client.api, org.members.client!.userId, forClient);
      // The Administrator may certify the auditor.
      await post(org.admin.client.api, auditor.userId, await signCertificate(issuerOf(org.admin), { ...(await subjectOf(auditor.userId)), role: 'auditor' }, 'first-use'));
    });
  });

  describe('accounts made before everyone had a signing key', () => {
    it('add a signing key and sign their escrow copy at the next sign-in, once', async () => {
      const member = org.members.auditor!;
      await org.testApp.db
        .updateTable('users')
        .set({ signing_public_key: null, wrapped_signing_key: null, escrow_copy_statement: null })
        .where('id', '=', member.userId)
        .execute();
      const client = org.newClient();
      const { vault, bundle } = await login(client.api, member.email, member.password, fast);
      expect(bundle.keys.signing).toBeUndefined();
      expect(bundle.keys.escrowCopySigned).toBe(false);
      const row = await org.testApp.db.selectFrom('users').selectAll().where('id', '=', member.userId).executeTakeFirstOrThrow();
      expect(row.signing_public_key).toBe(toBase64Url(vault.signingKey!.publicKey.spki));
      expect(JSON.parse(row.escrow_copy_statement!) as unknown).toMatchObject({ payload: expect.any(String) as unknown });
      // The next sign-in opens the same key and signs nothing again.
      const again = await login(org.newClient().api, member.email, member.password, fast);
      expect(again.bundle.keys.escrowCopySigned).toBe(true);
      expect(again.vault.signingKey!.publicKey.fingerprint).toEqual(vault.signingKey!.publicKey.fingerprint);
      const other = await throwawaySigner();
      await expect(client.api(addSigningKey, { body: { publicKey: toBase64Url(other.publicKey.spki), wrappedPrivateKey: toBase64Url(other.wrappedPrivateKey) } })).rejects.toMatchObject({
        code: 'signing_key_exists',
      });
    }, budget(30_000));

    it('refuses an escrow-copy statement that names another person, key, seal or signer', async () => {
      const member = org.members.client!;
      const row = await org.testApp.db.selectFrom('users').selectAll().where('id', '=', member.userId).executeTakeFirstOrThrow();
      const owner = { userId: member.userId, signingKey: member.vault.signingKey!, userKey: member.vault.userKey };
      const put = (body: SignedPayload) => member.client.api(putEscrowCopyStatement, { body });
      const good = await signEscrowCopy(owner, member.vault.keySafe.escrowFingerprint, row.escrow_user_key);
      const resign = async (edit: (s: Json) => Json, signer = member.vault.signingKey) => {
        if (!signer) throw new Error('no signing key');
        const bytes = utf8(JSON.stringify(edit(decode(good))));
        return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer, ESCROW_COPY_CONTEXT, bytes)) };
      };
      await expect(put(await resign((s) => ({ ...s, user: org.admin.userId })))).rejects.toMatchObject({ code: 'bad_request' });
      await expect(put(await resign((s) => ({ ...s, escrow: OTHER_FP })))).rejects.toMatchObject({ code: 'bad_request' });
      await expect(put(await resign((s) => ({ ...s, seal: OTHER_FP })))).rejects.toMatchObject({ code: 'bad_request' });
      await expect(put(await resign((s) => s, org.admin.vault.signingKey))).rejects.toMatchObject({ code: 'bad_request' });
      await put(good);
    });
  });

  it('replaces the key safe only from the revision the browser read', async () => {
    const member = org.members.team!;
    const before = await org.testApp.db.selectFrom('users').select(['key_safe', 'key_safe_revision']).where('id', '=', member.userId).executeTakeFirstOrThrow();
    expect(before.key_safe_revision).toBe(0);
    const keySafe = before.key_safe;
    expect(await member.client.api(updateKeySafe, { body: { expectedRevision: 0, keySafe } })).toEqual({ revision: 1 });
    await expect(member.client.api(updateKeySafe, { body: { expectedRevision: 0, keySafe } })).rejects.toMatchObject({ code: 'key_safe_conflict' });
    expect(await member.client.api(updateKeySafe, { body: { expectedRevision: 1, keySafe } })).toEqual({ revision: 2 });
    const { bundle } = await login(org.newClient().api, member.email, member.password, fast);
    expect(bundle.keys.keySafeRevision).toBe(2);
  }, budget(30_000));
});
