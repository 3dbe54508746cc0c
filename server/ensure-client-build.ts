// `prestart`: runs `vite build` only when dist/client is missing or older than client/, shared/ or the Vite config.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isClientBuildStale } from './lib/client-build-freshness';

const repo = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const builtIndexHtml = repo('dist/client/index.html');
// package-lock.json too: a dependency upgrade changes the bundle without touching our sources.
const sources = [repo('client'), repo('shared'), repo('vite.config.ts'), repo('package-lock.json')];

async function main(): Promise<number> {
  if (!existsSync(repo('client/index.html'))) {
    process.stderr.write('client/index.html does not exist yet: nothing to build (the server will answer 503 for the web client).\n');
    return 0;
  }
  if (!isClientBuildStale(builtIndexHtml, sources)) return 0;
  process.stdout.write('The web client build is missing or out of date: running vite build...\n');
  const { build } = await import('vite');
  try {
    await build({ configFile: repo('vite.config.ts'), root: repo('client'), logLevel: 'warn' });
  } catch (error) {
    process.stderr.write(`vite build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
