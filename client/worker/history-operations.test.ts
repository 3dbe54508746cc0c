// The worker's history checks against a real server: real log key, real RFC 9162 proofs, real
// certified witness statements; a tampering server (CallApi in between) must never get "recorded".
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addAuditWitness,
  getAuditHead,
  getInclusionProof,
  getMyHistory,
  type AuditEventView,
  type Endpoint,
} from '../../shared/api';
import type { CallApi } from '../../shared/api/client';
import {
  AUDIT_WITNESS_CONTEXT,
  type AuditWitnessPayload,
  logKeyId,
  type SignedTreeHead,
  treeHeadBytes,
} from '../../shared/audit/tree-head';
import { signStatement, toBase64Url, utf8 } from '../../shared/crypto';
import { certifiedIdentity, login } from '../../shared/flows/account-flows';
import { budget } from '../../server/test/budget';
import {
  createTestOrganisation,
  fast,
  type Member,
  type TestOrganisation,
} from '../../server/test/org-fixture';
import type { AccountSlot } from './account-operations';
import { createHistoryOperations } from './history-operations';
import { createKeySafeKeeper } from './key-safe-keeper';
import { createTrust } from './trust';

let org: TestOrganisation;
let client: Member;
let auditor: Member;

/** The worker's history operations for `member` after a real sign-in; `api` may tamper with answers. */
async function engineFor(member: Member, api: CallApi = member.client.api) {
  const { vault, bundle } = await login(member.client.api, member.email, member.password, fast);
  member.vault = vault;
  const keySafe = createKeySafeKeeper({
    api: member.client.api,
    owner: vault,
    initial: { safe: vault.keySafe, revision: vault.keySafeRevision },
    storage: null,
    delayMs: 5,
  });
  const slot: AccountSlot = {
    current: { vault, keySafe, session: bundle.session, name: null, profile: bundle.keys.profile },
  };
  return {
    history: createHistoryOperations({
      api,
      account: slot,
      trust: createTrust({ api, account: slot }),
    }),
    keySafe,
  };
}

/** A server that answers `endpoint` through `change`, everything else honestly. */
function tampering<E extends Endpoint>(
  member: Member,
  endpoint: E,
  change: (answer: Awaited<ReturnType<CallApi>>) => unknown,
): CallApi {
  return (async (target, input, options) => {
    const answer = await member.client.api(target, input, options);
    return (target as unknown) === endpoint ? await change(answer) : answer;
  }) as CallApi;
}

async function signHead() {
  await org.testApp.services.auditLog.signHeadIfDue({ force: true });
}

async function myEvents(): Promise<AuditEventView[]> {
  return (await client.client.api(getMyHistory, { query: {} })).events;
}

beforeAll(async () => {
  org = await createTestOrganisation(['client', 'auditor']);
  client = org.members.client!;
  auditor = org.members.auditor!;
}, budget(120_000));
afterAll(() => org?.close());

describe('checkHistoryEvents', () => {
  it('finds every event of a signed head recorded, and a newer one not yet signed', async () => {
    const { history } = await engineFor(client);
    await signHead();
    const signed = await myEvents();
    expect(signed.length).toBeGreaterThan(2);
    const checks = await history.checkHistoryEvents(signed);
    expect(checks.problem).toBeNull();
    expect(checks.events.map((c) => c.state)).toEqual(signed.map(() => 'recorded'));

    // Signing in again records an event after the head.
    await engineFor(client);
    const [newest] = await myEvents();
    const { history: again } = await engineFor(client);
    const later = await again.checkHistoryEvents([newest!]);
    expect(later.events).toEqual([{ seq: newest!.seq, state: 'not-yet-signed' }]);
  });

  it('refuses an event changed on the way, and a wrong inclusion path', async () => {
    await signHead();
    const { history } = await engineFor(client);
    const [event] = await myEvents();
    const changed = { ...event!, ip: '203.0.113.9' };
    expect((await history.checkHistoryEvents([changed])).events).toEqual([
      { seq: event!.seq, state: 'hash-mismatch' },
    ]);

    const badPath = tampering(client, getInclusionProof, (answer) => {
      const proof = answer as { path: string[] };
      return {
        ...proof,
        path: proof.path.length > 0 ? ['0'.repeat(64), ...proof.path.slice(1)] : ['0'.repeat(64)],
      };
    });
    const { history: fooled } = await engineFor(client, badPath);
    await signHead();
    const [latest] = await myEvents();
    expect((await fooled.checkHistoryEvents([latest!])).events).toEqual([
      { seq: latest!.seq, state: 'not-included' },
    ]);
  });

  it('warns when the head is forged, or the log key is not the pinned one', async () => {
    await signHead();
    const { history, keySafe } = await engineFor(client);
    await history.checkHistoryEvents(await myEvents());
    // The check pinned the head it verified.
    expect(keySafe.current().audit?.treeSize).toBeGreaterThan(0);

    const forgedHead = tampering(client, getAuditHead, (answer) => {
      const head = answer as { treeHead: { signature: string } };
      const signature = head.treeHead.signature;
      return {
        ...head,
        treeHead: {
          ...head.treeHead,
          signature: (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1),
        },
      };
    });
    const forged = await (
      await engineFor(client, forgedHead)
    ).history.checkHistoryEvents(await myEvents());
    expect(forged.problem).toBe('head-signature');
    expect(forged.events.every((c) => c.state === 'unavailable')).toBe(true);

    const otherKey = tampering(client, getAuditHead, (answer) => {
      const head = answer as { logKey: { keyId: string } };
      return { ...head, logKey: { ...head.logKey, keyId: 'f'.repeat(64) } };
    });
    expect(
      (await (await engineFor(client, otherKey)).history.checkHistoryEvents(await myEvents()))
        .problem,
    ).toBe('log-key-changed');

    // A whole other log key, its id right and the head validly signed by it: only the pin tells.
    const pair = generateKeyPairSync('ed25519');
    const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
    const keyId = await logKeyId(spki);
    const resigned = tampering(client, getAuditHead, (answer) => {
      const head = answer as { treeHead: SignedTreeHead };
      const fields = { ...head.treeHead, keyId };
      const signature = new Uint8Array(sign(null, treeHeadBytes(fields), pair.privateKey));
      return {
        ...head,
        logKey: { algorithm: 'Ed25519', spki: toBase64Url(spki), keyId },
        treeHead: { ...fields, signature: toBase64Url(signature) },
      };
    });
    expect(
      (await (await engineFor(client, resigned)).history.checkHistoryEvents(await myEvents()))
        .problem,
    ).toBe('log-key-changed');
  });
});

