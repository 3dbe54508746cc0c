// Escrow rotation (issue 21, SECURITY.md 5.10): the signed statement that moves the organisation from
// one escrow key to the next, and the browser's walk from its pinned escrow key to the current one.
import { z } from 'zod';
import {
  type EscrowChain,
  type RotationItem,
  type RotationView,
  type SignedPayload,
  finishRotation as finishRotationEndpoint,
  getEscrowChain,
  getRotation,
  listEscrowHolders,
  listRotationItems,
  resealRotationItems,
  startRotation as startRotationEndpoint,
} from '../api';
import type { CallApi } from '../api/client';
import {
  ARGON2ID_DEFAULT,
  ARGON2ID_SALT_BYTES,
  type Argon2idParams,
  type PrivateKey,
  type PublicKey,
  type SecretKey,
  type SigningPrivateKey,
  DecryptionError,
  deriveRecoveryKey,
  fromBase64Url,
  generateKeyPair,
  generateSecretKey,
  importPublicKey,
  keyCommitment,
  openSealedSecretKey,
  randomBytes,
  sealSecretKey,
  signStatement,
  toBase64Url,
  toHex,
  unwrapPrivateKey,
  unwrapSecretKey,
  utf8,
  verifyStatement,
  wrapSecretKey,
} from '../crypto';
import { ESCROW_COPY_CONTEXT, type VerifiedDirectory, escrowCopyPayloadSchema, parseSigned } from './certificates';
import { type HolderStatement, signHolderStatement, verifyHolderStatements } from './escrow-ledger';
import { updateKeySafe } from './key-safe';
import { generateRecoverySecret } from './recovery-secret';
import { ENTRY_SIGNATURE_CONTEXT, parseEntryPayload, recordDigest } from './space-history';
import { ESCROW_HOLDER, newClientId, spaceKeyContext } from './spaces';
import {
  type EscrowAccess,
  type UnlockedVault,
  escrowGrantContext,
  escrowPrivateKeyContext,
  escrowUserKeyContext,
  recoveryContext,
} from './vault';

export const ROTATION_CONTEXT = 'escrow-rotation';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

/** "The organisation's escrow key moves from `from` to `to`", signed by a certified Administrator. */
export const rotationPayloadSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('escrow-rotation'),
  rotation: id,
  from: hex64,
  to: hex64,
  by: id,
  /** Fingerprint (hex) of the signer's signing key. */
  byKey: hex64,
  at: z.iso.datetime(),
});
export type RotationPayload = z.infer<typeof rotationPayloadSchema>;

export async function signRotation(
  signer: { userId: string; signingKey: SigningPrivateKey },
  fields: { rotation: string; from: string; to: string; at: string },
): Promise<SignedPayload> {
  const payload: RotationPayload = {
    v: 1,
    kind: 'escrow-rotation',
    rotation: fields.rotation,
    from: fields.from,
    to: fields.to,
    by: signer.userId,
    byKey: toHex(signer.signingKey.publicKey.fingerprint),
    at: fields.at,
  };
  const bytes = utf8(JSON.stringify(rotationPayloadSchema.parse(payload)));
  return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer.signingKey, ROTATION_CONTEXT, bytes)) };
}

/** Why the browser refused to move its escrow pin. */
export type EscrowChainProblem =
  /** No verified rotation leads from the pinned key to the key the server calls current. */
  | 'no-path'
  /** A rotation statement from the pinned key exists but is not signed by a certified Administrator. */
  | 'unsigned-rotation'
  /** The served public key does not hash to the fingerprint the chain ends at. */
  | 'key-mismatch';

export class EscrowChainError extends Error {
  constructor(readonly problem: EscrowChainProblem) {
    super(
      problem === 'key-mismatch'
        ? 'The escrow public key the server sent is not the one the signed rotations name.'
        : problem === 'unsigned-rotation'
          ? 'The server offered a new escrow key that no Administrator signed.'
          : 'The server offered an escrow key that no signed rotation leads to from the key this account trusts.',
    );
    this.name = 'EscrowChainError';
  }
}

