// Recovering access through escrow (issue 21): password resets by role hierarchy (with optional four
// eyes), escrow transparency for everyone, escrow rotation when someone leaves, and the account
// life-cycle (role change, deactivate, delete, restore). SECURITY.md 5.8–5.11 describe the protocol.
import { z } from 'zod';
import { ALL_ROLES, STAFF_ROLES, defineEndpoint } from './contract';
import {
  recordEnvelopeSchema as recordEnvelope,
  opaqueRecordSchema as opaqueRecord,
  registrationRequestSchema as registrationRequest,
  sealedKeySchema as sealedKey,
  spkiSchema as spki,
  tokenSchema as token,
  wrappedKeySchema as wrappedKey,
  wrappedPrivateKeySchema as wrappedPrivateKey,
  recoveryParamsSchema,
} from './accounts';
import { passwordRulesSchema } from '../accounts/password-rules';
import { base64url, idSchema, isoDateTime, languageSchema, roleSchema, signedPayloadSchema } from './wire';

/** A key fingerprint or digest: 64 lower-case hex digits. */
export const hex64Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

// ---------------------------------------------------------------------------------------------
// Password resets through escrow

export const resetStatusSchema = z.enum(['awaiting_approval', 'sent', 'used', 'cancelled', 'failed', 'expired']);
export type ResetStatus = z.infer<typeof resetStatusSchema>;

/** A reset as staff see it (never the link secret, the code, or anything derived from them). */
export const resetViewSchema = z
  .strictObject({
    id: idSchema,
    userId: idSchema,
    userEmail: z.string(),
    createdBy: idSchema,
    createdByEmail: z.string(),
    createdAt: isoDateTime,
    expiresAt: isoDateTime,
    status: resetStatusSchema,
    liftLockout: z.boolean(),
    removeSecondFactors: z.boolean(),
    approvedBy: idSchema.nullable(),
    approvedAt: isoDateTime.nullable(),
    sentAt: isoDateTime.nullable(),
    /** Wrong recovery codes entered so far (at 5 the reset fails). */
    failedAttempts: z.number().int(),
  })
  .meta({ id: 'PasswordReset' });
export type ResetView = z.infer<typeof resetViewSchema>;

export const createReset = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/resets',
  operationId: 'createReset',
  summary:
    'Start an escrow reset (recent login): the user key wrapped under the one-time reset key, the proof hash, the link secret for the e-mail and the signed escrow-use statement',
  tags: ['resets'],
  access: { roles: STAFF_ROLES },
  status: 201,
  params: z.strictObject({ id: idSchema }),
  body: z.strictObject({
    /** Made by the resetter's browser: the wrap is bound to it. */
    resetId: idSchema,
    /** Record "wrapped-key/user", context {id: resetId, owner: userId}, under the reset key (shared/flows/escrow-reset.ts). */
    wrappedUserKey: wrappedKey,
    /** SHA-256 (hex) of the reset proof; the server compares the proof the person's browser sends. */
    proofHash: hex64Schema,
    /** The link's #fragment secret (32 bytes): only to compose the e-mail; kept sealed until it is sent. */
    linkSecret: token,
    /** The resetter's signed "escrow-use" statement over the wrap (shared/flows/escrow-reset.ts). */
    statement: signedPayloadSchema,
    liftLockout: z.boolean(),
    removeSecondFactors: z.boolean(),
  }),
  response: z.strictObject({ reset: resetViewSchema }),
  errors: [
    'forbidden',
    'not_found',
    'reset_not_allowed',
    'reauthentication_required',
    'escrow_copy_unusable',
    'account_inactive',
    'id_taken',
    'validation_failed',
    'csrf_rejected',
    'service_unavailable',
  ],
});

export const listResets = defineEndpoint({
  method: 'get',
  path: '/api/resets',
  operationId: 'listResets',
  summary: 'Open resets of the people this staff member may reset (awaiting approval or sent), newest first',
  tags: ['resets'],
  access: { roles: STAFF_ROLES },
  response: z.strictObject({ resets: z.array(resetViewSchema) }),
  errors: ['forbidden'],
});

export const approveReset = defineEndpoint({
  method: 'post',
  path: '/api/resets/:id/approve',
  operationId: 'approveReset',
  summary: 'Four eyes: a second Team Member or Administrator who may reset this person approves (recent login); the link is e-mailed',
  tags: ['resets'],
  access: { roles: STAFF_ROLES },
  params: z.strictObject({ id: idSchema }),
  response: z.strictObject({ reset: resetViewSchema }),
  errors: ['forbidden', 'not_found', 'reset_not_allowed', 'reset_approval_own', 'reset_state', 'reauthentication_required', 'csrf_rejected', 'service_unavailable'],
});

