// Integration: login starts, finishes and aborts do the same work for real, locked, reset-pending and unknown addresses (issue 19).
// No clocks here: what makes their times equal is the same statements and store calls, which is what these tests record.
import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpaqueLogin } from '../../shared/crypto';
import { createMemoryStore, type EphemeralStore } from '../auth/ephemeral-store';
import { createTestOrganisation, type TestOrganisation } from '../test/org-fixture';
import { budget } from '../test/budget';

/** Every statement the services sent, as "<kind> <first table>" (raw SQL as "raw <first word>"). */
const statements: string[] = [];
/** Every ephemeral store call, by method name. */
const storeCalls: string[] = [];

function firstTable(node: unknown): string {
  if (node === null || typeof node !== 'object') return '';
  const record = node as Record<string, unknown>;
  if (record.kind === 'TableNode') return ((record.table as { identifier: { name: string } }).identifier).name;
  for (const value of Object.values(record)) {
    const found = Array.isArray(value) ? value.map(firstTable).find(Boolean) : firstTable(value);
    if (found) return found;
  }
  return '';
}

const recordStatements: KyselyPlugin = {
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    const raw = node as OperationNode & { sqlFragments?: readonly string[] };
    statements.push(
      node.kind === 'RawNode' ? `raw ${(raw.sqlFragments ?? []).join('?').trim().split(/\s+/).slice(0, 2).join(' ')}` : `${node.kind.replace('QueryNode', '').toLowerCase()} ${firstTable(node)}`,
    );
    return node;
  },
  transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(result);
  },
};

function recordingStore(): EphemeralStore {
  const store = createMemoryStore();
  return Object.fromEntries(
    Object.entries(store).map(([name, method]) => [
      name,
      (...args: unknown[]) => {
        storeCalls.push(name);
        return (method as (...a: unknown[]) => unknown).apply(store, args);
      },
    ]),
  ) as unknown as EphemeralStore;
}

let org: TestOrganisation;
type Address = 'real' | 'locked' | 'reset-pending' | 'unknown';
const ADDRESSES: readonly Address[] = ['real', 'locked', 'reset-pending', 'unknown'];
let emails: Record<Address, string>;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], {
    env: { KLUIS_LOGIN_LIMIT_PER_IP: '10000' },
    store: recordingStore(),
    dbPlugins: [recordStatements],
  });
  emails = { real: org.members.client!.email, locked: org.members.auditor!.email, 'reset-pending': org.members.team!.email, unknown: 'nobody-here@kluis.test' };
  // Locked and already told (so no lock e-mail is pending for anyone); a reset waiting for the team member.
  await org.testApp.db
    .updateTable('users')
    .set({ failed_logins: 3, locked_until: '2999-01-01T00:00:00.000Z', lock_notified: 1 })
    .where('id', '=', org.members.auditor!.userId)
    .execute();
  await org.testApp.db.updateTable('users').set({ needs_reset: 1 }).where('id', '=', org.members.team!.userId).execute();
}, budget(120_000));
afterAll(() => org?.close());

