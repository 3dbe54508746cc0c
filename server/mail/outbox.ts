// The embedded mail outbox: each message a durable .eml file, written so that a crash leaves it whole or absent.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * `<ISO 8601 basic-format UTC time>-<64 random bits, hex>.eml`, e.g. `20250115T130500.123Z-9f86d081884c7d65.eml`:
 * sorts by time, unique without coordination, and free of the colons Windows and SMB shares refuse.
 */
export function outboxFileName(now: Date): string {
  const time = now.toISOString().replace(/[-:]/g, '');
  return `${time}-${randomBytes(8).toString('hex')}.eml`;
}

/** fsync a directory, so that the entries just created or renamed in it survive a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Writes `data` as `<dir>/<name>` (mode 0600; `dir` is created with mode 0700 if missing) and
 * resolves only once it is durable: written to a dot-named temp file in the same directory, fsynced,
 * renamed into place, and the directory fsynced (POSIX rename is atomic; the fsyncs make it
 * durable). Rejects with the file system error if any step fails, after removing what it wrote, so a
 * reader of `dir` never sees a partial file under `name`. Returns the file's path.
 */
export async function writeFileDurably(dir: string, name: string, data: Uint8Array): Promise<string> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) {
    // Each directory mkdir created is an entry in its parent, which must be made durable too.
    const top = resolve(created);
    for (let entry = resolve(dir); entry !== dirname(top) && entry !== dirname(entry); entry = dirname(entry)) await syncDirectory(dirname(entry));
  }
  const path = join(dir, name);
  const temp = join(dir, `.${name}.tmp`);
  let opened = false;
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', 0o600);
    opened = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    renamed = true;
    await syncDirectory(dir);
    return path;
  } catch (error) {
    // Rejected means "not in the outbox": a file whose directory entry may not be durable is removed too.
    if (opened) await removeQuietly(renamed ? path : temp);
    throw error;
  }
}
