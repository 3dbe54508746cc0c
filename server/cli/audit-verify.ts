// `npm run audit:verify -- export.json [--key-id <hex>] [--pin <head.json>]`: verifies an audit
// export (shared/api/audit.ts auditExportSchema) without the server, with the same code the
// Auditor's browser runs (shared/audit/verify.ts). Exit 0 verified, 1 verification failed (the
// first bad event is printed), 2 usage error or a file that is not an export.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { auditExportSchema } from '../../shared/api/audit';
import { type AuditPin, verifyAuditExport } from '../../shared/audit/verify';

const USAGE = `Usage: npm run audit:verify -- <export.json> [--key-id <64 hex digits>] [--pin <head.json>]
  <export.json>     a JSON export made in the auditor's workspace
  --key-id <hex>    the organisation's log key id (shown in the auditor's workspace); without it,
                    an export re-signed with another key would verify too
  --pin <head.json> a head verified before ({logId, keyId, treeSize, rootHash, signedAt}, e.g. an
                    earlier export's treeHead): the export's head must not be older or differ`;

/** A usage error or an unusable input: exit 2. */
class UsageError extends Error {}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/** A remembered head: an AuditPin, or a signed tree head (its signature is not needed to pin it). */
const pinFileSchema = z.object({
  logId: z.string().min(1),
  keyId: hex64,
  treeSize: z.number().int().min(0),
  rootHash: hex64,
  signedAt: z.string(),
});

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read the ${what} ${path}${code ? ` (${code})` : ''}.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`The ${what} ${path} is not valid JSON.`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map(
      (issue) => `  ${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`,
    )
    .join('\n');
}

async function run(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'key-id': { type: 'string' },
        pin: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`Give exactly one export file.\n${USAGE}`);
  const keyId = values['key-id']?.toLowerCase();
  if (keyId !== undefined && !hex64.safeParse(keyId).success)
    throw new UsageError(`--key-id must be 64 hex digits (the log key id the workspace shows).`);

  const exportPath = positionals[0]!;
  const raw = await readJson(exportPath, 'export');
  if (
    typeof raw !== 'object' ||
    raw === null ||
    (raw as { format?: unknown }).format !== 'kluis-audit-export'
  ) {
    throw new UsageError(
      `${exportPath} is not a Kluis audit export (no "format": "kluis-audit-export").`,
    );
  }
  const data = auditExportSchema.safeParse(raw);
  if (!data.success)
    throw new UsageError(
      `${exportPath} is not a valid Kluis audit export:\n${describeIssues(data.error)}`,
    );

  let pin: AuditPin | null = null;
  if (values.pin !== undefined) {
    const pinned = pinFileSchema.safeParse(await readJson(values.pin, 'pinned head'));
    if (!pinned.success)
      throw new UsageError(
        `${values.pin} is not a head (logId, keyId, treeSize, rootHash, signedAt):\n${describeIssues(pinned.error)}`,
      );
    pin = pinned.data;
    if (keyId !== undefined && pin.keyId !== keyId)
      throw new UsageError(`The pinned head names log key ${pin.keyId}, not the --key-id given.`);
  }

  const exported = data.data;
  // WARNING: an export carries its own log key. Only a key id obtained elsewhere (the workspace,
  // the organisation's records) tells a genuine export from one re-signed with a new key.
  if (keyId !== undefined && exported.logKey.keyId !== keyId) {
    err(
      `FAILED: the export is signed by log key ${exported.logKey.keyId}, not the pinned key ${keyId}.`,
    );
    return 1;
  }
  const result = await verifyAuditExport(exported, pin);
  if (!result.ok) {
    const { failure } = result;
    err(
      `FAILED: ${failure.seq !== undefined ? `event #${failure.seq}: ` : ''}${failure.message} (${failure.kind}${failure.reason ? `, ${failure.reason}` : ''})`,
    );
    return 1;
  }
  const head = result.treeHead;
  out(
    `verified ${result.verified} events up to head ${head.treeSize} (root ${head.rootHash.slice(0, 16)}…) signed at ${head.signedAt} by log key ${exported.logKey.keyId}`,
  );
  if (!exported.complete)
    out(
      `note: a filtered export; events outside the filter were not exported, each exported event was checked against the signed head.`,
    );
  if (result.checkpoint)
    out(
      `note: events up to #${result.checkpoint.throughSeq} were pruned under the retention setting (signed checkpoint at ${result.checkpoint.signedAt}).`,
    );
  if (pin && result.pinConsistency === 'unchecked') {
    out(
      `warning: the export cannot show that head ${head.treeSize} extends the pinned head ${pin.treeSize} (a filtered or pruned export); verify in the workspace for that.`,
    );
  }
  if (keyId === undefined && pin === null) {
    err(
      `warning: the log key was not pinned: an export re-signed with another key verifies too. Compare the key id above with the one the auditor's workspace shows, or pass --key-id.`,
    );
  }
  return 0;
}

try {
  process.exitCode = await run(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  );
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
