// The crypto Web Worker: the only place in the browser where key material lives; exposed to the page with comlink.
import { expose } from 'comlink';
import {
  DecryptionError,
  IntegrityError,
  constantTimeEqual,
  createSha256,
  decryptRecord,
  encryptRecord,
  fromHex,
  generateSecretKey,
  randomBytes,
  sha256,
  toHex,
  utf8,
} from '../../shared/crypto';
import { createApiClient } from '../../shared/api/client';
import { type AccountSlot, createAccountOperations } from './account-operations';
import { createAuditOperations } from './audit-operations';
import { opfsStateStorage } from './key-safe-keeper';
import { createHistoryOperations } from './history-operations';
import { createLifecycleOperations } from './lifecycle-operations';
import { createResetOperations } from './reset-operations';
import { outcomeOf, type WorkerOutcome } from './outcome';
import { createRotationOperations } from './rotation-operations';
import { createSpaceOperations } from './space-operations';
import type { SpaceOperations, TransferOperations } from './space-types';
import { createTransferOperations } from './transfers';
import { createTrust } from './trust';

/**
 * WARNING: nothing this API returns may be key material. Keys are created, unwrapped and used here;
 * the page receives only ciphertext, plaintext it asked for, and status. Terminating the worker is
 * how the vault drops every key at once (see client/vault).
 */

export interface SelfTestReport {
  /** Wall time of the whole self-test, in milliseconds. */
  readonly durationMs: number;
  /** Names of the checks that passed, in order. */
  readonly checks: readonly string[];
}

// SHA-256("abc"), FIPS 180-2 appendix B.1: proves the WebAssembly hash (hash-wasm) compiled and runs.
const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

class SelfTestFailure extends Error {
  override readonly name = 'SelfTestFailure';
  constructor(check: string) {
    super(`encryption self-test failed: ${check}`);
  }
}

async function rejectsWith(
  operation: Promise<unknown>,
  type: new (...args: never[]) => Error,
): Promise<boolean> {
  try {
    await operation;
    return false;
  } catch (error) {
    return error instanceof type;
  }
}

/**
 * A real round trip through shared/crypto with fresh keys: record encryption (WebCrypto), the
 * key-commitment and context checks, and the WebAssembly hash. Throws SelfTestFailure naming the
 * first check that failed.
 */
async function selfTest(): Promise<SelfTestReport> {
  const started = performance.now();
  const checks: string[] = [];
  const check = (name: string, passed: boolean): void => {
    if (!passed) throw new SelfTestFailure(name);
    checks.push(name);
  };

  const key = await generateSecretKey('space');
  const otherKey = await generateSecretKey('space');
  const ctx = { type: 'self-test', id: toHex(randomBytes(16)), owner: toHex(randomBytes(16)) };
  const plaintext = utf8('Kluis self-test: zelftest, ünïcødé, 🔐');

  const envelope = await encryptRecord(key, plaintext, ctx);
  const decrypted = await decryptRecord(key, envelope, ctx);
  check('record-round-trip', constantTimeEqual(decrypted, plaintext));
  check(
    'record-wrong-key',
    await rejectsWith(decryptRecord(otherKey, envelope, ctx), DecryptionError),
  );
  check(
    'record-moved',
    await rejectsWith(
      decryptRecord(key, envelope, { ...ctx, id: toHex(randomBytes(16)) }),
      IntegrityError,
    ),
  );
  const flipped = envelope.slice();
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
  check('record-tampered', await rejectsWith(decryptRecord(key, flipped, ctx), IntegrityError));

  const hasher = await createSha256();
  hasher.update(utf8('a'));
  hasher.update(utf8('bc'));
  const wasmDigest = hasher.digest();
  check('wasm-sha256', constantTimeEqual(wasmDigest, fromHex(SHA256_ABC)));
  check('webcrypto-sha256', constantTimeEqual(await sha256(utf8('abc')), wasmDigest));

  return { durationMs: Math.round(performance.now() - started), checks };
}