export interface VerifiedEscrowKey {
  readonly fingerprint: string;
  readonly publicKey: PublicKey;
  /** The verified rotations walked, oldest first (empty when the pin is current). */
  readonly steps: readonly RotationPayload[];
}

/**
 * Walks from `pinnedFingerprint` along rotation statements, each signed by an identity the verified
 * directory certifies as an Administrator (its signing key fingerprint is `byKey`, its id `by`),
 * until the chain's current fingerprint; then checks the served public key hashes to it.
 * WARNING: the server's word moves nothing: an unsigned, mis-signed or non-Administrator statement
 * is ignored, and a current key no verified step reaches is refused (EscrowChainError).
 */
export async function verifyEscrowChain(chain: EscrowChain, pinnedFingerprint: string, directory: VerifiedDirectory): Promise<VerifiedEscrowKey> {
  const steps: RotationPayload[] = [];
  let current = pinnedFingerprint;
  let sawUnsigned = false;
  const seen = new Set<string>([current]);
  while (current !== chain.fingerprint) {
    let next: RotationPayload | null = null;
    for (const statement of chain.rotations) {
      const parsed = parseSigned(statement, rotationPayloadSchema);
      if (!parsed || parsed.value.from !== current || seen.has(parsed.value.to)) continue;
      const signer = directory.identities.get(parsed.value.by);
      const valid =
        signer !== undefined &&
        signer.role === 'admin' &&
        statement.signerId === parsed.value.by &&
        toHex(signer.signingKey.fingerprint) === parsed.value.byKey &&
        (await verifyStatement(signer.signingKey, ROTATION_CONTEXT, parsed.bytes, fromBase64Url(statement.signature)));
      if (!valid) {
        sawUnsigned = true;
        continue;
      }
      next = parsed.value;
      break;
    }
    if (!next) throw new EscrowChainError(sawUnsigned ? 'unsigned-rotation' : 'no-path');
    steps.push(next);
    seen.add(next.to);
    current = next.to;
  }
  const publicKey = await importPublicKey(fromBase64Url(chain.publicKey));
  if (toHex(publicKey.fingerprint) !== current) throw new EscrowChainError('key-mismatch');
  return { fingerprint: current, publicKey, steps };
}

/**
 * The signing-key fingerprints of certified Administrators who signed a rotation INTO `fingerprint`:
 * holder statements for that escrow key are signed by the rotating Administrator, who need not be
 * the root (pass the result to verifyHolderStatements' `rotationSigners`).
 */
export async function rotationSignersInto(chain: EscrowChain, fingerprint: string, directory: VerifiedDirectory): Promise<string[]> {
  const signers: string[] = [];
  for (const statement of chain.rotations) {
    const parsed = parseSigned(statement, rotationPayloadSchema);
    if (!parsed || parsed.value.to !== fingerprint) continue;
    const signer = directory.identities.get(parsed.value.by);
    if (!signer || signer.role !== 'admin' || statement.signerId !== parsed.value.by || toHex(signer.signingKey.fingerprint) !== parsed.value.byKey) continue;
    if (await verifyStatement(signer.signingKey, ROTATION_CONTEXT, parsed.bytes, fromBase64Url(statement.signature))) signers.push(parsed.value.byKey);
  }
  return signers;
}

/**
 * The escrow fingerprints a verified rotation chain passed through before reaching `current`
 * (oldest first): an escrow-copy statement naming one of them still vouches for the copy's key
 * commitment after the copy was re-sealed (checkEscrowCopy's `previousFingerprints`).
 */
export function previousFingerprintsOf(verified: VerifiedEscrowKey): string[] {
  return verified.steps.map((step) => step.from);
}

// ---------------------------------------------------------------------------------------------
// The rotation itself, in the starting Administrator's browser (SECURITY.md 5.10)

