// What an escrow rotation costs (issue 21): a whole rotation of an organisation with N clients, each
// with a certified identity, a signed escrow copy of their user key and a client space with a signed
// entry 0, through the real browser flows (shared/flows/escrow-rotation.ts) over real HTTP against an
// in-process server. Browser crypto is included (that is what the Administrator waits for).
import { rmSync } from 'node:fs';
import type { CallApi } from '../../shared/api/client';
import {
  type Argon2idParams,
  ARGON2ID_DEFAULT,
  generateSecretKey,
  generateSigningKeyPair,
  keyCommitment,
  randomBytes,
  sealSecretKey,
  toBase64Url,
  toHex,
} from '../../shared/crypto';
import { loadDirectory } from '../../shared/flows/account-flows';
import { signCertificate, signEscrowCopy } from '../../shared/flows/certificates';
import { checkRotation, continueRotation, finishRotation, startRotation } from '../../shared/flows/escrow-rotation';
import { spaceCreateDraft } from '../../shared/flows/space-entries';
import { entryHash, signEntry } from '../../shared/flows/space-history';
import { ESCROW_HOLDER, spaceKeyContext } from '../../shared/flows/spaces';
import { escrowUserKeyContext } from '../../shared/flows/vault';
import { newId } from '../lib/ids';
import { createTestOrganisation } from '../test/org-fixture';
import { BenchFailure, type BenchContext } from './harness';

/** Clients seeded (each: one user-key escrow copy and one client space). */
const CLIENTS = 200;
/** Items per page and per re-seal request (the flow's default). */
const BATCH = 50;

