// Signed statements of who holds the escrow key, and their verification back to the pinned root.
import { z } from 'zod';
import {
  type SigningPrivateKey,
  fromBase64Url,
  fromUtf8,
  importSigningPublicKey,
  signStatement,
  toBase64Url,
  toHex,
  utf8,
  verifyStatement,
} from '../crypto';

/** A statement: "holder (with this encryption key) may open the escrow key", made by an Administrator. */
export const holderStatementSchema = z
  .object({
    v: z.literal(1),
    kind: z.literal('escrow-holder'),
    escrowFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    holderId: z.string(),
    holderKeyFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    /** Set for Administrators: their signing key, endorsed by this statement. */
    holderSigningKeyFingerprint: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    grantedBy: z.string(),
    grantedAt: z.iso.datetime(),
  })
  .strict();

export type HolderStatement = z.infer<typeof holderStatementSchema>;

/** The signature context of holder statements (SECURITY.md 4.7). */
export const HOLDER_STATEMENT_CONTEXT = 'escrow-holder';

export async function signHolderStatement(signer: SigningPrivateKey, statement: HolderStatement) {
  const payload = utf8(JSON.stringify(holderStatementSchema.parse(statement)));
  return { payload: toBase64Url(payload), signature: toBase64Url(await signStatement(signer, HOLDER_STATEMENT_CONTEXT, payload)) };
}

export interface VerifiedHolder {
  readonly statement: HolderStatement;
  readonly verified: boolean;
}

/**
 * Verifies every statement: its signature must come from the pinned root signing key or from a
 * signing key that a verified statement endorsed, and it must name the pinned escrow key.
 * A server flag can never make someone a verified holder.
 */
export async function verifyHolderStatements(
  statements: readonly { payload: string; signature: string; signerId: string }[],
  signingKeys: readonly { userId: string; publicKey: string }[],
  pins: { escrowFingerprint: string; adminRootFingerprint: string },
  options: {
    /**
     * Signing-key fingerprints of the certified Administrators who signed a VERIFIED rotation into
     * `pins.escrowFingerprint` (rotationSignersInto, shared/flows/escrow-rotation.ts): after a
     * rotation the holder statements are theirs, and they need not be the root.
     * WARNING: only from verified rotation statements, never from a server field.
     */
    readonly rotationSigners?: readonly string[];
  } = {},
): Promise<VerifiedHolder[]> {
  const keys = new Map<string, Awaited<ReturnType<typeof importSigningPublicKey>>>();
  for (const { userId, publicKey } of signingKeys) {
    try {
      keys.set(userId, await importSigningPublicKey(fromBase64Url(publicKey)));
    } catch {
      // An unusable key verifies nothing.
    }
  }
  const trusted = new Set<string>([pins.adminRootFingerprint, ...(options.rotationSigners ?? [])]);
  const parsed = statements.map((s) => {
    try {
      return { ...s, statement: holderStatementSchema.parse(JSON.parse(fromUtf8(fromBase64Url(s.payload)))) };
    } catch {
      return { ...s, statement: undefined };
    }
  });
  const verified = new Set<number>();
  // Endorsements can come in any order: repeat until no new statement verifies.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [index, s] of parsed.entries()) {
      if (verified.has(index) || !s.statement) continue;
      const key = keys.get(s.signerId);
      if (!key || !trusted.has(toHex(key.fingerprint)) || s.statement.grantedBy !== s.signerId) continue;
      if (s.statement.escrowFingerprint !== pins.escrowFingerprint) continue;
      if (!(await verifyStatement(key, HOLDER_STATEMENT_CONTEXT, fromBase64Url(s.payload), fromBase64Url(s.signature)))) continue;
      verified.add(index);
      if (s.statement.holderSigningKeyFingerprint) trusted.add(s.statement.holderSigningKeyFingerprint);
      changed = true;
    }
  }
  return parsed.flatMap((s, index) => (s.statement ? [{ statement: s.statement, verified: verified.has(index) }] : []));
}
