// Random identifiers and tokens, and their stored hashes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** 128 random bits as 22 base64url characters: every id the server hands out. */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** A random UUID (version 4): the ids of audit events. */
export function newUuid(): string {
  return randomUUID();
}

/** 256 random bits as 43 base64url characters: session, invitation, setup and recovery tokens. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are stored only as SHA-256 (hex): a database reader cannot use them. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
