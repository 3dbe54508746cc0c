// Byte helpers for the crypto core: encodings, concatenation, length prefixes, constant-time compare.

/** Bytes backed by a plain ArrayBuffer: what WebCrypto accepts as BufferSource. */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * UTF-8 encoding of a string. WARNING: strings with lone surrogates are refused, because the
 * encoder would silently turn them into U+FFFD and two different strings would encode alike.
 */
export function utf8(text: string): Bytes {
  if (loneSurrogate.test(text)) throw new TypeError('text is not well-formed Unicode');
  return new Uint8Array(encoder.encode(text));
}

/** Strict UTF-8 decoding: invalid sequences throw instead of becoming U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Fresh cryptographically random bytes from the platform CSPRNG. */
export function randomBytes(length: number): Bytes {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)));
  }
  return out;
}

export function concatBytes(...parts: readonly Uint8Array[]): Bytes {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Copies a view into its own ArrayBuffer (WebCrypto wants exact, non-shared buffers). */
export function copyBytes(view: Uint8Array): Bytes {
  return new Uint8Array(view);
}

/** 32-bit big-endian length followed by the UTF-8 bytes: unambiguous field encoding for AAD. */
export function lengthPrefixed(field: string | Uint8Array): Bytes {
  const bytes = typeof field === 'string' ? utf8(field) : field;
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, 4);
  return out;
}

/** Compares two byte strings in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Overwrites key material we no longer need (best effort: JS may have copies elsewhere). */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

const hexAlphabet = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += hexAlphabet[byte >> 4]! + hexAlphabet[byte & 15]!;
  return out;
}

export function fromHex(hex: string): Bytes {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('invalid hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64urlLookup = new Int16Array(128).fill(-1);
for (let i = 0; i < b64url.length; i++) b64urlLookup[b64url.charCodeAt(i)] = i;

/** Unpadded base64url (RFC 4648 section 5), the encoding of every binary value on the wire. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += b64url[n >> 18]! + b64url[(n >> 12) & 63]! + b64url[(n >> 6) & 63]! + b64url[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += b64url[n >> 18]! + b64url[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += b64url[n >> 18]! + b64url[(n >> 12) & 63]! + b64url[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict unpadded base64url decoding: rejects padding, foreign characters and non-canonical
 * trailing bits, so every byte string has exactly one accepted encoding.
 */
export function fromBase64Url(text: string): Bytes {
  if (text.length % 4 === 1) throw new TypeError('invalid base64url length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? b64urlLookup[code]! : -1;
    if (value < 0) throw new TypeError('invalid base64url character');
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new TypeError('non-canonical base64url');
  return out;
}
