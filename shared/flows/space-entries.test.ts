// Entry drafts built from requests: digests checked against node:crypto, and how a signed entry is compared with a draft.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type SigningPrivateKey,
  generateSecretKey,
  generateSigningKeyPair,
  toBase64Url,
} from '../crypto';
import {
  documentCreateDraft,
  documentDeleteDraft,
  documentMoveDraft,
  entryMatchesDraft,
  folderCreateDraft,
  folderDeleteDraft,
  folderRenameDraft,
  messagePostDraft,
  messageReviseDraft,
  requestCloseDraft,
  requestCreateDraft,
  spaceCreateDraft,
  threadCreateDraft,
  versionAddDraft,
} from './space-entries';
import { type EntryDraft, type EntryPayload, parseEntryPayload, signEntry } from './space-history';

const ID = (name: string) => name.padEnd(22, '_');
/** A distinct base64url "ciphertext" per label. */
const blob = (label: string, length = 80) =>
  toBase64Url(
    Uint8Array.from({ length }, (_, i) => (label.charCodeAt(i % label.length) + i) & 0xff),
  );
const digest = (b64: string) =>
  createHash('sha256').update(Buffer.from(b64, 'base64url')).digest('hex');

const version = {
  versionId: ID('ver'),
  blobId: ID('blob'),
  wrappedFileKey: blob('filekey'),
  metadata: blob('metadata', 300),
};
const message = {
  messageId: ID('msg'),
  body: blob('body', 1000),
  attachments: [ID('doc1'), ID('doc2')],
};

describe('entry drafts', () => {
  it.each<[string, () => Promise<EntryDraft> | EntryDraft, EntryDraft]>([
    [
      'space.create (client)',
      () =>
        spaceCreateDraft(
          {
            id: ID('space'),
            kind: 'client',
            sealedForEscrow: blob('seal', 512),
            wrappedForClient: blob('wrap'),
          },
          ID('client'),
          '3'.repeat(64),
        ),
      {
        type: 'space.create',
        body: {
          spaceKind: 'client',
          client: ID('client'),
          escrowSeal: digest(blob('seal', 512)),
          clientWrap: digest(blob('wrap')),
          key: '3'.repeat(64),
        },
      },
    ],
    [
      'space.create (team)',
      () =>
        spaceCreateDraft(
          { id: ID('space'), kind: 'team', sealedForEscrow: blob('seal', 512) },
          null,
          '4'.repeat(64),
        ),
      {
        type: 'space.create',
        body: {
          spaceKind: 'team',
          client: null,
          escrowSeal: digest(blob('seal', 512)),
          clientWrap: null,
          key: '4'.repeat(64),
        },
      },
    ],
    [
      'document.create',
      () =>
        documentCreateDraft({
          documentId: ID('doc'),
          folderId: ID('folder'),
          requestItemId: ID('item'),
          version,
        }),
      {
        type: 'document.create',
        body: {
          document: ID('doc'),
          folder: ID('folder'),
          requestItem: ID('item'),
          version: ID('ver'),
          blob: ID('blob'),
          fileKey: digest(version.wrappedFileKey),
          metadata: digest(version.metadata),
        },
      },
    ],
    [
      'version.add',
      () => versionAddDraft(ID('doc'), version),
      {
        type: 'version.add',
        body: {
          document: ID('doc'),
          version: ID('ver'),
          blob: ID('blob'),
          fileKey: digest(version.wrappedFileKey),
          metadata: digest(version.metadata),
        },
      },
    ],
    [
      'document.move',
      () => documentMoveDraft(ID('doc'), null),
      { type: 'document.move', body: { document: ID('doc'), folder: null } },
    ],
    [
      'document.delete',
      () => documentDeleteDraft(ID('doc')),
      { type: 'document.delete', body: { document: ID('doc') } },
    ],
    [
      'folder.create',
      () => folderCreateDraft({ id: ID('folder'), parentId: ID('parent'), name: blob('name') }),
      {
        type: 'folder.create',
        body: { folder: ID('folder'), parent: ID('parent'), name: digest(blob('name')) },
      },
    ],
    [
      'folder.rename',
      () => folderRenameDraft(ID('folder'), blob('new')),
      { type: 'folder.rename', body: { folder: ID('folder'), name: digest(blob('new')) } },
    ],
    [
      'folder.delete',
      () => folderDeleteDraft(ID('folder')),
      { type: 'folder.delete', body: { folder: ID('folder') } },
    ],
    [
      'thread.create',
      () => threadCreateDraft({ threadId: ID('thread'), subject: blob('subject'), message }),
      {
        type: 'thread.create',
        body: {
          thread: ID('thread'),
          subject: digest(blob('subject')),
          message: ID('msg'),
          text: digest(message.body),
          attachments: [ID('doc1'), ID('doc2')],
        },
      },
    ],
    [
      'message.post',
      () => messagePostDraft(ID('thread'), message),
      {
        type: 'message.post',
        body: {
          thread: ID('thread'),
          message: ID('msg'),
          text: digest(message.body),
          attachments: [ID('doc1'), ID('doc2')],
        },
      },
    ],
    [
      'message.revise',
      () => messageReviseDraft(ID('thread'), ID('msg'), 3, blob('edit')),
      {
        type: 'message.revise',
        body: { thread: ID('thread'), message: ID('msg'), revision: 3, text: digest(blob('edit')) },
      },
    ],
    [
      'request.create',
      () =>
        requestCreateDraft({
          requestId: ID('req'),
          body: blob('ask'),
          dueDate: '2026-03-31',
          items: [
            { itemId: ID('i1'), body: blob('first') },
            { itemId: ID('i2'), body: blob('second') },
          ],
        }),
      {
        type: 'request.create',
        body: {
          request: ID('req'),
          text: digest(blob('ask')),
          dueDate: '2026-03-31',
          items: [
            { item: ID('i1'), text: digest(blob('first')) },
            { item: ID('i2'), text: digest(blob('second')) },
          ],
        },
      },
    ],
    [
      'request.close',
      () => requestCloseDraft(ID('req')),
      { type: 'request.close', body: { request: ID('req') } },
    ],
  ])('%s', async (_, build, expected) => {
    expect(await build()).toEqual(expected);
  });

  it('copies the attachment list instead of sharing the request’s array', async () => {
    const attachments = [ID('doc1')];
    const draft = await messagePostDraft(ID('thread'), { ...message, attachments });
    attachments.push(ID('doc2'));
    expect(draft.body.attachments).toEqual([ID('doc1')]);
  });
});