/** Why the browser will not (go on with a) rotation. */
export type RotationRefusal =
  /** Only an Administrator holding the escrow key (and a signing key) rotates it. */
  | 'not-escrow-admin'
  /** The server's current escrow key is not the one this vault pinned: follow the chain first. */
  | 'stale-pin'
  /** A listed holder's statement or certificate does not verify: nothing is sealed to them. */
  | 'holder-unverified'
  /** No rotation runs. */
  | 'not-running'
  /** This vault cannot open the new escrow key (sign in again after the pin moved). */
  | 'new-key-missing'
  /** The final check found items that do not open with the new key. */
  | 'check-failed';

export class RotationRefusedError extends Error {
  override readonly name = 'RotationRefusedError';
  constructor(
    readonly reason: RotationRefusal,
    readonly userIds: readonly string[] = [],
  ) {
    super(`The escrow rotation cannot go on (${reason}).`);
  }
}

export interface StartedRotation {
  readonly rotation: RotationView;
  /** The new recovery kit's secret: shown once (like setup), never sent to the server. */
  readonly recoverySecret: string;
  /** The new escrow fingerprint, for the kit and out-of-band comparison. */
  readonly fingerprint: string;
  /** The vault with the new escrow key and its key-safe pin moved to it (compare-and-swap). */
  readonly vault: UnlockedVault;
}

export interface StartRotationOptions {
  /** Argon2id parameters of the new recovery kit (default ARGON2ID_DEFAULT; tests and benches pass cheaper ones). */
  readonly recoveryParams?: Argon2idParams;
  readonly now?: () => Date;
}

/**
 * Starts a rotation: a new escrow key pair under a fresh E', the signed rotation statement, E' for
 * every current holder whose holder statement and certificate verify (wrapped under this
 * Administrator's user key, sealed to the others' certified keys) with holder statements for the new
 * fingerprint, and a new recovery kit. Then moves this vault's pin to the new key.
 * @throws RotationRefusedError ('not-escrow-admin', 'stale-pin', 'holder-unverified'); ApiError
 *   rotation_in_progress / rotation_holders_changed from the server
 */