export const cancelReset = defineEndpoint({
  method: 'post',
  path: '/api/resets/:id/cancel',
  operationId: 'cancelReset',
  summary: 'Withdraw (resetter) or decline (approver) an open reset: its link stops working',
  tags: ['resets'],
  access: { roles: STAFF_ROLES },
  params: z.strictObject({ id: idSchema }),
  response: z.strictObject({ reset: resetViewSchema }),
  errors: ['forbidden', 'not_found', 'reset_state', 'csrf_rejected'],
});

/** What the person's browser needs once it proved link and code: ciphertext and public values only. */
export const openedResetSchema = z
  .strictObject({
    userId: idSchema,
    email: z.string(),
    expiresAt: isoDateTime,
    wrappedUserKey: wrappedKey,
    /** The person's key safe (pins), to check the OPAQUE server key of the new registration. */
    keySafe: recordEnvelope,
    statement: signedPayloadSchema,
    removeSecondFactors: z.boolean(),
    /** What the browser checks the new password against (the server never sees the password). */
    passwordRules: passwordRulesSchema,
    organisationName: z.string(),
    language: languageSchema,
  })
  .meta({ id: 'OpenedReset' });

const proofBody = { resetId: idSchema, proof: token };

export const openReset = defineEndpoint({
  method: 'post',
  path: '/api/reset/open',
  operationId: 'openReset',
  summary:
    'The person proves link and code (a proof derived from both, never either one): answers the wrapped user key. Wrong proofs are counted per reset and per address',
  tags: ['resets'],
  access: 'public',
  body: z.strictObject(proofBody),
  response: openedResetSchema,
  errors: ['reset_invalid', 'reset_expired', 'reset_used', 'reset_code_invalid', 'reset_failed', 'rate_limited'],
});

export const startResetPassword = defineEndpoint({
  method: 'post',
  path: '/api/reset/password/start',
  operationId: 'startResetPassword',
  summary: 'Reset, new password step 1: an OPAQUE registration for the person (proof again)',
  tags: ['resets'],
  access: 'public',
  body: z.strictObject({ ...proofBody, registrationRequest }),
  response: z.strictObject({ registrationId: idSchema, registrationResponse: z.string() }),
  errors: ['reset_invalid', 'reset_expired', 'reset_used', 'reset_code_invalid', 'reset_failed', 'rate_limited'],
});

export const finishResetPassword = defineEndpoint({
  method: 'post',
  path: '/api/reset/password/finish',
  operationId: 'finishResetPassword',
  summary:
    'Reset, step 2: the new OPAQUE record and the user key wrapped under the new key-safe key. Ends sessions, trusted devices and other resets',
  tags: ['resets'],
  access: 'public',
  status: 204,
  body: z.strictObject({ ...proofBody, registrationId: idSchema, registrationRecord: opaqueRecord, wrappedUserKey: wrappedKey }),
  response: z.null(),
  errors: ['reset_invalid', 'reset_expired', 'reset_used', 'reset_code_invalid', 'reset_failed', 'registration_expired', 'rate_limited'],
});

// ---------------------------------------------------------------------------------------------
// Escrow transparency: everyone sees who can open their key safe and every use on their account

export const escrowUseKindSchema = z.enum(['reset', 'first-access', 'rotation']);
export type EscrowUseKind = z.infer<typeof escrowUseKindSchema>;

export const escrowUseSchema = z
  .strictObject({
    id: idSchema,
    kind: escrowUseKindSchema,
    actorId: idSchema,
    actorEmail: z.string(),
    occurredAt: isoDateTime,
    /** The reset, space or rotation it was about. */
    subjectId: idSchema.nullable(),
    /** The actor's signed statement (resets), verified by the browser against the directory. */
    statement: signedPayloadSchema.nullable(),
  })
  .meta({ id: 'EscrowUse' });
export type EscrowUse = z.infer<typeof escrowUseSchema>;

/** A rotation statement as stored: the browser follows these from its pinned escrow key. */
export const rotationStatementSchema = z
  .strictObject({ payload: signedPayloadSchema.shape.payload, signature: signedPayloadSchema.shape.signature, signerId: idSchema })
  .meta({ id: 'RotationStatement' });

export const escrowChainSchema = z
  .strictObject({
    /** The organisation's current escrow public key (DER SPKI); accepted only through `rotations` from the pin. */
    publicKey: spki,
    fingerprint: hex64Schema,
    /** Every rotation ever made, oldest first. */
    rotations: z.array(rotationStatementSchema),
  })
  .meta({ id: 'EscrowChain' });
export type EscrowChain = z.infer<typeof escrowChainSchema>;

export const getEscrowChain = defineEndpoint({
  method: 'get',
  path: '/api/escrow/chain',
  operationId: 'getEscrowChain',
  summary: 'The current escrow public key and every signed rotation statement, for browsers to move their pin along',
  tags: ['escrow'],
  access: { roles: ALL_ROLES },
  response: escrowChainSchema,
  errors: [],
  allowMissingSecondFactor: true,
});

