// Every failure of an account flow reaches the page as a stable code, and no internal message leaks.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DecryptionError,
  IntegrityError,
  UnsupportedVersionError,
  WeakParametersError,
  decryptRecord,
  encryptRecord,
  fromBase64Url,
  generateSecretKey,
  toBase64Url,
  utf8,
} from '../../shared/crypto';
import {
  LoginRejectedError,
  PasswordRejectedError,
  RecoverySecretFormatError,
  RecoverySecretRejectedError,
} from '../../shared/flows/account-flows';
import { openFileKey, prepareVersion } from '../../shared/flows/spaces';
import { SecondFactorNeededError } from '../../shared/flows/second-factor';
import { EscrowChainError } from '../../shared/flows/escrow-rotation';
import { PinMismatchError } from '../../shared/flows/vault';
import { ApiError } from '../../shared/api/client';
import { KeyChangedError, NotSignedInError, outcomeOf, toFailure } from './outcome';

describe('toFailure', () => {
  it('keeps an ApiError as it is: status, code, message, request id, issues', () => {
    const error = new ApiError({
      status: 401,
      code: 'reauthentication_required',
      message: 'Sign in again.',
      requestId: 'req-1',
      issues: [{ path: 'body.x', message: 'bad' }],
    });
    expect(toFailure(error)).toEqual({
      status: 401,
      code: 'reauthentication_required',
      message: 'Sign in again.',
      requestId: 'req-1',
      issues: [{ path: 'body.x', message: 'bad' }],
    });
  });

  it.each([
    [new LoginRejectedError(), 'login_rejected'],
    [new PinMismatchError('opaque-server-key'), 'pin_mismatch'],
    [new PinMismatchError('escrow-key'), 'pin_mismatch'],
    [new KeyChangedError(), 'pin_mismatch'],
    [new EscrowChainError('unsigned-rotation'), 'escrow_chain_invalid'],
    [new EscrowChainError('no-path'), 'escrow_chain_invalid'],
    [new PasswordRejectedError(['common']), 'password_rejected'],
    [new RecoverySecretFormatError(), 'recovery_secret_invalid'],
    [new RecoverySecretRejectedError(), 'decryption_failed'],
    [new DecryptionError(), 'integrity_failed'],
    [new IntegrityError('authentication_failed'), 'integrity_failed'],
    [new IntegrityError('malformed'), 'integrity_failed'],
    [new UnsupportedVersionError('record', 9), 'integrity_failed'],
    [new WeakParametersError('memory'), 'integrity_failed'],
    [new NotSignedInError(), 'not_signed_in'],
    [new SecondFactorNeededError({ challengeId: 'A'.repeat(43), expiresAt: '2030-01-01T00:00:00.000Z', methods: ['totp'] }), 'second_factor_needed'],
  ] as const)('maps %s to %s with status 0', (error, code) => {
    expect(toFailure(error)).toMatchObject({ status: 0, code });
  });

  it('reads a local parse failure as a damaged link', () => {
    const parsed = z.object({ e: z.string().length(64) }).safeParse({ e: 'short' });
    expect(parsed.success).toBe(false);
    expect(toFailure(parsed.error)).toMatchObject({ code: 'invalid_link' });
  });

  it('answers anything else with a fixed message, never the original one', () => {
    const failure = toFailure(new TypeError('internal detail: key bytes 0a0b0c'));
    expect(failure.code).toBe('crypto_failed');
    expect(failure.message).not.toContain('0a0b0c');
  });

  it.each([
    ['a TypeError (crypto.subtle missing)', new TypeError("Cannot read properties of undefined (reading 'importKey')")],
    ['a NotSupportedError', new DOMException('Algorithm: Unrecognized name', 'NotSupportedError')],
    ['an OperationError outside authentication', new DOMException('The operation failed for an operation-specific reason', 'OperationError')],
    ['a WebAssembly CompileError', new WebAssembly.CompileError('wasm-unsafe-eval is not allowed')],
  ])('keeps the engine message for %s', (_name, error) => {
    expect(toFailure(error)).toEqual({
      status: 0,
      code: 'crypto_failed',
      message: 'The encryption engine could not complete this operation.',
    });
  });
});

