// The key directory as a browser trusts it: certificates that chain every person's public keys back to
// the root Administrator key pinned in the key safe, invitation bindings, and signed escrow copies.
import { z } from 'zod';
import type { DirectoryEntry, SignedPayload } from '../api';
import {
  type PublicKey,
  type SecretKey,
  type SigningPrivateKey,
  type SigningPublicKey,
  deriveInvitationBindingKey,
  fromBase64Url,
  fromUtf8,
  importPublicKey,
  importSigningPublicKey,
  invitationBindingMac,
  keyCommitment,
  signStatement,
  toBase64Url,
  toHex,
  utf8,
  verifyInvitationBindingMac,
  verifyStatement,
} from '../crypto';
import { recordDigest } from './space-history';

/*
 * WARNING (SECURITY.md §4.9): nothing here trusts a server field. A public key is used only when a
 * certificate for exactly that key verifies under a signer who is trusted, and trust starts at the
 * root Administrator signing key whose fingerprint the browser pinned from its invitation link.
 */

export const CERTIFICATE_CONTEXT = 'user-cert';
export const ESCROW_COPY_CONTEXT = 'user-key-escrow';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const role = z.enum(['admin', 'team', 'client', 'auditor']);

/**
 * How the issuer knows the keys are this person's:
 * - root: the founding Administrator's self-signed certificate (its key is the pinned root);
 * - invitation: the invitee's browser proved possession of the invitation link's binding key;
 * - first-use: an issuer checked the key fingerprints by hand (accounts made before bindings).
 */
export const certificateBasisSchema = z.enum(['root', 'invitation', 'first-use']);
export type CertificateBasis = z.infer<typeof certificateBasisSchema>;

export const certificatePayloadSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('user-cert'),
  user: id,
  email: z.string().max(254),
  role,
  /** SHA-256 fingerprints (hex) of the DER SPKI of the RSA-OAEP encryption key and the ECDSA signing key. */
  encKey: hex64,
  sigKey: hex64,
  basis: certificateBasisSchema,
  issuer: id,
  issuerKey: hex64,
  issuedAt: z.iso.datetime(),
});
export type CertificatePayload = z.infer<typeof certificatePayloadSchema>;

export const escrowCopyPayloadSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('user-key-escrow'),
  user: id,
  /** Fingerprint of the organisation escrow key the copy is sealed to. */
  escrow: hex64,
  /** recordDigest of the sealed copy as stored (users.escrow_user_key). */
  seal: hex64,
  /** keyCommitment of the user key the seal must open to. */
  key: hex64,
});
export type EscrowCopyPayload = z.infer<typeof escrowCopyPayloadSchema>;

async function signPayload(signer: SigningPrivateKey, context: string, value: unknown): Promise<SignedPayload> {
  const bytes = utf8(JSON.stringify(value));
  return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer, context, bytes)) };
}

/** Parses a signed payload's JSON with `schema` (nothing verified yet); null when it does not parse. */
export function parseSigned<T>(signed: SignedPayload, schema: z.ZodType<T>): { value: T; bytes: Uint8Array } | null {
  try {
    const bytes = fromBase64Url(signed.payload);
    const parsed = schema.safeParse(JSON.parse(fromUtf8(bytes)));
    return parsed.success ? { value: parsed.data, bytes } : null;
  } catch {
    return null;
  }
}

/** Signs a certificate. The issuer's own fingerprint is taken from their key, never from input. */
export function signCertificate(
  issuer: { userId: string; signingKey: SigningPrivateKey },
  subject: { userId: string; email: string; role: CertificatePayload['role']; encKey: string; sigKey: string },
  basis: CertificateBasis,
  now: Date = new Date(),
): Promise<SignedPayload> {
  const payload: CertificatePayload = certificatePayloadSchema.parse({
    v: 1,
    kind: 'user-cert',
    user: subject.userId,
    email: subject.email,
    role: subject.role,
    encKey: subject.encKey,
    sigKey: subject.sigKey,
    basis,
    issuer: issuer.userId,
    issuerKey: toHex(issuer.signingKey.publicKey.fingerprint),
    issuedAt: now.toISOString(),
  });
  return signPayload(issuer.signingKey, CERTIFICATE_CONTEXT, payload);
}

/** The owner's statement about their user key's escrow copy. */
export async function signEscrowCopy(
  owner: { userId: string; signingKey: SigningPrivateKey; userKey: SecretKey<'user'> },
  escrowFingerprint: string,
  sealedCopy: string,
): Promise<SignedPayload> {
  const payload: EscrowCopyPayload = {
    v: 1,
    kind: 'user-key-escrow',
    user: owner.userId,
    escrow: escrowFingerprint,
    seal: await recordDigest(sealedCopy),
    key: await keyCommitment(owner.userKey),
  };
  return signPayload(owner.signingKey, ESCROW_COPY_CONTEXT, escrowCopyPayloadSchema.parse(payload));
}

