// The crypto worker's escrow rotation operations (issue 21, SECURITY.md 5.10): the shared rotation flows over
// this worker's own vault, with progress for the page and the new recovery kit's secret shown once.
import { type RotationView, getRotation } from '../../shared/api';
import type { CallApi } from '../../shared/api/client';
import { toHex } from '../../shared/crypto';
import { movePin } from '../../shared/flows/escrow-chain';
import {
  checkRotation,
  continueRotation,
  finishRotation,
  startRotation,
} from '../../shared/flows/escrow-rotation';
import type { AccountSlot, HeldAccount } from './account-operations';
import { NotSignedInError } from './outcome';
import type { DirectoryTrust } from './trust';

/**
 * WARNING: runs only inside the crypto worker. The old and new escrow private keys, E' and the new
 * recovery key stay here; the page gets counts, fingerprints and, once, the new recovery secret
 * (which it shows like the setup kit and never sends anywhere).
 */

/** Items per listing page and per re-seal request: small, so progress moves and an interrupted run loses little. */
export const RESEAL_BATCH = 8;

export interface RotationStatus {
  /** The running rotation, or the last finished one; null when none was ever made. */
  readonly rotation: RotationView | null;
  readonly running: boolean;
  /** People who lost the escrow key since the last rotation (removed, demoted, deleted). */
  readonly formerHolders: readonly { readonly userId: string; readonly email: string; readonly since: string }[];
  /** Someone lost the key and no rotation runs: an Administrator should start one. */
  readonly needed: boolean;
  /** This Administrator holds the escrow key and a signing key, so their browser can rotate. */
  readonly canRotate: boolean;
  /** This vault's pinned escrow fingerprint (hex), for the page to show. */
  readonly escrowFingerprint: string;
}

export interface StartedRotationView {
  readonly rotation: RotationView;
  /** The new recovery kit's secret: shown once on the page (never sent, never kept here). */
  readonly recoverySecret: string;
  /** The new escrow fingerprint. */
  readonly escrowFingerprint: string;
}

export interface RotationProgressView {
  readonly done: number;
  readonly total: number;
  readonly remaining: number;
}

export interface RotationRunView extends RotationProgressView {
  /** Items re-sealed without a commitment check (nothing certified vouches for them). */
  readonly unchecked: number;
  /** Items not re-sealed: their key contradicts what was signed, or the seal does not open. */
  readonly refused: number;
}

export interface RotationCheckView {
  readonly checked: number;
  readonly failed: number;
  /** The finished rotation, or null when the check failed (nothing was finished). */
  readonly finished: RotationView | null;
}

const progressOf = (rotation: RotationView): RotationProgressView => ({ done: rotation.done, total: rotation.total, remaining: rotation.remaining });

export function createRotationOperations(deps: { readonly api: CallApi; readonly account: AccountSlot; readonly trust: Pick<DirectoryTrust, 'directory' | 'refresh'> }) {
  const { api, account, trust } = deps;

  function held(): HeldAccount {
    if (!account.current) throw new NotSignedInError();
    return account.current;
  }

  /** Replaces the held vault (same account) with one whose escrow keys or pin a rotation changed. */
  function keep(before: HeldAccount, vault: HeldAccount['vault']): void {
    if (account.current !== before) return;
    const from = before.vault.keySafe.escrowFingerprint;
    if (from !== vault.keySafe.escrowFingerprint) before.keySafe.update(movePin(from, vault.keySafe.escrowFingerprint));
    account.current = { ...before, vault };
  }

  return {
    async rotationStatus(): Promise<RotationStatus> {
      const { vault } = held();
      const state = await api(getRotation, {});
      const running = state.rotation !== null && state.rotation.finishedAt === null;
      return {
        rotation: state.rotation,
        running,
        formerHolders: state.formerHolders,
        needed: !running && state.formerHolders.length > 0,
        canRotate: vault.role === 'admin' && vault.escrow !== undefined && vault.signingKey !== undefined,
        escrowFingerprint: vault.keySafe.escrowFingerprint,
      };
    },

    /**
     * Starts a rotation (the server wants a recent login: the page asks for the password first).
     * Every remaining holder is re-granted the new key; this vault moves its pin to it at once.
     */
    async startEscrowRotation(): Promise<StartedRotationView> {
      const before = held();
      trust.refresh();
      const started = await startRotation(api, before.vault, await trust.directory());
      keep(before, started.vault);
      return { rotation: started.rotation, recoverySecret: started.recoverySecret, escrowFingerprint: started.fingerprint };
    },

    /** Re-seals every pending item to the new key, batch by batch (resumable: call it again after a closed tab). */
    async continueEscrowRotation(onProgress?: (progress: RotationProgressView) => void): Promise<RotationRunView> {
      const { vault } = held();
      const run = await continueRotation(api, vault, await trust.directory(), (progress) => onProgress?.(progressOf(progress.rotation)), {
        batchSize: RESEAL_BATCH,
      });
      return { ...progressOf(run.rotation), unchecked: run.unchecked, refused: run.refused };
    },

    /**
     * The final check: every item must open with the new escrow key (and match its signed key
     * commitment where one is certified); only then is the rotation finished and the old key destroyed.
     */
    async finishEscrowRotation(onProgress?: (progress: { checked: number; failed: number }) => void): Promise<RotationCheckView> {
      const { vault } = held();
      if (!vault.escrow) throw new NotSignedInError();
      const directory = await trust.directory();
      const check = await checkRotation(api, vault, directory, (progress) => onProgress?.(progress));
      if (check.failed.length > 0) return { checked: check.checked, failed: check.failed.length, finished: null };
      const finished = await finishRotation(api, check);
      return { checked: check.checked, failed: 0, finished };
    },

    /** This vault's escrow fingerprint and whether it can open the running rotation's new key (for the page). */
    escrowKeyFingerprint(): string | null {
      const { vault } = held();
      return vault.escrow ? toHex(vault.escrow.publicKey.fingerprint) : null;
    },
  };
}

export type RotationOperations = ReturnType<typeof createRotationOperations>;