export async function measureRotation({ report, cleanup, progress }: BenchContext): Promise<void> {
  progress(`rotation: an in-process organisation with ${CLIENTS} clients and ${CLIENTS} client spaces (seeded with real keys and signatures)`);
  const org = await createTestOrganisation(['team'], { env: { LOG_LEVEL: 'warn' } });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= org.close());
  cleanup.add({ name: 'rotation bench organisation', close, closeSync: () => rmSync(org.testApp.tempDir, { recursive: true, force: true }) });
  try {
    const { db } = org.testApp;
    const admin = org.admin;
    const escrowPublicKey = admin.vault.escrow!.publicKey;
    const fingerprint = toHex(escrowPublicKey.fingerprint);
    // Every seeded client shares one RSA public key (nobody opens their own keys here) but has its
    // own signing key, certificate, escrow copy and escrow-copy statement, and a space with entry 0.
    const template = await db.selectFrom('users').selectAll().where('id', '=', org.members.team!.userId).executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    for (let i = 0; i < CLIENTS; i += 1) {
      const userId = newId();
      const email = `client${i}@bench.test`;
      const userKey = await generateSecretKey('user', { extractable: true });
      const signing = await generateSigningKeyPair(userKey, { id: userId, owner: userId });
      const escrowUserKey = toBase64Url(await sealSecretKey(escrowPublicKey, userKey, escrowUserKeyContext(userId)));
      const statement = await signEscrowCopy({ userId, signingKey: signing.privateKey, userKey }, fingerprint, escrowUserKey);
      const certificate = await signCertificate(
        { userId: admin.userId, signingKey: admin.vault.signingKey! },
        { userId, email, role: 'client', encKey: template.public_key_fingerprint, sigKey: toHex(signing.publicKey.fingerprint) },
        'first-use',
      );
      const spaceId = newId();
      const spaceKey = await generateSecretKey('space', { extractable: true });
      const sealedForEscrow = toBase64Url(await sealSecretKey(escrowPublicKey, spaceKey, spaceKeyContext(spaceId, ESCROW_HOLDER)));
      const wrappedForClient = toBase64Url(randomBytes(60));
      const draft = await spaceCreateDraft({ id: spaceId, kind: 'client', sealedForEscrow, wrappedForClient }, userId, await keyCommitment(spaceKey));
      const entry = await signEntry({ userId, signingKey: signing.privateKey }, spaceId, null, draft);
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('users')
          .values({
            ...template,
            id: userId,
            email,
            role: 'client',
            created_at: now,
            signing_public_key: toBase64Url(signing.publicKey.spki),
            escrow_user_key: escrowUserKey,
            escrow_copy_statement: JSON.stringify(statement),
            escrow_fingerprint: fingerprint,
            binding_invitation_id: null,
            binding_mac: null,
          })
          .execute();
        await trx.insertInto('certificates').values({ id: newId(), user_id: userId, issuer_id: admin.userId, payload: certificate.payload, signature: certificate.signature, created_at: now }).execute();
        await trx
          .insertInto('spaces')
          .values({
            id: spaceId,
            kind: 'client',
            client_id: userId,
            sealed_for_client: null,
            sealed_for_escrow: sealedForEscrow,
            wrapped_for_client: wrappedForClient,
            legacy: 0,
            escrow_fingerprint: fingerprint,
            created_by: userId,
            created_at: now,
            last_activity_at: now,
          })
          .execute();
        await trx
          .insertInto('space_entries')
          .values({ space_id: spaceId, seq: 0, payload: entry.payload, signature: entry.signature, author_id: userId, entry_hash: await entryHash(Buffer.from(entry.payload, 'base64url')), created_at: now })
          .execute();
      });
    }

    // Request round trips per operation, to tell the server's share from the browser's.
    const serverMs = new Map<string, number>();
    const api: CallApi = async (endpoint, ...rest) => {
      const t = performance.now();
      try {
        return await admin.client.api(endpoint, ...rest);
      } finally {
        serverMs.set(endpoint.operationId, (serverMs.get(endpoint.operationId) ?? 0) + performance.now() - t);
      }
    };
    const kit: Argon2idParams = ARGON2ID_DEFAULT;

    progress('rotation: start (new RSA-4096 escrow key, grants, recovery kit with Argon2id 64 MiB)');
    let t = performance.now();
    const directory = await loadDirectory(api, admin.vault);
    const directoryMs = performance.now() - t;
    t = performance.now();
    const started = await startRotation(api, admin.vault, directory, { recoveryParams: kit });
    const startMs = performance.now() - t;
    const items = started.rotation.total;

    progress(`rotation: re-sealing ${items} items in batches of ${BATCH}`);
    t = performance.now();
    const run = await continueRotation(api, started.vault, directory, () => {}, { batchSize: BATCH });
    const resealMs = performance.now() - t;
    if (run.rotation.remaining !== 0 || run.refused !== 0) throw new BenchFailure(`the rotation left ${run.rotation.remaining} items pending, ${run.refused} refused`);
    if (run.unchecked !== 0) throw new BenchFailure(`${run.unchecked} items were re-sealed without a check: the seeded authorities did not verify`);

    progress('rotation: final check and finish');
    t = performance.now();
    const check = await checkRotation(api, started.vault, directory, () => {}, { batchSize: 200 });
    const checkMs = performance.now() - t;
    if (check.checked !== items) throw new BenchFailure(`the check opened ${check.checked} of ${items} items`);
    t = performance.now();
    await finishRotation(api, check);
    const finishMs = performance.now() - t;

    const resealServerMs = serverMs.get('resealRotationItems') ?? 0;
    const whole = directoryMs + startMs + resealMs + checkMs + finishMs;
    report.add('rotation_items', `items in the rotation (${CLIENTS} clients' escrow copies + ${CLIENTS} client spaces + staff)`, items, 'items');
    report.add('rotation_reseal_items_per_s', 're-sealed items per second (open with the old key, check entry 0 / escrow-copy statement, seal, compare-and-swap)', items / (resealMs / 1000), 'items/s', {
      summary: true,
    });
    report.add('rotation_reseal_server_ms_per_item', 'server time per re-sealed item (resealRotationItems round trips / items)', resealServerMs / items, 'ms');
    report.add('rotation_start_ms', 'start: new escrow key pair, grants, holder statements, recovery kit (Argon2id 64 MiB), request, pin moved', startMs, 'ms');
    report.add('rotation_check_ms', 'final check: every item opened with the new key and its commitment compared', checkMs, 'ms');
    report.add('rotation_whole_s', `a whole rotation of ${items} items (directory, start, re-seal, check, finish)`, whole / 1000, 's', { summary: true });
    report.note(
      `Rotation: one run through shared/flows/escrow-rotation.ts over loopback HTTP; browser crypto (RSA-OAEP-4096 open and seal, ECDSA verification of each ` +
        `item's authority) runs in this Node process and is included. Directory load ${directoryMs.toFixed(0)} ms, finish ${finishMs.toFixed(0)} ms; ` +
        `server share of the re-seal phase ${((resealServerMs / resealMs) * 100).toFixed(0)} % (each batch is one transaction: per item a read, a SHA-256 of the stored seal, a conditional UPDATE; ` +
        `plus one escrow use per person, whose e-mail goes to the in-memory notifier here).`,
    );
  } finally {
    await close();
  }
}
