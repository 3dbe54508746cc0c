// Escrow rotation (issue 21, SECURITY.md 5.10): the signed statement that moves the organisation from
// one escrow key to the next, and the browser's walk from its pinned escrow key to the current one.
import { z } from 'zod';
import type { EscrowChain, SignedPayload } from '../api';
import { type PublicKey, type SigningPrivateKey, fromBase64Url, importPublicKey, signStatement, toBase64Url, toHex, utf8, verifyStatement } from '../crypto';
import { type VerifiedDirectory, parseSigned } from './certificates';

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
