// A child process for the crash tests: starts a blob write into the store at argv[2], says "writing"
// once 3 MiB have reached the temp file, then waits to be killed (SIGKILL: no clean-up runs).
import { createLocalDiskBlobStore } from '../blobs/local-disk-blob-store';

const MiB = 1024 * 1024;
const root = process.argv[2];
if (!root) throw new Error('usage: blob-write-until-killed.ts <store directory>');

async function* source(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 3; i++) yield new Uint8Array(MiB).fill(i + 1);
  // The store asks for more only after writing what it has: the 3 MiB are in the temp file now.
  process.stdout.write('writing\n');
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}

await createLocalDiskBlobStore({ root }).put(source(), { expectedSize: 4 * MiB });
