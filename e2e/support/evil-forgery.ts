// What a malicious server can make on its own for the malicious-server suite: keys of its choosing, seals to public keys, entries signed by its own keys.
import {
  type KeyContext,
  type SecretKey,
  type SigningPrivateKey,
  encryptRecord,
  fromBase64Url,
  fromUtf8,
  generateKeyPair,
  randomBytes,
  generateSecretKey,
  generateSigningKeyPair,
  importPublicKey,
  keyCommitment,
  sealSecretKey,
  toBase64Url,
  toHex,
  utf8,
} from '../../shared/crypto';
import type { AccountBundle, EndpointResponse, finishPasskeyLogin } from '../../shared/api';
import type { SignedPayload } from '../../shared/api/wire';
import { profileContext } from '../../shared/flows/account-flows';
import { type Pins, newKeySafe, sealKeySafe } from '../../shared/flows/key-safe';
import { wrapUserKeyForPasskey } from '../../shared/flows/passkey-unlock';
import { keyContext } from '../../shared/flows/vault';
import {
  type EntryPayload,
  entryHash,
  recordDigest,
  signEntry,
} from '../../shared/flows/space-history';

/** A space key the server chose (it keeps the raw key: everything encrypted to it, the server could read). */
export function serverChosenSpaceKey(): Promise<SecretKey<'space'>> {
  return generateSecretKey('space', { extractable: true });
}

/** A user key the server chose. */
export function serverChosenUserKey(): Promise<SecretKey<'user'>> {
  return generateSecretKey('user', { extractable: true });
}

/** Seals `key` to a public key the server stores (DER SPKI, base64url): anyone can do this. */
export async function sealTo(spki: string, key: SecretKey, ctx: KeyContext): Promise<string> {
  return toBase64Url(await sealSecretKey(await importPublicKey(fromBase64Url(spki)), key, ctx));
}

/** An encrypted record under a key the server chose (e.g. a profile it wants staff to see). */
export async function recordUnder(
  key: SecretKey,
  value: unknown,
  ctx: { type: string; id: string; owner: string },
): Promise<string> {
  return toBase64Url(await encryptRecord(key, JSON.stringify(value), ctx));
}

/** An RSA-OAEP public key (SPKI, base64url) whose private key the server holds. */
export async function serverRsaPublicKey(): Promise<string> {
  const wrapping = await generateSecretKey('user');
  const pair = await generateKeyPair(wrapping, { id: 'evil', owner: 'evil' });
  return toBase64Url(pair.publicKey.spki);
}

/** An ECDSA P-256 signing key the server made. */
export async function serverSigningKey(): Promise<{
  privateKey: SigningPrivateKey;
  spki: string;
  fingerprint: string;
}> {
  const wrapping = await generateSecretKey('user');
  const pair = await generateSigningKeyPair(wrapping, { id: 'evil', owner: 'evil' });
  return {
    privateKey: pair.privateKey,
    spki: toBase64Url(pair.publicKey.spki),
    fingerprint: toHex(pair.publicKey.fingerprint),
  };
}

/** The parsed payload of a history entry as the server stores it. */
export function entryPayload(entry: SignedPayload): EntryPayload {
  return JSON.parse(fromUtf8(fromBase64Url(entry.payload))) as EntryPayload;
}

/** The same entry with its payload changed and its signature kept (what a server can do to a stored entry). */
export function alteredEntry(
  entry: SignedPayload,
  change: (payload: EntryPayload) => EntryPayload,
): SignedPayload {
  return {
    payload: toBase64Url(utf8(JSON.stringify(change(entryPayload(entry))))),
    signature: entry.signature,
  };
}

/**
 * A forged entry 0 of a client space, signed by a key the server made but naming `author`, committing
 * to a seal of the server's key: what a server needs for staff to accept its key, short of a certificate.
 */
export async function forgedSpaceCreate(args: {
  spaceId: string;
  clientId: string;
  author: string;
  signingKey: SigningPrivateKey;
  escrowSeal: string;
  clientWrap: string | null;
  spaceKey: SecretKey<'space'>;
}): Promise<SignedPayload> {
  return signEntry({ userId: args.author, signingKey: args.signingKey }, args.spaceId, null, {
    type: 'space.create',
    body: {
      spaceKind: 'client',
      client: args.clientId,
      escrowSeal: await recordDigest(args.escrowSeal),
      clientWrap: args.clientWrap,
      key: await keyCommitment(args.spaceKey),
    },
  });
}

/** What a passkey sign-in answers: an account bundle and the passkey's wrapping of the user key. */
export type PasskeyBundle = EndpointResponse<typeof finishPasskeyLogin>;

/**
 * The unlock wrapping a server can make for a passkey: `userKey` wrapped exactly as the browser wraps
 * it (shared/flows/passkey-unlock.ts), but under a key derived from a PRF output the server made up,
 * since the real one never leaves the browser.
 */
export async function wrappingUnderMadeUpPrf(
  userKey: SecretKey<'user'>,
  userId: string,
  credentialId: string,
): Promise<string> {
  return toBase64Url(await wrapUserKeyForPasskey(userKey, randomBytes(32), userId, credentialId));
}

/**
 * A whole account bundle for `userId` under a user key the server chose: a key safe with the
 * organisation's pins (public values: the escrow and root fingerprints, the OPAQUE server key) and a
 * revision above anything the browser saw, fresh key pairs, a profile with `name`, and as unlock the
 * wrapping of that key for the passkey `credentialId` that it can make (under a made-up PRF output).
 * Everything the browser would open with it, the server could read. `like` gives the session and
 * the fields the server has no reason to change (the password wrapping, the escrow copy).
 */
export async function forgedPasskeyBundle(args: {
  like: PasskeyBundle | AccountBundle;
  userId: string;
  pins: Pins;
  name: string;
  credentialId: string;
  factorId: string;
}): Promise<{ bundle: PasskeyBundle; userKey: SecretKey<'user'> }> {
  const { userId } = args;
  const userKey = await serverChosenUserKey();
  const pair = await generateKeyPair(userKey, keyContext(userId));
  const signing = await generateSigningKeyPair(userKey, keyContext(userId));
  const keySafe = { ...newKeySafe(args.pins), rev: 1_000_000 };
  return {
    userKey,
    bundle: {
      session: args.like.session,
      keys: {
        ...args.like.keys,
        keySafe: toBase64Url(await sealKeySafe(userKey, userId, keySafe)),
        keySafeRevision: keySafe.rev,
        publicKey: toBase64Url(pair.publicKey.spki),
        wrappedPrivateKey: toBase64Url(pair.wrappedPrivateKey),
        signing: {
          publicKey: toBase64Url(signing.publicKey.spki),
          wrappedPrivateKey: toBase64Url(signing.wrappedPrivateKey),
        },
        profile: await recordUnder(userKey, { name: args.name }, profileContext(userId)),
        escrowCopySigned: true,
      },
      unlock: {
        credentialId: args.credentialId,
        factorId: args.factorId,
        wrappedUserKey: await wrappingUnderMadeUpPrf(userKey, userId, args.credentialId),
      },
    },
  };
}

export { entryHash, recordDigest };
