// Integration: who may call which route. The table below is written by hand from the product's rules
// (README "Using Kluis", SECURITY.md 5.3 and 9.1), NOT derived from shared/api, so a change to an
// endpoint's `access` in the contract (or to the gate in define-route.ts) fails here. Each cell is a
// real request over HTTP with a real session of that role.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSession, listEscrowHolders, listInvitations, listSessions } from '../../shared/api';
import { certifiedIdentity, grantEscrowAccess, invite } from '../../shared/flows/account-flows';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { budget } from '../test/budget';

/** Passes the role gate: the answer may still be 400/404/409/422 for the made-up body and ids. */
const Y = 'allowed';
/** A signed-in user of this role is refused before anything is looked at: 403 forbidden. */
const N = 'forbidden';
/** Without a session: 401 unauthenticated. */
const L = 'unauthenticated';
type Cell = typeof Y | typeof N | typeof L;

const columns = ['admin', 'team', 'client', 'auditor', 'anonymous'] as const;
type Column = (typeof columns)[number];

// prettier-ignore
const table: readonly (readonly [route: string, admin: Cell, team: Cell, client: Cell, auditor: Cell, anonymous: Cell])[] = [
  //                                                       admin team client auditor anonymous
  // System
  ['GET /api/health',                                       Y,    Y,   Y,     Y,      Y],
  ['GET /api/openapi.json',                                 Y,    Y,   Y,     Y,      Y],
  // Setup, login, sign-up and recovery: how one gets a session or an account, so open to all
  ['GET /api/setup/status',                                 Y,    Y,   Y,     Y,      Y],
  ['POST /api/setup/start',                                 Y,    Y,   Y,     Y,      Y],
  ['POST /api/setup/finish',                                Y,    Y,   Y,     Y,      Y],
  ['POST /api/auth/login/start',                            Y,    Y,   Y,     Y,      Y],
  ['POST /api/auth/login/finish',                           Y,    Y,   Y,     Y,      Y],
  ['POST /api/auth/login/abort',                            Y,    Y,   Y,     Y,      Y],
  ['POST /api/invitations/lookup',                          Y,    Y,   Y,     Y,      Y],
  ['POST /api/signup/start',                                Y,    Y,   Y,     Y,      Y],
  ['POST /api/signup/finish',                               Y,    Y,   Y,     Y,      Y],
  ['POST /api/recovery/start',                              Y,    Y,   Y,     Y,      Y],
  ['POST /api/recovery/finish',                             Y,    Y,   Y,     Y,      Y],
  ['POST /api/auth/passkey/start',                          Y,    Y,   Y,     Y,      Y],
  ['POST /api/auth/passkey/finish',                         Y,    Y,   Y,     Y,      Y],
  // The second sign-in step: reached with a step id from the password step, never with a session
  ['POST /api/auth/login/second-factor',                    Y,    Y,   Y,     Y,      Y],
  ['POST /api/auth/login/second-factor/email',              Y,    Y,   Y,     Y,      Y],
  // One's own account and sessions: everyone signed in
  ['GET /api/auth/session',                                 Y,    Y,   Y,     Y,      L],
  ['POST /api/auth/logout',                                 Y,    Y,   Y,     Y,      L],
  ['POST /api/auth/logout-everywhere',                      Y,    Y,   Y,     Y,      L],
  ['GET /api/auth/sessions',                                Y,    Y,   Y,     Y,      L],
  ['DELETE /api/auth/sessions/:id',                         Y,    Y,   Y,     Y,      L],
  ['POST /api/account/password/start',                      Y,    Y,   Y,     Y,      L],
  ['POST /api/account/password/finish',                     Y,    Y,   Y,     Y,      L],
  ['PUT /api/account/profile',                              Y,    Y,   Y,     Y,      L],
  ['PUT /api/account/signing-key',                          Y,    Y,   Y,     Y,      L],
  ['PUT /api/account/escrow-copy-statement',                Y,    Y,   Y,     Y,      L],
  ['GET /api/account/key-safe',                             Y,    Y,   Y,     Y,      L],
  ['PUT /api/account/key-safe',                             Y,    Y,   Y,     Y,      L],
  // Trusted devices: one's own browsers (object-checked); managers for the people they manage (object-checked)
  ['GET /api/account/trusted-devices',                      Y,    Y,   Y,     Y,      L],
  ['DELETE /api/account/trusted-devices/:id',               Y,    Y,   Y,     Y,      L],
  ['DELETE /api/users/:id/trusted-devices',                 Y,    Y,   N,     N,      L],
  // One's own second factors and backup codes: everyone signed in (each only their own: object-checked)
  ['GET /api/account/second-factors',                       Y,    Y,   Y,     Y,      L],
  ['POST /api/account/second-factors/totp',                 Y,    Y,   Y,     Y,      L],
  ['POST /api/account/second-factors/totp/confirm',         Y,    Y,   Y,     Y,      L],
  ['POST /api/account/second-factors/email',                Y,    Y,   Y,     Y,      L],
  ['POST /api/account/second-factors/email/confirm',        Y,    Y,   Y,     Y,      L],
  ['PATCH /api/account/second-factors/:id',                 Y,    Y,   Y,     Y,      L],
  ['DELETE /api/account/second-factors/:id',                Y,    Y,   Y,     Y,      L],
  ['POST /api/account/backup-codes',                        Y,    Y,   Y,     Y,      L],
  // One's own passkeys (everyone may add them; each only their own: object-checked)
  ['POST /api/account/passkeys/registration/start',         Y,    Y,   Y,     Y,      L],
  ['POST /api/account/passkeys/registration/finish',        Y,    Y,   Y,     Y,      L],
  ['PUT /api/account/passkeys/:id/unlock',                  Y,    Y,   Y,     Y,      L],
  ['DELETE /api/account/passkeys/:id/unlock',               Y,    Y,   Y,     Y,      L],
  // Invitations and people: staff (Team Members invite and manage clients only: object-checked)
  ['POST /api/invitations',                                 Y,    Y,   N,     N,      L],
  ['GET /api/invitations',                                  Y,    Y,   N,     N,      L],
  ['DELETE /api/invitations/:id',                           Y,    Y,   N,     N,      L],
  ['GET /api/users',                                        Y,    Y,   N,     N,      L],
  ['POST /api/users/:id/unlock',                            Y,    Y,   N,     N,      L],
  ['POST /api/users/:id/sessions/end',                      Y,    Y,   N,     N,      L],
  ['POST /api/users/:userId/certificates',                  Y,    Y,   N,     N,      L],
  ['GET /api/users/:id/security',                           Y,    Y,   N,     N,      L],
  ['DELETE /api/users/:id/second-factors/:factorId',        Y,    Y,   N,     N,      L],
  // The account life-cycle (issue 21): Team Members act on clients only (object-checked); roles and restores are for Administrators
  ['PUT /api/users/:id/role',                               Y,    N,   N,     N,      L],
  ['POST /api/users/:id/deactivate',                        Y,    Y,   N,     N,      L],
  ['POST /api/users/:id/reactivate',                        Y,    Y,   N,     N,      L],
  ['POST /api/users/:id/delete',                            Y,    Y,   N,     N,      L],
  ['POST /api/users/:id/restore',                           Y,    N,   N,     N,      L],
  // The organisation: Administrators only
  ['POST /api/organisation/recovery-kit/confirm',           Y,    N,   N,     N,      L],
  ['GET /api/organisation/settings',                        Y,    N,   N,     N,      L],
  ['PUT /api/organisation/settings',                        Y,    N,   N,     N,      L],
  // The escrow (organisation) key: Administrators grant it, staff hold it (only staff: the escrow tests below)
  ['GET /api/escrow/holders',                               Y,    Y,   N,     N,      L],
  ['POST /api/escrow/grants',                               Y,    N,   N,     N,      L],
  ['POST /api/escrow/grants/accept',                        Y,    Y,   N,     N,      L],
  // Escrow resets (issue 21): staff start, list, approve and cancel them (whose: the reset hierarchy, object-checked);
  // the person's steps are reached with the link and the code, never with a session
  ['POST /api/users/:id/resets',                            Y,    Y,   N,     N,      L],
  ['GET /api/resets',                                       Y,    Y,   N,     N,      L],
  ['POST /api/resets/:id/approve',                          Y,    Y,   N,     N,      L],
  ['POST /api/resets/:id/cancel',                           Y,    Y,   N,     N,      L],
  ['POST /api/reset/open',                                  Y,    Y,   Y,     Y,      Y],
  ['POST /api/reset/password/start',                        Y,    Y,   Y,     Y,      Y],
  ['POST /api/reset/password/finish',                       Y,    Y,   Y,     Y,      Y],
  // Escrow transparency: everyone signed in sees the holders and the uses on their own account
  ['GET /api/account/escrow',                               Y,    Y,   Y,     Y,      L],
  // Escrow rotation (issue 21): everyone follows the signed chain; only Administrators rotate
  ['GET /api/escrow/chain',                                 Y,    Y,   Y,     Y,      L],
  ['GET /api/escrow/rotation',                              Y,    N,   N,     N,      L],
  ['POST /api/escrow/rotation',                             Y,    N,   N,     N,      L],
  ['GET /api/escrow/rotation/items',                        Y,    N,   N,     N,      L],
  ['POST /api/escrow/rotation/items',                       Y,    N,   N,     N,      L],
  ['POST /api/escrow/rotation/finish',                      Y,    N,   N,     N,      L],
  // The audit log (issue 22): Auditors and Administrators read it; everyone sees the signed head,
  // its proofs and the countersignatures; only Auditors countersign; only Administrators set retention
  ['GET /api/audit/events',                                 Y,    N,   N,     Y,      L],
  ['GET /api/audit/events/:seq',                            Y,    N,   N,     Y,      L],
  ['GET /api/audit/chain',                                  Y,    N,   N,     Y,      L],
  ['GET /api/audit/head',                                   Y,    Y,   Y,     Y,      L],
  ['GET /api/audit/heads',                                  Y,    N,   N,     Y,      L],
  ['GET /api/audit/proofs/inclusion',                       Y,    Y,   Y,     Y,      L],
  ['GET /api/audit/proofs/consistency',                     Y,    Y,   Y,     Y,      L],
  ['GET /api/audit/tree/split',                             Y,    N,   N,     Y,      L],
  ['POST /api/audit/witnesses',                             N,    N,   N,     Y,      L],
  ['GET /api/audit/witnesses',                              Y,    Y,   Y,     Y,      L],
  ['POST /api/audit/exports',                               Y,    N,   N,     Y,      L],
  ['GET /api/audit/retention',                              Y,    N,   N,     Y,      L],
  ['PUT /api/audit/retention',                              Y,    N,   N,     N,      L],
  // History for people (issue 22): everyone, each only what they may see (object-checked)
  ['GET /api/documents/:id/history',                        Y,    Y,   Y,     Y,      L],
  ['GET /api/me/history',                                   Y,    Y,   Y,     Y,      L],
  // The key directory: whoever works in spaces, and Auditors (clients and Auditors see staff, Auditors and themselves: object-checked)
  ['GET /api/directory',                                    Y,    Y,   Y,     Y,      L],
  // Uploads and blobs: whoever works in spaces, each only their own (object-checked)
  ['POST /api/uploads',                                     Y,    Y,   Y,     N,      L],
  ['GET /api/uploads/:id',                                  Y,    Y,   Y,     N,      L],
  ['PUT /api/uploads/:id/parts/:n',                         Y,    Y,   Y,     N,      L],
  ['POST /api/uploads/:id/complete',                        Y,    Y,   Y,     N,      L],
  ['DELETE /api/uploads/:id',                               Y,    Y,   Y,     N,      L],
  ['GET /api/blobs/:blobId',                                Y,    Y,   Y,     N,      L],
  // Spaces: staff reach every space, a client only their own (object-checked); Auditors none
  ['GET /api/spaces',                                       Y,    Y,   Y,     N,      L],
  ['POST /api/spaces',                                      Y,    Y,   Y,     N,      L],
  ['POST /api/spaces/:spaceId/adopt',                       Y,    Y,   Y,     N,      L],
  ['GET /api/spaces/:spaceId',                              Y,    Y,   Y,     N,      L],
  ['GET /api/spaces/:spaceId/history',                      Y,    Y,   Y,     N,      L],
  ['GET /api/spaces/:spaceId/documents',                    Y,    Y,   Y,     N,      L],
  ['POST /api/spaces/:spaceId/documents',                   Y,    Y,   Y,     N,      L],
  ['POST /api/spaces/:spaceId/folders',                     Y,    Y,   Y,     N,      L],
  ['PUT /api/folders/:folderId/name',                       Y,    Y,   Y,     N,      L],
  ['DELETE /api/folders/:folderId',                         Y,    Y,   Y,     N,      L],
  ['GET /api/documents/:documentId',                        Y,    Y,   Y,     N,      L],
  ['POST /api/documents/:documentId/versions',              Y,    Y,   Y,     N,      L],
  ['PUT /api/documents/:documentId/folder',                 Y,    Y,   Y,     N,      L],
  ['DELETE /api/documents/:documentId',                     Y,    Y,   Y,     N,      L],
  ['GET /api/versions/:versionId/content',                  Y,    Y,   Y,     N,      L],
  ['GET /api/spaces/:spaceId/threads',                      Y,    Y,   Y,     N,      L],
  ['POST /api/spaces/:spaceId/threads',                     Y,    Y,   Y,     N,      L],
  ['GET /api/threads/:threadId',                            Y,    Y,   Y,     N,      L],
  ['POST /api/threads/:threadId/messages',                  Y,    Y,   Y,     N,      L],
  ['POST /api/messages/:messageId/revisions',               Y,    Y,   Y,     N,      L],
  ['POST /api/threads/:threadId/read',                      Y,    Y,   Y,     N,      L],
  // Document requests: clients see and answer them; only staff ask and close
  ['GET /api/spaces/:spaceId/requests',                     Y,    Y,   Y,     N,      L],
  ['POST /api/spaces/:spaceId/requests',                    Y,    Y,   N,     N,      L],
  ['POST /api/requests/:requestId/close',                   Y,    Y,   N,     N,      L],
];

