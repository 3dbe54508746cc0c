// The OPAQUE server (RFC 9807) over @serenity-kit/opaque: the only server module that touches it.
import { createHmac } from 'node:crypto';
import * as opaque from '@serenity-kit/opaque';
import { fail } from '../errors';

export interface OpaqueServer {
  /** The server's static public key (base64url), pinned by every browser. */
  readonly publicKey: string;
  createRegistrationResponse(userId: string, registrationRequest: string): string;
  /**
   * Credential response for a login start. `record` null gives the library's fake response, which
   * is indistinguishable from a real one; `userId` must then be a stable pseudonym of the address.
   */
  startLogin(userId: string, record: string | null, startLoginRequest: string): { state: string; response: string };
  /** Whether the client proved knowledge of the password (key confirmation verified). */
  finishLogin(state: string, finishLoginRequest: string): boolean;
  /** Stable pseudonymous OPAQUE identifier for an address without an account (HMAC with a server key). */
  fakeUserId(email: string): string;
  /**
   * A 256-bit key for `label`, derived from the server secret (HMAC-SHA-256): kept with the OPAQUE
   * secret, outside the database, so a stolen database or backup cannot use it. Labels in use:
   * 'totp-secrets' (AES-256-GCM over TOTP secrets), 'backup-codes' (HMAC of backup codes),
   * 'email-codes' (HMAC of the e-mailed codes while they wait in the ephemeral store),
   * 'reset-links' (AES-256-GCM over an escrow reset's link secret until its e-mail went out),
   * 'audit-log' (the seed of the Ed25519 key that signs audit tree heads, server/audit/log-key.ts).
   */
  secretKey(label: 'totp-secrets' | 'backup-codes' | 'email-codes' | 'reset-links' | 'audit-log'): Buffer;
}

export class OpaqueProtocolError extends Error {
  override readonly name = 'OpaqueProtocolError';
}

/** Wraps a ServerSetup string. Throws OpaqueProtocolError if it is not a valid setup. */
export async function createOpaqueServer(serverSetup: string): Promise<OpaqueServer> {
  await opaque.ready;
  let publicKey: string;
  try {
    publicKey = opaque.server.getPublicKey(serverSetup);
  } catch {
    throw new OpaqueProtocolError('The OPAQUE server secret is not a valid ServerSetup.');
  }
  // A separate key for pseudonyms, derived from the secret under its own label.
  const pseudonymKey = createHmac('sha256', 'kluis/v1/opaque-fake-user').update(serverSetup).digest();
  return {
    publicKey,
    secretKey(label) {
      return createHmac('sha256', `kluis/v1/${label}`).update(serverSetup).digest();
    },
    createRegistrationResponse(userId, registrationRequest) {
      try {
        return opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: userId, registrationRequest }).registrationResponse;
      } catch {
        throw fail('bad_request', 'The OPAQUE registration request is malformed.');
      }
    },
    startLogin(userId, record, startLoginRequest) {
      try {
        const result = opaque.server.startLogin({ serverSetup, userIdentifier: userId, registrationRecord: record, startLoginRequest });
        return { state: result.serverLoginState, response: result.loginResponse };
      } catch {
        throw fail('bad_request', 'The OPAQUE login request is malformed.');
      }
    },
    finishLogin(state, finishLoginRequest) {
      try {
        opaque.server.finishLogin({ serverLoginState: state, finishLoginRequest });
        return true;
      } catch {
        return false;
      }
    },
    fakeUserId(email) {
      return 'fake-' + createHmac('sha256', pseudonymKey).update(email).digest('base64url');
    },
  };
}

/** A fresh ServerSetup (OPRF seed and static key pair). */
export async function generateOpaqueServerSetup(): Promise<string> {
  await opaque.ready;
  return opaque.server.createSetup();
}

/** Validates client-supplied registration records before storing them (cheap structural check). */
export function isPlausibleRegistrationRecord(record: string): boolean {
  return /^[A-Za-z0-9_-]{200,400}$/.test(record);
}
