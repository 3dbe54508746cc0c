// When `npm start` rebuilds the web client: only when the build is missing or older than a source.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isClientBuildStale, newestModificationMs } from './client-build-freshness';

let dir: string;
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

async function file(path: string, seconds: number): Promise<string> {
  const full = join(dir, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, path);
  await utimes(full, at(seconds), at(seconds));
  return full;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kluis-build-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('isClientBuildStale', () => {
  it('is stale when there is no build', async () => {
    await file('client/main.tsx', 10);
    expect(isClientBuildStale(join(dir, 'dist/index.html'), [join(dir, 'client')])).toBe(true);
  });

  it('is fresh when every source is older than the build', async () => {
    await file('client/main.tsx', 10);
    await file('shared/crypto/deep/nested.ts', 20);
    await file('vite.config.ts', 5);
    const built = await file('dist/index.html', 30);
    expect(isClientBuildStale(built, [join(dir, 'client'), join(dir, 'shared'), join(dir, 'vite.config.ts')])).toBe(false);
  });

  it('is stale when any source, however deep, is newer', async () => {
    await file('client/main.tsx', 10);
    await file('shared/crypto/deep/nested.ts', 40);
    const built = await file('dist/index.html', 30);
    expect(isClientBuildStale(built, [join(dir, 'client'), join(dir, 'shared')])).toBe(true);
  });

  it('ignores node_modules and missing sources', async () => {
    await file('client/node_modules/pkg/index.js', 50);
    const built = await file('dist/index.html', 30);
    expect(isClientBuildStale(built, [join(dir, 'client'), join(dir, 'does-not-exist')])).toBe(false);
    expect(newestModificationMs([join(dir, 'does-not-exist')])).toBe(0);
  });
});
