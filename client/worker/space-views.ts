// Decrypted views of server records (./space-types.ts): one mapping for the listing and for a fresh upload.
import type { DocumentSummary, DocumentVersion } from '../../shared/api';
import type { DocumentMetadata } from '../../shared/flows/spaces';
import type { DocumentView, VersionView } from './space-types';

/** A version with its decrypted metadata; null metadata (it could not be decrypted) leaves the fields null. */
export function versionViewOf(version: DocumentVersion, metadata: DocumentMetadata | null): VersionView {
  return {
    id: version.id,
    documentId: version.documentId,
    number: version.number,
    createdAt: version.createdAt,
    uploadedBy: version.uploadedBy,
    cipherSize: version.size,
    name: metadata?.name ?? null,
    size: metadata?.size ?? null,
    type: metadata?.type ?? null,
    lastModified: metadata?.lastModified ?? null,
  };
}

export function documentViewOf(document: DocumentSummary, current: VersionView): DocumentView {
  return {
    id: document.id,
    spaceId: document.spaceId,
    folderId: document.folderId,
    requestItemId: document.requestItemId,
    createdAt: document.createdAt,
    createdBy: document.createdBy,
    deletedAt: document.deletedAt,
    deletedBy: document.deletedBy,
    versionCount: document.versionCount,
    current,
  };
}
