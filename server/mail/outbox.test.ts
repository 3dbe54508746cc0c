// The outbox writer: whole files or none, private modes, names that sort by time and never collide.
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboxFileName, writeFileDurably } from './outbox';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kluis-outbox-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('outboxFileName', () => {
  it('is the UTC time in ISO 8601 basic format, then 64 random bits', () => {
    expect(outboxFileName(new Date('2025-01-15T13:05:00.123Z'))).toMatch(/^20250115T130500\.123Z-[0-9a-f]{16}\.eml$/);
  });

  it('sorts by time and does not repeat', () => {
    const names = Array.from({ length: 1000 }, (_, i) => outboxFileName(new Date(Date.UTC(2025, 0, 1) + i * 1000)));
    expect(new Set(names).size).toBe(1000);
    expect([...names].sort()).toEqual(names);
  });
});

describe('writeFileDurably', () => {
  it('creates the directory (0700) and the file (0600) with exactly the bytes, leaving no temp file', async () => {
    const dir = join(root, 'data', 'outbox');
    const data = Buffer.from('Subject: test\r\n\r\nhello\r\n');
    const path = await writeFileDurably(dir, 'a.eml', data);
    expect(path).toBe(join(dir, 'a.eml'));
    expect(await readFile(path)).toEqual(data);
    expect(await readdir(dir)).toEqual(['a.eml']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'data'))).mode & 0o777).toBe(0o700);
  });

  it('accepts a relative directory (KLUIS_DATA_DIR defaults to ./data)', async () => {
    const dir = relative(process.cwd(), join(root, 'nested', 'outbox'));
    const path = await writeFileDurably(dir, 'b.eml', Buffer.from('x'));
    expect(await readFile(path, 'utf8')).toBe('x');
    expect(await readdir(join(root, 'nested', 'outbox'))).toEqual(['b.eml']);
  });

  it('rejects when the rename fails, removing its temp file and leaving the target alone', async () => {
    const dir = join(root, 'outbox');
    // A directory where the file should go: rename(2) fails with EISDIR after the temp file was written and synced.
    await mkdir(join(dir, 'c.eml'), { recursive: true });
    await expect(writeFileDurably(dir, 'c.eml', Buffer.from('x'))).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await readdir(dir)).toEqual(['c.eml']);
    expect((await stat(join(dir, 'c.eml'))).isDirectory()).toBe(true);
  });

  it('rejects when the directory cannot be created, writing nothing', async () => {
    await writeFileDurably(root, 'outbox', Buffer.from('a file where the outbox should be'));
    await expect(writeFileDurably(join(root, 'outbox'), 'd.eml', Buffer.from('x'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readdir(root)).toEqual(['outbox']);
    expect(await readFile(join(root, 'outbox'), 'utf8')).toBe('a file where the outbox should be');
  });

  it('never overwrites a temp file it did not create', async () => {
    const dir = join(root, 'outbox');
    await writeFileDurably(dir, '.e.eml.tmp', Buffer.from('someone else'));
    await expect(writeFileDurably(dir, 'e.eml', Buffer.from('x'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(dir, '.e.eml.tmp'), 'utf8')).toBe('someone else');
    expect(await readdir(dir)).toEqual(['.e.eml.tmp']);
  });
});
