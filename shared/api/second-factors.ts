// Second-factor endpoints (issue 20): the sign-in step after OPAQUE, TOTP, e-mail codes, passkeys
// (with PRF unlock), backup codes and trusted devices; managers' view and removal by role hierarchy.
import { z } from 'zod';
import { ALL_ROLES, STAFF_ROLES, defineEndpoint } from './contract';
import { accountBundleSchema, publicKeyOptions, secondFactorKindSchema, tokenSchema as token, wrappedKeySchema as wrappedKey } from './accounts';
import { base64url, idSchema, isoDateTime } from './wire';


/** Six digits (TOTP and e-mail codes); spaces are not part of a code. */
export const sixDigitCode = z.string().regex(/^[0-9]{6}$/, 'must be six digits');
/** A backup code as shown: ten characters of the Crockford base32 alphabet, in two groups ("ABCDE-FGHJK"); case and the dash are optional. */
export const backupCodeSchema = z
  .string()
  .trim()
  .max(16)
  .transform((value) => value.toUpperCase().replace(/[-\s]/g, ''))
  .pipe(z.string().regex(/^[0-9A-HJKMNP-TV-Z]{10}$/, 'must be a backup code of ten letters and digits'));

export { secondFactorKindSchema, type SecondFactorKind } from './accounts';
const factorName = z.string().trim().min(1).max(60);

export const secondFactorSchema = z
  .strictObject({
    id: idSchema,
    kind: secondFactorKindSchema,
    name: z.string(),
    createdAt: isoDateTime,
    lastUsedAt: isoDateTime.nullable(),
    /** Passkeys only: whether it can unlock the account without the password (PRF). */
    unlocks: z.boolean(),
    /** Passkeys only: the WebAuthn credential id (public), so the browser can ask for this passkey (turning on unlock). */
    credentialId: base64url(1023).optional(),
  })
  .meta({ id: 'SecondFactor' });
export type SecondFactor = z.infer<typeof secondFactorSchema>;

