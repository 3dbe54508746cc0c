// The escrow key a worker seals to: the pinned one, or the one the signed rotation chain leads to (issue 21).
import type { CallApi } from '../../shared/api/client';
import type { VerifiedDirectory } from '../../shared/flows/certificates';
import { escrowKeyToSealTo, movePin } from '../../shared/flows/escrow-chain';
import type { VerifiedEscrowKey } from '../../shared/flows/escrow-rotation';
import type { KeySafeKeeper } from './key-safe-keeper';

/**
 * The organisation escrow key to seal a new key to, given what the server serves (`servedSpki`).
 * When the server's key is not the pin, the signed rotation chain must lead to it; then the new pin
 * is written into the key safe (compare-and-swap, before anything is sealed to the key) and the
 * caller names `fingerprint` in its request (`escrowFingerprint`: the server refuses a stale one).
 * WARNING: on EscrowChainError nothing is written and nothing may be sealed.
 * @throws EscrowChainError
 */
export async function escrowKeyForSealing(
  api: CallApi,
  keySafe: KeySafeKeeper,
  servedSpki: string,
  directory: () => Promise<VerifiedDirectory>,
): Promise<VerifiedEscrowKey> {
  const pin = keySafe.current().escrowFingerprint;
  const key = await escrowKeyToSealTo(api, pin, servedSpki, directory);
  if (key.moved) {
    keySafe.update(movePin(pin, key.fingerprint));
    await keySafe.flush();
  }
  return key;
}