export async function startRotation(
  api: CallApi,
  vault: UnlockedVault,
  directory: VerifiedDirectory,
  options: StartRotationOptions = {},
): Promise<StartedRotation> {
  const now = options.now ?? (() => new Date());
  if (vault.role !== 'admin' || !vault.escrow || !vault.signingKey) throw new RotationRefusedError('not-escrow-admin');
  const pin = vault.keySafe.escrowFingerprint;
  const chain = await api(getEscrowChain, {});
  if (chain.fingerprint !== pin) throw new RotationRefusedError('stale-pin');

  // The holders to re-grant: only verified statements for the pinned key, about certified staff.
  const holders = await api(listEscrowHolders, {});
  const verified = await verifyHolderStatements(holders.statements, holders.signingKeys, vault.keySafe, {
    rotationSigners: await rotationSignersInto(chain, pin, directory),
  });
  const unverified: string[] = [];
  const grantees = new Map<string, { encryptionKey: PublicKey; signingKeyFingerprint: string | null }>();
  for (const { statement, verified: ok } of verified) {
    const identity = directory.identities.get(statement.holderId);
    if (statement.holderId === vault.userId) {
      grantees.set(vault.userId, { encryptionKey: vault.privateKey.publicKey, signingKeyFingerprint: toHex(vault.signingKey.publicKey.fingerprint) });
      continue;
    }
    if (!ok || !identity || (identity.role !== 'admin' && identity.role !== 'team') || toHex(identity.encryptionKey.fingerprint) !== statement.holderKeyFingerprint) {
      unverified.push(statement.holderId);
      continue;
    }
    grantees.set(identity.userId, {
      encryptionKey: identity.encryptionKey,
      signingKeyFingerprint: identity.role === 'admin' ? toHex(identity.signingKey.fingerprint) : null,
    });
  }
  if (unverified.length > 0) throw new RotationRefusedError('holder-unverified', unverified);
  if (!grantees.has(vault.userId)) throw new RotationRefusedError('not-escrow-admin');

  const escrowKey = await generateSecretKey('escrow', { extractable: true });
  const pair = await generateKeyPair(escrowKey, escrowPrivateKeyContext);
  const fingerprint = toHex(pair.publicKey.fingerprint);
  const rotationId = newClientId();
  const at = now().toISOString();
  const statement = await signRotation({ userId: vault.userId, signingKey: vault.signingKey }, { rotation: rotationId, from: pin, to: fingerprint, at });
  const grants = [];
  for (const [userId, holder] of grantees) {
    const own = userId === vault.userId;
    const value = own
      ? await wrapSecretKey(vault.userKey, escrowKey, escrowGrantContext(userId))
      : await sealSecretKey(holder.encryptionKey, escrowKey, escrowGrantContext(userId));
    const holderStatement: HolderStatement = {
      v: 1,
      kind: 'escrow-holder',
      escrowFingerprint: fingerprint,
      holderId: userId,
      holderKeyFingerprint: toHex(holder.encryptionKey.fingerprint),
      holderSigningKeyFingerprint: holder.signingKeyFingerprint,
      grantedBy: vault.userId,
      grantedAt: at,
    };
    grants.push({
      userId,
      kind: own ? ('wrapped' as const) : ('sealed' as const),
      value: toBase64Url(value),
      statement: await signHolderStatement(vault.signingKey, holderStatement),
    });
  }
  const recoverySecret = generateRecoverySecret();
  const salt = randomBytes(ARGON2ID_SALT_BYTES);
  const params = options.recoveryParams ?? ARGON2ID_DEFAULT;
  const recoveryKey = await deriveRecoveryKey(recoverySecret, salt, params);
  const { rotation } = await api(startRotationEndpoint, {
    body: {
      rotationId,
      publicKey: toBase64Url(pair.publicKey.spki),
      wrappedPrivateKey: toBase64Url(pair.wrappedPrivateKey),
      statement,
      grants,
      recoveryKit: { wrappedKey: toBase64Url(await wrapSecretKey(recoveryKey, escrowKey, recoveryContext)), salt: toBase64Url(salt), params: { ...params } },
    },
  });
  // This Administrator signed the step, so their browser moves its pin at once (others follow the chain).
  const moved = await updateKeySafe(api, { userId: vault.userId, userKey: vault.userKey }, { safe: vault.keySafe, revision: vault.keySafeRevision }, (safe) => ({
    ...safe,
    escrowFingerprint: fingerprint,
  }));
  const escrow: EscrowAccess = { escrowKey, privateKey: pair.privateKey, publicKey: pair.publicKey };
  return {
    rotation,
    recoverySecret,
    fingerprint,
    vault: { ...vault, keySafe: moved.state.safe, keySafeRevision: moved.state.revision, escrow, escrowGrantNeedsAccept: false },
  };
}

export interface RotationProgress {
  readonly rotation: RotationView;
  /** Items this run re-sealed after checking their key commitment. */
  readonly checked: number;
  /** Items re-sealed without a check: nothing signed vouches for them (legacy space, unsigned or uncertified owner). */
  readonly unchecked: number;
  /** Items NOT re-sealed: the opened key contradicts what its certified author signed, or the seal does not open. */
  readonly refused: number;
  /** Compare-and-swap misses: the stored seal changed meanwhile (picked up again). */
  readonly skipped: number;
}

export interface RotationItemRef {
  readonly kind: RotationItem['kind'];
  readonly id: string;
}

export interface RotationRun extends RotationProgress {
  readonly uncheckedItems: readonly RotationItemRef[];
  readonly refusedItems: readonly (RotationItemRef & { readonly problem: AuthorityProblem | 'seal' })[];
}

