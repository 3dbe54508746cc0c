// `npm run audit:verify`, spawned as a real process on export files: exit 0 with the verified head,
// 1 with the first bad event, 2 for usage errors and files that are not exports. The exports here
// are built by an in-memory log with node:crypto Ed25519 keys; server/audit-tamper.test.ts runs the
// CLI on exports made by the real server.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditExport, auditExportSchema } from '../../shared/api/audit';
import { MemoryAuditLog, type MemoryLogSigner, rechain } from '../../shared/audit/memory-log';
import type { SignedTreeHead } from '../../shared/audit/tree-head';
import { runAuditVerify } from '../test/audit-verify-cli';

function makeSigner(): MemoryLogSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    logId: 'org_cli',
    logKey: {
      algorithm: 'Ed25519',
      spki: spki.toString('base64url'),
      keyId: createHash('sha256').update(spki).digest('hex'),
    },
    sign: (bytes) => Promise.resolve(sign(null, bytes, privateKey).toString('base64url')),
  };
}

async function exportOf(log: MemoryAuditLog, head?: SignedTreeHead): Promise<AuditExport> {
  const data = await log.exportAll(head);
  return auditExportSchema.parse({
    format: 'kluis-audit-export',
    version: 1,
    exportedAt: '2026-02-03T04:05:06.789Z',
    exportedBy: 'u_auditor',
    filter: {},
    logId: data.logId,
    logKey: data.logKey,
    treeHead: data.treeHead,
    checkpoint: null,
    events: data.events,
    complete: true,
    witnesses: [],
  });
}

let dir = '';
let n = 0;
async function file(content: unknown): Promise<string> {
  const path = join(dir, `file-${(n += 1)}.json`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const signer = makeSigner();
let log: MemoryAuditLog;
let good: AuditExport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kluis-audit-verify-'));
  log = new MemoryAuditLog(signer);
  await log.appendMany(20);
  await log.signHead();
  good = await exportOf(log);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('npm run audit:verify', () => {
  it('verifies an export and warns that the log key was not pinned', async () => {
    const result = await runAuditVerify([await file(good)]);
    expect(result.code, result.stderr).toBe(0);
    const head = good.treeHead;
    expect(result.stdout).toContain(
      `verified 20 events up to head 20 (root ${head.rootHash.slice(0, 16)}…) signed at ${head.signedAt} by log key ${signer.logKey.keyId}`,
    );
    expect(result.stderr).toMatch(/warning: the log key was not pinned/);
  });

  it('accepts the pinned log key id without a warning, and refuses another one', async () => {
    const path = await file(good);
    const pinned = await runAuditVerify([path, '--key-id', signer.logKey.keyId.toUpperCase()]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stderr).toBe('');
    // Everything re-signed with a new key verifies on its own, but not against the organisation's key id.
    const forger = new MemoryAuditLog(makeSigner());
    for (const event of log.events) await forger.append(event);
    await forger.signHead();
    const resigned = await file(await exportOf(forger));
    expect((await runAuditVerify([resigned])).code).toBe(0);
    const refused = await runAuditVerify([resigned, '--key-id', signer.logKey.keyId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`not the pinned key ${signer.logKey.keyId}`);
  });

  it.each([
    [
      'a changed field',
      9,
      (e: AuditExport) => ({
        ...e,
        events: e.events.map((x) => (x.seq === 9 ? { ...x, actorId: 'u_other' } : x)),
      }),
    ],
    [
      'a deleted event',
      14,
      (e: AuditExport) => ({ ...e, events: e.events.filter((x) => x.seq !== 14) }),
    ],
    [
      'two events swapped',
      5,
      (e: AuditExport) => ({
        ...e,
        events: e.events.map((x, i, all) => (i === 4 ? all[5]! : i === 5 ? all[4]! : x)),
      }),
    ],
    [
      'a forged inclusion path',
      17,
      (e: AuditExport) => ({
        ...e,
        events: e.events.map((x) =>
          x.seq === 17 ? { ...x, inclusionPath: x.inclusionPath.slice(1) } : x,
        ),
      }),
    ],
  ])('exits 1 and names the first bad event: %s (#%i)', async (_what, seq, tamper) => {
    const result = await runAuditVerify([await file(tamper(good))]);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^FAILED: event #${seq}: `));
  });

  it('exits 1 on an event inserted with every later hash recomputed', async () => {
    const tampered = new MemoryAuditLog(signer);
    await tampered.appendMany(20);
    const head = await tampered.signHead();
    tampered.events.splice(11, 0, { ...tampered.events[11]!, action: 'account.role_changed' });
    await rechain(tampered.events, 11);
    const result = await runAuditVerify([await file(await exportOf(tampered, head))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^FAILED: event #12: .*inserted or rewritten/);
  });

  it('exits 1 on a forged head signature', async () => {
    const forged = { ...good, treeHead: { ...good.treeHead, rootHash: good.events[0]!.hash } };
    const result = await runAuditVerify([await file(forged)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^FAILED: .*signature.*\(head_signature\)/);
  });

  it('checks the export against a pinned head: newer and consistent, replayed older, rewritten', async () => {
    const older = await file(good.treeHead);
    const longer = new MemoryAuditLog(signer);
    for (const event of log.events) await longer.append(event);
    await longer.appendMany(6);
    const newer = await exportOf(longer, await longer.signHead());
    const ok = await runAuditVerify([await file(newer), '--pin', older]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('verified 26 events up to head 26');
    expect(ok.stderr).toBe('');

    const rollback = await runAuditVerify([await file(good), '--pin', await file(newer.treeHead)]);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toContain('(head_rollback)');

    const rewritten = new MemoryAuditLog(signer);
    for (const event of log.events)
      await rewritten.append({ ...event, details: event.seq === 3 ? '{"n":0}' : event.details });
    await rewritten.appendMany(6);
    const result = await runAuditVerify([
      await file(await exportOf(rewritten, await rewritten.signHead())),
      '--pin',
      older,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(head_inconsistent)');
  });

  it('exits 2 with a clear message for usage errors and files that are not exports', async () => {
    const exportFile = await file(good);
    const cases: [string[], RegExp][] = [
      [[], /Give exactly one export file/],
      [[exportFile, exportFile], /Give exactly one export file/],
      [[exportFile, '--frobnicate'], /Unknown option '--frobnicate'/],
      [[exportFile, '--key-id', 'abc'], /--key-id must be 64 hex digits/],
      [[join(dir, 'missing.json')], /Cannot read the export .*missing\.json \(ENOENT\)/],
      [[dir], /Cannot read the export .* \(EISDIR\)/],
      [[await file('{"format": "kluis-audit-export", ')], /is not valid JSON/],
      [[await file({ hello: 'world' })], /is not a Kluis audit export/],
      [[await file([good])], /is not a Kluis audit export/],
      [
        [await file({ ...good, treeHead: { ...good.treeHead, treeSize: 'twenty' } })],
        /is not a valid Kluis audit export:\n {2}treeHead\.treeSize:/,
      ],
      [[await file({ ...good, events: undefined })], /events:/],
      [[exportFile, '--pin', await file({ treeSize: 3 })], /is not a head/],
      [[exportFile, '--pin', join(dir, 'nope.json')], /Cannot read the pinned head/],
    ];
    const results = await Promise.all(cases.map(([args]) => runAuditVerify(args)));
    cases.forEach(([args, message], i) => {
      const result = results[i]!;
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
