// The server's checks of what browsers sign about keys: root and issued certificates, escrow-copy
// statements. The server stores only what verifies, but never vouches: browsers verify again.
import type { SignedPayload } from '../../shared/api';
import { fromBase64Url, importSigningPublicKey, sha256, toHex, verifyStatement } from '../../shared/crypto';
import {
  CERTIFICATE_CONTEXT,
  ESCROW_COPY_CONTEXT,
  type CertificatePayload,
  certificatePayloadSchema,
  escrowCopyPayloadSchema,
  parseSigned,
} from '../../shared/flows/certificates';
import { recordDigest } from '../../shared/flows/space-history';
import { fail } from '../errors';

/** Lowercase hex SHA-256 of a DER SPKI given as base64url: the fingerprint certificates name. */
export async function spkiFingerprint(spki: string): Promise<string> {
  return toHex(await sha256(fromBase64Url(spki)));
}

/** True when `signed` carries a valid signature of `signerSpki` under `context`. */
async function signatureVerifies(signerSpki: string, context: string, bytes: Uint8Array, signature: string): Promise<boolean> {
  try {
    const key = await importSigningPublicKey(fromBase64Url(signerSpki));
    return await verifyStatement(key, context, bytes, fromBase64Url(signature));
  } catch {
    return false;
  }
}

/** The keys a certificate must name: the subject's stored public keys. */
export interface CertificateSubject {
  readonly userId: string;
  readonly email: string;
  /** RSA-OAEP public key, DER SPKI base64url. */
  readonly publicKey: string;
  /** ECDSA signing public key, DER SPKI base64url. */
  readonly signingPublicKey: string;
}

/**
 * Parses a certificate and checks it names exactly `subject` and its stored keys, was issued by
 * `issuer` with their stored signing key, and that the signature verifies.
 * @throws AppError `code` when anything differs
 */
export async function checkCertificate(
  signed: SignedPayload,
  subject: CertificateSubject,
  issuer: { userId: string; signingPublicKey: string },
  code: 'certificate_invalid' | 'validation_failed',
): Promise<CertificatePayload> {
  const parsed = parseSigned(signed, certificatePayloadSchema);
  if (!parsed) throw fail(code, 'The certificate is not a key certificate.');
  const cert = parsed.value;
  if (cert.user !== subject.userId || cert.email !== subject.email) throw fail(code, 'The certificate names someone else.');
  if (cert.encKey !== (await spkiFingerprint(subject.publicKey)) || cert.sigKey !== (await spkiFingerprint(subject.signingPublicKey))) {
    throw fail(code, 'The certificate names other keys than this person has.');
  }
  if (cert.issuer !== issuer.userId || cert.issuerKey !== (await spkiFingerprint(issuer.signingPublicKey))) {
    throw fail(code, 'The certificate names another issuer or issuer key.');
  }
  if (!(await signatureVerifies(issuer.signingPublicKey, CERTIFICATE_CONTEXT, parsed.bytes, signed.signature))) {
    throw fail(code, 'The certificate signature does not verify.');
  }
  return cert;
}

/**
 * Checks an owner's signed statement about their user key's escrow copy: it names the owner, the
 * organisation's escrow key and the stored seal, and their signing key signed it.
 * @throws AppError `code` when anything differs
 */
export async function checkEscrowCopyStatement(
  statement: SignedPayload,
  owner: { userId: string; signingPublicKey: string; escrowUserKey: string },
  escrowFingerprint: string,
  code: 'bad_request' | 'validation_failed',
): Promise<void> {
  const parsed = parseSigned(statement, escrowCopyPayloadSchema);
  if (!parsed) throw fail(code, 'The escrow-copy statement is not valid.');
  const value = parsed.value;
  if (value.user !== owner.userId) throw fail(code, 'The escrow-copy statement names someone else.');
  if (value.escrow !== escrowFingerprint) throw fail(code, 'The escrow-copy statement names another organisation key.');
  if (value.seal !== (await recordDigest(owner.escrowUserKey))) throw fail(code, 'The escrow-copy statement names another escrow copy.');
  if (!(await signatureVerifies(owner.signingPublicKey, ESCROW_COPY_CONTEXT, parsed.bytes, statement.signature))) {
    throw fail(code, 'The escrow-copy statement signature does not verify.');
  }
}

/**
 * Checks a signed statement under a stored signing key (base64url SPKI) and `context`: true when the
 * signature verifies over the exact payload bytes. For statements whose fields the caller checks itself.
 */
export function signedBy(signerSpki: string, context: string, statement: SignedPayload): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(statement.payload);
  } catch {
    return Promise.resolve(false);
  }
  return signatureVerifies(signerSpki, context, bytes, statement.signature);
}