/** A person whose keys a certificate chain vouches for. */
export interface VerifiedIdentity {
  readonly userId: string;
  readonly email: string;
  /** The role the certificate states (a server's role column can never raise it). */
  readonly role: CertificatePayload['role'];
  readonly encryptionKey: PublicKey;
  readonly signingKey: SigningPublicKey;
  readonly basis: CertificateBasis;
  readonly issuer: string;
}

/** Someone the directory lists whose keys no certificate vouches for (yet). */
export interface UnverifiedPerson {
  readonly userId: string;
  readonly email: string;
  readonly serverRole: DirectoryEntry['role'];
  /** Why: no certificate yet, or every certificate fails for these keys (a substituted key). */
  readonly reason: 'not-certified' | 'certificate-mismatch' | 'no-signing-key' | 'malformed-key';
  readonly encryptionKey: PublicKey | null;
  readonly signingKey: SigningPublicKey | null;
  readonly binding: DirectoryEntry['binding'];
}

export interface VerifiedDirectory {
  readonly identities: ReadonlyMap<string, VerifiedIdentity>;
  readonly unverified: ReadonlyMap<string, UnverifiedPerson>;
  /** False when no listed person holds the pinned root key with a valid root certificate. */
  readonly rootFound: boolean;
}

const STAFF_CERT_ISSUERS: ReadonlySet<string> = new Set(['admin']);
const CLIENT_CERT_ISSUERS: ReadonlySet<string> = new Set(['admin', 'team']);

/**
 * Verifies the directory against the pinned root: root certificate first, then certificates issued
 * by already-verified people, until nothing changes. Staff, auditor and Administrator certificates
 * must be issued by a verified Administrator; client certificates by verified staff.
 */
export async function verifyDirectory(entries: readonly DirectoryEntry[], pins: { adminRootFingerprint: string }): Promise<VerifiedDirectory> {
  const keys = new Map<string, { enc: PublicKey | null; sig: SigningPublicKey | null }>();
  await Promise.all(
    entries.map(async (entry) => {
      const enc = await importPublicKey(fromBase64Url(entry.publicKey)).catch(() => null);
      const sig = entry.signingPublicKey ? await importSigningPublicKey(fromBase64Url(entry.signingPublicKey)).catch(() => null) : null;
      keys.set(entry.id, { enc, sig });
    }),
  );
  const identities = new Map<string, VerifiedIdentity>();
  /** signing key fingerprint -> the verified person holding it */
  const signers = new Map<string, VerifiedIdentity>();
  let rootFound = false;

  const candidates = entries.flatMap((entry) => {
    const k = keys.get(entry.id);
    if (!k?.enc || !k.sig) return [];
    return entry.certificates.flatMap((signed) => {
      const parsed = parseSigned(signed, certificatePayloadSchema);
      return parsed ? [{ entry, enc: k.enc!, sig: k.sig!, cert: parsed.value, bytes: parsed.bytes, signature: signed.signature }] : [];
    });
  });

  const accept = async (c: (typeof candidates)[number], issuerKey: SigningPublicKey): Promise<boolean> => {
    if (c.cert.user !== c.entry.id || c.cert.email !== c.entry.email) return false;
    if (c.cert.encKey !== toHex(c.enc.fingerprint) || c.cert.sigKey !== toHex(c.sig.fingerprint)) return false;
    return verifyStatement(issuerKey, CERTIFICATE_CONTEXT, c.bytes, fromBase64Url(c.signature));
  };
  /** user id -> issuedAt (ms) of the certificate their identity comes from */
  const newest = new Map<string, number>();
  const remember = (c: (typeof candidates)[number]) => {
    // The newest valid certificate states the current role (and whether its holder may still issue).
    const issuedAt = Date.parse(c.cert.issuedAt);
    if ((newest.get(c.entry.id) ?? -Infinity) >= issuedAt) return;
    newest.set(c.entry.id, issuedAt);
    const identity: VerifiedIdentity = {
      userId: c.entry.id,
      email: c.entry.email,
      role: c.cert.role,
      encryptionKey: c.enc,
      signingKey: c.sig,
      basis: c.cert.basis,
      issuer: c.cert.issuer,
    };
    identities.set(c.entry.id, identity);
    if (c.cert.role === 'admin' || c.cert.role === 'team') signers.set(toHex(c.sig.fingerprint), identity);
    else signers.delete(toHex(c.sig.fingerprint));
  };

  // The root: a self-signed "root" certificate of an Administrator whose signing key is the pin.
  for (const c of candidates) {
    if (c.cert.basis !== 'root' || c.cert.role !== 'admin' || c.cert.issuer !== c.entry.id) continue;
    if (c.cert.issuerKey !== pins.adminRootFingerprint || toHex(c.sig.fingerprint) !== pins.adminRootFingerprint) continue;
    if (await accept(c, c.sig)) {
      rootFound = true;
      remember(c);
    }
  }
  const done = new Set<(typeof candidates)[number]>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of [...candidates].sort((a, b) => Date.parse(a.cert.issuedAt) - Date.parse(b.cert.issuedAt))) {
      if (done.has(c) || c.cert.basis === 'root') continue;
      const issuer = signers.get(c.cert.issuerKey);
      if (!issuer || issuer.userId !== c.cert.issuer || issuer.userId === c.entry.id) continue;
      const allowed = c.cert.role === 'client' ? CLIENT_CERT_ISSUERS : STAFF_CERT_ISSUERS;
      if (!allowed.has(issuer.role)) continue;
      done.add(c);
      if (await accept(c, issuer.signingKey)) {
        remember(c);
        changed = true;
      }
    }
  }

  const unverified = new Map<string, UnverifiedPerson>();
  for (const entry of entries) {
    if (identities.has(entry.id)) continue;
    const k = keys.get(entry.id);
    const reason: UnverifiedPerson['reason'] = !k?.enc
      ? 'malformed-key'
      : !entry.signingPublicKey
        ? 'no-signing-key'
        : !k.sig
          ? 'malformed-key'
          : entry.certificates.length > 0
            ? 'certificate-mismatch'
            : 'not-certified';
    unverified.set(entry.id, {
      userId: entry.id,
      email: entry.email,
      serverRole: entry.role,
      reason,
      encryptionKey: k?.enc ?? null,
      signingKey: k?.sig ?? null,
      binding: entry.binding,
    });
  }
  return { identities, unverified, rootFound };
}

