// What a malicious server can make on its own for the malicious-server suite: keys of its choosing, seals to public keys, entries signed by its own keys.
import {
  type KeyContext,
  type SecretKey,
  type SigningPrivateKey,
  encryptRecord,
  fromBase64Url,
  fromUtf8,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  importPublicKey,
  keyCommitment,
  sealSecretKey,
  toBase64Url,
  toHex,
  utf8,
} from '../../shared/crypto';
import type { SignedPayload } from '../../shared/api/wire';
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

export { entryHash, recordDigest };