// fetch from this worker is same-origin: the session cookie and the Origin header go with it.
const callApi = createApiClient();
// WARNING: the unlocked account (vault, keys) lives in this slot, inside this worker only.
const slot: AccountSlot = { current: null };
// What this worker trusts: the key directory verified against the pinned root, and the key safe's
// remembered heads; the space operations verify every author and head through it.
export const trust = createTrust({ api: callApi, account: slot });
const accounts = createAccountOperations(callApi, slot, { storage: opfsStateStorage(), trust });
const spaces = createSpaceOperations({ api: callApi, account: slot, trust });
const transfers = createTransferOperations({ api: callApi, spaces });
const lifecycle = createLifecycleOperations({ api: callApi, account: slot, trust });
const resets = createResetOperations({ api: callApi, account: slot, trust, login: (email, password, secondFactor) => accounts.login(email, password, secondFactor) });
const rotation = createRotationOperations({ api: callApi, account: slot, trust });
const history = createHistoryOperations({ api: callApi, account: slot, trust });
const audit = createAuditOperations({ api: callApi, account: slot, trust });

type Operations = typeof accounts & SpaceOperations & TransferOperations & typeof lifecycle & typeof resets & typeof rotation & typeof history & typeof audit;
const operations: Operations = { ...accounts, ...spaces, ...transfers, ...lifecycle, ...resets, ...rotation, ...history, ...audit };

/** Every account, space and transfer operation, returning an outcome instead of throwing (see ./outcome.ts). */
type GuardedOperations = {
  readonly [K in keyof Operations]: (
    ...args: Parameters<Operations[K]>
  ) => Promise<WorkerOutcome<Awaited<ReturnType<Operations[K]>>>>;
};

function guard<K extends keyof Operations>(name: K): GuardedOperations[K] {
  const operation = operations[name] as (...args: unknown[]) => unknown;
  return ((...args: unknown[]) =>
    outcomeOf(() => Promise.resolve(operation(...args)))) as GuardedOperations[K];
}

const guardedOperations: GuardedOperations = {
  setup: guard('setup'),
  login: guard('login'),
  signInWithPasskey: guard('signInWithPasskey'),
  enablePasskeyUnlock: guard('enablePasskeyUnlock'),
  signup: guard('signup'),
  recover: guard('recover'),
  reauthenticate: guard('reauthenticate'),
  changePassword: guard('changePassword'),
  invite: guard('invite'),
  listPeople: guard('listPeople'),
  verifyEscrowHolders: guard('verifyEscrowHolders'),
  grantEscrow: guard('grantEscrow'),
  confirmKeys: guard('confirmKeys'),
  trustWarnings: guard('trustWarnings'),
  ownKeys: guard('ownKeys'),
  checkPassword: guard('checkPassword'),
  lock: guard('lock'),
  listSpaces: guard('listSpaces'),
  listDocuments: guard('listDocuments'),
  documentHistory: guard('documentHistory'),
  deleteDocument: guard('deleteDocument'),
  moveDocument: guard('moveDocument'),
  createFolder: guard('createFolder'),
  renameFolder: guard('renameFolder'),
  deleteFolder: guard('deleteFolder'),
  listThreads: guard('listThreads'),
  openThread: guard('openThread'),
  startThread: guard('startThread'),
  reply: guard('reply'),
  editMessage: guard('editMessage'),
  markThreadRead: guard('markThreadRead'),
  listRequests: guard('listRequests'),
  createRequest: guard('createRequest'),
  closeRequest: guard('closeRequest'),
  getProfile: guard('getProfile'),
  updateProfile: guard('updateProfile'),
  uploadFile: guard('uploadFile'),
  cancelTransfer: guard('cancelTransfer'),
  prepareStreamedDownload: guard('prepareStreamedDownload'),
  decryptToBlob: guard('decryptToBlob'),
  changeRole: guard('changeRole'),
  startReset: guard('startReset'),
  checkReset: guard('checkReset'),
  completeReset: guard('completeReset'),
  myEscrow: guard('myEscrow'),
  rotationStatus: guard('rotationStatus'),
  startEscrowRotation: guard('startEscrowRotation'),
  continueEscrowRotation: guard('continueEscrowRotation'),
  finishEscrowRotation: guard('finishEscrowRotation'),
  escrowKeyFingerprint: guard('escrowKeyFingerprint'),
  checkHistoryEvents: guard('checkHistoryEvents'),
  latestWitnessedHead: guard('latestWitnessedHead'),
  verifyAuditLog: guard('verifyAuditLog'),
  auditEventDetail: guard('auditEventDetail'),
  exportAuditLog: guard('exportAuditLog'),
  countersignAuditHead: guard('countersignAuditHead'),
  auditWitnesses: guard('auditWitnesses'),
  auditPin: guard('auditPin'),
};

const api = { selfTest, ...guardedOperations };

export type CryptoWorkerApi = typeof api;

expose(api);