/**
 * Routes whose answer also depends on the object (whose space, upload, session or account): the
 * role gate is checked above, the object rule in the test named here (file › words of its title or case).
 */
const objectChecked: Readonly<Record<string, readonly [file: string, test: string]>> = {
  'DELETE /api/auth/sessions/:id': ['server/routes/permissions.test.ts', 'ends only sessions of the caller'],
  'POST /api/account/passkeys/registration/finish': ['server/services/second-factors/passkeys.test.ts', 'uses a ceremony once, for its own user'],
  'PUT /api/account/passkeys/:id/unlock': ['server/services/second-factors/passkeys.test.ts', '(not_found for another person'],
  'DELETE /api/account/passkeys/:id/unlock': ['server/services/second-factors/passkeys.test.ts', '(not_found for another person'],
  'POST /api/invitations': ['server/services/accounts.errors.test.ts', 'lets Team Members invite clients only'],
  'DELETE /api/invitations/:id': ['server/routes/permissions.test.ts', 'Team Members revoke invitations of clients only'],
  'GET /api/users': ['server/services/accounts.errors.test.ts', 'lets Team Members invite clients only'],
  'POST /api/users/:id/unlock': ['server/services/accounts.errors.test.ts', 'lift locks of clients only'],
  'POST /api/users/:id/sessions/end': ['server/routes/permissions.test.ts', 'Team Members end sessions of clients only'],
  'POST /api/users/:userId/certificates': ['server/services/directory.service.test.ts', 'lets Team Members certify clients only'],
  'DELETE /api/account/trusted-devices/:id': ['server/services/second-factor-login.test.ts', 'revokes only one\'s own trusted devices'],
  'DELETE /api/users/:id/trusted-devices': ['server/services/second-factor-login.test.ts', 'as the role hierarchy allows, with a recent login, never for oneself'],
  'PATCH /api/account/second-factors/:id': ['server/services/second-factors/second-factors.test.ts', 'renames and removes only one'],
  'DELETE /api/account/second-factors/:id': ['server/services/second-factors/second-factors.test.ts', 'renames and removes only one'],
  'POST /api/account/second-factors/totp/confirm': ['server/services/second-factors/second-factors.test.ts', 'refuses someone else'],
  'POST /api/account/second-factors/email/confirm': ['server/services/second-factors/second-factors.test.ts', 'Someone else'],
  'GET /api/users/:id/security': ['server/services/second-factors/second-factors.test.ts', 'who may see and remove whose second factors'],
  'DELETE /api/users/:id/second-factors/:factorId': ['server/services/second-factors/second-factors.test.ts', 'who may see and remove whose second factors'],
  'POST /api/users/:id/deactivate': ['server/services/lifecycle.service.test.ts', 'who may deactivate, reactivate, delete and restore whom'],
  'POST /api/users/:id/reactivate': ['server/services/lifecycle.service.test.ts', 'who may deactivate, reactivate, delete and restore whom'],
  'POST /api/users/:id/delete': ['server/services/lifecycle.service.test.ts', 'who may deactivate, reactivate, delete and restore whom'],
  'POST /api/escrow/grants': ['server/routes/permissions.test.ts', 'refuses to give the organisation key to a Client or an Auditor'],
  'POST /api/users/:id/resets': ['server/services/resets.flows.test.ts', 'follows the hierarchy table, server side'],
  'GET /api/resets': ['server/services/resets.flows.test.ts', 'lists open resets only to those who may reset the person'],
  'POST /api/resets/:id/approve': ['server/services/resets.flows.test.ts', 'four eyes: the link goes out only after another person who may reset approves'],
  'POST /api/resets/:id/cancel': ['server/services/resets.flows.test.ts', 'four eyes: the link goes out only after another person who may reset approves'],
  'GET /api/account/escrow': ['server/services/resets.flows.test.ts', 'Nobody else\'s uses'],
  'GET /api/directory': ['server/services/directory.service.test.ts', 'shows staff everyone, and clients only staff, Auditors (witnesses) and themselves'],
  'GET /api/documents/:id/history': ['server/services/history.service.test.ts', 'sees the history of document'],
  'GET /api/me/history': ['server/services/history.service.test.ts', 'shows client A their space, documents and the team member'],
  'POST /api/uploads': ['server/services/space-access.test.ts', 'createUpload'],
  'GET /api/uploads/:id': ['server/services/uploads.service.test.ts', 'upload_not_found for unknown ids and, identically, for another user'],
  'PUT /api/uploads/:id/parts/:n': ['server/services/uploads.service.test.ts', 'upload_not_found for unknown ids and, identically, for another user'],
  'POST /api/uploads/:id/complete': ['server/services/uploads.service.test.ts', 'upload_not_found for unknown ids and, identically, for another user'],
  'DELETE /api/uploads/:id': ['server/services/uploads.service.test.ts', 'upload_not_found for unknown ids and, identically, for another user'],
  'GET /api/blobs/:blobId': ['server/services/uploads.service.test.ts', 'blob_not_found for unknown blobs and, identically, for another user'],
  'GET /api/spaces': ['server/services/documents.service.test.ts', 'lists a client only their own space; staff every space'],
  'POST /api/spaces': ['server/services/documents.service.test.ts', 'a client creates only their own client space, once; staff only the team space, once'],
  'POST /api/spaces/:spaceId/adopt': ['server/services/space-access.test.ts', 'adoptSpace'],
  'GET /api/spaces/:spaceId': ['server/services/space-access.test.ts', 'getSpace'],
  'GET /api/spaces/:spaceId/history': ['server/services/space-access.test.ts', 'getHistory'],
  'GET /api/spaces/:spaceId/documents': ['server/services/space-access.test.ts', 'listDocuments'],
  'POST /api/spaces/:spaceId/documents': ['server/services/space-access.test.ts', 'createDocument'],
  'POST /api/spaces/:spaceId/folders': ['server/services/space-access.test.ts', 'createFolder'],
  'PUT /api/folders/:folderId/name': ['server/services/space-access.test.ts', 'renameFolder'],
  'DELETE /api/folders/:folderId': ['server/services/space-access.test.ts', 'deleteFolder'],
  'GET /api/documents/:documentId': ['server/services/space-access.test.ts', 'getDocument'],
  'POST /api/documents/:documentId/versions': ['server/services/space-access.test.ts', 'addVersion'],
  'PUT /api/documents/:documentId/folder': ['server/services/space-access.test.ts', 'moveDocument'],
  'DELETE /api/documents/:documentId': ['server/services/documents.service.test.ts', 'clients delete only their own'],
  'GET /api/versions/:versionId/content': ['server/services/space-access.test.ts', 'downloadVersion'],
  'GET /api/spaces/:spaceId/threads': ['server/services/space-access.test.ts', 'listThreads'],
  'POST /api/spaces/:spaceId/threads': ['server/services/space-access.test.ts', 'createThread'],
  'GET /api/threads/:threadId': ['server/services/space-access.test.ts', 'getThread'],
  'POST /api/threads/:threadId/messages': ['server/services/space-access.test.ts', 'postMessage'],
  'POST /api/messages/:messageId/revisions': ['server/services/messages.service.test.ts', 'revisions: only the author'],
  'POST /api/threads/:threadId/read': ['server/services/space-access.test.ts', 'markThreadRead'],
  'GET /api/spaces/:spaceId/requests': ['server/services/space-access.test.ts', 'listRequests'],
  'POST /api/spaces/:spaceId/requests': ['server/services/requests.service.test.ts', 'forbidden for the team space'],
};