export const getMyEscrow = defineEndpoint({
  method: 'get',
  path: '/api/account/escrow',
  operationId: 'getMyEscrow',
  summary: 'Escrow transparency: the signed holder list (with signing keys) and every use of escrow on this account',
  tags: ['escrow'],
  access: { roles: ALL_ROLES },
  response: z.strictObject({
    holders: z.array(z.strictObject({ payload: signedPayloadSchema.shape.payload, signature: signedPayloadSchema.shape.signature, signerId: idSchema })),
    uses: z.array(escrowUseSchema),
    /** Whether the organisation requires a second approver for resets. */
    fourEyes: z.boolean(),
  }),
  errors: [],
});

// ---------------------------------------------------------------------------------------------
// Escrow rotation (an Administrator's browser; resumable)

export const rotationViewSchema = z
  .strictObject({
    id: idSchema,
    from: hex64Schema,
    to: hex64Schema,
    startedBy: idSchema,
    startedAt: isoDateTime,
    finishedAt: isoDateTime.nullable(),
    done: z.number().int(),
    total: z.number().int(),
    /** Items still sealed to another key than `to`. */
    remaining: z.number().int(),
  })
  .meta({ id: 'EscrowRotation' });
export type RotationView = z.infer<typeof rotationViewSchema>;

export const getRotation = defineEndpoint({
  method: 'get',
  path: '/api/escrow/rotation',
  operationId: 'getRotation',
  summary: 'The running (or last) rotation, and whether one is needed (someone lost the escrow key since the last one)',
  tags: ['escrow'],
  access: { roles: ['admin'] },
  response: z.strictObject({
    rotation: rotationViewSchema.nullable(),
    /** People who held the escrow key and lost it (removed, demoted, deleted) since the last rotation. */
    formerHolders: z.array(z.strictObject({ userId: idSchema, email: z.string(), since: isoDateTime })),
    /** While a rotation runs: the old key pair and this Administrator's grant for it. */
    previous: z
      .strictObject({ publicKey: spki, fingerprint: hex64Schema, wrappedPrivateKey, grant: z.strictObject({ kind: z.enum(['sealed', 'wrapped']), value: z.string() }).nullable() })
      .nullable(),
  }),
  errors: ['forbidden'],
});

const grantInput = z.strictObject({
  userId: idSchema,
  /** Sealed (RSA-OAEP, purpose escrow) to the holder's certified public key; the starter's own grant is wrapped under their user key. */
  kind: z.enum(['sealed', 'wrapped']),
  value: z.union([sealedKey, wrappedKey]),
  /** Holder statement for the new escrow fingerprint, signed by the starting Administrator. */
  statement: signedPayloadSchema,
});

export const startRotation = defineEndpoint({
  method: 'post',
  path: '/api/escrow/rotation',
  operationId: 'startRotation',
  summary:
    'Start an escrow rotation (recent login): the new key pair, the signed rotation statement, a new grant for every remaining holder and a new recovery kit. The new key is current from now on',
  tags: ['escrow'],
  access: { roles: ['admin'] },
  status: 201,
  body: z.strictObject({
    rotationId: idSchema,
    publicKey: spki,
    /** The new escrow private key wrapped under the new escrow key E'. */
    wrappedPrivateKey,
    statement: signedPayloadSchema,
    /** Exactly one per current holder (the removed are no longer holders), the starter included. */
    grants: z.array(grantInput).min(1).max(1000),
    recoveryKit: z.strictObject({ wrappedKey, salt: base64url(32), params: recoveryParamsSchema }),
  }),
  response: z.strictObject({ rotation: rotationViewSchema }),
  errors: ['forbidden', 'rotation_in_progress', 'rotation_holders_changed', 'reauthentication_required', 'validation_failed', 'csrf_rejected'],
});

export const rotationItemSchema = z
  .strictObject({
    kind: z.enum(['space', 'user']),
    /** The space id or the user id. */
    id: idSchema,
    /** The seal as stored now, and the fingerprint of the key it is sealed to. */
    seal: sealedKey,
    escrowFingerprint: hex64Schema,
    /**
     * What authenticates the sealed key: entry 0 of the space's history (`space.create`, key
     * commitment), or the owner's escrow-copy statement. Null for a legacy space without history or
     * an account that never signed one (re-sealed without a commitment check; SECURITY.md 5.10).
     */
    authority: signedPayloadSchema.nullable(),
    authorityAuthor: idSchema.nullable(),
  })
  .meta({ id: 'RotationItem' });
export type RotationItem = z.infer<typeof rotationItemSchema>;

