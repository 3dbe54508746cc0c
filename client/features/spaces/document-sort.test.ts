// Sorting of the documents list: numeric names, directions, unreadable rows last, ties by name.
import { describe, expect, it } from 'vitest';
import type { DocumentView, VersionView } from '../../worker/space-types';
import { sortDocuments, toggleSortOrder, type SortOrder } from './document-sort';

function doc(
  id: string,
  name: string | null,
  size: number | null,
  createdAt: string,
  uploadedBy = 'u1',
): DocumentView {
  const current: VersionView = {
    id: `v-${id}`,
    documentId: id,
    number: 1,
    createdAt,
    uploadedBy,
    unverified: false,
    cipherSize: (size ?? 0) + 100,
    name,
    size,
    type: null,
    lastModified: null,
  };
  return {
    id,
    spaceId: 's',
    folderId: null,
    requestItemId: null,
    createdAt,
    createdBy: uploadedBy,
    deletedAt: null,
    deletedBy: null,
    versionCount: 1,
    current,
    unverified: false,
  };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const names: Record<string, string> = { u1: 'Bram', u2: 'Anna' };
const nameOf = (id: string | null) => (id === null ? 'Unknown' : (names[id] ?? id));
const ids = (documents: readonly DocumentView[]) => documents.map((d) => d.id);

const documents = [
  doc('a', 'Factuur 10.pdf', 300, '2025-01-03T10:00:00Z', 'u1'),
  doc('b', 'factuur 2.pdf', 100, '2025-01-01T10:00:00Z', 'u2'),
  doc('x', null, null, '2025-01-05T10:00:00Z', 'u2'),
  doc('c', 'Aangifte.pdf', 200, '2025-01-02T10:00:00Z', 'u1'),
];

describe('sortDocuments', () => {
  it('sorts names numerically and case-insensitively, unreadable last', () => {
    expect(
      ids(sortDocuments(documents, { key: 'name', direction: 'ascending' }, collator, nameOf)),
    ).toEqual(['c', 'b', 'a', 'x']);
  });

  it('keeps unreadable rows last when descending', () => {
    expect(
      ids(sortDocuments(documents, { key: 'name', direction: 'descending' }, collator, nameOf)),
    ).toEqual(['a', 'b', 'c', 'x']);
    expect(
      ids(sortDocuments(documents, { key: 'date', direction: 'descending' }, collator, nameOf)),
    ).toEqual(['a', 'c', 'b', 'x']);
  });

  it('sorts by size and by uploader, ties by name', () => {
    expect(
      ids(sortDocuments(documents, { key: 'size', direction: 'ascending' }, collator, nameOf)),
    ).toEqual(['b', 'c', 'a', 'x']);
    expect(
      ids(
        sortDocuments(documents, { key: 'uploadedBy', direction: 'ascending' }, collator, nameOf),
      ),
    ).toEqual(['b', 'c', 'a', 'x']);
  });

  it('does not change its input', () => {
    const before = ids(documents);
    sortDocuments(documents, { key: 'size', direction: 'descending' }, collator, nameOf);
    expect(ids(documents)).toEqual(before);
  });

  it('sorts 10,000 documents in natural order (speed is for npm run bench, not a test)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      doc(`d${i}`, `Factuur ${10_000 - i}`, i, '2025-01-01T00:00:00Z'),
    );
    const sorted = sortDocuments(many, { key: 'name', direction: 'ascending' }, collator, nameOf);
    expect(sorted[0]?.current.name).toBe('Factuur 1');
    expect(sorted[9_999]?.current.name).toBe('Factuur 10000');
    expect(sorted[1233]?.current.name).toBe('Factuur 1234');
  });
});

describe('toggleSortOrder', () => {
  const byName: SortOrder = { key: 'name', direction: 'ascending' };
  it('reverses the same column and starts a new one ascending (dates newest first)', () => {
    expect(toggleSortOrder(byName, 'name')).toEqual({ key: 'name', direction: 'descending' });
    expect(toggleSortOrder(byName, 'size')).toEqual({ key: 'size', direction: 'ascending' });
    expect(toggleSortOrder(byName, 'date')).toEqual({ key: 'date', direction: 'descending' });
  });
});