/** The one answer for every authentication failure: altered or damaged, never the browser. */
const tampered = { status: 0, code: 'integrity_failed', message: 'This item was altered or is damaged.' };

describe('authentication failures of real keys and records', () => {
  const spaceId = 'space-1';
  const documentId = 'document-1';
  const metadata = { name: 'Jaarrekening 2024.pdf', size: 1000, type: 'application/pdf', lastModified: 0 };

  it('reads a wrapped file key that the server took from another space as altered or damaged', async () => {
    const spaceKeyA = await generateSecretKey('space', { extractable: true });
    const spaceKeyB = await generateSecretKey('space', { extractable: true });
    const other = await prepareVersion(spaceKeyA, spaceId, documentId, metadata);
    // The server serves, for a version of space B, the wrapped key of a version of space A.
    const served = { id: other.versionId, documentId, wrappedFileKey: other.wrappedFileKey };
    const outcome = await outcomeOf(() => openFileKey(spaceKeyB, spaceId, served));
    expect(outcome).toEqual({ ok: false, failure: tampered });
  });

  it('reads the wrapped file key of another version of the same space as altered or damaged', async () => {
    const spaceKey = await generateSecretKey('space', { extractable: true });
    const first = await prepareVersion(spaceKey, spaceId, documentId, metadata);
    const second = await prepareVersion(spaceKey, spaceId, documentId, metadata);
    // Same space key, so the key commitment matches; the context (version id) does not.
    const swapped = { id: second.versionId, documentId, wrappedFileKey: first.wrappedFileKey };
    expect(await outcomeOf(() => openFileKey(spaceKey, spaceId, swapped))).toEqual({ ok: false, failure: tampered });
    // The untouched version still opens: the failure above is the swap, nothing else.
    const own = { id: second.versionId, documentId, wrappedFileKey: second.wrappedFileKey };
    expect(await outcomeOf(() => openFileKey(spaceKey, spaceId, own))).toMatchObject({ ok: true });
  });

  it('reads a wrapped file key with any one flipped bit as altered or damaged', async () => {
    const spaceKey = await generateSecretKey('space', { extractable: true });
    const version = await prepareVersion(spaceKey, spaceId, documentId, metadata);
    const wrapped = fromBase64Url(version.wrappedFileKey);
    for (let byte = 0; byte < wrapped.length; byte += 1) {
      const flipped = wrapped.slice();
      flipped[byte]! ^= 1 << byte % 8;
      const served = { id: version.versionId, documentId, wrappedFileKey: toBase64Url(flipped) };
      expect(await outcomeOf(() => openFileKey(spaceKey, spaceId, served)), `byte ${byte}`).toEqual({ ok: false, failure: tampered });
    }
  });

  it('reads a record with a flipped bit, or under another key, as altered or damaged', async () => {
    const key = await generateSecretKey('space');
    const ctx = { type: 'message', id: 'message-1', owner: spaceId };
    const envelope = await encryptRecord(key, utf8('Hierbij de stukken.'), ctx);
    for (const byte of [0, 1, 40, Math.floor(envelope.length / 2), envelope.length - 1]) {
      const flipped = envelope.slice();
      flipped[byte]! ^= 0x01;
      expect(await outcomeOf(() => decryptRecord(key, flipped, ctx)), `byte ${byte}`).toEqual({ ok: false, failure: tampered });
    }
    const otherKey = await generateSecretKey('space');
    expect(await outcomeOf(() => decryptRecord(otherKey, envelope, ctx))).toEqual({ ok: false, failure: tampered });
  });
});

describe('outcomeOf', () => {
  it('returns the value, or the failure of a rejection or a synchronous throw', async () => {
    expect(await outcomeOf(() => Promise.resolve(7))).toEqual({ ok: true, value: 7 });
    expect(await outcomeOf(() => Promise.reject(new LoginRejectedError()))).toMatchObject({
      ok: false,
      failure: { code: 'login_rejected' },
    });
    expect(
      await outcomeOf(() => {
        throw new NotSignedInError();
      }),
    ).toMatchObject({ ok: false, failure: { code: 'not_signed_in' } });
  });
});
