// The chain of folders from the top of a space to one folder, for the breadcrumb and the Move dialog.
import type { FolderView } from '../../worker/space-types';

/** The folder chain from the top to `folderId`, or null when that folder or one above it is unknown or deleted. */
export function folderPath(
  folders: readonly FolderView[],
  folderId: string | null,
): FolderView[] | null {
  const byId = new Map(folders.map((folder) => [folder.id, folder]));
  const path: FolderView[] = [];
  let id = folderId;
  while (id !== null) {
    const folder = byId.get(id);
    // Unknown, deleted, or a cycle a server could fake: fall back to the top.
    if (!folder || folder.deletedAt !== null || path.includes(folder)) return null;
    path.unshift(folder);
    id = folder.parentId;
  }
  return path;
}