/** The fields an invitee's browser MACs at sign-up (and a certifying browser recomputes). */
export function bindingFields(args: { invitationId: string; userId: string; email: string; role: string; encKey: string; sigKey: string }): string[] {
  return [args.invitationId, args.userId, args.email, args.role, args.encKey, args.sigKey];
}

/** The invitee's side: the MAC under the binding key from the link (base64url). */
export async function makeBinding(bindingKey: Uint8Array, fields: Parameters<typeof bindingFields>[0]): Promise<string> {
  return toBase64Url(await invitationBindingMac(bindingKey, bindingFields(fields)));
}

/**
 * An escrow holder's side: does this person's binding prove that the keys listed now are the ones
 * made by whoever opened the invitation link? False for a missing or failing binding.
 */
export async function checkBinding(escrowKey: SecretKey<'escrow'>, person: UnverifiedPerson): Promise<boolean> {
  if (!person.binding || !person.encryptionKey || !person.signingKey) return false;
  const key = await deriveInvitationBindingKey(escrowKey, person.binding.invitationId);
  const fields = bindingFields({
    invitationId: person.binding.invitationId,
    userId: person.userId,
    email: person.email,
    role: person.serverRole,
    encKey: toHex(person.encryptionKey.fingerprint),
    sigKey: toHex(person.signingKey.fingerprint),
  });
  return verifyInvitationBindingMac(key, fields, fromBase64Url(person.binding.mac));
}

/**
 * Checks the owner's signed statement about a user-key escrow copy before anyone opens the copy.
 * After an escrow rotation the copy was re-sealed to the new key, so the statement names an older
 * escrow fingerprint and another seal: it is accepted when that fingerprint is in
 * `options.previousFingerprints` (the `from` of every step of a VERIFIED rotation chain leading to
 * the pinned key: previousFingerprintsOf in shared/flows/escrow-rotation.ts).
 * WARNING: the caller must compare the opened user key's commitment with the returned value; for a
 * re-sealed copy that commitment is the only thing that authenticates the key.
 * @returns the key commitment the opened user key must have, or null when nothing vouches for the copy
 */
export async function checkEscrowCopy(
  owner: VerifiedIdentity,
  escrowFingerprint: string,
  sealedCopy: string,
  statement: SignedPayload | null,
  options: { readonly previousFingerprints?: readonly string[] } = {},
): Promise<string | null> {
  if (!statement) return null;
  const parsed = parseSigned(statement, escrowCopyPayloadSchema);
  if (!parsed) return null;
  const { value } = parsed;
  if (value.user !== owner.userId) return null;
  const asSigned = value.escrow === escrowFingerprint && value.seal === (await recordDigest(sealedCopy));
  const resealed = value.escrow !== escrowFingerprint && (options.previousFingerprints ?? []).includes(value.escrow);
  if (!asSigned && !resealed) return null;
  if (!(await verifyStatement(owner.signingKey, ESCROW_COPY_CONTEXT, parsed.bytes, fromBase64Url(statement.signature)))) return null;
  return value.key;
}
