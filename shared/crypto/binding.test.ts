// Key commitments and invitation bindings, checked against records made under the key and against node:crypto.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  INVITATION_BINDING_KEY_BYTES,
  deriveInvitationBindingKey,
  invitationBindingMac,
  keyCommitment,
  verifyInvitationBindingMac,
} from './binding';
import { toHex } from './bytes';
import { generateSecretKey, importSecretKey } from './keys';
import { encryptRecord } from './record';

const raw = () => Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + 5) & 0xff);
const fields = [
  'invitation_id_000000000',
  'user_id_000000000000000',
  'anaïs@example.test',
  'client',
  'a'.repeat(64),
  'b'.repeat(64),
];

/** "kluis/v1/invitation-binding" || (u32be(byte length) || UTF-8) for each field. */
function referenceMessage(parts: readonly string[]): Buffer {
  return Buffer.concat([
    Buffer.from('kluis/v1/invitation-binding'),
    ...parts.flatMap((part) => {
      const bytes = Buffer.from(part, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  ]);
}

describe('keyCommitment', () => {
  it.each(['space', 'user', 'escrow'] as const)(
    'equals bytes 1..32 of every record made under a %s key',
    async (purpose) => {
      const key = await generateSecretKey(purpose);
      const commitment = await keyCommitment(key);
      expect(commitment).toMatch(/^[0-9a-f]{64}$/);
      for (const ctx of [
        { type: 'message', id: 'm1', owner: 's1' },
        { type: 'document-name', id: 'd1', owner: 's2' },
      ]) {
        const record = await encryptRecord(key, 'hello', ctx);
        expect(toHex(record.subarray(1, 33))).toBe(commitment);
      }
      expect(await keyCommitment(await generateSecretKey(purpose))).not.toBe(commitment);
    },
  );

  it('is HKDF-SHA-256(key, salt = empty, info = "kluis/v1/record-commit/<purpose>", 32)', async () => {
    const key = await importSecretKey('space', raw());
    const expected = Buffer.from(
      hkdfSync('sha256', raw(), Buffer.alloc(0), 'kluis/v1/record-commit/space', 32),
    ).toString('hex');
    expect(await keyCommitment(key)).toBe(expected);
  });
});

describe('invitation binding', () => {
  it('derives k = HKDF-SHA-256(E, salt = empty, info = "kluis/v1/invitation-binding/" || invitationId, 32)', async () => {
    const escrow = await importSecretKey('escrow', raw(), { extractable: true });
    const k = await deriveInvitationBindingKey(escrow, 'invitation_id_000000000');
    expect(k.length).toBe(INVITATION_BINDING_KEY_BYTES);
    const expected = Buffer.from(
      hkdfSync(
        'sha256',
        raw(),
        Buffer.alloc(0),
        'kluis/v1/invitation-binding/invitation_id_000000000',
        32,
      ),
    );
    expect(toHex(k)).toBe(expected.toString('hex'));
    expect(toHex(await deriveInvitationBindingKey(escrow, 'invitation_id_000000001'))).not.toBe(
      toHex(k),
    );
  });

  it('MACs the documented message with HMAC-SHA-256', async () => {
    const k = raw();
    const mac = await invitationBindingMac(k, fields);
    expect(Buffer.from(mac).toString('hex')).toBe(
      createHmac('sha256', k).update(referenceMessage(fields)).digest('hex'),
    );
    expect(await verifyInvitationBindingMac(k, fields, mac)).toBe(true);
  });

  it('any changed field, field boundary, key or MAC byte fails', async () => {
    const k = raw();
    const mac = await invitationBindingMac(k, fields);
    for (let i = 0; i < fields.length; i++) {
      const changed = fields.map((f, j) => (j === i ? `${f}x` : f));
      expect(await verifyInvitationBindingMac(k, changed, mac)).toBe(false);
    }
    // Moving a character across a boundary changes the length prefixes.
    const shifted = [fields[0]! + fields[1]![0], fields[1]!.slice(1), ...fields.slice(2)];
    expect(await verifyInvitationBindingMac(k, shifted, mac)).toBe(false);
    const otherKey = raw().map((b) => b ^ 1);
    expect(await verifyInvitationBindingMac(otherKey, fields, mac)).toBe(false);
    const flipped = mac.slice();
    flipped[31]! ^= 0x80;
    expect(await verifyInvitationBindingMac(k, fields, flipped)).toBe(false);
    expect(await verifyInvitationBindingMac(k, fields, mac.subarray(0, 16))).toBe(false);
    await expect(invitationBindingMac(raw().subarray(0, 16), fields)).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