/** These end the caller's session(s): the member signs in again after each. */
const endsSessions = new Set(['POST /api/auth/logout', 'POST /api/auth/logout-everywhere']);

/** What the role gate answers (define-route.ts assertAccess); an allowed cell must answer none of these. */
const gateCodes = ['unauthenticated', 'forbidden', 'ip_not_allowed', 'password_expired'];

let org: TestOrganisation;
let members: Record<Exclude<Column, 'anonymous'>, Member>;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], { env: { KLUIS_LOGIN_LIMIT_PER_IP: '1000' } });
  members = { admin: org.admin, team: org.members.team!, client: org.members.client!, auditor: org.members.auditor! };
}, budget(120_000));
afterAll(() => org?.close());

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
}

/** A request as a browser on our origin sends it, with `member`'s session cookie (none for anonymous). */
async function send(member: Member | null, method: string, path: string, json?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { Origin: org.testApp.config.publicOrigin };
  if (member) headers.Cookie = [...member.client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(org.server.baseUrl + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await response.text();
  const body = /json/.test(response.headers.get('content-type') ?? '') && text ? (JSON.parse(text) as { error?: { code?: string } }) : {};
  return { status: response.status, code: body.error?.code };
}

/** Every `:param` replaced by a well-formed id that names nothing. */
const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, (param) => (param === ':n' ? '0' : 'AAAAAAAAAAAAAAAAAAAAAA'));

describe('the permission table', () => {
  it('has exactly one row for every API route the app registers, and for nothing else', () => {
    const registered = org.testApp.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path}`);
    const rows = table.map(([route]) => route);
    expect(new Set(rows).size).toBe(rows.length);
    expect([...new Set(registered)].sort()).toEqual([...rows].sort());
  });

  it('points each object-checked route at a row and at a test that exists', async () => {
    const rows = new Set(table.map(([route]) => route));
    for (const [route, [file, test]] of Object.entries(objectChecked)) {
      expect(rows.has(route), route).toBe(true);
      expect(await readFile(new URL(`../../${file}`, import.meta.url), 'utf8'), `${route} → ${file}`).toContain(test);
    }
  });

  const cells = table.flatMap(([route, ...expected]) => columns.map((column, i) => [route, column, expected[i]!] as const));

  it.each(cells)('%s as %s: %s', async (route, column, expected) => {
    const [method = '', path = ''] = route.split(' ');
    const member = column === 'anonymous' ? null : members[column];
    // A body that fails validation if the gate lets the request through: nothing is changed.
    const answer = await send(member, method, concrete(path), method === 'GET' ? undefined : {});
    if (column !== 'anonymous' && member && endsSessions.has(route)) members[column] = await org.relogin(member);

    if (expected === Y) {
      expect(gateCodes, `${answer.status} ${answer.code}`).not.toContain(answer.code);
      expect(answer.code, 'the route exists').not.toBe('method_not_allowed');
    } else {
      expect([answer.status, answer.code]).toEqual(expected === N ? [403, 'forbidden'] : [401, 'unauthenticated']);
    }
  });
});

describe('object rules the table points at', () => {
  it('ends only sessions of the caller: another person\'s session id is not_found and that session lives on', async () => {
    const client = await org.relogin(members.client);
    const auditor = await org.relogin(members.auditor);
    const { sessions } = await client.client.api(listSessions, {});
    const clientSession = sessions.find((s) => s.current)!.id;
    expect(await send(auditor, 'DELETE', `/api/auth/sessions/${clientSession}`)).toEqual({ status: 404, code: 'not_found' });
    await expect(client.client.api(getSession, {})).resolves.toMatchObject({ user: { id: client.userId } });
  });

  it('Team Members revoke invitations of clients only; a staff invitation stays open', async () => {
    const admin = await org.relogin(members.admin);
    const team = await org.relogin(members.team);
    const staffInvitation = (await invite(admin.client.api, admin.vault, { email: 'new-team@kluis.test', role: 'team', language: 'en' })).invitation.id;
    const clientInvitation = (await invite(team.client.api, team.vault, { email: 'new-client@kluis.test', role: 'client', language: 'en' })).invitation.id;
    expect(await send(team, 'DELETE', `/api/invitations/${staffInvitation}`)).toEqual({ status: 403, code: 'forbidden' });
    expect((await team.client.api(listInvitations, {})).invitations.map((i) => i.id)).toEqual([clientInvitation]);
    expect((await admin.client.api(listInvitations, {})).invitations.map((i) => i.id).sort()).toEqual([staffInvitation, clientInvitation].sort());
    expect((await send(team, 'DELETE', `/api/invitations/${clientInvitation}`)).status).toBe(204);
  });

  it('Team Members end sessions of clients only: the Administrator stays signed in', async () => {
    const admin = await org.relogin(members.admin);
    const team = await org.relogin(members.team);
    expect(await send(team, 'POST', `/api/users/${admin.userId}/sessions/end`)).toEqual({ status: 403, code: 'forbidden' });
    await expect(admin.client.api(getSession, {})).resolves.toMatchObject({ user: { id: admin.userId } });
  });
});

describe('the escrow (organisation) key goes to staff only', () => {
  const grantsOf = (userId: string) => org.testApp.db.selectFrom('escrow_grants').select(['user_id', 'kind']).where('user_id', '=', userId).execute();
  const grantEventsFor = (userId: string) =>
    org.testApp.db.selectFrom('audit_events').select('id').where('action', '=', 'escrow.granted').where('target_id', '=', userId).execute();
  const holderIds = async (member: Member) =>
    (await member.client.api(listEscrowHolders, {})).statements.map((s) => (JSON.parse(Buffer.from(s.payload, 'base64url').toString('utf8')) as { holderId: string }).holderId);

  it.each(['client', 'auditor'] as const)(
    'refuses to give the organisation key to a Client or an Auditor (%s): over HTTP and in the service, storing nothing',
    async (role) => {
      const admin = await org.relogin(members.admin);
      const target = members[role];
      // The Administrator's own browser flow, which seals the key to any certified person: only the server stops it.
      const identity = await certifiedIdentity(admin.client.api, admin.vault, target.userId);
      expect(identity?.userId).toBe(target.userId);
      await expect(grantEscrowAccess(admin.client.api, admin.vault, identity)).rejects.toMatchObject({ status: 422, code: 'escrow_holder_not_staff' });

      // The same request body, straight to the service with an Administrator actor.
      const sent = admin.client.sent.filter((r) => r.url.endsWith('/api/escrow/grants')).at(-1)!;
      const actor = { userId: admin.userId, role: 'admin' as const, sessionId: 'direct', authenticatedAt: new Date().toISOString(), ip: null };
      await expect(org.testApp.services.people.grantEscrow(actor, JSON.parse(sent.body) as never)).rejects.toMatchObject({ code: 'escrow_holder_not_staff' });

      expect(await grantsOf(target.userId)).toEqual([]);
      expect(await grantEventsFor(target.userId)).toEqual([]);
      expect(await holderIds(admin)).not.toContain(target.userId);
      // The same queries do see the Team Member's grant (the fixture's, through the same flow).
      expect(await grantsOf(members.team.userId)).toEqual([{ user_id: members.team.userId, kind: 'wrapped' }]);
      expect(await holderIds(admin)).toContain(members.team.userId);
    },
  );
});