describe('latestWitnessedHead', () => {
  it("shows none, then the certified Auditor's countersignature, and refuses a forged one", async () => {
    const { history } = await engineFor(client);
    expect(await history.latestWitnessedHead()).toEqual({ state: 'none' });

    // The Administrator certifies the Auditor (their invitation binding verifies); the Auditor countersigns the newest head.
    expect(
      await certifiedIdentity(org.admin.client.api, org.admin.vault, auditor.userId),
    ).not.toBeNull();
    await signHead();
    const { treeHead } = await auditor.client.api(getAuditHead, {});
    const payload: AuditWitnessPayload = {
      kind: 'audit-witness',
      logId: treeHead!.logId,
      keyId: treeHead!.keyId,
      treeSize: treeHead!.treeSize,
      rootHash: treeHead!.rootHash,
      headSignedAt: treeHead!.signedAt,
      witnessedAt: new Date().toISOString(),
    };
    const bytes = utf8(JSON.stringify(payload));
    const signature = await signStatement(auditor.vault.signingKey!, AUDIT_WITNESS_CONTEXT, bytes);
    await auditor.client.api(addAuditWitness, {
      body: { statement: { payload: toBase64Url(bytes), signature: toBase64Url(signature) } },
    });

    const shown = await (await engineFor(client)).history.latestWitnessedHead();
    expect(shown).toEqual({
      state: 'verified',
      treeSize: treeHead!.treeSize,
      headSignedAt: treeHead!.signedAt,
      witnesses: [
        { userId: auditor.userId, email: auditor.email, witnessedAt: payload.witnessedAt },
      ],
      unverifiedCount: 0,
    });

    // A server that swaps in a statement for another tree size (signed by nobody it names) is not believed.
    const swapped = tampering(client, getAuditHead, (answer) => {
      const head = answer as {
        latestWitnessed: { witnesses: { statement: { payload: string } }[] };
      };
      const other = toBase64Url(
        utf8(JSON.stringify({ ...payload, treeSize: payload.treeSize + 1 })),
      );
      return {
        ...head,
        latestWitnessed: {
          ...head.latestWitnessed,
          witnesses: head.latestWitnessed.witnesses.map((w) => ({
            ...w,
            statement: { ...w.statement, payload: other },
          })),
        },
      };
    });
    expect(await (await engineFor(client, swapped)).history.latestWitnessedHead()).toEqual({
      state: 'unverified',
      reason: 'witness-invalid',
    });

    // The same statement signed by someone else's key (here the client's) is not the Auditor's.
    const notTheirs = toBase64Url(
      await signStatement(client.vault.signingKey!, AUDIT_WITNESS_CONTEXT, bytes),
    );
    const resigned = tampering(client, getAuditHead, (answer) => {
      const head = answer as {
        latestWitnessed: { witnesses: { statement: { signature: string } }[] };
      };
      return {
        ...head,
        latestWitnessed: {
          ...head.latestWitnessed,
          witnesses: head.latestWitnessed.witnesses.map((w) => ({
            ...w,
            statement: { ...w.statement, signature: notTheirs },
          })),
        },
      };
    });
    expect(await (await engineFor(client, resigned)).history.latestWitnessedHead()).toEqual({
      state: 'unverified',
      reason: 'witness-invalid',
    });
  });
});
