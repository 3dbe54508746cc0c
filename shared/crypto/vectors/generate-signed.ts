// Prints signed-v1.json: certificates, an escrow-copy statement, an invitation binding and a signed space history, with negative vectors. Run only when a format change is deliberate:
// `node --import tsx shared/crypto/vectors/generate-signed.ts > shared/crypto/vectors/signed-v1.json` (signatures are randomised: every run differs).
import type { DirectoryEntry, SignedPayload } from '../../api';
import {
  type CertificateBasis,
  makeBinding,
  signCertificate,
  signEscrowCopy,
} from '../../flows/certificates';
import {
  type EntryDraft,
  type HistoryHead,
  entryHash,
  recordDigest,
  signEntry,
} from '../../flows/space-history';
import {
  type SigningPrivateKey,
  deriveInvitationBindingKey,
  fromBase64Url,
  fromHex,
  generateKeyPair,
  generateSigningKeyPair,
  importSecretKey,
  keyCommitment,
  signStatement,
  toBase64Url,
  toHex,
  utf8,
  wrapSecretKey,
} from '../index';

const fixedKey = (seed: number) =>
  fromHex(
    Array.from({ length: 32 }, (_, i) =>
      ((seed + i * 7) & 0xff).toString(16).padStart(2, '0'),
    ).join(''),
  );
const opaqueBytes = (label: string, length: number) =>
  toBase64Url(
    Uint8Array.from({ length }, (_, i) => (label.charCodeAt(i % label.length) * (i + 1)) & 0xff),
  );
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 9, minute));

const userKeyRaw = fixedKey(1);
const spaceKeyRaw = fixedKey(2);
const escrowKeyRaw = fixedKey(4);
/** Wraps every person's private keys in these vectors (the same user key as golden-v1.json). */
const userKey = await importSecretKey('user', userKeyRaw, { extractable: true });
const spaceKey = await importSecretKey('space', spaceKeyRaw, { extractable: true });
const escrowKey = await importSecretKey('escrow', escrowKeyRaw, { extractable: true });

const ids = {
  root: 'rootAdmin000000000000A',
  team: 'teamMember00000000000B',
  client: 'clientUser00000000000C',
  space: 'space00000000000000001',
  folder: 'folder0000000000000001',
  document: 'document00000000000001',
  version: 'version000000000000001',
  blob: 'blob000000000000000001',
  thread: 'thread0000000000000001',
  message1: 'message000000000000001',
  message2: 'message000000000000002',
  invitation: 'invitation000000000001',
};

async function person(name: 'root' | 'team' | 'client', role: DirectoryEntry['role']) {
  const ctx = { id: ids[name], owner: ids[name] };
  const enc = await generateKeyPair(userKey, ctx);
  const sig = await generateSigningKeyPair(userKey, ctx);
  return {
    id: ids[name],
    email: `${name}@kluis.example`,
    role,
    enc,
    sig,
    vector: {
      id: ids[name],
      email: `${name}@kluis.example`,
      role,
      keyCtx: ctx,
      encryptionKey: {
        spki: toBase64Url(enc.publicKey.spki),
        fingerprint: toHex(enc.publicKey.fingerprint),
      },
      signingKey: {
        spki: toBase64Url(sig.publicKey.spki),
        fingerprint: toHex(sig.publicKey.fingerprint),
        wrappedPrivateKey: toBase64Url(sig.wrappedPrivateKey),
      },
    },
  };
}
type Person = Awaited<ReturnType<typeof person>>;

const root = await person('root', 'admin');
const team = await person('team', 'team');
const client = await person('client', 'client');
const signer = (p: Person) => ({ userId: p.id, signingKey: p.sig.privateKey });
const subject = (p: Person) => ({
  userId: p.id,
  email: p.email,
  role: p.role,
  encKey: toHex(p.enc.publicKey.fingerprint),
  sigKey: toHex(p.sig.publicKey.fingerprint),
});
const certify = (issuer: Person, p: Person, basis: CertificateBasis, minute: number) =>
  signCertificate(signer(issuer), subject(p), basis, at(minute));
const listing = (p: Person, certificates: SignedPayload[]): DirectoryEntry => ({
  id: p.id,
  email: p.email,
  role: p.role,
  publicKey: toBase64Url(p.enc.publicKey.spki),
  signingPublicKey: toBase64Url(p.sig.publicKey.spki),
  certificates,
  binding: null,
  escrowCopyStatement: null,
});