describe('entryMatchesDraft', () => {
  let signer: { userId: string; signingKey: SigningPrivateKey };
  beforeAll(async () => {
    const pair = await generateSigningKeyPair(await generateSecretKey('user'), {
      id: ID('client'),
      owner: ID('client'),
    });
    signer = { userId: ID('client'), signingKey: pair.privateKey };
  });
  const plainDocument = () =>
    documentCreateDraft({ documentId: ID('doc'), folderId: null, requestItemId: null, version });
  const signed = async (draft: EntryDraft) =>
    parseEntryPayload(
      await signEntry(signer, ID('space'), { seq: 4, hash: 'a'.repeat(64) }, draft),
    )!;

  it('matches the entry signed from the same request, whatever the key order', async () => {
    const draft = await plainDocument();
    const payload = await signed(draft);
    expect(entryMatchesDraft(payload, draft)).toBe(true);
    const reversed = Object.fromEntries(Object.entries(draft.body).reverse()) as typeof draft.body;
    expect(Object.keys(reversed)[0]).toBe('metadata');
    expect(entryMatchesDraft(payload, { type: draft.type, body: reversed })).toBe(true);
    const request = await requestCreateDraft({
      requestId: ID('req'),
      body: blob('ask'),
      dueDate: '2026-03-31',
      items: [{ itemId: ID('i1'), body: blob('x') }],
    });
    const reorderedItems = {
      ...request,
      body: {
        ...request.body,
        items: request.body.items.map((i) => ({ text: i.text, item: i.item })),
      },
    };
    expect(entryMatchesDraft(await signed(request), reorderedItems)).toBe(true);
  });

  it('refuses any other difference: a field, the type, the order of a list', async () => {
    const draft = await plainDocument();
    const payload = await signed(draft);
    for (const change of [
      { folder: ID('folder') },
      { fileKey: 'f'.repeat(64) },
      { blob: ID('other') },
      { requestItem: ID('item') },
    ]) {
      expect(
        entryMatchesDraft(payload, { type: draft.type, body: { ...draft.body, ...change } }),
      ).toBe(false);
    }
    expect(
      entryMatchesDraft(payload, {
        type: 'version.add',
        body: {
          document: ID('doc'),
          version: ID('ver'),
          blob: ID('blob'),
          fileKey: draft.body.fileKey,
          metadata: draft.body.metadata,
        },
      }),
    ).toBe(false);
    const post = await messagePostDraft(ID('thread'), message);
    const swapped = { ...post, body: { ...post.body, attachments: [ID('doc2'), ID('doc1')] } };
    expect(entryMatchesDraft(await signed(post), swapped)).toBe(false);
  });

  it('refuses an entry of another type with the same body', async () => {
    const payload = await signed(documentDeleteDraft(ID('doc')));
    const sameBody = {
      type: 'version.add',
      body: { document: ID('doc') },
    } as unknown as EntryDraft;
    expect(entryMatchesDraft(payload, sameBody)).toBe(false);
  });

  it('ignores only the listed fields', async () => {
    const body = {
      id: ID('space'),
      kind: 'client' as const,
      sealedForEscrow: blob('seal', 512),
      wrappedForClient: blob('wrap'),
    };
    const browser = await spaceCreateDraft(body, ID('client'), '3'.repeat(64));
    const payload: EntryPayload = await signed(browser);
    // The server cannot compute the key commitment: it builds the draft with a placeholder and ignores `key`.
    const server = await spaceCreateDraft(body, ID('client'), '0'.repeat(64));
    expect(entryMatchesDraft(payload, server)).toBe(false);
    expect(entryMatchesDraft(payload, server, ['key'])).toBe(true);
    // Ignoring `key` does not hide a different seal or client.
    const otherSeal = await spaceCreateDraft(
      { ...body, sealedForEscrow: blob('other', 512) },
      ID('client'),
      '0'.repeat(64),
    );
    expect(entryMatchesDraft(payload, otherSeal, ['key'])).toBe(false);
    const otherClient = await spaceCreateDraft(body, ID('client2'), '0'.repeat(64));
    expect(entryMatchesDraft(payload, otherClient, ['key'])).toBe(false);
  });
});
