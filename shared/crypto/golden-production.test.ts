// Known answers for every format as production builds it (SECURITY.md 4): each positive vector of
// golden-v1-production.json is opened byte-exact twice, by the code and by a plain WebCrypto decoder
// written from the specification; each negative vector is rejected with the error it names.
// The JSON is committed; this test never regenerates it (a failure means the format changed).
import { describe, expect, it } from 'vitest';
import golden from './vectors/golden-v1-production.json';
import { type Bytes, concatBytes, fromBase64Url, fromHex, lengthPrefixed, toBase64Url, toHex, utf8 } from './bytes';
import { DecryptionError, IntegrityError, UnsupportedVersionError, WeakParametersError } from './errors';
import { recordAad } from './envelope';
import { type Argon2idParams, deriveArgon2id, hkdfBytes, importHkdfKey } from './kdf';
import { type KeyPurpose, type SecretKey, deriveKeySafeKey, importSecretKey } from './keys';
import { decryptRecord } from './record';
import { type PrivateKey, openSealedSecretKey, unwrapPrivateKey } from './rsa';
import { importSigningPublicKey, unwrapSigningKey, verifyStatement } from './signing';
import { decryptFileStream } from './stream';
import { deriveRecoveryKey } from './wrap';

type KeyName = keyof typeof golden.keys;
type Recipient = keyof typeof golden.rsa;
interface Ctx {
  readonly id: string;
  readonly owner: string;
}
interface Expected {
  readonly error: string;
  readonly reason?: string;
  readonly version?: number;
  readonly parameter?: string;
}
interface NegativeVector {
  readonly name: string;
  readonly kind: 'record' | 'sealed' | 'file' | 'signature' | 'recovery';
  readonly key?: string;
  readonly asPurpose?: string;
  readonly envelope?: string;
  readonly ctx?: Ctx & { readonly type?: string };
  readonly recipient?: string;
  readonly purpose?: string;
  readonly sealed?: string;
  readonly ciphertext?: string;
  readonly prefixOf?: number;
  readonly length?: number;
  readonly signer?: string;
  readonly context?: string;
  readonly payload?: string;
  readonly signature?: string;
  readonly secret?: string;
  readonly salt?: string;
  readonly params?: Argon2idParams;
  readonly expect: Expected;
}

const subtle = crypto.subtle;
const b = (text: string) => fromBase64Url(text);
const empty = new Uint8Array(0);

function keyOf(name: string, purpose?: string): Promise<SecretKey> {
  const spec = golden.keys[name as KeyName];
  return importSecretKey((purpose ?? spec.purpose) as KeyPurpose, fromHex(spec.raw), { extractable: true });
}

/** The private key each recipient opens seals with, unwrapped from its production record. */
const privateKeyRecord: Record<Recipient, string> = {
  escrow: 'escrow private key (PKCS#8) under E',
  admin: 'RSA private key (PKCS#8) under the user key',
  team: 'RSA private key of a Team Member',
  client: 'RSA private key of a client',
};
async function privateKeyOf(recipient: string): Promise<PrivateKey> {
  const record = golden.records.find((r) => r.name === privateKeyRecord[recipient as Recipient])!;
  return unwrapPrivateKey(await keyOf(record.key), b(record.envelope), record.ctx);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Bytes> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concatBytes(...parts);
}
function decryptFile(key: SecretKey, ciphertext: Uint8Array, ctx: Ctx): Promise<Bytes> {
  return readAll(new Blob([ciphertext as Bytes]).stream().pipeThrough(decryptFileStream(key as SecretKey<'file'>, ctx)));
}

