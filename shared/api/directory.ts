// Key directory endpoints: every person's public keys with the certificates that vouch for them, the
// signing keys of accounts made before everyone had one, and the key safe's compare-and-swap update.
//
// WARNING: the server stores and serves these, but never vouches for them. A browser uses a public
// key only after verifying a certificate chain back to the root Administrator key pinned in its key
// safe (SECURITY.md §4.9, shared/flows/certificates.ts); a server flag can make nobody trusted.
import { z } from 'zod';
import { ALL_ROLES, STAFF_ROLES, defineEndpoint } from './contract';
import { SPACE_ROLES } from './documents';
import { base64url, idSchema, roleSchema, signedPayloadSchema } from './wire';

const spki = base64url(1024);
const recordEnvelope = base64url(8192);

export const directoryEntrySchema = z
  .object({
    id: idSchema,
    email: z.string(),
    /** The role the server has on file. The browser trusts the role in a verified certificate instead. */
    role: roleSchema,
    /** RSA-OAEP-4096 public key (DER SPKI). */
    publicKey: spki,
    /** ECDSA P-256 signing key (DER SPKI); null for an account made before everyone had one that has not signed in since. */
    signingPublicKey: spki.nullable(),
    /** Certificates issued for this person (shared/flows/certificates.ts), oldest first. */
    certificates: z.array(signedPayloadSchema),
    /**
     * The invitee's proof of possession: HMAC-SHA-256 under the invitation binding key over
     * (invitationId, userId, email, role, encryption and signing key fingerprints). Null for accounts
     * made before bindings, or invited by someone who did not hold the escrow key.
     */
    binding: z.strictObject({ invitationId: idSchema, mac: base64url(32) }).nullable(),
    /**
     * The owner's signed statement about their user key's escrow copy ("user-key-escrow": digest of
     * the seal and the user key's commitment). Staff open the escrow copy only when it verifies.
     */
    escrowCopyStatement: signedPayloadSchema.nullable(),
  })
  .meta({ id: 'DirectoryEntry' });
export type DirectoryEntry = z.infer<typeof directoryEntrySchema>;

export const getDirectory = defineEndpoint({
  method: 'get',
  path: '/api/directory',
  operationId: 'getDirectory',
  summary: 'Public keys with their certificates: staff see everyone, clients and Auditors see staff, Auditors and themselves',
  tags: ['directory'],
  access: { roles: [...SPACE_ROLES, 'auditor'] },
  response: z.strictObject({ entries: z.array(directoryEntrySchema) }).meta({ id: 'Directory' }),
  errors: [],
});

export const issueCertificate = defineEndpoint({
  method: 'post',
  path: '/api/users/:userId/certificates',
  operationId: 'issueCertificate',
  summary: 'Store a certificate the caller signed for this person (Administrators: anyone; Team Members: clients)',
  tags: ['directory'],
  access: { roles: STAFF_ROLES },
  params: z.strictObject({ userId: idSchema }),
  body: signedPayloadSchema,
  status: 201,
  response: z.null(),
  errors: ['not_found', 'certificate_invalid', 'conflict'],
});

export const addSigningKey = defineEndpoint({
  method: 'put',
  path: '/api/account/signing-key',
  operationId: 'addSigningKey',
  summary: 'Give an account made before everyone had a signing key its ECDSA key pair (once)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z.strictObject({ publicKey: spki, wrappedPrivateKey: base64url(512) }).meta({ id: 'AddSigningKeyBody' }),
  response: z.null(),
  errors: ['signing_key_exists'],
  /** Part of signing in (shared/flows/account-flows.ts login): needed before a required factor is set up. */
  allowMissingSecondFactor: true,
});

export const putEscrowCopyStatement = defineEndpoint({
  method: 'put',
  path: '/api/account/escrow-copy-statement',
  operationId: 'putEscrowCopyStatement',
  summary: 'Store the owner’s signed statement about their user key’s escrow copy',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: signedPayloadSchema,
  response: z.null(),
  errors: ['bad_request'],
  /** Part of signing in (shared/flows/account-flows.ts login): needed before a required factor is set up. */
  allowMissingSecondFactor: true,
});

export const getKeySafe = defineEndpoint({
  method: 'get',
  path: '/api/account/key-safe',
  operationId: 'getKeySafe',
  summary: 'The stored key safe with its revision (re-read after a compare-and-swap conflict, to merge)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  response: z.strictObject({ revision: z.number().int(), keySafe: recordEnvelope }),
  errors: [],
});

export const updateKeySafe = defineEndpoint({
  method: 'put',
  path: '/api/account/key-safe',
  operationId: 'updateKeySafe',
  summary: 'Replace the key safe with a newer revision (compare-and-swap on the revision number)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z
    .strictObject({
      /** The revision the browser read; the new record carries revision + 1. */
      expectedRevision: z.number().int().min(0),
      keySafe: recordEnvelope,
    })
    .meta({ id: 'UpdateKeySafeBody' }),
  response: z.strictObject({ revision: z.number().int() }),
  errors: ['key_safe_conflict'],
});

export const directoryEndpoints = { getDirectory, issueCertificate, addSigningKey, putEscrowCopyStatement, getKeySafe, updateKeySafe } as const;
