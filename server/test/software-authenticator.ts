// Test helper: a WebAuthn authenticator in software (P-256 keys from node:crypto, CBOR and authenticator data built by hand, PRF simulated).
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * Why written here and not taken from a library: the server's verification (@simplewebauthn/server)
 * is the code under test, so the answers it checks are made independently, from the specs:
 * W3C WebAuthn Level 3 (6.1 authenticator data, 6.5.4 attestation object, 8.7 "none" attestation,
 * 10.1.4 PRF), RFC 8949 (CBOR) and RFC 9053 (COSE EC2 keys).
 */

type Cbor = number | string | Uint8Array | readonly Cbor[] | ReadonlyMap<Cbor, Cbor>;

/** RFC 8949 section 3: a major type and its argument. */
function cborHead(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) {
    const out = Buffer.alloc(3);
    out[0] = (major << 5) | 25;
    out.writeUInt16BE(value, 1);
    return out;
  }
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(value, 1);
  return out;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  if (value instanceof Map) {
    const map = value as ReadonlyMap<Cbor, Cbor>;
    return Buffer.concat([cborHead(5, map.size), ...[...map].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  }
  const list = value as readonly Cbor[];
  return Buffer.concat([cborHead(4, list.length), ...list.map(cbor)]);
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest();

/** Authenticator data flags (WebAuthn 6.1). */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export interface StoredCredential {
  readonly id: Buffer;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly rpId: string;
  /** The user handle the RP gave at registration (bytes). */
  readonly userHandle: Buffer;
  /** The hmac-secret CredRandom behind PRF outputs. */
  readonly credRandom: Buffer;
  counter: number;
}

/** Ways to make an answer wrong on purpose. */
export interface Tampering {
  /** The origin the "browser" puts in clientDataJSON. */
  readonly origin?: string;
  /** The RP ID whose hash goes into the authenticator data. */
  readonly rpId?: string;
  /** Another challenge than the one in the options. */
  readonly challenge?: string;
  /** Whether the user was verified (UV flag). Default true. */
  readonly userVerified?: boolean;
  /** The signature counter to report instead of the next one. */
  readonly counter?: number;
  /** The clientDataJSON type (webauthn.create / webauthn.get). */
  readonly type?: string;
  /** Signs with another key than the credential's. */
  readonly wrongKey?: boolean;
  /** Leaves out the user handle of an assertion. */
  readonly noUserHandle?: boolean;
}

/** The parts of PublicKeyCredentialCreationOptionsJSON an authenticator reads (the contract keeps options loose). */
const creationOptions = z.looseObject({
  challenge: z.string(),
  rp: z.looseObject({ id: z.string().optional(), name: z.string() }),
  user: z.looseObject({ id: z.string(), name: z.string() }),
});

interface RequestOptions {
  readonly challenge: string;
  readonly rpId?: string;
  readonly allowCredentials?: readonly { readonly id: string }[];
}

/**
 * A CTAP2 authenticator with user verification, resident keys, a signature counter (or none, when
 * `counting` is false) and the PRF extension, speaking the JSON @simplewebauthn/browser produces.
 */
export class SoftwareAuthenticator {
  readonly credentials: StoredCredential[] = [];

  constructor(
    /** The origin the simulated browser runs on (the server's PUBLIC_ORIGIN for honest answers). */
    private readonly origin: string,
    private readonly options: { readonly counting?: boolean } = {},
  ) {}

  /** A registration answer ("none" attestation) for creation options from the server; `again` registers an existing credential once more. */
  register(json: { readonly challenge: string; readonly [key: string]: unknown }, tamper: Tampering = {}, again?: StoredCredential) {
    const options = creationOptions.parse(json);
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = again ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: StoredCredential = again ?? {
      id: randomBytes(32),
      privateKey,
      publicKey,
      rpId,
      userHandle: Buffer.from(options.user.id, 'base64url'),
      credRandom: randomBytes(32),
      counter: 0,
    };
    const jwk = publicKey.export({ format: 'jwk' });
    // RFC 9053 section 7.1.1: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    const coseKey = new Map<Cbor, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const flags = UP | AT | (tamper.userVerified === false ? 0 : UV);
    const authData = Buffer.concat([
      sha256(tamper.rpId ?? rpId),
      Buffer.from([flags]),
      this.counterBytes(tamper.counter ?? 0),
      Buffer.alloc(16), // AAGUID: none
      idLength,
      credential.id,
      cbor(coseKey),
    ]);
    const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    const clientDataJSON = JSON.stringify({
      type: tamper.type ?? 'webauthn.create',
      challenge: tamper.challenge ?? options.challenge,
      origin: tamper.origin ?? this.origin,
      crossOrigin: false,
    });
    if (!again) this.credentials.push(credential);
    return {
      credential,
      response: {
        id: b64url(credential.id),
        rawId: b64url(credential.id),
        type: 'public-key' as const,
        authenticatorAttachment: 'platform' as const,
        clientExtensionResults: {},
        response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal' as const] },
      },
    };
  }

  /**
   * An assertion for request options from the server. With no allowCredentials the authenticator
   * picks its (only, or `pick`) discoverable credential for the RP ID.
   */
  assert(options: RequestOptions, tamper: Tampering = {}, pick?: StoredCredential) {
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [];
    const credential =
      pick ?? this.credentials.find((c) => c.rpId === rpId && (allowed.length === 0 || allowed.includes(b64url(c.id))));
    if (!credential) throw new Error('the software authenticator has no credential for these options');
    if (this.options.counting !== false) credential.counter += 1;
    const counter = tamper.counter ?? (this.options.counting === false ? 0 : credential.counter);
    const authData = Buffer.concat([sha256(tamper.rpId ?? rpId), Buffer.from([UP | (tamper.userVerified === false ? 0 : UV)]), this.counterBytes(counter)]);
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: tamper.type ?? 'webauthn.get', challenge: tamper.challenge ?? options.challenge, origin: tamper.origin ?? this.origin, crossOrigin: false }),
    );
    const signer = tamper.wrongKey ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : credential.privateKey;
    // WebAuthn 6.3.3 step 11: an ECDSA (DER) signature over authenticatorData || SHA-256(clientDataJSON).
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), signer);
    return {
      credential,
      response: {
        id: b64url(credential.id),
        rawId: b64url(credential.id),
        type: 'public-key' as const,
        authenticatorAttachment: 'platform' as const,
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64url(clientDataJSON),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          ...(tamper.noUserHandle ? {} : { userHandle: b64url(credential.userHandle) }),
        },
      },
    };
  }

  /**
   * The PRF output a browser would hand the page for `salt` (WebAuthn 10.1.4 and CTAP 2.1
   * hmac-secret): HMAC-SHA-256(CredRandom, SHA-256("WebAuthn PRF" || 0x00 || salt)).
   */
  prf(credential: StoredCredential, salt: Uint8Array): Uint8Array {
    const hashedSalt = sha256(Buffer.concat([Buffer.from('WebAuthn PRF'), Buffer.from([0]), salt]));
    return new Uint8Array(createHmac('sha256', credential.credRandom).update(hashedSalt).digest());
  }

  private counterBytes(counter: number): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(counter);
    return out;
  }
}
