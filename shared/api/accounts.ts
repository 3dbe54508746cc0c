// Account endpoints: organisation setup, invitations and sign-up, OPAQUE login, sessions, lockout, settings.
import { z } from 'zod';
import { passwordRulesSchema } from '../accounts/password-rules';
import { ALL_ROLES, STAFF_ROLES, defineEndpoint } from './contract';
import { base64url, emailSchema, idSchema, isoDateTime, languageSchema, roleSchema, signedPayloadSchema } from './wire';

// OPAQUE messages (ristretto255, SHA-512; RFC 9807), base64url of their exact sizes in bytes.
const opaqueMessage = (bytes: number) =>
  z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`), `must be an OPAQUE message of ${bytes} bytes`);
/** RegistrationRequest: blinded element (32). */
const registrationRequest = opaqueMessage(32);
/** RegistrationResponse: evaluated element (32) + server public key (32). */
const registrationResponse = opaqueMessage(64);
/** KE1: credential request (32) + client nonce (32) + client key share (32). */
const startLoginRequest = opaqueMessage(96);
/** KE2: evaluated element (32) + masking nonce (32) + masked response (128) + server nonce (32) + key share (32) + MAC (64). */
const loginResponse = opaqueMessage(320);
/** KE3: client MAC (64). */
const finishLoginRequest = opaqueMessage(64);
const opaqueRecord = base64url(512);
const spki = base64url(1024);
/** A symmetric key wrapped under another (record envelope of 32 bytes), base64url. */
const wrappedKey = base64url(256);
const sealedKey = base64url(600);
const wrappedPrivateKey = base64url(4096);
const recordEnvelope = base64url(8192);
/** A 256-bit random token (setup, invitation, recovery links; the second sign-in step), base64url. */
const token = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a 256-bit token');
export {
  token as tokenSchema,
  wrappedKey as wrappedKeySchema,
  sealedKey as sealedKeySchema,
  spki as spkiSchema,
  wrappedPrivateKey as wrappedPrivateKeySchema,
  recordEnvelope as recordEnvelopeSchema,
  opaqueRecord as opaqueRecordSchema,
  registrationRequest as registrationRequestSchema,
  registrationStartResponse as registrationStartResponseSchema,
};

/** Argon2id parameters of the recovery key (stored with the organisation, returned in recovery). */
export const recoveryParamsSchema = z.strictObject({ memoryKiB: z.number().int(), iterations: z.number().int(), parallelism: z.number().int() });

/** What a browser uploads when it creates an account's keys (setup and sign-up). */
export const accountKeysSchema = z
  .object({
    /** The user key wrapped under the key derived from the OPAQUE export key. */
    wrappedUserKey: wrappedKey,
    /** The key safe: pinned values, encrypted under the user key (record type "key-safe"). */
    keySafe: recordEnvelope,
    /** RSA-OAEP-4096 public key (DER SPKI). */
    publicKey: spki,
    /** PKCS#8 private key wrapped under the user key. */
    wrappedPrivateKey,
    /** The user key sealed to the organisation's escrow public key. */
    escrowUserKey: sealedKey,
    /** Encrypted profile (name...), a record under the user key. */
    profile: recordEnvelope,
    /** ECDSA P-256 signing key (everyone): signs history entries and, for staff, certificates. */
    signing: z.strictObject({ publicKey: spki, wrappedPrivateKey: base64url(512) }).strict(),
    /** Signed "user-key-escrow" statement over the escrow copy (shared/flows/certificates.ts). */
    escrowCopyStatement: signedPayloadSchema,
  })
  .strict()
  .meta({ id: 'AccountKeys' });

export const organisationSettingsSchema = z
  .object({
    lockout: z.strictObject({ maxFailures: z.number().int().min(1).max(20), durationMinutes: z.number().int().min(1).max(10_080) }).strict(),
    passwordRules: passwordRulesSchema,
    session: z
      .object({ idleMinutes: z.number().int().min(5).max(1440), absoluteHours: z.number().int().min(1).max(720) })
      .strict(),
    /** Browser auto-lock after this many idle minutes. */
    autoLockMinutes: z.number().int().min(1).max(240),
    /** Roles that must use a second factor: such a user without one is led through set-up at sign-in. */
    secondFactorRoles: z.array(roleSchema).max(4),
    /** CIDR ranges; when non-empty, Team Members and Administrators may only log in and work from them. */
    teamIpAllowlist: z.array(z.string().max(64)).max(100),
    /** E-mail domains invitations may go to; empty = any. */
    invitationDomainAllowlist: z.array(z.string().max(253)).max(100),
    /** How long an escrow reset link works, in hours (issue 21; default 72). */
    resetLinkHours: z.number().int().min(1).max(720).default(72),
    /** Four eyes: an escrow reset is e-mailed only after a second Team Member or Administrator approved it. */
    resetNeedsApproval: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'OrganisationSettings' });

export type OrganisationSettings = z.infer<typeof organisationSettingsSchema>;

const userSummarySchema = z
  .object({ id: idSchema, email: z.string(), role: roleSchema, language: languageSchema })
  .meta({ id: 'UserSummary' });

export const sessionInfoSchema = z
  .object({
    user: userSummarySchema,
    organisation: z.strictObject({ name: z.string() }),
    authenticatedAt: isoDateTime,
    expiresAt: isoDateTime,
    passwordExpired: z.boolean(),
    /** The organisation requires a second factor for this role and the user has none: set one up first. */
    secondFactorMissing: z.boolean(),
    autoLockMinutes: z.number().int(),
    /** The organisation's password rules, for choosing a new password in the browser. */
    passwordRules: passwordRulesSchema,
  })
  .meta({ id: 'SessionInfo' });

/** Everything a browser needs to open its key safe after login: only ciphertext and public values. */
export const accountBundleSchema = z
  .object({
    session: sessionInfoSchema,
    keys: z.strictObject({
      wrappedUserKey: wrappedKey,
      keySafe: recordEnvelope,
      publicKey: spki,
      wrappedPrivateKey,
      profile: recordEnvelope,
      /** Absent only for accounts made before everyone had a signing key: the browser adds one (PUT /api/account/signing-key). */
      signing: z.strictObject({ publicKey: spki, wrappedPrivateKey: base64url(512) }).optional(),
      /** Revision of the key safe (PUT /api/account/key-safe compares it); the same number is inside the encrypted record. */
      keySafeRevision: z.number().int(),
      /** False for accounts made before escrow-copy statements: the browser signs one (PUT /api/account/escrow-copy-statement). */
      escrowCopySigned: z.boolean(),
      /** The user key's escrow copy as stored: the owner signs a statement over its digest (escrowCopySigned false). */
      escrowUserKey: sealedKey,
    }),
    /** Team Members and Administrators: the escrow key pair and their grant to open it. */
    escrow: z
      .object({
        publicKey: spki,
        wrappedPrivateKey,
        grant: z.discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('wrapped'), value: wrappedKey }),
          z.strictObject({ kind: z.literal('sealed'), value: sealedKey }),
        ]),
        /**
         * While an escrow rotation runs (issue 21): the old key pair and this holder's grant for it,
         * to open items not re-sealed yet. Its fingerprint must be the `from` of a verified rotation.
         */
        previous: z
          .strictObject({
            publicKey: spki,
            wrappedPrivateKey,
            grant: z.discriminatedUnion('kind', [
              z.strictObject({ kind: z.literal('wrapped'), value: wrappedKey }),
              z.strictObject({ kind: z.literal('sealed'), value: sealedKey }),
            ]),
          })
          .optional(),
      })
      .optional(),
  })
  .meta({ id: 'AccountBundle' });

export type AccountBundle = z.infer<typeof accountBundleSchema>;

const registrationStartResponse = z.strictObject({
  registrationId: idSchema,
  userId: idSchema,
  registrationResponse,
});

// ---------------------------------------------------------------------------------------------
// Setup

export const getSetupStatus = defineEndpoint({
  method: 'get',
  path: '/api/setup/status',
  operationId: 'getSetupStatus',
  summary: 'Whether this instance still needs its organisation to be set up',
  tags: ['setup'],
  access: 'public',
  response: z.strictObject({ needsSetup: z.boolean() }),
  errors: [],
});

export const startSetup = defineEndpoint({
  method: 'post',
  path: '/api/setup/start',
  operationId: 'startSetup',
  summary: 'Begin creating the organisation and its first Administrator (OPAQUE registration step 1)',
  tags: ['setup'],
  access: 'public',
  body: z.strictObject({ setupToken: token, email: emailSchema, registrationRequest }).strict(),
  response: registrationStartResponse.extend({ opaqueServerPublicKey: base64url(64) }),
  errors: ['setup_token_invalid', 'already_set_up', 'rate_limited'],
});

export const finishSetup = defineEndpoint({
  method: 'post',
  path: '/api/setup/finish',
  operationId: 'finishSetup',
  summary: 'Store the organisation, its escrow key pair and recovery kit, and the first Administrator',
  tags: ['setup'],
  access: 'public',
  status: 201,
  body: z
    .object({
      setupToken: token,
      registrationId: idSchema,
      registrationRecord: opaqueRecord,
      organisationName: z.string().trim().min(1).max(120),
      language: languageSchema,
      keys: accountKeysSchema,
      /** The founding Administrator's self-signed root certificate (basis "root"). */
      certificate: signedPayloadSchema,
      escrow: z
        .object({
          publicKey: spki,
          /** Escrow PKCS#8 wrapped under the escrow key E. */
          wrappedPrivateKey,
          /** E wrapped under the Administrator's user key. */
          grant: wrappedKey,
          /** E wrapped under the recovery key (Argon2id of the recovery secret). */
          recoveryWrappedKey: wrappedKey,
          recoverySalt: base64url(32),
          recoveryParams: recoveryParamsSchema,
        })
        .strict(),
      /**
       * Roles that must use a second factor from the start (default: Administrators, Team Members,
       * Auditors). Test and demo organisations choose none; Settings changes it later.
       */
      secondFactorRoles: z.array(roleSchema).max(4).optional(),
      /** The founding Administrator's signed statement that they hold the escrow key. */
      holderStatement: z.strictObject({ payload: base64url(2048), signature: base64url(64) }).strict(),
    })
    .strict(),
  response: z.strictObject({ userId: idSchema }),
  errors: ['setup_token_invalid', 'already_set_up', 'registration_expired'],
});

// ---------------------------------------------------------------------------------------------
// Login and sessions

// ---------------------------------------------------------------------------------------------
// The second sign-in step (endpoints in second-factors.ts)

/** Ways to pass the sign-in step: a factor, or one of the backup codes. */
/** The kinds of second factor a person can have (backup codes are a way to sign in, not a factor). */
export const secondFactorKindSchema = z.enum(['totp', 'email', 'passkey']);
export type SecondFactorKind = z.infer<typeof secondFactorKindSchema>;
export const secondFactorMethodSchema = z.enum(['totp', 'email', 'passkey', 'backup']);
export type SecondFactorMethod = z.infer<typeof secondFactorMethodSchema>;

/** WebAuthn options as @simplewebauthn makes them (server -> browser; the library owns their shape). */
export const publicKeyOptions = z.looseObject({ challenge: base64url(64) });

/**
 * The second step of a sign-in: the password was right, the account has a second factor (or this
 * browser's trust ran out). Nothing else can be done with `challengeId`; it expires within minutes.
 */
export const secondFactorChallengeSchema = z
  .strictObject({
    challengeId: token,
    expiresAt: isoDateTime,
    /** What this account can use; 'backup' when it has unused backup codes. */
    methods: z.array(secondFactorMethodSchema),
    /** WebAuthn request options for the account's passkeys (when 'passkey' is a method). */
    passkeyOptions: publicKeyOptions.optional(),
    /** This browser presented a trusted-device cookie that did not count: why (it was then ignored). */
    trustedDevice: z.enum(['invalid', 'expired', 'revoked', 'other_account']).optional(),
  })
  .meta({ id: 'SecondFactorChallenge' });
export type SecondFactorChallenge = z.infer<typeof secondFactorChallengeSchema>;

/** finishLogin answers with the key safe (no second factor needed) or with the second step. */
export const loginOutcomeSchema = z.union([accountBundleSchema, z.strictObject({ secondFactor: secondFactorChallengeSchema })]);


export const startLogin = defineEndpoint({
  method: 'post',
  path: '/api/auth/login/start',
  operationId: 'startLogin',
  summary: 'OPAQUE login step 1; unknown and locked accounts get indistinguishable answers',
  tags: ['auth'],
  access: 'public',
  body: z.strictObject({ email: emailSchema, startLoginRequest }).strict(),
  response: z.strictObject({ loginId: idSchema, loginResponse }),
  errors: ['rate_limited'],
});

export const finishLogin = defineEndpoint({
  method: 'post',
  path: '/api/auth/login/finish',
  operationId: 'finishLogin',
  summary: 'OPAQUE login step 3: verifies the client; opens a session and hands out the key safe, or asks for the second factor',
  tags: ['auth'],
  access: 'public',
  body: z.strictObject({ loginId: idSchema, finishLoginRequest }).strict(),
  response: loginOutcomeSchema,
  errors: ['invalid_credentials', 'login_expired', 'ip_not_allowed', 'account_deactivated', 'rate_limited'],
});

export const abortLogin = defineEndpoint({
  method: 'post',
  path: '/api/auth/login/abort',
  operationId: 'abortLogin',
  summary: 'Tell the server a started login failed in the browser (wrong password); it already counted',
  tags: ['auth'],
  access: 'public',
  status: 204,
  body: z.strictObject({ loginId: idSchema }).strict(),
  response: z.null(),
  errors: [],
});

export const getSession = defineEndpoint({
  method: 'get',
  path: '/api/auth/session',
  operationId: 'getSession',
  summary: 'The current session',
  tags: ['auth'],
  access: { roles: ALL_ROLES },
  response: sessionInfoSchema,
  errors: ['ip_not_allowed'],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

export const logout = defineEndpoint({
  method: 'post',
  path: '/api/auth/logout',
  operationId: 'logout',
  summary: 'End this session',
  tags: ['auth'],
  access: { roles: ALL_ROLES },
  status: 204,
  response: z.null(),
  errors: ['csrf_rejected'],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

export const logoutEverywhere = defineEndpoint({
  method: 'post',
  path: '/api/auth/logout-everywhere',
  operationId: 'logoutEverywhere',
  summary: 'End every session of this user, this one included (recent login needed)',
  tags: ['auth'],
  access: { roles: ALL_ROLES },
  status: 204,
  response: z.null(),
  errors: ['csrf_rejected', 'reauthentication_required'],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

export const sessionListItemSchema = z
  .strictObject({ id: idSchema, createdAt: isoDateTime, lastSeenAt: isoDateTime, expiresAt: isoDateTime, ip: z.string().nullable(), current: z.boolean() })
  .meta({ id: 'SessionListItem' });

export const listSessions = defineEndpoint({
  method: 'get',
  path: '/api/auth/sessions',
  operationId: 'listSessions',
  summary: 'This user\'s active sessions (ASVS 7.5.2)',
  tags: ['auth'],
  access: { roles: ALL_ROLES },
  response: z.strictObject({ sessions: z.array(sessionListItemSchema) }),
  errors: [],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

export const endSession = defineEndpoint({
  method: 'delete',
  path: '/api/auth/sessions/:id',
  operationId: 'endSession',
  summary: 'End one of this user\'s sessions (recent login needed)',
  tags: ['auth'],
  access: { roles: ALL_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  response: z.null(),
  errors: ['not_found', 'reauthentication_required'],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

// ---------------------------------------------------------------------------------------------
// Invitations and sign-up

export const invitationSchema = z
  .object({
    id: idSchema,
    email: z.string(),
    role: roleSchema,
    createdAt: isoDateTime,
    expiresAt: isoDateTime,
    invitedBy: idSchema,
  })
  .meta({ id: 'Invitation' });

export const createInvitation = defineEndpoint({
  method: 'post',
  path: '/api/invitations',
  operationId: 'createInvitation',
  summary: 'Invite someone by e-mail (Administrators: staff and auditors, with a recent login; Team Members: clients). An address that has an account gets the same answer, and a notice instead of a link',
  tags: ['invitations'],
  access: { roles: STAFF_ROLES },
  status: 201,
  body: z
    .object({
      /** Made by the inviter's browser: the invitation binding key is derived from it. */
      id: idSchema,
      email: emailSchema,
      role: roleSchema,
      language: languageSchema,
      /**
       * Pinned values for the invitee's browser: "e=<escrow fp>&o=<OPAQUE server key>&a=<admin root fp>",
       * and, from inviters holding the escrow key, "&i=<invitation id>&k=<binding key>" (SECURITY.md §4.9).
       */
      fragment: z.string().regex(/^e=[0-9a-f]{64}&o=[A-Za-z0-9_-]{43}&a=[0-9a-f]{64}(&i=[A-Za-z0-9_-]{22}&k=[A-Za-z0-9_-]{43})?$/),
    })
    .strict(),
  response: z.strictObject({ invitation: invitationSchema }),
  errors: ['forbidden', 'csrf_rejected', 'email_domain_not_allowed', 'id_taken', 'reauthentication_required'],
});

export const listInvitations = defineEndpoint({
  method: 'get',
  path: '/api/invitations',
  operationId: 'listInvitations',
  summary: 'Open invitations this user may manage',
  tags: ['invitations'],
  access: { roles: STAFF_ROLES },
  response: z.strictObject({ invitations: z.array(invitationSchema) }),
  errors: ['forbidden'],
});

export const revokeInvitation = defineEndpoint({
  method: 'delete',
  path: '/api/invitations/:id',
  operationId: 'revokeInvitation',
  summary: 'Withdraw an open invitation',
  tags: ['invitations'],
  access: { roles: STAFF_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }).strict(),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'csrf_rejected'],
});

// POST with the token in the body: tokens never appear in URLs, so never in request logs.
export const lookupInvitation = defineEndpoint({
  method: 'post',
  path: '/api/invitations/lookup',
  operationId: 'lookupInvitation',
  summary: 'What an invitation link is for (shown before the invitee chooses a password)',
  tags: ['invitations'],
  access: 'public',
  body: z.strictObject({ token }),
  response: z.strictObject({
    email: z.string(),
    role: roleSchema,
    language: languageSchema,
    organisationName: z.string(),
    expiresAt: isoDateTime,
    passwordRules: passwordRulesSchema,
    escrowPublicKey: spki,
  }),
  errors: ['invitation_invalid', 'invitation_expired', 'invitation_used', 'rate_limited'],
});

export const startSignup = defineEndpoint({
  method: 'post',
  path: '/api/signup/start',
  operationId: 'startSignup',
  summary: 'Accept an invitation: OPAQUE registration step 1',
  tags: ['invitations'],
  access: 'public',
  body: z.strictObject({ token, registrationRequest }).strict(),
  response: registrationStartResponse,
  errors: ['invitation_invalid', 'invitation_expired', 'invitation_used', 'rate_limited'],
});

export const finishSignup = defineEndpoint({
  method: 'post',
  path: '/api/signup/finish',
  operationId: 'finishSignup',
  summary: 'Accept an invitation: store the OPAQUE record and the keys the browser made',
  tags: ['invitations'],
  access: 'public',
  status: 201,
  body: z
    .object({
      token,
      registrationId: idSchema,
      registrationRecord: opaqueRecord,
      language: languageSchema,
      keys: accountKeysSchema,
      /** HMAC under the link's binding key (shared/crypto/binding.ts); null when the link had none. */
      binding: base64url(32).nullable(),
    })
    .strict(),
  response: z.strictObject({ userId: idSchema }),
  errors: ['invitation_invalid', 'invitation_expired', 'invitation_used', 'registration_expired'],
});

// ---------------------------------------------------------------------------------------------
// Own account

export const startPasswordChange = defineEndpoint({
  method: 'post',
  path: '/api/account/password/start',
  operationId: 'startPasswordChange',
  summary: 'Change password, step 1: a new OPAQUE registration (needs a recent login)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z.strictObject({ registrationRequest }).strict(),
  response: registrationStartResponse,
  errors: ['reauthentication_required', 'csrf_rejected'],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

export const finishPasswordChange = defineEndpoint({
  method: 'post',
  path: '/api/account/password/finish',
  operationId: 'finishPasswordChange',
  summary: 'Change password, step 2: new OPAQUE record and the re-wrapped user key; ends other sessions',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 204,
  body: z.strictObject({ registrationId: idSchema, registrationRecord: opaqueRecord, wrappedUserKey: wrappedKey }).strict(),
  response: z.null(),
  errors: ['reauthentication_required', 'registration_expired', 'csrf_rejected'],
  allowExpiredPassword: true,
  allowMissingSecondFactor: true,
});

export const confirmRecoveryKit = defineEndpoint({
  method: 'post',
  path: '/api/organisation/recovery-kit/confirm',
  operationId: 'confirmRecoveryKit',
  summary: 'The Administrator confirms the organisation recovery kit is stored safely',
  tags: ['organisation'],
  access: { roles: ['admin'] },
  status: 204,
  response: z.null(),
  errors: ['forbidden', 'csrf_rejected'],
  /** Part of setting up: the kit is shown before the founding Administrator sets up a required second factor. */
  allowMissingSecondFactor: true,
});

// ---------------------------------------------------------------------------------------------
// People and settings

export const userListItemSchema = z
  .object({
    id: idSchema,
    email: z.string(),
    role: roleSchema,
    createdAt: isoDateTime,
    lastLoginAt: isoDateTime.nullable(),
    lockedUntil: isoDateTime.nullable(),
    failedLogins: z.number().int(),
    /** Encrypted profile (the viewer decrypts it through escrow or their own key). */
    profile: recordEnvelope,
    escrowUserKey: sealedKey,
    publicKey: spki,
    /** Administrators' ECDSA signing key, endorsed when they are granted the escrow key. */
    signingPublicKey: spki.nullable(),
    escrowGrant: z.enum(['none', 'sealed', 'wrapped']),
    /** The kinds of second factor this person has set up (empty: none). */
    secondFactors: z.array(secondFactorKindSchema),
    /** The account life-cycle (issue 21); `purgeAfter`: when a deleted account's keys are destroyed. */
    status: z.enum(['active', 'deactivated', 'deleted']),
    purgeAfter: isoDateTime.nullable(),
    /** An open escrow reset of this person, if any. */
    pendingReset: z.strictObject({ id: idSchema, status: z.enum(['awaiting_approval', 'sent']), expiresAt: isoDateTime }).nullable(),
  })
  .meta({ id: 'UserListItem' });

export const listUsers = defineEndpoint({
  method: 'get',
  path: '/api/users',
  operationId: 'listUsers',
  summary: 'People this user may manage (Administrators: everyone; Team Members: clients)',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  response: z.strictObject({ users: z.array(userListItemSchema) }),
  errors: ['forbidden'],
});

export const unlockUser = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/unlock',
  operationId: 'unlockUser',
  summary: 'Lift a lockout (Administrators: staff and auditors, with a recent login; Team Members: clients)',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }).strict(),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'csrf_rejected', 'reauthentication_required'],
});

export const endUserSessions = defineEndpoint({
  method: 'post',
  path: '/api/users/:id/sessions/end',
  operationId: 'endUserSessions',
  summary: 'End every session of a person this user manages (ASVS 7.4.5; recent login needed)',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'reauthentication_required'],
});

export const getSettings = defineEndpoint({
  method: 'get',
  path: '/api/organisation/settings',
  operationId: 'getOrganisationSettings',
  summary: 'Organisation security settings',
  tags: ['organisation'],
  access: { roles: ['admin'] },
  response: organisationSettingsSchema,
  errors: ['forbidden'],
});

export const updateSettings = defineEndpoint({
  method: 'put',
  path: '/api/organisation/settings',
  operationId: 'updateOrganisationSettings',
  summary: 'Change organisation security settings (Administrators, recent login; a team IP allowlist must include the caller)',
  tags: ['organisation'],
  access: { roles: ['admin'] },
  body: organisationSettingsSchema,
  response: organisationSettingsSchema,
  errors: ['forbidden', 'reauthentication_required', 'csrf_rejected', 'ip_not_allowed', 'allowlist_excludes_you'],
});

/** Replaces the caller's encrypted profile (name, phone, address, notes: a record under the user key). */
export const updateProfile = defineEndpoint({
  method: 'put',
  path: '/api/account/profile',
  operationId: 'updateProfile',
  summary: 'Replace one\'s own encrypted profile fields',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z.strictObject({ profile: recordEnvelope }).meta({ id: 'UpdateProfileBody' }),
  status: 204,
  response: z.null(),
  errors: [],
});

export const accountEndpoints = {
  getSetupStatus,
  startSetup,
  finishSetup,
  startLogin,
  finishLogin,
  abortLogin,
  getSession,
  logout,
  logoutEverywhere,
  listSessions,
  endSession,
  endUserSessions,
  createInvitation,
  listInvitations,
  revokeInvitation,
  lookupInvitation,
  startSignup,
  finishSignup,
  startPasswordChange,
  finishPasswordChange,
  confirmRecoveryKit,
  listUsers,
  unlockUser,
  getSettings,
  updateSettings,
  updateProfile,
} as const;

// ---------------------------------------------------------------------------------------------
// Escrow holders (signed by Administrators) and the organisation recovery kit

export const signedStatementSchema = z
  .object({ payload: base64url(2048), signature: base64url(64), signerId: idSchema })
  .meta({ id: 'SignedStatement' });

export const listEscrowHolders = defineEndpoint({
  method: 'get',
  path: '/api/escrow/holders',
  operationId: 'listEscrowHolders',
  summary: 'Signed statements of who holds the escrow key, with the Administrators\' signing keys',
  tags: ['escrow'],
  access: { roles: STAFF_ROLES },
  response: z.strictObject({
    statements: z.array(signedStatementSchema),
    signingKeys: z.array(z.strictObject({ userId: idSchema, publicKey: spki })),
  }),
  errors: ['forbidden'],
});

export const grantEscrow = defineEndpoint({
  method: 'post',
  path: '/api/escrow/grants',
  operationId: 'grantEscrow',
  summary: 'An Administrator gives a Team Member the escrow key (sealed to their public key) with a signed statement',
  tags: ['escrow'],
  access: { roles: ['admin'] },
  status: 201,
  body: z
    .object({ userId: idSchema, sealedEscrowKey: sealedKey, statement: z.strictObject({ payload: base64url(2048), signature: base64url(64) }).strict() })
    .strict(),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'escrow_holder_not_staff', 'conflict', 'reauthentication_required', 'csrf_rejected'],
});

export const acceptEscrowGrant = defineEndpoint({
  method: 'post',
  path: '/api/escrow/grants/accept',
  operationId: 'acceptEscrowGrant',
  summary: 'A Team Member replaces their sealed escrow grant with one wrapped under their own user key',
  tags: ['escrow'],
  access: { roles: STAFF_ROLES },
  status: 204,
  body: z.strictObject({ wrappedEscrowKey: wrappedKey }).strict(),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'csrf_rejected'],
  /** Part of signing in (shared/flows/account-flows.ts login): needed before a required factor is set up. */
  allowMissingSecondFactor: true,
});

export const startRecovery = defineEndpoint({
  method: 'post',
  path: '/api/recovery/start',
  operationId: 'startRecovery',
  summary: 'Recovery mode: an Administrator with the recovery kit re-registers (OPAQUE step 1)',
  tags: ['recovery'],
  access: 'public',
  body: z.strictObject({ recoveryToken: token, email: emailSchema, registrationRequest }).strict(),
  response: registrationStartResponse.extend({
    opaqueServerPublicKey: base64url(64),
    escrow: z.strictObject({
      publicKey: spki,
      wrappedPrivateKey,
      recoveryWrappedKey: wrappedKey,
      recoverySalt: base64url(32),
      recoveryParams: recoveryParamsSchema,
    }),
    account: z.strictObject({ escrowUserKey: sealedKey, keySafe: recordEnvelope, wrappedPrivateKey, publicKey: spki }),
  }),
  errors: ['recovery_token_invalid', 'forbidden', 'rate_limited'],
});

export const finishRecovery = defineEndpoint({
  method: 'post',
  path: '/api/recovery/finish',
  operationId: 'finishRecovery',
  summary: 'Recovery mode: store the new OPAQUE record, the re-wrapped user key and the re-pinned key safe',
  tags: ['recovery'],
  access: 'public',
  status: 204,
  body: z
    .object({
      recoveryToken: token,
      registrationId: idSchema,
      registrationRecord: opaqueRecord,
      wrappedUserKey: wrappedKey,
      keySafe: recordEnvelope,
      escrowGrant: wrappedKey,
    })
    .strict(),
  response: z.null(),
  errors: ['recovery_token_invalid', 'registration_expired'],
});

export const recoveryEndpoints = { listEscrowHolders, grantEscrow, acceptEscrowGrant, startRecovery, finishRecovery } as const;
