// React binding of the transfer queue: TransfersProvider (one controller per page) and useTransfers().
import { createContext, use, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { type Account, useAccount } from '../account';
import type { CryptoEngineApi } from '../worker';
import { TransferController, type RunTransferOperation, type TransferEngineApi, type TransferRow } from './transfer-controller';
import { downloadWorker } from './streamed-download';

const TransfersContext = createContext<TransferController | null>(null);

/** The crypto worker's transfer operations (client/worker/transfers.ts); the compiler checks it. */
function transferOperationsOf(api: CryptoEngineApi): TransferEngineApi {
  return api;
}

function runWith(run: Account['run']): RunTransferOperation {
  return (operation) => run((api) => operation(transferOperationsOf(api)));
}

/** Inside AccountProvider: transfers run on the unlocked vault, and a lock or sign-out ends them all. */
export function TransfersProvider({ children }: { children: ReactNode }) {
  const account = useAccount();
  const [controller] = useState(() => new TransferController({ run: runWith(account.run) }));
  useEffect(() => controller.setRunner(runWith(account.run)), [controller, account.run]);

  const signedIn = account.state.kind === 'signed-in';
  useEffect(() => {
    // WARNING: rows carry decrypted file names; nothing decrypted outlives a lock (client/account).
    if (!signedIn) controller.reset();
    // Registered once, early, so the first download does not wait for it to install.
    else void downloadWorker();
  }, [signedIn, controller]);
  useEffect(() => () => controller.dispose(), [controller]);

  return <TransfersContext value={controller}>{children}</TransfersContext>;
}

export interface Transfers {
  /** Every transfer of this page, oldest first (a new array on every change). */
  readonly rows: readonly TransferRow[];
  readonly enqueueUploads: TransferController['enqueueUploads'];
  readonly uploadAndWait: TransferController['uploadAndWait'];
  readonly startDownload: TransferController['startDownload'];
  readonly previewBlob: TransferController['previewBlob'];
  readonly cancel: TransferController['cancel'];
  readonly cancelAll: TransferController['cancelAll'];
  readonly clearFinished: TransferController['clearFinished'];
}

/** The transfer queue and its actions (the actions are stable; `rows` changes with progress). */
export function useTransfers(): Transfers {
  const controller = use(TransfersContext);
  if (!controller) throw new Error('useTransfers must be used inside TransfersProvider');
  const rows = useSyncExternalStore(controller.subscribe, controller.getSnapshot);
  return {
    rows,
    enqueueUploads: controller.enqueueUploads,
    uploadAndWait: controller.uploadAndWait,
    startDownload: controller.startDownload,
    previewBlob: controller.previewBlob,
    cancel: controller.cancel,
    cancelAll: controller.cancelAll,
    clearFinished: controller.clearFinished,
  };
}