const rootCertificate = await certify(root, root, 'root', 0);
const teamCertificate = await certify(root, team, 'invitation', 1);
const clientCertificate = await certify(team, client, 'invitation', 2);
const signedMessage = (context: string, payload: string) => {
  const contextBytes = utf8(context);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, contextBytes.length);
  return toHex(
    new Uint8Array([
      ...utf8('kluis/v1/signature'),
      ...length,
      ...contextBytes,
      ...fromBase64Url(payload),
    ]),
  );
};

// Escrow copy: the owner's statement about their user key sealed to the escrow key (the seal is opaque here).
const escrowFingerprint = toHex(root.enc.publicKey.fingerprint).replace(/^./, 'e');
const sealedCopy = opaqueBytes('sealed user key', 512);
const escrowCopyStatement = await signEscrowCopy(
  { ...signer(client), userKey },
  escrowFingerprint,
  sealedCopy,
);

// Invitation binding of the client.
const bindingKey = await deriveInvitationBindingKey(escrowKey, ids.invitation);
const bindingMac = await makeBinding(bindingKey, {
  invitationId: ids.invitation,
  ...subject(client),
});

// The space history. Stored values are opaque bytes except the client's wrap, a real wrap of the space key.
const stored = {
  escrowSeal: opaqueBytes('space key sealed to escrow', 512),
  clientWrap: toBase64Url(
    await wrapSecretKey(userKey, spaceKey, { id: ids.space, owner: ids.client }),
  ),
  folderName: opaqueBytes('folder name', 61),
  wrappedFileKey: opaqueBytes('wrapped file key', 109),
  metadata: opaqueBytes('metadata', 140),
  subject: opaqueBytes('subject', 70),
  message1: opaqueBytes('first message', 120),
  message2: opaqueBytes('second message', 95),
};
const d = recordDigest;
const drafts: [Person, EntryDraft][] = [
  [
    client,
    {
      type: 'space.create',
      body: {
        spaceKind: 'client',
        client: ids.client,
        escrowSeal: await d(stored.escrowSeal),
        clientWrap: await d(stored.clientWrap),
        key: await keyCommitment(spaceKey),
      },
    },
  ],
  [
    team,
    {
      type: 'folder.create',
      body: { folder: ids.folder, parent: null, name: await d(stored.folderName) },
    },
  ],
  [
    client,
    {
      type: 'document.create',
      body: {
        document: ids.document,
        folder: ids.folder,
        requestItem: null,
        version: ids.version,
        blob: ids.blob,
        fileKey: await d(stored.wrappedFileKey),
        metadata: await d(stored.metadata),
      },
    },
  ],
  [
    team,
    {
      type: 'thread.create',
      body: {
        thread: ids.thread,
        subject: await d(stored.subject),
        message: ids.message1,
        text: await d(stored.message1),
        attachments: [ids.document],
      },
    },
  ],
  [
    client,
    {
      type: 'message.post',
      body: {
        thread: ids.thread,
        message: ids.message2,
        text: await d(stored.message2),
        attachments: [],
      },
    },
  ],
];
const entries: SignedPayload[] = [];
const hashes: string[] = [];
let head: HistoryHead | null = null;
for (const [p, draft] of drafts) {
  const entry: SignedPayload = await signEntry(
    signer(p),
    ids.space,
    head,
    draft,
    at(10 + entries.length),
  );
  entries.push(entry);
  hashes.push(await entryHash(fromBase64Url(entry.payload)));
  head = { seq: entries.length - 1, hash: hashes.at(-1)! };
}

// --- negative vectors ---
const resign = async (
  key: SigningPrivateKey,
  context: string,
  payload: string,
): Promise<SignedPayload> => ({
  payload,
  signature: toBase64Url(await signStatement(key, context, fromBase64Url(payload))),
});
const tampered = (() => {
  const bytes = fromBase64Url(entries[2]!.payload);
  const text = new TextDecoder().decode(bytes);
  const index = text.indexOf('"fileKey":"') + '"fileKey":"'.length;
  bytes[index] = bytes[index] === 0x30 ? 0x31 : 0x30;
  return { payload: toBase64Url(bytes), signature: entries[2]!.signature };
})();
const wrongPrev = await signEntry(
  signer(client),
  ids.space,
  { seq: 1, hash: hashes[0]! },
  drafts[2]![1],
  at(12),
);