/** POSTs as the web app does; returns status, error code and body, and what the request did. */
async function post(path: string, body: unknown) {
  statements.length = 0;
  storeCalls.length = 0;
  const response = await fetch(org.server.baseUrl + path, {
    method: 'POST',
    headers: { Origin: org.testApp.config.publicOrigin, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const json = (text ? JSON.parse(text) : {}) as { error?: { code: string }; loginId?: string; loginResponse?: string };
  return { status: response.status, code: json.error?.code, json, statements: [...statements], storeCalls: [...storeCalls] };
}

async function wellFormedStart(address: Address) {
  const { request } = await startOpaqueLogin('not-the-password');
  const started = await post('/api/auth/login/start', { email: emails[address], startLoginRequest: request });
  expect(started.status).toBe(200);
  return started;
}

async function failedLogins(address: Address): Promise<number | undefined> {
  const row = await org.testApp.db.selectFrom('users').select('failed_logins').where('email', '=', emails[address]).executeTakeFirst();
  return row?.failed_logins;
}

/** Keeps the real account unlocked between tests (a count per well-formed start). */
async function unlockReal(): Promise<void> {
  await org.testApp.db.updateTable('users').set({ failed_logins: 0, locked_until: null, lock_notified: 0 }).where('email', '=', emails.real).execute();
}

// Hand-written: what a start costs every address. No write for a malformed message; a well-formed one runs the counting transaction.
const READS = ['select organisation', 'select users'];
const COUNTING = ['raw PRAGMA synchronous', 'update users', 'update users', 'raw PRAGMA synchronous'];

describe('login start: the same work for every address', () => {
  it.each(ADDRESSES)('refuses a malformed start for the %s address with bad_request, before any write', async (address) => {
    await unlockReal();
    const before = await failedLogins(address);
    // Right size (96 bytes) but no valid points: only OPAQUE can tell.
    const refused = await post('/api/auth/login/start', { email: emails[address], startLoginRequest: '_'.repeat(128) });
    expect([refused.status, refused.code]).toEqual([400, 'bad_request']);
    expect(refused.statements).toEqual(READS);
    expect(refused.storeCalls).toEqual(['hit']);
    expect(await failedLogins(address)).toBe(before);
  });

  it.each(ADDRESSES)('runs the counting transaction and stores a pending login for the %s address', async (address) => {
    await unlockReal();
    const started = await wellFormedStart(address);
    expect(started.statements).toEqual([...READS, ...COUNTING]);
    expect(started.storeCalls).toEqual(['hit', 'putLogin']);
    expect(Object.keys(started.json).sort()).toEqual(['loginId', 'loginResponse']);
    // KE2: 320 bytes, base64url, whoever asked.
    expect(started.json.loginResponse).toMatch(/^[A-Za-z0-9_-]{427}$/);
  });

  it('counts only the real unlocked account', async () => {
    await unlockReal();
    const before = { locked: await failedLogins('locked'), reset: await failedLogins('reset-pending') };
    for (const address of ADDRESSES) await wellFormedStart(address);
    expect(await failedLogins('real')).toBe(1);
    expect(await failedLogins('locked')).toBe(before.locked);
    expect(await failedLogins('reset-pending')).toBe(before.reset);
  });
});

// A failed finish or abort: the user read, one relaxed transaction appending the audit event, the
// lock sweep (which first takes the expired second steps, for their notice: none here).
const FAILURE_STORE_CALLS = ['takeLogin', 'takeExpiredEntries', 'sweep'];
const FAILURE_BEFORE_INSERT = ['select users', 'raw PRAGMA synchronous', 'select audit_events'];
const FAILURE_AFTER_INSERT = ['raw PRAGMA synchronous', 'select users'];
/** Every failure is audited (a fake one naming nobody), so the statements are the same whoever asked. */
const FAILURE = [...FAILURE_BEFORE_INSERT, 'insert audit_events', ...FAILURE_AFTER_INSERT];
/**
 * Without the log's upkeep: how many Merkle subtrees a new leaf completes, and whether a tree head
 * is due after a request that recorded events, depend on the number of events before it, not on the
 * address (server/services/audit.service.ts, the head signer).
 */
const withoutLogUpkeep = (list: readonly string[]) => list.filter((statement) => !/ audit_(merkle_nodes|tree_heads)$/.test(statement));

describe('login finish and abort: the same path for every address', () => {
  it.each(ADDRESSES)('answers a garbage finish for the %s address with invalid_credentials along the same path', async (address) => {
    await unlockReal();
    const { json } = await wellFormedStart(address);
    const finished = await post('/api/auth/login/finish', { loginId: json.loginId, finishLoginRequest: 'A'.repeat(86) });
    expect([finished.status, finished.code]).toEqual([401, 'invalid_credentials']);
    expect(withoutLogUpkeep(finished.statements)).toEqual(FAILURE);
    expect(finished.storeCalls).toEqual(FAILURE_STORE_CALLS);
  });

  it.each(ADDRESSES)('closes an aborted attempt for the %s address along the same path', async (address) => {
    await unlockReal();
    const { json } = await wellFormedStart(address);
    const aborted = await post('/api/auth/login/abort', { loginId: json.loginId });
    expect(aborted.status).toBe(204);
    // No user read on abort: the attempt knows whom it was for.
    expect(withoutLogUpkeep(aborted.statements)).toEqual(FAILURE.slice(1));
    expect(aborted.storeCalls).toEqual(FAILURE_STORE_CALLS);
  });
});
