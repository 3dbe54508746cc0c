// Public entry of transfers for the screens: the queue, its hook and what a row says.
//
//   <TransfersProvider> (inside AccountProvider, in app.tsx)
//   const { rows, enqueueUploads, uploadAndWait, startDownload, previewBlob, cancel, cancelAll, clearFinished } = useTransfers();
//   enqueueUploads(files, { kind: 'new-document', spaceId, folderId, requestItemId })  → transfer ids; one file at a time
//   enqueueUploads([file], { kind: 'new-version', spaceId, documentId })
//   await uploadAndWait(files, target)      → DocumentView[] (rejects with the first ApiError)
//   startDownload(version)                  → transfer id; streamed through the download service worker
//   await previewBlob(version, signal?)     → Blob of the version's MIME type (≤ BLOB_LIMIT_BYTES)
//   cancel(id) / cancelAll() / clearFinished()
//
// A row: id, name, direction, state (queued | running | done | failed | cancelled), phase, doneBytes,
// totalBytes, percent, bytesPerSecond (5 s window), secondsLeft, errorCode (file_too_large,
// space_quota_exceeded, storage_full, file_damaged, document_deleted, download_unsupported,
// cancelled, vault_locked, …), error (ApiError), target, document (the stored upload).
export { TransfersProvider, useTransfers, type Transfers } from './transfers-context';
export {
  BLOB_LIMIT_BYTES,
  TransferController,
  type TransferRow,
  type TransferState,
  type VersionRef,
  type TransferEngineApi,
  type RunTransferOperation,
} from './transfer-controller';
