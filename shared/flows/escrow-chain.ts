// Following the signed escrow chain (issue 21, SECURITY.md 5.10): a browser moves its escrow pin to a new
// escrow key only along rotation statements signed by certified Administrators, never on the server's word.
import { type EscrowChain, acceptEscrowGrant, getEscrowChain } from '../api';
import type { CallApi } from '../api/client';
import { type PublicKey, fromBase64Url, importPublicKey, toBase64Url, toHex, wrapSecretKey } from '../crypto';
import { type VerifiedDirectory, parseSigned } from './certificates';
import { EscrowChainError, type VerifiedEscrowKey, rotationPayloadSchema, verifyEscrowChain } from './escrow-rotation';
import { type KeySafe, updateKeySafe } from './key-safe';
import { type EscrowAccess, type UnlockedVault, escrowGrantContext } from './vault';

/**
 * The pin change as a compare-and-swap on the key safe's content: it moves the pin from `from` to
 * `to` and nothing else. WARNING: a safe whose pin is no longer `from` (another window already
 * followed the chain, perhaps further) is left as it is, so a pin never moves backwards.
 */
export const movePin =
  (from: string, to: string) =>
  (safe: KeySafe): KeySafe =>
    safe.escrowFingerprint === from ? { ...safe, escrowFingerprint: to } : safe;

/**
 * The escrow public key to seal to. `servedSpki` is what the server hands out (listSpaces, an
 * invitation): accepted at once when it is the pinned key; otherwise only when the signed chain from
 * the pin leads to it (verifyEscrowChain), and then `moved` is set so the caller writes the new pin.
 * @throws EscrowChainError when no chain of Administrator-signed rotations leads to the served key
 */
export async function escrowKeyToSealTo(
  api: CallApi,
  pinnedFingerprint: string,
  servedSpki: string,
  directory: () => Promise<VerifiedDirectory>,
): Promise<VerifiedEscrowKey & { moved: boolean }> {
  const served = await importPublicKey(fromBase64Url(servedSpki));
  if (toHex(served.fingerprint) === pinnedFingerprint) return { fingerprint: pinnedFingerprint, publicKey: served, steps: [], moved: false };
  const chain = await api(getEscrowChain, {});
  const verified = await verifyEscrowChain(chain, pinnedFingerprint, await directory());
  // WARNING: the served key must be the one the verified chain ends at, not merely some key.
  if (toHex(served.fingerprint) !== verified.fingerprint) throw new EscrowChainError('key-mismatch');
  return { ...verified, moved: true };
}

/** Whether a signed rotation from `previous` to `current` verifies (the previous key of a running rotation). */
async function leadsTo(
  chain: EscrowChain,
  previous: string,
  current: { fingerprint: string; publicKey: PublicKey },
  directory: VerifiedDirectory,
): Promise<boolean> {
  try {
    await verifyEscrowChain({ ...chain, fingerprint: current.fingerprint, publicKey: toBase64Url(current.publicKey.spki) }, previous, directory);
    return true;
  } catch (error) {
    if (error instanceof EscrowChainError) return false;
    throw error;
  }
}

/**
 * Settles escrow keys a sign-in opened but could not trust yet (vault.escrowUnverified): follows the
 * signed chain from the pinned fingerprint to the bundle's current escrow key, writes the new pin
 * into the key safe (compare-and-swap), trusts the previous key pair only when it is the pin or the
 * `from` of a verified rotation to the current one, and accepts a sealed grant for the new key.
 * @returns the vault with `escrow`/`escrowPrevious` set and `escrowUnverified` gone
 * @throws EscrowChainError when the chain does not verify (nothing is trusted, the pin stays)
 */
export async function followEscrowChain(api: CallApi, vault: UnlockedVault, directory: VerifiedDirectory): Promise<UnlockedVault> {
  const pending = vault.escrowUnverified;
  if (!pending) return vault;
  const chain = await api(getEscrowChain, {});
  const pin = vault.keySafe.escrowFingerprint;
  let escrow: EscrowAccess | undefined = vault.escrow;
  let keySafe = vault.keySafe;
  let keySafeRevision = vault.keySafeRevision;
  let escrowGrantNeedsAccept = vault.escrowGrantNeedsAccept;
  if (pending.current) {
    const verified = await verifyEscrowChain(chain, pin, directory);
    // WARNING: the escrow key is recomputed from the private key the grant opened, never a served field.
    if (toHex(pending.current.publicKey.fingerprint) !== verified.fingerprint) throw new EscrowChainError('key-mismatch');
    const written = await updateKeySafe(api, vault, { safe: vault.keySafe, revision: vault.keySafeRevision }, movePin(pin, verified.fingerprint));
    keySafe = written.state.safe;
    keySafeRevision = written.state.revision;
    escrow = pending.current;
    escrowGrantNeedsAccept = pending.grantSealed;
  }
  let escrowPrevious = vault.escrowPrevious;
  if (pending.previous && escrow) {
    const previous = toHex(pending.previous.publicKey.fingerprint);
    const current = { fingerprint: toHex(escrow.publicKey.fingerprint), publicKey: escrow.publicKey };
    if (previous === pin || (await leadsTo(chain, previous, current, directory))) escrowPrevious = pending.previous;
  }
  const { escrowUnverified: _settledNow, ...rest } = vault;
  let settled: UnlockedVault = { ...rest, keySafe, keySafeRevision, escrowGrantNeedsAccept, ...(escrow && { escrow }) };
  if (escrowPrevious) settled = { ...settled, escrowPrevious };
  if (settled.escrow && settled.escrowGrantNeedsAccept) {
    // As at any sign-in: the sealed grant is re-wrapped under the user key once its key is trusted.
    const wrapped = await wrapSecretKey(settled.userKey, settled.escrow.escrowKey, escrowGrantContext(settled.userId));
    await api(acceptEscrowGrant, { body: { wrappedEscrowKey: toBase64Url(wrapped) } });
    settled = { ...settled, escrowGrantNeedsAccept: false };
  }
  return settled;
}

/**
 * The escrow fingerprints from which a chain of Administrator-signed rotations leads to the pinned
 * one (each verified with verifyEscrowChain): an item sealed or signed for one of them before a
 * rotation is still vouched for by its key commitment (checkEscrowCopy's `previousFingerprints`,
 * openSpaceKey's `rotated`). Empty when the server's current key is not the pin (follow it first).
 */
export async function verifiedPreviousFingerprints(chain: EscrowChain, pinnedFingerprint: string, directory: VerifiedDirectory): Promise<string[]> {
  if (chain.fingerprint !== pinnedFingerprint) return [];
  const candidates = new Set<string>();
  for (const statement of chain.rotations) {
    const parsed = parseSigned(statement, rotationPayloadSchema);
    if (parsed && parsed.value.from !== pinnedFingerprint) candidates.add(parsed.value.from);
  }
  const verified: string[] = [];
  for (const from of candidates) {
    try {
      await verifyEscrowChain(chain, from, directory);
      verified.push(from);
    } catch (error) {
      if (!(error instanceof EscrowChainError)) throw error;
    }
  }
  return verified;
}
