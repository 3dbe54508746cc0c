// Sorting of a folder's documents by a column of the list: name, size, date or uploader.
import type { DocumentView } from '../../worker/space-types';

export type SortKey = 'name' | 'size' | 'date' | 'uploadedBy';
export type SortDirection = 'ascending' | 'descending';

export interface SortOrder {
  readonly key: SortKey;
  readonly direction: SortDirection;
}

export const defaultSortOrder: SortOrder = { key: 'name', direction: 'ascending' };

/** The next order when a column header is activated: a new column ascending, the same one reversed. */
export function toggleSortOrder(order: SortOrder, key: SortKey): SortOrder {
  if (order.key !== key) return { key, direction: key === 'date' ? 'descending' : 'ascending' };
  return { key, direction: order.direction === 'ascending' ? 'descending' : 'ascending' };
}

/**
 * A sorted copy. Names compare locale-aware and numerically ("2" before "10"); rows that could not
 * be decrypted (no name, no size) always come last, whatever the direction; ties keep name order.
 */
export function sortDocuments(
  documents: readonly DocumentView[],
  order: SortOrder,
  collator: Intl.Collator,
  nameOf: (userId: string | null) => string,
): DocumentView[] {
  const byName = (a: DocumentView, b: DocumentView): number =>
    collator.compare(a.current.name ?? '', b.current.name ?? '') || a.id.localeCompare(b.id);
  const primary = (a: DocumentView, b: DocumentView): number => {
    switch (order.key) {
      case 'name':
        return collator.compare(a.current.name ?? '', b.current.name ?? '');
      case 'size':
        return (a.current.size ?? 0) - (b.current.size ?? 0);
      case 'date':
        return Date.parse(a.current.createdAt) - Date.parse(b.current.createdAt);
      case 'uploadedBy':
        return collator.compare(nameOf(a.current.uploadedBy), nameOf(b.current.uploadedBy));
    }
  };
  const sign = order.direction === 'ascending' ? 1 : -1;
  return [...documents].sort((a, b) => {
    const unreadableA = a.current.name === null;
    const unreadableB = b.current.name === null;
    if (unreadableA !== unreadableB) return unreadableA ? 1 : -1;
    return sign * primary(a, b) || byName(a, b);
  });
}
