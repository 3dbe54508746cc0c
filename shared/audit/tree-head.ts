// Signed tree heads, pruning checkpoints and Auditors' witness statements of the audit log.
//
// The server signs with an Ed25519 key kept with its other secrets (never in the database):
//
//   tree head bytes  = lp("kluis/v1/audit-tree-head") || lp(logId) || lp(keyId) || lp(treeSize)
//                      || lp(rootHash) || lp(signedAt)
//   checkpoint bytes = lp("kluis/v1/audit-checkpoint") || lp(logId) || lp(keyId) || lp(throughSeq)
//                      || lp(throughHash) || lp(treeSize) || lp(rootHash) || lp(signedAt)
//
// lp() is the 4-byte big-endian length prefix of SECURITY.md 4.2; numbers are decimal digits,
// hashes 64 lower-case hex digits, times YYYY-MM-DDTHH:mm:ss.sssZ. logId is the organisation id
// (a head of another Kluis cannot be replayed here); keyId is SHA-256 of the key's SPKI, hex.
//
// A witness statement is an Auditor's ordinary signed statement (context "audit-witness", their
// certified signing key, shared/crypto/signing.ts) over the JSON payload auditWitnessPayloadSchema.
import { z } from 'zod';
import { type Bytes, concatBytes, fromBase64Url, lengthPrefixed, toHex } from '../crypto/bytes';
import { importEd25519PublicKey, verifyEd25519 as verifySignature } from '../crypto/ed25519';
import { sha256 } from '../crypto/hash';

export const TREE_HEAD_LABEL = 'kluis/v1/audit-tree-head';
export const CHECKPOINT_LABEL = 'kluis/v1/audit-checkpoint';
export const AUDIT_WITNESS_CONTEXT = 'audit-witness';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const isoMillis = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must be YYYY-MM-DDTHH:mm:ss.sssZ');
const b64 = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

export const treeHeadSchema = z.strictObject({
  logId: z.string().min(1).max(64),
  keyId: hex64,
  treeSize: z.number().int().min(0),
  rootHash: hex64,
  signedAt: isoMillis,
  /** Ed25519 over treeHeadBytes, base64url (64 bytes). */
  signature: b64,
});
export type SignedTreeHead = z.infer<typeof treeHeadSchema>;
export type TreeHeadFields = Omit<SignedTreeHead, 'signature'>;

export const checkpointSchema = z.strictObject({
  logId: z.string().min(1).max(64),
  keyId: hex64,
  /** Every event with seq <= throughSeq was removed under the retention setting. */
  throughSeq: z.number().int().min(1),
  /** The chain hash of event throughSeq: where the remaining chain continues from. */
  throughHash: hex64,
  /** The tree the pruned events stay part of (leaf hashes are kept, so proofs still work). */
  treeSize: z.number().int().min(1),
  rootHash: hex64,
  signedAt: isoMillis,
  signature: b64,
});
export type SignedCheckpoint = z.infer<typeof checkpointSchema>;
export type CheckpointFields = Omit<SignedCheckpoint, 'signature'>;

/** The public half of the log key, as the server publishes it. */
export const logKeySchema = z.strictObject({
  algorithm: z.literal('Ed25519'),
  /** SubjectPublicKeyInfo DER, base64url. */
  spki: b64,
  keyId: hex64,
});
export type LogKey = z.infer<typeof logKeySchema>;

export const auditWitnessPayloadSchema = z.strictObject({
  kind: z.literal('audit-witness'),
  logId: z.string().min(1).max(64),
  keyId: hex64,
  treeSize: z.number().int().min(0),
  rootHash: hex64,
  /** The server's signing time of the head being witnessed. */
  headSignedAt: isoMillis,
  /** When the Auditor's browser verified it (the Auditor's clock). */
  witnessedAt: isoMillis,
});
export type AuditWitnessPayload = z.infer<typeof auditWitnessPayloadSchema>;

const num = (value: number) => {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('a tree size or seq is a non-negative integer');
  return String(value);
};

export function treeHeadBytes(head: TreeHeadFields): Bytes {
  return concatBytes(
    ...[TREE_HEAD_LABEL, head.logId, head.keyId, num(head.treeSize), head.rootHash, head.signedAt].map((field) => lengthPrefixed(field)),
  );
}

export function checkpointBytes(checkpoint: CheckpointFields): Bytes {
  return concatBytes(
    ...[
      CHECKPOINT_LABEL,
      checkpoint.logId,
      checkpoint.keyId,
      num(checkpoint.throughSeq),
      checkpoint.throughHash,
      num(checkpoint.treeSize),
      checkpoint.rootHash,
      checkpoint.signedAt,
    ].map((field) => lengthPrefixed(field)),
  );
}

/** keyId of an SPKI: SHA-256 of the DER bytes, hex. */
export async function logKeyId(spki: Uint8Array): Promise<string> {
  return toHex(await sha256(spki));
}

/** Imports the log key after checking that its keyId is the SHA-256 of its SPKI. Throws TypeError otherwise. */
export async function importLogKey(key: LogKey): Promise<CryptoKey> {
  const spki = fromBase64Url(key.spki);
  if ((await logKeyId(spki)) !== key.keyId) throw new TypeError('the log key does not match its key id');
  return importEd25519PublicKey(spki);
}

async function verifyEd25519(key: CryptoKey, signature: string, message: Bytes): Promise<boolean> {
  let bytes: Bytes;
  try {
    bytes = fromBase64Url(signature);
  } catch {
    return false;
  }
  return verifySignature(key, bytes, message);
}

/** True when `head` carries a valid signature by `key` for `logId` (and names that key). */
export async function verifyTreeHead(key: CryptoKey, keyId: string, logId: string, head: SignedTreeHead): Promise<boolean> {
  if (head.keyId !== keyId || head.logId !== logId) return false;
  const parsed = treeHeadSchema.safeParse(head);
  if (!parsed.success) return false;
  return verifyEd25519(key, head.signature, treeHeadBytes(head));
}

export async function verifyCheckpoint(key: CryptoKey, keyId: string, logId: string, checkpoint: SignedCheckpoint): Promise<boolean> {
  if (checkpoint.keyId !== keyId || checkpoint.logId !== logId) return false;
  const parsed = checkpointSchema.safeParse(checkpoint);
  if (!parsed.success) return false;
  return verifyEd25519(key, checkpoint.signature, checkpointBytes(checkpoint));
}
