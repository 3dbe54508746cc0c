// The bench harness without timing: metric keys, JSON merging with other benches' groups, cleanup order and failure reporting.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cleanup, GroupReport, mergeJson, renderSummary, renderTable } from './harness';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kluis-bench-harness-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('GroupReport', () => {
  it('refuses keys that are not snake_case, duplicates and non-finite numbers', () => {
    const report = new GroupReport('crypto');
    report.add('file_encrypt_mib_s', 'encrypt', 412.345, 'MiB/s');
    expect(() => report.add('file_encrypt_mib_s', 'again', 1)).toThrow(/twice/);
    expect(() => report.add('File-Encrypt', 'bad', 1)).toThrow(/snake_case/);
    expect(() => report.add('ratio', 'bad', Number.NaN)).toThrow(/NaN/);
  });

  it('prints every metric with its full key, and the summary only the marked ones', () => {
    const report = new GroupReport('server');
    report.add('login_rps', 'logins', 123.4, 'logins/s', { summary: true });
    report.add('login_count', 'count', 1480);
    report.note('a finding');
    expect(renderTable(report, 'server')).toMatch(/logins\s+123\s+logins\/s\s+server\.login_rps/);
    expect(renderTable(report, 'server')).toContain('* a finding');
    const summary = renderSummary([report]);
    expect(summary).toContain('server.login_rps');
    expect(summary).not.toContain('login_count');
  });
});

describe('mergeJson', () => {
  it('merges a group that ran only in part into its earlier object instead of replacing it', async () => {
    const path = join(dir, 'bench.json');
    const whole = new GroupReport('crypto');
    whole.add('file_encrypt_mib_s', 'encrypt', 400);
    whole.add('verify_ms', 'old', 120, 'ms', { section: 'directory' });
    await mergeJson(path, [whole], { node: 'v20' });
    const part = new GroupReport('crypto');
    part.partial = true;
    part.add('verify_ms', 'new', 90, 'ms', { section: 'directory' });
    await mergeJson(path, [part], { node: 'v20' });
    const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(written.crypto).toEqual({ file_encrypt_mib_s: 400 });
    expect(written.directory).toEqual({ verify_ms: 90 });
    // The same report not marked partial replaces the group's object whole.
    const again = new GroupReport('crypto');
    again.add('records', 'records', 1);
    await mergeJson(path, [again], { node: 'v20' });
    expect((JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>).crypto).toEqual({
      records: 1,
    });
  });

  it('creates the file with one object per group', async () => {
    const path = join(dir, 'bench.json');
    const report = new GroupReport('crypto');
    report.add('file_encrypt_mib_s', 'encrypt', 412.3456, 'MiB/s');
    report.add('file_encrypt_fastest_depth', 'depth', 4);
    report.add('login_meets_target', 'met', false);
    await mergeJson(path, [report], { node: 'v20' });
    const written: unknown = JSON.parse(await readFile(path, 'utf8'));
    expect(written).toEqual({
      crypto: {
        file_encrypt_mib_s: 412.3,
        file_encrypt_fastest_depth: 4,
        login_meets_target: false,
      },
      meta: { crypto: { node: 'v20' } },
    });
  });

  it("keeps other benches' groups and replaces the groups that ran, whole", async () => {
    const path = join(dir, 'bench.json');
    await writeFile(
      path,
      JSON.stringify({
        files: { upload_mib_s: 60 },
        crypto: { stale_key: 1 },
        meta: { files: { node: 'chromium' } },
      }),
    );
    const report = new GroupReport('crypto');
    report.add('record_decrypt_ops_s', 'records', 14000);
    await mergeJson(path, [report], { node: 'v20' });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      files: { upload_mib_s: 60 },
      crypto: { record_decrypt_ops_s: 14000 },
      meta: { files: { node: 'chromium' }, crypto: { node: 'v20' } },
    });
  });

  it('writes metrics with another section into that section, even when its own group is replaced in the same run', async () => {
    const path = join(dir, 'bench.json');
    await writeFile(path, JSON.stringify({ crypto: { stale_key: 1 }, list: { old: 2 } }));
    const files = new GroupReport('files');
    files.add('upload_mib_s', 'upload', 70);
    files.add('raw_aesgcm_mib_s', 'browser raw', 470, 'MiB/s', { section: 'crypto' });
    files.add('decrypt_10k_ms', 'list', 300, 'ms', { section: 'list' });
    const crypto = new GroupReport('crypto');
    crypto.add('node_raw_aesgcm_mib_s', 'node raw', 460);
    await mergeJson(path, [files, crypto], { node: 'v20' });
    const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(written.files).toEqual({ upload_mib_s: 70 });
    expect(written.crypto).toEqual({ node_raw_aesgcm_mib_s: 460, raw_aesgcm_mib_s: 470 });
    expect(written.list).toEqual({ old: 2, decrypt_10k_ms: 300 });
    expect(renderTable(files, 'files')).toContain('crypto.raw_aesgcm_mib_s');
  });

  it('refuses to overwrite a file that is not a JSON object', async () => {
    const path = join(dir, 'bench.json');
    await writeFile(path, '[1, 2]');
    await expect(mergeJson(path, [new GroupReport('crypto')], {})).rejects.toThrow(/JSON object/);
    expect(await readFile(path, 'utf8')).toBe('[1, 2]');
  });
});

describe('Cleanup', () => {
  it('closes newest first, goes on past a failure and reports it', async () => {
    const closed: string[] = [];
    const cleanup = new Cleanup();
    const resource = (name: string, fail = false) => ({
      name,
      close: () => {
        closed.push(name);
        return fail ? Promise.reject(new Error(`${name} stuck`)) : Promise.resolve();
      },
      closeSync: () => closed.push(`${name} (sync)`),
    });
    cleanup.add(resource('temp dir'));
    cleanup.add(resource('server', true));
    cleanup.add(resource('second server'));
    await expect(cleanup.closeAll()).rejects.toThrow(/server: Error: server stuck/);
    expect(closed).toEqual(['second server', 'server', 'temp dir']);
    cleanup.closeAllSync();
    expect(closed).toHaveLength(3);
  });
});
