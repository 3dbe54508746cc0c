// The worker's copy of the key safe: batched compare-and-swap writes, and this device's mark of the newest
// revision seen, so a server that replays an older key safe is noticed here.
import { decryptRecordText, encryptRecord, sha256, toHex, utf8, type SecretKey } from '../../shared/crypto';
import type { CallApi } from '../../shared/api/client';
import { type KeySafe, type KeySafeState, KeySafeRollbackError, type SeenConflict, updateKeySafe } from '../../shared/flows/key-safe';

/** Small named files this device keeps (OPFS in the browser; memory in tests). */
export interface StateStorage {
  read(name: string): Promise<Uint8Array | null>;
  write(name: string, data: Uint8Array): Promise<void>;
}

/** OPFS under "kluis-state/", or null where the browser (or Node) has none. */
export function opfsStateStorage(): StateStorage | null {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage || typeof storage.getDirectory !== 'function') return null;
  const folder = async () => (await storage.getDirectory()).getDirectoryHandle('kluis-state', { create: true });
  return {
    async read(name) {
      try {
        const file = await (await (await folder()).getFileHandle(name)).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (error) {
        if (error instanceof DOMException && error.name === 'NotFoundError') return null;
        throw error;
      }
    },
    async write(name, data) {
      const handle = await (await folder()).getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      await writable.write(data as Uint8Array<ArrayBuffer>);
      await writable.close();
    },
  };
}

export interface KeySafeOwner {
  readonly userId: string;
  readonly userKey: SecretKey<'user'>;
}

const markContext = (userId: string) => ({ type: 'key-safe-mark', id: userId, owner: userId });
const markName = async (userId: string) => toHex(await sha256(utf8(userId)));

/** The newest key safe revision this device saw for `owner`; 0 when none (or unreadable). */
export async function readKeySafeMark(storage: StateStorage | null, owner: KeySafeOwner): Promise<number> {
  if (!storage) return 0;
  const bytes = await storage.read(await markName(owner.userId));
  if (!bytes) return 0;
  try {
    const value = JSON.parse(await decryptRecordText(owner.userKey, bytes, markContext(owner.userId))) as { rev?: unknown };
    return typeof value.rev === 'number' && Number.isInteger(value.rev) ? value.rev : 0;
  } catch {
    // A damaged local file: only this device wrote it; start the mark again from what is served.
    return 0;
  }
}

/** Raises the mark to `rev` (never lowers it). */
export async function raiseKeySafeMark(storage: StateStorage | null, owner: KeySafeOwner, rev: number): Promise<void> {
  if (!storage || rev <= (await readKeySafeMark(storage, owner))) return;
  const record = await encryptRecord(owner.userKey, JSON.stringify({ rev }), markContext(owner.userId));
  await storage.write(await markName(owner.userId), record);
}

/**
 * At unlock: refuses a key safe older than this device's mark (the server replayed it), then
 * records the served revision as the new mark.
 * @throws KeySafeRollbackError
 */
export async function checkKeySafeMark(storage: StateStorage | null, owner: KeySafeOwner, safe: KeySafe): Promise<void> {
  const mark = await readKeySafeMark(storage, owner);
  if (safe.rev < mark) throw new KeySafeRollbackError(mark, safe.rev);
  await raiseKeySafeMark(storage, owner, safe.rev);
}

export interface KeySafeKeeper {
  /** The key safe with every change applied, written or not. */
  current(): KeySafe;
  /** Applies `change` now (for reads) and writes it with the next batch. */
  update(change: (safe: KeySafe) => KeySafe): void;
  /** Writes pending changes now; resolves when they are stored. */
  flush(): Promise<void>;
}

/**
 * Keeps one account's key safe: changes apply at once in memory and are written together after
 * `delayMs` (or at flush), with compare-and-swap and merging (shared/flows/key-safe.ts).
 */
export function createKeySafeKeeper(deps: {
  api: CallApi;
  owner: KeySafeOwner;
  initial: KeySafeState;
  storage: StateStorage | null;
  delayMs?: number;
  onConflicts?: (conflicts: readonly SeenConflict[]) => void;
  onError?: (error: unknown) => void;
}): KeySafeKeeper {
  let state = deps.initial;
  let pending: ((safe: KeySafe) => KeySafe)[] = [];
  let inflight: ((safe: KeySafe) => KeySafe)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const apply = (safe: KeySafe, changes: readonly ((safe: KeySafe) => KeySafe)[]) => changes.reduce((s, change) => change(s), safe);

  const write = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing
      .catch(() => undefined)
      .then(async () => {
        if (pending.length === 0) return;
        inflight = pending;
        pending = [];
        try {
          const result = await updateKeySafe(deps.api, deps.owner, state, (safe) => apply(safe, inflight));
          state = result.state;
          inflight = [];
          if (result.conflicts.length > 0) deps.onConflicts?.(result.conflicts);
          await raiseKeySafeMark(deps.storage, deps.owner, state.safe.rev);
        } catch (error) {
          // Not written: kept for the next attempt.
          pending = [...inflight, ...pending];
          inflight = [];
          throw error;
        }
      });
    return writing;
  };

  return {
    current: () => apply(apply(state.safe, inflight), pending),
    update(change) {
      pending.push(change);
      timer ??= setTimeout(() => {
        write().catch((error: unknown) => deps.onError?.(error));
      }, deps.delayMs ?? 1000);
    },
    flush: write,
  };
}