// --- a decoder written from SECURITY.md 4 with plain WebCrypto, sharing no code with the code under test ---
const spec = {
  async hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length = 32): Promise<string> {
    const base = await subtle.importKey('raw', ikm as Bytes, 'HKDF', false, ['deriveBits']);
    return toHex(new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: salt as Bytes, info: utf8(info) }, base, length * 8)));
  },
  lp(text: string): Bytes {
    const bytes = new TextEncoder().encode(text);
    const out = new Uint8Array(4 + bytes.length);
    new DataView(out.buffer).setUint32(0, bytes.length);
    out.set(bytes, 4);
    return out;
  },
  recordAad(ctx: Ctx & { type: string }): Bytes {
    return concatBytes(utf8('kluis/v1/record'), Uint8Array.of(0, 1), spec.lp(ctx.type), spec.lp(ctx.id), spec.lp(ctx.owner));
  },
  async aesGcm(rawKey: Uint8Array, iv: Uint8Array, aad: Uint8Array, data: Uint8Array): Promise<Bytes> {
    const key = await subtle.importKey('raw', rawKey as Bytes, 'AES-GCM', false, ['decrypt']);
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: iv as Bytes, additionalData: aad as Bytes, tagLength: 128 }, key, data as Bytes));
  },
  async openRecord(aeadKey: string, commitment: string, envelope: Uint8Array, ctx: Ctx & { type: string }): Promise<Bytes> {
    expect(envelope[0]).toBe(1);
    expect(toHex(envelope.subarray(1, 33))).toBe(commitment);
    return spec.aesGcm(fromHex(aeadKey), envelope.subarray(33, 45), spec.recordAad(ctx), envelope.subarray(45));
  },
  async openFile(fileKey: Uint8Array, file: Uint8Array, ctx: Ctx): Promise<Bytes> {
    const header = file.subarray(0, 56);
    expect(toHex(header.subarray(0, 8))).toBe(toHex(concatBytes(utf8('KLSF'), Uint8Array.of(1, 16, 0, 0))));
    const nonce = header.subarray(8, 24);
    expect(toHex(header.subarray(24, 56))).toBe(await spec.hkdf(fileKey, nonce, 'kluis/v1/file-commit'));
    const payloadKey = fromHex(await spec.hkdf(fileKey, nonce, 'kluis/v1/file-payload'));
    const aad = concatBytes(header, utf8('kluis/v1/file'), spec.lp(ctx.id), spec.lp(ctx.owner));
    const chunk = 65536 + 16;
    const body = file.subarray(56);
    const count = Math.max(1, Math.ceil(body.length / chunk));
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setBigUint64(3, BigInt(i));
      iv[11] = i === count - 1 ? 1 : 0;
      out.push(await spec.aesGcm(payloadKey, iv, aad, body.subarray(i * chunk, (i + 1) * chunk)));
    }
    return concatBytes(...out);
  },
  sealLabel(purpose: string, ctx: Ctx): Bytes {
    return concatBytes(utf8('kluis/v1/sealed-key'), spec.lp(purpose), spec.lp(ctx.id), spec.lp(ctx.owner));
  },
};

describe('production golden vectors v1: key derivation', () => {
  it('derives the key-safe key from the OPAQUE export key and opens the user key with it', async () => {
    const exportKey = fromHex(golden.opaque.exportKey);
    expect(await spec.hkdf(exportKey, empty, 'kluis/v1/keysafe-wrap')).toBe(golden.opaque.keySafeKey);
    const record = golden.records.find((r) => r.key === 'keysafe')!;
    const opened = await decryptRecord(await deriveKeySafeKey(exportKey), b(record.envelope), record.ctx);
    expect(toBase64Url(opened)).toBe(record.plaintext);
  });

  it('derives the recovery key from the canonical recovery secret with the production Argon2id parameters', async () => {
    const r = golden.recoverySecret;
    expect(toHex(utf8(r.canonical))).toBe(r.argon2idPassword);
    expect(toHex(await deriveArgon2id(r.canonical, fromHex(r.salt), r.params, 32))).toBe(r.argon2idOutput);
    expect(await spec.hkdf(fromHex(r.argon2idOutput), empty, 'kluis/v1/recovery-wrap')).toBe(r.recoveryKey);
    expect(golden.keys.recovery.raw).toBe(r.recoveryKey);
    const record = golden.records.find((x) => x.key === 'recovery')!;
    const recoveryKey = await deriveRecoveryKey(r.canonical, fromHex(r.salt), r.params);
    expect(toBase64Url(await decryptRecord(recoveryKey, b(record.envelope), record.ctx))).toBe(record.plaintext);
    expect(toHex(b(record.plaintext))).toBe(golden.keys.escrow.raw);
  });

  it.each(Object.entries(golden.keys).filter(([, k]) => 'aeadKey' in k))('derives the record subkeys of the %s key', async (_name, k) => {
    const key = k as { purpose: string; raw: string; aeadKey: string; commitment: string };
    expect(await spec.hkdf(fromHex(key.raw), empty, `kluis/v1/record-aead/${key.purpose}`)).toBe(key.aeadKey);
    expect(await spec.hkdf(fromHex(key.raw), empty, `kluis/v1/record-commit/${key.purpose}`)).toBe(key.commitment);
    const base = await importHkdfKey(fromHex(key.raw));
    expect(toHex(await hkdfBytes(base, empty, `kluis/v1/record-commit/${key.purpose}`, 32))).toBe(key.commitment);
  });
});