export interface ContinueRotationOptions {
  /** Items per page and per re-seal request (1..200, default 50). */
  readonly batchSize?: number;
  /** Checked between batches: an aborted run stops there (a later call resumes). */
  readonly signal?: AbortSignal;
}

/** What went wrong with an item's authority. */
export type AuthorityProblem = 'malformed' | 'wrong-subject' | 'bad-signature' | 'key-commitment';

/**
 * Checks an opened item key against what its authority signed. 'unchecked' when nothing certified
 * vouches for it (no authority, or its author is not in the verified directory).
 */
async function checkAuthority(
  item: RotationItem,
  key: SecretKey<'space'> | SecretKey<'user'>,
  directory: VerifiedDirectory,
): Promise<{ readonly outcome: 'checked' | 'unchecked' } | { readonly outcome: 'refused'; readonly problem: AuthorityProblem }> {
  if (!item.authority) return { outcome: 'unchecked' };
  const refused = (problem: AuthorityProblem) => ({ outcome: 'refused' as const, problem });
  if (item.kind === 'space') {
    const payload = parseEntryPayload(item.authority);
    if (!payload || payload.type !== 'space.create') return refused('malformed');
    if (payload.space !== item.id || payload.seq !== 0 || payload.author !== item.authorityAuthor) return refused('wrong-subject');
    const author = directory.identities.get(payload.author);
    if (!author) return { outcome: 'unchecked' };
    const valid =
      toHex(author.signingKey.fingerprint) === payload.authorKey &&
      (await verifyStatement(author.signingKey, ENTRY_SIGNATURE_CONTEXT, fromBase64Url(item.authority.payload), fromBase64Url(item.authority.signature)));
    if (!valid) return refused('bad-signature');
    return payload.body.key === (await keyCommitment(key)) ? { outcome: 'checked' } : refused('key-commitment');
  }
  const parsed = parseSigned(item.authority, escrowCopyPayloadSchema);
  if (!parsed) return refused('malformed');
  if (parsed.value.user !== item.id) return refused('wrong-subject');
  const owner = directory.identities.get(item.id);
  if (!owner) return { outcome: 'unchecked' };
  if (!(await verifyStatement(owner.signingKey, ESCROW_COPY_CONTEXT, parsed.bytes, fromBase64Url(item.authority.signature)))) return refused('bad-signature');
  return parsed.value.key === (await keyCommitment(key)) ? { outcome: 'checked' } : refused('key-commitment');
}

function openItem(privateKey: PrivateKey, item: Pick<RotationItem, 'kind' | 'id' | 'seal'>): Promise<SecretKey<'space'> | SecretKey<'user'>> {
  const sealed = fromBase64Url(item.seal);
  return item.kind === 'space'
    ? openSealedSecretKey(privateKey, sealed, 'space', spaceKeyContext(item.id, ESCROW_HOLDER), { extractable: true })
    : openSealedSecretKey(privateKey, sealed, 'user', escrowUserKeyContext(item.id), { extractable: true });
}

/** openItem, or null when the seal does not open with this key. */
async function openOrNull(privateKey: PrivateKey, item: Pick<RotationItem, 'kind' | 'id' | 'seal'>): Promise<SecretKey<'space'> | SecretKey<'user'> | null> {
  try {
    return await openItem(privateKey, item);
  } catch (error) {
    if (error instanceof DecryptionError) return null;
    throw error;
  }
}

function sealItem(publicKey: PublicKey, item: RotationItemRef, key: SecretKey<'space'> | SecretKey<'user'>): Promise<Uint8Array> {
  return sealSecretKey(publicKey, key, item.kind === 'space' ? spaceKeyContext(item.id, ESCROW_HOLDER) : escrowUserKeyContext(item.id));
}

