// Escrow transparency in the worker: each listed use of escrow is verified against the resetter's CERTIFIED signing
// key (real ECDSA signatures, real statements); the server's word alone never makes a use "verified".
import { describe, expect, it } from 'vitest';
import type { EscrowUse } from '../../shared/api';
import type { CallApi } from '../../shared/api/client';
import { generateSecretKey, generateSigningKeyPair } from '../../shared/crypto';
import type { VerifiedIdentity } from '../../shared/flows/certificates';
import { signEscrowUse } from '../../shared/flows/escrow-reset';
import type { AccountSlot } from './account-operations';
import { createResetOperations } from './reset-operations';
import type { DirectoryTrust } from './trust';

// Ids have the wire shape (22 base64url characters), as the statement schema requires.
const id = (label: string) => label.padEnd(22, '_');
const ME = id('client-me');
const OTHER = id('client-other');
const TOM = id('team-tom');
const CARL = id('client-carl');
const RESET = id('reset-1');
const WRAP = 'ab'.repeat(32);

async function setting() {
  const wrapping = await generateSecretKey('user');
  const pair = (owner: string) => generateSigningKeyPair(wrapping, { id: 'signing', owner });
  const tomKeys = await pair(TOM);
  const serverKeys = await pair('server');
  const carlKeys = await pair(CARL);
  const identity = (userId: string, role: VerifiedIdentity['role'], signingKey: VerifiedIdentity['signingKey']) =>
    ({ userId, email: `${userId}@kluis.test`, role, signingKey }) as unknown as VerifiedIdentity;
  const identities = new Map<string, VerifiedIdentity>([
    [TOM, identity(TOM, 'team', tomKeys.publicKey)],
    [CARL, identity(CARL, 'client', carlKeys.publicKey)],
  ]);
  const listed = (useId: string, fields: Partial<EscrowUse>): EscrowUse => ({
    id: useId,
    kind: 'reset',
    actorId: TOM,
    actorEmail: 'tom@kluis.test',
    occurredAt: '2026-12-06T10:00:00.000Z',
    subjectId: RESET,
    statement: null,
    ...fields,
  });
  const at = '2026-12-06T10:00:00.000Z';
  const uses: EscrowUse[] = [
    listed('u-signed-by-tom-xxxxxxx', { statement: await signEscrowUse(tomKeys.privateKey, { user: ME, reset: RESET, wrap: WRAP, by: TOM, at }) }),
    // The server made up a statement under a key of its own, in Tom's name.
    listed('u-server-key-xxxxxxxxxx', { statement: await signEscrowUse(serverKeys.privateKey, { user: ME, reset: RESET, wrap: WRAP, by: TOM, at }) }),
    // Tom's real statement about another person, listed on this account.
    listed('u-other-person-xxxxxxxx', { statement: await signEscrowUse(tomKeys.privateKey, { user: OTHER, reset: RESET, wrap: WRAP, by: TOM, at }) }),
    // Tom's real statement about another reset of this person, listed under this reset's id.
    listed('u-other-reset-xxxxxxxxx', { subjectId: id('reset-2'), statement: await signEscrowUse(tomKeys.privateKey, { user: ME, reset: RESET, wrap: WRAP, by: TOM, at }) }),
    // A certified client signed it: clients reset nobody.
    listed('u-by-a-client-xxxxxxxxx', { actorId: CARL, statement: await signEscrowUse(carlKeys.privateKey, { user: ME, reset: RESET, wrap: WRAP, by: CARL, at }) }),
    // A reset with no statement at all.
    listed('u-no-statement-xxxxxxxx', {}),
    listed('u-first-access-xxxxxxxx', { kind: 'first-access', subjectId: null }),
  ];
  const api = ((endpoint: { operationId: string }) => {
    if (endpoint.operationId === 'getMyEscrow') return Promise.resolve({ holders: [], uses, fourEyes: true });
    return Promise.reject(new Error(`unexpected call ${endpoint.operationId}`));
  }) as unknown as CallApi;
  const account = {
    current: { vault: { userId: ME, keySafe: { escrowFingerprint: 'e'.repeat(64), adminRootFingerprint: 'f'.repeat(64) } } },
  } as unknown as AccountSlot;
  const trust = { directory: () => Promise.resolve({ identities, unverified: new Map(), rootFound: true, entries: [] }) } as unknown as DirectoryTrust;
  return createResetOperations({ api, account, trust, login: () => Promise.reject(new Error('no login here')) });
}

describe('myEscrow', () => {
  it('marks a use verified only when the certified staff member it names signed it for this account and this reset', async () => {
    const operations = await setting();
    const escrow = await operations.myEscrow();
    expect(Object.fromEntries(escrow.uses.map((use) => [use.id, use.state]))).toEqual({
      'u-signed-by-tom-xxxxxxx': 'verified',
      'u-server-key-xxxxxxxxxx': 'unverified',
      'u-other-person-xxxxxxxx': 'unverified',
      'u-other-reset-xxxxxxxxx': 'unverified',
      'u-by-a-client-xxxxxxxxx': 'unverified',
      'u-no-statement-xxxxxxxx': 'unverified',
      'u-first-access-xxxxxxxx': 'recorded',
    });
    expect(escrow.escrowFingerprint).toBe('e'.repeat(64));
    expect(escrow.fourEyes).toBe(true);
  });
});