export const listRotationItems = defineEndpoint({
  method: 'get',
  path: '/api/escrow/rotation/items',
  operationId: 'listRotationItems',
  summary:
    'A page of items: `pending` = still sealed to another key than the rotation\'s new one (to re-seal); `all` = every item (the final check that all open with the new key)',
  tags: ['escrow'],
  access: { roles: ['admin'] },
  query: z.strictObject({
    which: z.enum(['pending', 'all']),
    /** Continue after this item (kind:id; items come in kind, id order). */
    after: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  }),
  response: z.strictObject({ items: z.array(rotationItemSchema), remaining: z.number().int(), next: z.string().nullable() }),
  errors: ['forbidden', 'rotation_not_running'],
});

export const resealRotationItems = defineEndpoint({
  method: 'post',
  path: '/api/escrow/rotation/items',
  operationId: 'resealRotationItems',
  summary: 'Store re-sealed items: each replaces its seal only if the stored seal is still the one named (compare-and-swap)',
  tags: ['escrow'],
  access: { roles: ['admin'] },
  body: z.strictObject({
    rotationId: idSchema,
    items: z
      .array(z.strictObject({ kind: z.enum(['space', 'user']), id: idSchema, previousDigest: hex64Schema, seal: sealedKey }))
      .min(1)
      .max(200),
  }),
  response: z.strictObject({ updated: z.number().int(), skipped: z.number().int(), rotation: rotationViewSchema }),
  errors: ['forbidden', 'rotation_not_running', 'validation_failed', 'csrf_rejected'],
});

export const finishRotation = defineEndpoint({
  method: 'post',
  path: '/api/escrow/rotation/finish',
  operationId: 'finishRotation',
  summary:
    'Finish after the browser checked that every item opens with the new key: the old key pair and its grants are destroyed',
  tags: ['escrow'],
  access: { roles: ['admin'] },
  body: z.strictObject({ rotationId: idSchema, checked: z.number().int().min(0) }),
  response: z.strictObject({ rotation: rotationViewSchema }),
  errors: ['forbidden', 'rotation_not_running', 'rotation_incomplete', 'csrf_rejected'],
});

// ---------------------------------------------------------------------------------------------
// Account life-cycle (Administrators for staff and auditors, Team Members for clients)

export const accountStatusSchema = z.enum(['active', 'deactivated', 'deleted']);
export type AccountStatus = z.infer<typeof accountStatusSchema>;

const lifecycleParams = z.strictObject({ id: idSchema });
const lifecycleErrors = [
  'forbidden',
  'not_found',
  'cannot_change_self',
  'last_administrator',
  'last_escrow_holder',
  'account_state',
  'reauthentication_required',
  'csrf_rejected',
] as const;

export const changeRole = defineEndpoint({
  method: 'put',
  path: '/api/users/:id/role',
  operationId: 'changeRole',
  summary:
    'Promote or demote between Administrator and Team Member (recent login) with the new certificate; a demotion ends sessions and removes the escrow grant',
  tags: ['people'],
  access: { roles: ['admin'] },
  params: lifecycleParams,
  body: z.strictObject({ role: roleSchema, certificate: signedPayloadSchema }),
  response: z.null(),
  status: 204,
  errors: [...lifecycleErrors, 'role_change_not_allowed', 'certificate_invalid'],
});

export const deactivateUser = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/deactivate',
  operationId: 'deactivateUser',
  summary: 'Stop sign-in and end every session; staff also lose their escrow grant',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  params: lifecycleParams,
  response: z.null(),
  status: 204,
  errors: [...lifecycleErrors],
});

export const reactivateUser = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/reactivate',
  operationId: 'reactivateUser',
  summary: 'Allow a deactivated account to sign in again (staff regain no escrow grant by this)',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  params: lifecycleParams,
  response: z.null(),
  status: 204,
  errors: [...lifecycleErrors],
});

export const deleteUser = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/delete',
  operationId: 'deleteUser',
  summary: 'Delete an account: kept 30 days (restorable by an Administrator), then its keys are destroyed',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  params: lifecycleParams,
  response: z.strictObject({ purgeAfter: isoDateTime }),
  errors: [...lifecycleErrors],
});

export const restoreUser = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/restore',
  operationId: 'restoreUser',
  summary: 'Undo a deletion within 30 days (Administrators); the account comes back deactivated',
  tags: ['people'],
  access: { roles: ['admin'] },
  params: lifecycleParams,
  response: z.null(),
  status: 204,
  errors: [...lifecycleErrors, 'account_purged'],
});

export const escrowEndpoints = {
  createReset,
  listResets,
  approveReset,
  cancelReset,
  openReset,
  startResetPassword,
  finishResetPassword,
  getEscrowChain,
  getMyEscrow,
  getRotation,
  startRotation,
  listRotationItems,
  resealRotationItems,
  finishRotation,
  changeRole,
  deactivateUser,
  reactivateUser,
  deleteUser,
  restoreUser,
} as const;