/** The running rotation, or RotationRefusedError('not-running'). */
async function runningRotation(api: CallApi) {
  const state = await api(getRotation, {});
  if (!state.rotation || state.rotation.finishedAt !== null) throw new RotationRefusedError('not-running');
  return { ...state, rotation: state.rotation };
}

/**
 * Re-seals every pending item (resumable: call it again after a closed tab or a killed server). The
 * old escrow private key comes from this Administrator's previous grant and must be the rotation's
 * `from`; the new public key only through the verified chain from `from`. Each item is opened,
 * checked against its authority, sealed to the new key and stored with compare-and-swap.
 * @throws RotationRefusedError('not-running'); EscrowChainError when the new key is not signed
 */
export async function continueRotation(
  api: CallApi,
  vault: UnlockedVault,
  directory: VerifiedDirectory,
  onProgress: (progress: RotationProgress) => void = () => {},
  options: ContinueRotationOptions = {},
): Promise<RotationRun> {
  const state = await runningRotation(api);
  let rotation = state.rotation;
  const pin = vault.keySafe.escrowFingerprint;
  if (pin !== rotation.from && pin !== rotation.to) throw new EscrowChainError('no-path');
  // WARNING: the key everything is re-sealed to is accepted only through a signed step from `from`.
  const target = await verifyEscrowChain(await api(getEscrowChain, {}), rotation.from, directory);
  if (target.fingerprint !== rotation.to) throw new EscrowChainError('no-path');
  if (!state.previous?.grant) throw new RotationRefusedError('not-escrow-admin');
  const grant = state.previous.grant;
  const previousKey =
    grant.kind === 'wrapped'
      ? await unwrapSecretKey(vault.userKey, fromBase64Url(grant.value), 'escrow', escrowGrantContext(vault.userId))
      : await openSealedSecretKey(vault.privateKey, fromBase64Url(grant.value), 'escrow', escrowGrantContext(vault.userId));
  const previousPrivate = await unwrapPrivateKey(previousKey, fromBase64Url(state.previous.wrappedPrivateKey), escrowPrivateKeyContext);
  // The old key is the one the signed step starts from, recomputed from the private key we opened.
  if (toHex(previousPrivate.publicKey.fingerprint) !== rotation.from) throw new EscrowChainError('key-mismatch');

  // The new private key, when this vault holds it already (its pin moved): opens items sealed to it but stored without a fingerprint.
  const newPrivate = vault.escrow && toHex(vault.escrow.publicKey.fingerprint) === rotation.to ? vault.escrow.privateKey : null;

  const limit = Math.min(200, Math.max(1, options.batchSize ?? 50));
  const uncheckedItems: RotationItemRef[] = [];
  const refusedItems: (RotationItemRef & { problem: AuthorityProblem | 'seal' })[] = [];
  let checked = 0;
  let skipped = 0;
  const progress = (): RotationProgress => ({ rotation, checked, unchecked: uncheckedItems.length, refused: refusedItems.length, skipped });
  // A compare-and-swap miss leaves its item pending: a second pass picks it up (bounded).
  for (let pass = 0; pass < 3; pass += 1) {
    const skippedBefore = skipped;
    let after: string | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      const page = await api(listRotationItems, { query: { which: 'pending', limit, ...(after !== undefined && { after }) } });
      const batch: { kind: RotationItem['kind']; id: string; previousDigest: string; seal: string }[] = [];
      for (const item of page.items) {
        if (refusedItems.some((r) => r.kind === item.kind && r.id === item.id)) continue;
        let key: SecretKey<'space'> | SecretKey<'user'>;
        /** Sealed to the new key already (a browser that followed the chain but named no fingerprint): only its fingerprint is stored anew. */
        let sealedToNew = false;
        try {
          key = await openItem(previousPrivate, item);
        } catch (error) {
          if (!(error instanceof DecryptionError)) throw error;
          const opened = newPrivate ? await openOrNull(newPrivate, item) : null;
          if (!opened) {
            refusedItems.push({ kind: item.kind, id: item.id, problem: 'seal' });
            continue;
          }
          key = opened;
          sealedToNew = true;
        }
        const authority = await checkAuthority(item, key, directory);
        if (authority.outcome === 'refused') {
          refusedItems.push({ kind: item.kind, id: item.id, problem: authority.problem });
          continue;
        }
        if (authority.outcome === 'checked') checked += 1;
        else if (!uncheckedItems.some((u) => u.kind === item.kind && u.id === item.id)) uncheckedItems.push({ kind: item.kind, id: item.id });
        const seal = sealedToNew ? item.seal : toBase64Url(await sealItem(target.publicKey, item, key));
        batch.push({ kind: item.kind, id: item.id, previousDigest: await recordDigest(item.seal), seal });
      }
      if (batch.length > 0) {
        const stored = await api(resealRotationItems, { body: { rotationId: rotation.id, items: batch } });
        rotation = stored.rotation;
        skipped += stored.skipped;
      }
      onProgress(progress());
      if (page.next === null) break;
      after = page.next;
    }
    if (skipped === skippedBefore) break;
  }
  return { ...progress(), rotation: (await runningRotation(api)).rotation, uncheckedItems, refusedItems };
}