const directory = [
  listing(root, [rootCertificate]),
  listing(team, [teamCertificate]),
  listing(client, [clientCertificate]),
];
const vectors = {
  comment:
    'Signed formats of Kluis v1 (SECURITY.md "Certificates, signed entries and space histories"). Generated once by generate-signed.ts; signed-vectors.test.ts verifies them. Signatures are ECDSA P-256/SHA-256, IEEE P1363 r||s, over "kluis/v1/signature" || u32be(len(context)) || context || payload bytes.',
  keys: {
    user: toHex(userKeyRaw),
    space: toHex(spaceKeyRaw),
    escrow: toHex(escrowKeyRaw),
    signingKeyType: 'private-key/ecdsa-p256',
  },
  people: { root: root.vector, team: team.vector, client: client.vector },
  pins: { adminRootFingerprint: toHex(root.sig.publicKey.fingerprint) },
  certificates: {
    root: {
      ...rootCertificate,
      context: 'user-cert',
      signedMessage: signedMessage('user-cert', rootCertificate.payload),
    },
    teamByAdmin: { ...teamCertificate, context: 'user-cert' },
    clientByTeam: { ...clientCertificate, context: 'user-cert' },
  },
  directory,
  escrowCopy: {
    escrowFingerprint,
    sealedCopy,
    statement: escrowCopyStatement,
    context: 'user-key-escrow',
    userKeyCommitment: await keyCommitment(userKey),
  },
  invitationBinding: {
    invitationId: ids.invitation,
    label: `kluis/v1/invitation-binding/${ids.invitation}`,
    bindingKey: toHex(bindingKey),
    fields: [
      ids.invitation,
      client.id,
      client.email,
      client.role,
      toHex(client.enc.publicKey.fingerprint),
      toHex(client.sig.publicKey.fingerprint),
    ],
    mac: bindingMac,
  },
  history: {
    spaceId: ids.space,
    stored,
    spaceKeyCommitment: await keyCommitment(spaceKey),
    entries,
    hashes,
    head: { seq: entries.length - 1, hash: hashes.at(-1)! },
  },
  negative: {
    history: [
      {
        name: 'tampered payload (one byte of the fileKey digest)',
        entries: [entries[0], entries[1], tampered],
        remembered: null,
        problem: 'bad-signature',
        seq: 2,
      },
      {
        name: 'signature from the wrong key (the team member signs the client’s entry)',
        entries: [
          entries[0],
          entries[1],
          await resign(team.sig.privateKey, 'space-entry', entries[2]!.payload),
        ],
        remembered: null,
        problem: 'bad-signature',
        seq: 2,
      },
      {
        name: 'broken prev link (entry 2 names entry 0 as prev)',
        entries: [entries[0], entries[1], wrongPrev],
        remembered: null,
        problem: 'broken-chain',
        seq: 2,
      },
      {
        name: 'dropped entry',
        entries: [entries[0], entries[2]],
        remembered: null,
        problem: 'broken-chain',
        seq: 1,
      },
      {
        name: 'rolled-back head (3 entries served, 5 verified before)',
        entries: entries.slice(0, 3),
        remembered: { seq: entries.length - 1, hash: hashes.at(-1)! },
        problem: 'rollback',
        seq: 2,
      },
      {
        name: 'wrong context (a "user-cert" signature by the author over the entry bytes)',
        entries: [
          entries[0],
          entries[1],
          await resign(client.sig.privateKey, 'user-cert', entries[2]!.payload),
        ],
        remembered: null,
        problem: 'bad-signature',
        seq: 2,
      },
    ],
    directory: [
      {
        name: 'substituted encryption key for the client',
        directory: [
          directory[0],
          directory[1],
          { ...directory[2]!, publicKey: toBase64Url(team.enc.publicKey.spki) },
        ],
        user: client.id,
        reason: 'certificate-mismatch',
      },
      {
        name: 'a Team Member certifies a Team Member (the client’s keys, role "team")',
        directory: [
          directory[0],
          directory[1],
          {
            ...listing(client, [
              await signCertificate(
                signer(team),
                { ...subject(client), role: 'team' },
                'invitation',
                at(2),
              ),
            ]),
            role: 'team' as const,
          },
        ],
        user: client.id,
        reason: 'certificate-mismatch',
      },
      {
        name: 'wrong context (a "space-entry" signature by the issuer over the certificate bytes)',
        directory: [
          directory[0],
          directory[1],
          listing(client, [
            await resign(team.sig.privateKey, 'space-entry', clientCertificate.payload),
          ]),
        ],
        user: client.id,
        reason: 'certificate-mismatch',
      },
    ],
    binding: {
      name: 'the binding MAC presented for another invitation',
      invitationId: 'invitation000000000002',
      mac: bindingMac,
    },
    escrowCopy: {
      name: 'the statement presented for another sealed copy',
      sealedCopy: opaqueBytes('another sealed user key', 512),
    },
  },
};
console.log(JSON.stringify(vectors, null, 2));
