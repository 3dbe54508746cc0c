// Decrypted views of server records (./space-types.ts), with authors from the verified history: one mapping for the listing and for a fresh upload.
import type { DocumentSummary, DocumentVersion } from '../../shared/api';
import type { SpaceState } from '../../shared/flows/space-history';
import type { DocumentMetadata } from '../../shared/flows/spaces';
import type { DocumentView, VersionView } from './space-types';

/** What a view needs of a space's verification: its verified state (null: none) and the listed items that disagree with it. */
export interface Verification {
  readonly state: SpaceState | null;
  readonly unverified: ReadonlySet<string>;
}

/**
 * A version with its decrypted metadata (null: it could not be decrypted, the fields stay null).
 * WARNING: the uploader is the signed author from the history, never the server's column.
 */
export function versionViewOf(version: DocumentVersion, metadata: DocumentMetadata | null, verification: Verification): VersionView {
  const signed = verification.state?.documents.get(version.documentId)?.versions.find((candidate) => candidate.id === version.id);
  return {
    id: version.id,
    documentId: version.documentId,
    number: version.number,
    createdAt: version.createdAt,
    uploadedBy: signed?.author ?? null,
    unverified: !signed || verification.unverified.has(version.id),
    cipherSize: version.size,
    name: metadata?.name ?? null,
    size: metadata?.size ?? null,
    type: metadata?.type ?? null,
    lastModified: metadata?.lastModified ?? null,
  };
}

export function documentViewOf(document: DocumentSummary, current: VersionView, verification: Verification): DocumentView {
  const signed = verification.state?.documents.get(document.id);
  return {
    id: document.id,
    spaceId: document.spaceId,
    folderId: document.folderId,
    requestItemId: document.requestItemId,
    createdAt: document.createdAt,
    createdBy: signed?.createdBy ?? null,
    deletedAt: document.deletedAt,
    deletedBy: signed ? signed.deletedBy : null,
    versionCount: document.versionCount,
    current,
    unverified: !signed || verification.unverified.has(document.id),
  };
}
