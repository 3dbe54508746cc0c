// Golden and negative tests of the audit encoding: a change to these bytes must be deliberate.
import { describe, expect, it } from 'vitest';
import { canonicalAuditBytes, canonicalJson, type AuditChainFields } from './canonical';
import { findAuditLinkBreak } from './chain';

const golden: AuditChainFields = {
  seq: 2,
  id: '5f0c6a3e-2b1d-4c8e-9a7f-1e2d3c4b5a69',
  occurredAt: '2026-01-02T03:04:05.678Z',
  action: 'document.shared',
  actorId: 'u_Ænne',
  targetType: 'document',
  targetId: null,
  ip: '192.0.2.7',
  details: '{"count":1,"to":"u_2"}',
  prevHash: 'ab'.repeat(32),
};

const goldenHex = [
  '6b6c7569732f76312f61756469742d6576656e74', // "kluis/v1/audit-event"
  '00',
  '01' + '00000001' + '32', // seq "2"
  '01' + '00000024' + '35663063366133652d326231642d346338652d396137662d316532643363346235613639', // id
  '01' + '00000018' + '323032362d30312d30325430333a30343a30352e3637385a', // occurred_at
  '01' + '0000000f' + '646f63756d656e742e736861726564', // action
  '01' + '00000007' + '755fc3866e6e65', // actor_id "u_Ænne": 6 characters, 7 UTF-8 bytes
  '01' + '00000008' + '646f63756d656e74', // target_type
  '00', // target_id null
  '01' + '00000009' + '3139322e302e322e37', // ip
  '01' + '00000016' + '7b22636f756e74223a312c22746f223a22755f32227d', // details
  '01' + '00000040' + '6162'.repeat(32), // prev_hash as 64 ASCII hex digits
].join('');

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

describe('canonicalAuditBytes', () => {
  it('matches the golden encoding', () => {
    expect(hex(canonicalAuditBytes(golden))).toBe(goldenHex);
  });

  it('tells null apart from the empty string', () => {
    expect(hex(canonicalAuditBytes({ ...golden, targetId: '' }))).not.toBe(goldenHex);
  });

  it('is injective across field boundaries', () => {
    const a = canonicalAuditBytes({ ...golden, targetType: 'doc', targetId: 'ument' });
    const b = canonicalAuditBytes({ ...golden, targetType: 'document', targetId: '' });
    expect(hex(a)).not.toBe(hex(b));
  });

  it('refuses lone surrogates, which UTF-8 would turn into U+FFFD', () => {
    expect(() => canonicalAuditBytes({ ...golden, actorId: 'u_\uD800' })).toThrow(TypeError);
    expect(() => canonicalAuditBytes({ ...golden, details: '{"x":"\uDC00"}' })).toThrow(TypeError);
    expect(() => canonicalAuditBytes({ ...golden, actorId: 'u_\uD83D\uDE00' })).not.toThrow();
  });

  it.each([
    ['seq 0', { seq: 0 }],
    ['fractional seq', { seq: 1.5 }],
    ['a local time', { occurredAt: '2026-01-02T03:04:05.678+01:00' }],
    ['seconds precision', { occurredAt: '2026-01-02T03:04:05Z' }],
    ['an upper-case hash', { prevHash: 'AB'.repeat(32) }],
    ['a short hash', { prevHash: 'ab' }],
  ])('refuses %s', (_name, change) => {
    expect(() => canonicalAuditBytes({ ...golden, ...change })).toThrow(TypeError);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and adds no whitespace', () => {
    expect(canonicalJson({ z: [1, 'é', null, true], a: { y: 2, b: -0.5 } })).toBe('{"a":{"b":-0.5,"y":2},"z":[1,"é",null,true]}');
  });

  it('refuses numbers JSON cannot carry', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(TypeError);
  });
});

describe('findAuditLinkBreak', () => {
  const first = { ...golden, seq: 1, prevHash: '0'.repeat(64), hash: 'cd'.repeat(32) };
  const second = { ...golden, seq: 2, prevHash: first.hash, hash: 'ef'.repeat(32) };

  it('accepts a correctly linked pair', () => {
    expect(findAuditLinkBreak(null, first, first.hash)).toBeNull();
    expect(findAuditLinkBreak(first, second, second.hash)).toBeNull();
  });

  it('reports a gap, a wrong link and a wrong hash', () => {
    expect(findAuditLinkBreak(null, second, second.hash)).toBe('seq_gap');
    expect(findAuditLinkBreak(first, { ...second, prevHash: 'ab'.repeat(32) }, second.hash)).toBe('prev_hash_mismatch');
    expect(findAuditLinkBreak(null, { ...first, prevHash: 'ab'.repeat(32) }, first.hash)).toBe('prev_hash_mismatch');
    expect(findAuditLinkBreak(first, second, 'ff'.repeat(32))).toBe('hash_mismatch');
  });
});