export const trustedDeviceSchema = z
  .strictObject({
    id: idSchema,
    createdAt: isoDateTime,
    expiresAt: isoDateTime,
    lastUsedAt: isoDateTime.nullable(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    /** The browser asking is this device. */
    current: z.boolean(),
  })
  .meta({ id: 'TrustedDevice' });
export type TrustedDevice = z.infer<typeof trustedDeviceSchema>;

// WebAuthn JSON as @simplewebauthn produces and expects it. Options travel server -> browser (kept
// loose: the library owns their shape); responses travel browser -> server, bounded and checked
// again by the library's verification.
const b64 = (bytes: number) => base64url(bytes);
const authenticatorTransport = z.enum(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
/**
 * WebAuthn client extension results. WARNING: no `prf` here: a PRF output is key material and the
 * browser removes it before sending (client/features/second-factors/webauthn.ts); the strict object
 * refuses a request that carries one anyway.
 */
const clientExtensionResults = z.strictObject({
  credProps: z.strictObject({ rk: z.boolean().optional() }).optional(),
  appid: z.boolean().optional(),
  hmacCreateSecret: z.boolean().optional(),
});

export const registrationResponseSchema = z
  .strictObject({
    id: b64(1023),
    rawId: b64(1023),
    type: z.literal('public-key'),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
    clientExtensionResults,
    response: z.strictObject({
      clientDataJSON: b64(4096),
      attestationObject: b64(16_384),
      authenticatorData: b64(4096).optional(),
      transports: z.array(authenticatorTransport).max(8).optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: b64(4096).optional(),
    }),
  })
  .meta({ id: 'RegistrationResponseJSON' });

export const authenticationResponseSchema = z
  .strictObject({
    id: b64(1023),
    rawId: b64(1023),
    type: z.literal('public-key'),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
    clientExtensionResults,
    response: z.strictObject({
      clientDataJSON: b64(4096),
      authenticatorData: b64(4096),
      signature: b64(1024),
      userHandle: b64(64).optional(),
    }),
  })
  .meta({ id: 'AuthenticationResponseJSON' });

/** A bundle opened by a passkey: the user key wrapped under the passkey's PRF-derived key. */
export const passkeyBundleSchema = accountBundleSchema.extend({
  unlock: z.strictObject({ credentialId: b64(1023), factorId: idSchema, wrappedUserKey: wrappedKey }),
});

// ---------------------------------------------------------------------------------------------
// The sign-in step

export const verifySecondFactor = defineEndpoint({
  method: 'post',
  path: '/api/auth/login/second-factor',
  operationId: 'verifySecondFactor',
  summary: 'Second sign-in step: a TOTP, e-mail or backup code, or a passkey assertion; opens the session and hands out the key safe',
  tags: ['auth'],
  access: 'public',
  body: z.discriminatedUnion('method', [
    z.strictObject({ challengeId: token, method: z.enum(['totp', 'email']), code: sixDigitCode, trustDevice: z.boolean() }),
    z.strictObject({ challengeId: token, method: z.literal('backup'), code: backupCodeSchema, trustDevice: z.boolean() }),
    z.strictObject({ challengeId: token, method: z.literal('passkey'), response: authenticationResponseSchema, trustDevice: z.boolean() }),
  ]),
  response: accountBundleSchema,
  errors: [
    'second_factor_invalid',
    'second_factor_reused',
    'second_factor_expired',
    'second_factor_unavailable',
    'passkey_rejected',
    'passkey_counter_regressed',
    'account_locked',
    'ip_not_allowed',
    'rate_limited',
  ],
});

export const sendLoginEmailCode = defineEndpoint({
  method: 'post',
  path: '/api/auth/login/second-factor/email',
  operationId: 'sendLoginEmailCode',
  summary: 'E-mail a six-digit sign-in code for a pending second step (rate-limited)',
  tags: ['auth'],
  access: 'public',
  status: 204,
  body: z.strictObject({ challengeId: token }),
  response: z.null(),
  errors: ['second_factor_expired', 'second_factor_unavailable', 'rate_limited', 'service_unavailable'],
});

export const startPasskeyLogin = defineEndpoint({
  method: 'post',
  path: '/api/auth/passkey/start',
  operationId: 'startPasskeyLogin',
  summary: 'Sign in with a passkey alone: WebAuthn request options for discoverable credentials, with PRF',
  tags: ['auth'],
  access: 'public',
  body: z.strictObject({}),
  response: z.strictObject({ ceremonyId: idSchema, options: publicKeyOptions }),
  errors: ['rate_limited'],
});

export const finishPasskeyLogin = defineEndpoint({
  method: 'post',
  path: '/api/auth/passkey/finish',
  operationId: 'finishPasskeyLogin',
  summary: 'Verify a passkey assertion (user verification required), open a session and hand out the key safe with its PRF wrapping',
  tags: ['auth'],
  access: 'public',
  body: z.strictObject({ ceremonyId: idSchema, response: authenticationResponseSchema }),
  response: passkeyBundleSchema,
  errors: ['second_factor_expired', 'passkey_rejected', 'passkey_counter_regressed', 'passkey_unlock_unavailable', 'account_locked', 'ip_not_allowed', 'account_deactivated', 'rate_limited'],
});

// ---------------------------------------------------------------------------------------------
// One's own factors (reachable before a required factor is set up: allowMissingSecondFactor)

const ownFactors = z.strictObject({
  factors: z.array(secondFactorSchema),
  /** Unused backup codes left (0 when none were made or all are used). */
  backupCodesLeft: z.number().int().min(0),
  backupCodesCreatedAt: isoDateTime.nullable(),
});

export const listSecondFactors = defineEndpoint({
  method: 'get',
  path: '/api/account/second-factors',
  operationId: 'listSecondFactors',
  summary: 'One\'s own second factors and how many backup codes are left',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  response: ownFactors,
  errors: [],
  allowMissingSecondFactor: true,
});

export const startTotpSetup = defineEndpoint({
  method: 'post',
  path: '/api/account/second-factors/totp',
  operationId: 'startTotpSetup',
  summary: 'Begin adding an authenticator app: a new secret (base32) and its otpauth:// URI, to be confirmed with a first code',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z.strictObject({}),
  response: z.strictObject({ setupId: idSchema, secret: z.string().regex(/^[A-Z2-7]{32}$/), uri: z.string().startsWith('otpauth://totp/') }),
  errors: ['reauthentication_required', 'rate_limited'],
  allowMissingSecondFactor: true,
});

export const confirmTotpSetup = defineEndpoint({
  method: 'post',
  path: '/api/account/second-factors/totp/confirm',
  operationId: 'confirmTotpSetup',
  summary: 'Finish adding an authenticator app with its first code',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 201,
  body: z.strictObject({ setupId: idSchema, code: sixDigitCode, name: factorName }),
  response: secondFactorSchema,
  errors: ['factor_setup_expired', 'second_factor_invalid', 'reauthentication_required', 'rate_limited'],
  allowMissingSecondFactor: true,
});

export const startEmailFactorSetup = defineEndpoint({
  method: 'post',
  path: '/api/account/second-factors/email',
  operationId: 'startEmailFactorSetup',
  summary: 'Begin adding e-mail codes: a first code goes to one\'s own address',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z.strictObject({}),
  response: z.strictObject({ setupId: idSchema }),
  errors: ['reauthentication_required', 'rate_limited', 'conflict', 'service_unavailable'],
  allowMissingSecondFactor: true,
});

export const confirmEmailFactorSetup = defineEndpoint({
  method: 'post',
  path: '/api/account/second-factors/email/confirm',
  operationId: 'confirmEmailFactorSetup',
  summary: 'Finish adding e-mail codes with the code that was sent',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 201,
  body: z.strictObject({ setupId: idSchema, code: sixDigitCode }),
  response: secondFactorSchema,
  errors: ['factor_setup_expired', 'second_factor_invalid', 'reauthentication_required', 'rate_limited', 'conflict'],
  allowMissingSecondFactor: true,
});

export const startPasskeyRegistration = defineEndpoint({
  method: 'post',
  path: '/api/account/passkeys/registration/start',
  operationId: 'startPasskeyRegistration',
  summary: 'WebAuthn creation options for a new passkey or security key (RP ID from PUBLIC_ORIGIN)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  body: z.strictObject({}),
  response: z.strictObject({ ceremonyId: idSchema, options: publicKeyOptions }),
  errors: ['reauthentication_required', 'rate_limited'],
  allowMissingSecondFactor: true,
});

export const finishPasskeyRegistration = defineEndpoint({
  method: 'post',
  path: '/api/account/passkeys/registration/finish',
  operationId: 'finishPasskeyRegistration',
  summary: 'Verify the attestation and store the passkey',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 201,
  body: z.strictObject({ ceremonyId: idSchema, name: factorName, response: registrationResponseSchema }),
  response: secondFactorSchema,
  errors: ['factor_setup_expired', 'passkey_rejected', 'conflict', 'reauthentication_required'],
  allowMissingSecondFactor: true,
});

export const setPasskeyUnlock = defineEndpoint({
  method: 'put',
  path: '/api/account/passkeys/:id/unlock',
  operationId: 'setPasskeyUnlock',
  summary: 'Store the user key wrapped under this passkey\'s PRF-derived key ("unlock with passkey")',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  body: z.strictObject({ wrappedUserKey: wrappedKey }),
  response: z.null(),
  errors: ['not_found', 'reauthentication_required'],
});

export const removePasskeyUnlock = defineEndpoint({
  method: 'delete',
  path: '/api/account/passkeys/:id/unlock',
  operationId: 'removePasskeyUnlock',
  summary: 'Drop this passkey\'s wrapping of the user key (it stays a second factor)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  response: z.null(),
  errors: ['not_found', 'reauthentication_required'],
});

export const renameSecondFactor = defineEndpoint({
  method: 'patch',
  path: '/api/account/second-factors/:id',
  operationId: 'renameSecondFactor',
  summary: 'Rename one of one\'s own second factors',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  params: z.strictObject({ id: idSchema }),
  body: z.strictObject({ name: factorName }),
  response: secondFactorSchema,
  errors: ['not_found'],
});

export const removeSecondFactor = defineEndpoint({
  method: 'delete',
  path: '/api/account/second-factors/:id',
  operationId: 'removeSecondFactor',
  summary: 'Remove one of one\'s own second factors (recent login; a passkey\'s unlock wrapping goes with it)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  response: z.null(),
  errors: ['not_found', 'reauthentication_required'],
});

export const createBackupCodes = defineEndpoint({
  method: 'post',
  path: '/api/account/backup-codes',
  operationId: 'createBackupCodes',
  summary: 'Ten new single-use backup codes, shown once (the previous set stops working; recent login)',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 201,
  body: z.strictObject({}),
  response: z.strictObject({ codes: z.array(z.string()).length(10), createdAt: isoDateTime }),
  errors: ['reauthentication_required'],
  allowMissingSecondFactor: true,
});

export const listTrustedDevices = defineEndpoint({
  method: 'get',
  path: '/api/account/trusted-devices',
  operationId: 'listTrustedDevices',
  summary: 'Browsers that skip the second factor for 30 days',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  response: z.strictObject({ devices: z.array(trustedDeviceSchema) }),
  errors: [],
});

export const revokeTrustedDevice = defineEndpoint({
  method: 'delete',
  path: '/api/account/trusted-devices/:id',
  operationId: 'revokeTrustedDevice',
  summary: 'Stop trusting one browser',
  tags: ['account'],
  access: { roles: ALL_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  response: z.null(),
  errors: ['not_found'],
});

// ---------------------------------------------------------------------------------------------
// Managers (role hierarchy: Administrators for staff and auditors, Team Members for clients)

export const getUserSecurity = defineEndpoint({
  method: 'get',
  path: '/api/users/:id/security',
  operationId: 'getUserSecurity',
  summary: 'A managed person\'s second factors (names and kinds, no secrets) and trusted devices',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  params: z.strictObject({ id: idSchema }),
  response: z.strictObject({ factors: z.array(secondFactorSchema), backupCodesLeft: z.number().int().min(0), devices: z.array(trustedDeviceSchema) }),
  errors: ['forbidden', 'not_found'],
});

export const removeUserSecondFactor = defineEndpoint({
  method: 'delete',
  path: '/api/users/:id/second-factors/:factorId',
  operationId: 'removeUserSecondFactor',
  summary: 'Remove a managed person\'s second factor (role hierarchy, recent login; the person is e-mailed)',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema, factorId: idSchema }),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'reauthentication_required'],
});

export const revokeUserTrustedDevices = defineEndpoint({
  method: 'delete',
  path: '/api/users/:id/trusted-devices',
  operationId: 'revokeUserTrustedDevices',
  summary: 'Stop trusting every browser of a managed person (role hierarchy, recent login)',
  tags: ['people'],
  access: { roles: STAFF_ROLES },
  status: 204,
  params: z.strictObject({ id: idSchema }),
  response: z.null(),
  errors: ['forbidden', 'not_found', 'reauthentication_required'],
});

export const secondFactorEndpoints = {
  verifySecondFactor,
  sendLoginEmailCode,
  startPasskeyLogin,
  finishPasskeyLogin,
  listSecondFactors,
  startTotpSetup,
  confirmTotpSetup,
  startEmailFactorSetup,
  confirmEmailFactorSetup,
  startPasskeyRegistration,
  finishPasskeyRegistration,
  setPasskeyUnlock,
  removePasskeyUnlock,
  renameSecondFactor,
  removeSecondFactor,
  createBackupCodes,
  listTrustedDevices,
  revokeTrustedDevice,
  getUserSecurity,
  removeUserSecondFactor,
  revokeUserTrustedDevices,
} as const;