describe('production golden vectors v1: records', () => {
  it.each(golden.records)('$name ($ctx.type)', async (record) => {
    const spec_ = golden.keys[record.key as KeyName] as { aeadKey: string; commitment: string };
    expect(toHex(recordAad(record.ctx))).toBe(record.aad);
    expect(toHex(spec.recordAad(record.ctx))).toBe(record.aad);
    const opened = await decryptRecord(await keyOf(record.key), b(record.envelope), record.ctx);
    expect(toBase64Url(opened)).toBe(record.plaintext);
    expect(toBase64Url(await spec.openRecord(spec_.aeadKey, spec_.commitment, b(record.envelope), record.ctx))).toBe(record.plaintext);
    if ('text' in record) expect(new TextDecoder().decode(opened)).toBe(record.text);
  });
});

describe('production golden vectors v1: sealed keys', () => {
  it.each(golden.sealed)('$name', async (s) => {
    const privateKey = await privateKeyOf(s.recipient);
    const recipient = golden.rsa[s.recipient as Recipient];
    expect(toBase64Url(privateKey.publicKey.spki)).toBe(recipient.spki);
    expect(toHex(privateKey.publicKey.fingerprint)).toBe(recipient.fingerprint);
    const opened = await openSealedSecretKey(privateKey, b(s.sealed), s.purpose as KeyPurpose, s.ctx, { extractable: true });
    expect(toHex(opened.rawBytes())).toBe(s.key);

    const sealed = b(s.sealed);
    expect(sealed.length).toBe(545);
    expect(sealed[0]).toBe(1);
    expect(toHex(sealed.subarray(1, 33))).toBe(recipient.fingerprint);
    expect(toHex(new Uint8Array(await subtle.digest('SHA-256', b(recipient.spki))))).toBe(recipient.fingerprint);
    expect(toHex(spec.sealLabel(s.purpose, s.ctx))).toBe(s.label);
    const rsa = await subtle.importKey('pkcs8', b(recipient.pkcs8), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    const raw = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP', label: fromHex(s.label) }, rsa, sealed.subarray(33)));
    expect(toHex(raw)).toBe(s.key);
  });

  it('wraps each PKCS#8 private key exactly as the vector file states it', async () => {
    for (const [name, recipient] of Object.entries(golden.rsa)) {
      const privateKey = await privateKeyOf(name);
      expect(toBase64Url(privateKey.publicKey.spki), name).toBe(recipient.spki);
    }
  });
});

describe('production golden vectors v1: files (STREAM)', () => {
  it.each(golden.files)('$name', async (f) => {
    const rawKey = fromHex(golden.keys[f.key as KeyName].raw);
    const ciphertext = b(f.ciphertext);
    expect(toHex(ciphertext.subarray(0, 56))).toBe(f.header);
    expect(toHex(ciphertext.subarray(8, 24))).toBe(f.nonce);
    expect(await spec.hkdf(rawKey, fromHex(f.nonce), 'kluis/v1/file-payload')).toBe(f.payloadKey);
    expect(await spec.hkdf(rawKey, fromHex(f.nonce), 'kluis/v1/file-commit')).toBe(f.commitment);
    expect(toHex(concatBytes(fromHex(f.header), utf8('kluis/v1/file'), lengthPrefixed(f.ctx.id), lengthPrefixed(f.ctx.owner)))).toBe(f.aad);
    const byCode = await decryptFile(await keyOf(f.key), ciphertext, f.ctx);
    const bySpec = await spec.openFile(rawKey, ciphertext, f.ctx);
    for (const plaintext of [byCode, bySpec]) {
      if ('plaintext' in f) expect(toBase64Url(plaintext)).toBe(f.plaintext);
      else {
        expect(plaintext.length).toBe(f.plaintextLength);
        expect(plaintext.every((byte, i) => byte === i % 251)).toBe(true);
        expect(toHex(new Uint8Array(await subtle.digest('SHA-256', plaintext)))).toBe(f.plaintextSha256);
      }
    }
    // Exact size: blob = 56 + plaintext + 16 per 64 KiB chunk (at least one chunk).
    expect(ciphertext.length).toBe(56 + byCode.length + 16 * Math.max(1, Math.ceil(byCode.length / 65536)));
  });
});

describe('production golden vectors v1: signed statements', () => {
  it('unwraps the signing key to the public key the vectors name', async () => {
    const record = golden.records.find((r) => r.ctx.type === 'private-key/ecdsa-p256')!;
    const signing = await unwrapSigningKey(await keyOf(record.key), b(record.envelope), record.ctx);
    expect(toBase64Url(signing.publicKey.spki)).toBe(golden.ecdsa.admin.spki);
    expect(toHex(signing.publicKey.fingerprint)).toBe(golden.ecdsa.admin.fingerprint);
    expect(record.plaintext).toBe(golden.ecdsa.admin.pkcs8);
  });

  it.each(golden.signatures)('$name', async (s) => {
    const signer = golden.ecdsa[s.signer as 'admin'];
    expect(toBase64Url(utf8(s.payloadText))).toBe(s.payload);
    expect(toHex(concatBytes(utf8('kluis/v1/signature'), spec.lp(s.context), b(s.payload)))).toBe(s.message);
    const publicKey = await importSigningPublicKey(b(signer.spki));
    expect(await verifyStatement(publicKey, s.context, b(s.payload), b(s.signature))).toBe(true);
    const raw = await subtle.importKey('spki', b(signer.spki), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    expect(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, raw, b(s.signature), fromHex(s.message))).toBe(true);
  });
});

const errorClasses = { IntegrityError, DecryptionError, UnsupportedVersionError, WeakParametersError } as const;

async function attempt(v: NegativeVector): Promise<unknown> {
  switch (v.kind) {
    case 'record':
      return decryptRecord(await keyOf(v.key!, v.asPurpose), b(v.envelope!), v.ctx as Ctx & { type: string });
    case 'sealed':
      return openSealedSecretKey(await privateKeyOf(v.recipient!), b(v.sealed!), v.purpose as KeyPurpose, v.ctx!);
    case 'file': {
      const bytes = v.prefixOf === undefined ? b(v.ciphertext!) : b(golden.files[v.prefixOf]!.ciphertext).subarray(0, v.length);
      return decryptFile(await keyOf(v.key!), bytes, v.ctx!);
    }
    case 'signature': {
      const publicKey = await importSigningPublicKey(b(golden.ecdsa[v.signer as 'admin'].spki));
      return verifyStatement(publicKey, v.context!, b(v.payload!), b(v.signature!));
    }
    case 'recovery': {
      const key = await deriveRecoveryKey(v.secret!, fromHex(v.salt!), v.params);
      return decryptRecord(key, b(v.envelope!), v.ctx as Ctx & { type: string });
    }
  }
}

describe('production golden vectors v1: negative vectors are rejected', () => {
  const negative = golden.negative as readonly NegativeVector[];

  it('covers every kind', () => {
    expect(new Set(negative.map((v) => v.kind))).toEqual(new Set(['record', 'sealed', 'file', 'signature', 'recovery']));
  });

  it.each(negative)('$name', async (v) => {
    const result = attempt(v);
    if (v.expect.error === 'invalid') {
      expect(await result).toBe(false);
      return;
    }
    const errorClass = errorClasses[v.expect.error as keyof typeof errorClasses];
    await expect(result).rejects.toBeInstanceOf(errorClass);
    const { error: _error, ...fields } = v.expect;
    await expect(result).rejects.toMatchObject(fields);
  });
});
