// Encrypted upload parts spooled to the origin private file system (OPFS), so request bodies are disk-backed Files.
//
// Why: a part sent as `new Blob([bytes])` is copied into the browser process's blob storage and
// stays there until this worker's garbage collector drops the Blob, which happened only every
// ~190 MiB (files bench: the browser process grew by that much during every upload, the plain
// upload of a File by nothing). A part written through a sync access handle and sent as the
// file's File snapshot never enters blob storage. Only ciphertext is written; each file is
// deleted once its part is stored (or the upload ends), and leftovers of a crashed tab by the
// next upload's sweep.

/** OPFS directory of the spooled parts, one subdirectory per upload. */
const SPOOL_DIRECTORY = 'kluis-upload-parts';
/** Leftovers older than this belong to no running upload (uploads expire after a day at the latest). */
const STALE_AFTER_MS = 2 * 24 * 60 * 60 * 1000;

// The parts of the File System Access API used here (the DOM library lacks the worker-only ones).
interface SyncAccessHandle {
  write(buffer: Uint8Array, options?: { at?: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
interface SpoolFileHandle {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
  getFile(): Promise<File>;
}
interface SpoolDirectoryHandle {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<SpoolDirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<SpoolFileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterable<[string, { kind: 'file' | 'directory' }]>;
}

export interface PartSpool {
  /** Writes part `partNumber` and returns it as a disk-backed File (valid until released). */
  store(partNumber: number, bytes: Uint8Array): Promise<Blob>;
  /** Deletes the part's file (its request has finished). */
  release(partNumber: number): Promise<void>;
  /** Deletes whatever is left of this upload. */
  close(): Promise<void>;
}

async function spoolRoot(): Promise<SpoolDirectoryHandle | null> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage as Partial<StorageManager> | undefined;
  if (typeof storage?.getDirectory !== 'function') return null;
  const root = (await storage.getDirectory()) as unknown as SpoolDirectoryHandle;
  return root.getDirectoryHandle(SPOOL_DIRECTORY, { create: true });
}

/**
 * Deletes spooled parts of tabs that crashed or closed mid-upload (best effort). An upload whose
 * newest part is recent may still be running in another tab; an empty directory holds no data and
 * may be an upload that is just starting: both are left alone.
 */
async function sweep(spool: SpoolDirectoryHandle, ownUploadId: string, now: number): Promise<void> {
  for await (const [name, entry] of spool.entries()) {
    if (entry.kind !== 'directory' || name === ownUploadId) continue;
    try {
      const upload = await spool.getDirectoryHandle(name);
      let newest = 0;
      for await (const [partName, part] of upload.entries()) {
        if (part.kind === 'file') newest = Math.max(newest, (await (await upload.getFileHandle(partName)).getFile()).lastModified);
      }
      if (newest > 0 && now - newest > STALE_AFTER_MS) await spool.removeEntry(name, { recursive: true });
    } catch {
      // Another tab removed it meanwhile, or it is in use: left for a later sweep.
    }
  }
}

/**
 * A spool for one upload, or null where OPFS with sync access handles is unavailable (Node, old
 * browsers): the caller then sends in-memory Blobs.
 */
export async function openPartSpool(uploadId: string): Promise<PartSpool | null> {
  let spool: SpoolDirectoryHandle | null;
  let directory: SpoolDirectoryHandle;
  try {
    spool = await spoolRoot();
    if (!spool) return null;
    directory = await spool.getDirectoryHandle(uploadId, { create: true });
    const probe = await directory.getFileHandle('probe', { create: true });
    if (typeof probe.createSyncAccessHandle !== 'function') return null;
    await directory.removeEntry('probe');
  } catch {
    return null;
  }
  void sweep(spool, uploadId, Date.now()).catch(() => undefined);
  const root = spool;
  return {
    async store(partNumber, bytes) {
      const handle = await directory.getFileHandle(String(partNumber), { create: true });
      const access = await handle.createSyncAccessHandle();
      try {
        access.truncate(0);
        const written = access.write(bytes, { at: 0 });
        if (written !== bytes.length) throw new Error(`only ${written} of ${bytes.length} bytes of part ${partNumber} were written`);
        access.flush();
      } finally {
        access.close();
      }
      return handle.getFile();
    },
    async release(partNumber) {
      await directory.removeEntry(String(partNumber)).catch(() => undefined);
    },
    async close() {
      await root.removeEntry(uploadId, { recursive: true }).catch(() => undefined);
    },
  };
}
