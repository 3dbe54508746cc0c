// Every failure of an account flow reaches the page as a stable code, and no internal message leaks.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DecryptionError, IntegrityError } from '../../shared/crypto';
import {
  LoginRejectedError,
  PasswordRejectedError,
  RecoverySecretFormatError,
} from '../../shared/flows/account-flows';
import { PinMismatchError } from '../../shared/flows/vault';
import { ApiError } from '../api/api-error';
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
    [new PasswordRejectedError(['common']), 'password_rejected'],
    [new RecoverySecretFormatError(), 'recovery_secret_invalid'],
    [new DecryptionError(), 'decryption_failed'],
    [new IntegrityError('authentication_failed'), 'crypto_failed'],
    [new NotSignedInError(), 'not_signed_in'],
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
