// Decides whether the web client build is older than its sources (used before `npm start`).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);

/** Newest modification time (ms) of the files at `paths`, descending into directories. 0 if none. */
export function newestModificationMs(paths: readonly string[]): number {
  let newest = 0;
  for (const path of paths) {
    let stats;
    try {
      stats = statSync(path);
    } catch {
      continue;
    }
    if (stats.isDirectory()) {
      const children = readdirSync(path)
        .filter((name) => !SKIPPED_DIRECTORIES.has(name))
        .map((name) => join(path, name));
      newest = Math.max(newest, newestModificationMs(children));
    } else {
      newest = Math.max(newest, stats.mtimeMs);
    }
  }
  return newest;
}

/** True when `builtIndexHtml` is missing or older than any file under `sources`. */
export function isClientBuildStale(builtIndexHtml: string, sources: readonly string[]): boolean {
  let builtAt: number;
  try {
    builtAt = statSync(builtIndexHtml).mtimeMs;
  } catch {
    return true;
  }
  return newestModificationMs(sources) > builtAt;
}