export interface RotationCheck {
  readonly rotationId: string;
  /** Items that opened with the new key (and matched their authority where one is certified). */
  readonly checked: number;
  /** Items still pending, not opening with the new key, or contradicting their authority. */
  readonly failed: readonly (RotationItemRef & { readonly problem: AuthorityProblem | 'seal' | 'pending' })[];
}

/**
 * The final check: pages through every item and opens each with the NEW escrow private key (this
 * vault's escrow must be the rotation's `to`), comparing commitments where a certified authority exists.
 * @throws RotationRefusedError ('not-running', 'new-key-missing')
 */
export async function checkRotation(
  api: CallApi,
  vault: UnlockedVault,
  directory: VerifiedDirectory,
  onProgress: (progress: { readonly checked: number; readonly failed: number }) => void = () => {},
  options: ContinueRotationOptions = {},
): Promise<RotationCheck> {
  const { rotation } = await runningRotation(api);
  if (!vault.escrow || toHex(vault.escrow.publicKey.fingerprint) !== rotation.to) throw new RotationRefusedError('new-key-missing');
  const limit = Math.min(200, Math.max(1, options.batchSize ?? 100));
  const failed: (RotationItemRef & { problem: AuthorityProblem | 'seal' | 'pending' })[] = [];
  let checked = 0;
  let after: string | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await api(listRotationItems, { query: { which: 'all', limit, ...(after !== undefined && { after }) } });
    for (const item of page.items) {
      if (item.escrowFingerprint !== rotation.to) {
        failed.push({ kind: item.kind, id: item.id, problem: 'pending' });
        continue;
      }
      let key: SecretKey<'space'> | SecretKey<'user'>;
      try {
        key = await openItem(vault.escrow.privateKey, item);
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        failed.push({ kind: item.kind, id: item.id, problem: 'seal' });
        continue;
      }
      const authority = await checkAuthority(item, key, directory);
      if (authority.outcome === 'refused') failed.push({ kind: item.kind, id: item.id, problem: authority.problem });
      else checked += 1;
    }
    onProgress({ checked, failed: failed.length });
    if (page.next === null) break;
    after = page.next;
  }
  return { rotationId: rotation.id, checked, failed };
}

/**
 * Finishes after a clean check: the server destroys the old key pair and its grants.
 * @throws RotationRefusedError('check-failed'); ApiError rotation_incomplete while items are pending
 */
export async function finishRotation(api: CallApi, check: RotationCheck): Promise<RotationView> {
  if (check.failed.length > 0) throw new RotationRefusedError('check-failed');
  return (await api(finishRotationEndpoint, { body: { rotationId: check.rotationId, checked: check.checked } })).rotation;
}
