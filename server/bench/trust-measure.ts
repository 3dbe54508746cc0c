// Crypto-group measurements of issue 18's trust machinery: signed space histories and the certificate directory, beside raw ECDSA.
import { performance } from 'node:perf_hooks';
import type { DirectoryEntry, SignedPayload } from '../../shared/api';
import {
  type GeneratedKeyPair,
  type SigningPrivateKey,
  fromBase64Url,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  randomBytes,
  toBase64Url,
  toHex,
} from '../../shared/crypto';
import {
  type CertificateBasis,
  signCertificate,
  verifyDirectory,
} from '../../shared/flows/certificates';
import {
  type AuthorKeyResolver,
  type EntryDraft,
  type HistoryHead,
  type SignedEntry,
  type VerifiedEntry,
  type VerifiedHistory,
  entryHash,
  foldEntries,
  signEntry,
  verifyEntries,
} from '../../shared/flows/space-history';
import { newClientId } from '../../shared/flows/spaces';
import { BenchFailure, type GroupReport } from './harness';
import { median } from './measure';

/** document.create entries after entry 0 (space.create): the history the browser verifies on first open. */
export const HISTORY_DOCUMENTS = 10_000;
/** Entries signed per signing run (a run of 10,000 would take several seconds on this machine). */
const SIGN_ENTRIES = 2_000;
/** Interleaved rounds per comparison; the fastest run of each variant counts. */
const ROUNDS = 3;
/** The directory: 1 root Administrator, 3 Administrators, 20 Team Members, 176 clients. */
const DIRECTORY = { admins: 3, team: 20, clients: 176 } as const;
/** RSA-4096 key pairs generated (slow) and shared round-robin by the directory's people. */
const RSA_KEYS = 8;
const DIRECTORY_RUNS = 5;

// The raw baselines measure WebCrypto itself, so they call it directly; application code never does
// (it goes through shared/crypto).
// eslint-disable-next-line no-restricted-properties
const subtle = crypto.subtle;
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

interface Author {
  readonly userId: string;
  readonly signingKey: SigningPrivateKey;
  readonly role: 'client' | 'team';
}

const hex32 = () => toHex(randomBytes(32));

function documentDraft(): EntryDraft<'document.create'> {
  return {
    type: 'document.create',
    body: {
      document: newClientId(),
      folder: null,
      requestItem: null,
      version: newClientId(),
      blob: newClientId(),
      fileKey: hex32(),
      metadata: hex32(),
    },
  };
}

/** Seconds for `body`. */
async function seconds(body: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await body();
  return (performance.now() - start) / 1000;
}

/** Runs each variant `ROUNDS` times, alternating the order; the fastest run of each (seconds). */
async function fastestInterleaved<K extends string>(
  variants: readonly (readonly [K, () => Promise<number>])[],
): Promise<Map<K, number>> {
  const best = new Map<K, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, variant] of round % 2 === 0 ? variants : [...variants].reverse()) {
      const run = await variant();
      best.set(name, Math.min(best.get(name) ?? Infinity, run));
    }
  }
  return best;
}

/** A client space's history: entry 0 by the client, then HISTORY_DOCUMENTS document.create entries by the client and a Team Member in turn. */
async function buildHistory(client: Author, team: Author) {
  const spaceId = newClientId();
  const drafts: EntryDraft[] = [
    {
      type: 'space.create',
      body: {
        spaceKind: 'client',
        client: client.userId,
        escrowSeal: hex32(),
        clientWrap: hex32(),
        key: hex32(),
      },
    },
    ...Array.from({ length: HISTORY_DOCUMENTS }, documentDraft),
  ];
  const entries: SignedEntry[] = [];
  /** heads[i]: the head entry i is signed on (null for entry 0). */
  const heads: (HistoryHead | null)[] = [];
  let head: HistoryHead | null = null;
  for (const [i, draft] of drafts.entries()) {
    const author = i === 0 || i % 2 === 1 ? client : team;
    heads.push(head);
    const entry: SignedEntry = await signEntry(author, spaceId, head, draft);
    entries.push(entry);
    head = { seq: i, hash: await entryHash(fromBase64Url(entry.payload)) };
  }
  return { spaceId, drafts, entries, heads };
}

/**
 * history.verify_entries_per_s and history.sign_entries_per_s beside raw ECDSA P-256 over the same
 * payload bytes (ecdsa.verify_per_s, ecdsa.sign_per_s), each pair measured interleaved.
 */
async function measureHistory(
  report: GroupReport,
  progress: (line: string) => void,
): Promise<void> {
  const wrapping = await generateSecretKey('user');
  const author = async (role: Author['role']): Promise<Author> => {
    const userId = newClientId();
    const { privateKey } = await generateSigningKeyPair(wrapping, { id: userId, owner: userId });
    return { userId, signingKey: privateKey, role };
  };
  const client = await author('client');
  const team = await author('team');
  const byId = new Map([client, team].map((a) => [a.userId, a]));
  // What the worker's Trust answers from the verified directory: the certified key, or nobody.
  const resolveAuthor: AuthorKeyResolver = (authorId, fingerprint) => {
    const a = byId.get(authorId);
    return Promise.resolve(
      a && toHex(a.signingKey.publicKey.fingerprint) === fingerprint
        ? { key: a.signingKey.publicKey, role: a.role }
        : null,
    );
  };

  progress(
    `signing a history of ${HISTORY_DOCUMENTS + 1} entries (entry 0 + ${HISTORY_DOCUMENTS} document.create, 2 authors; not timed)`,
  );
  const { spaceId, drafts, entries, heads } = await buildHistory(client, team);
  const payloads = entries.map((e) => fromBase64Url(e.payload));
  const authorOf = (i: number) => (i === 0 || i % 2 === 1 ? client : team);
  // Raw signatures over the bare payload bytes (no statement context): what the raw verify checks.
  const rawSignatures = await Promise.all(
    payloads.map((p, i) => subtle.sign(ECDSA_SIGN, authorOf(i).signingKey.key, p)),
  );

  // verifyEntries alone is linear and interleaved with the raw baseline; foldEntries is timed once
  // (over the whole history and over its first quarter, to show how it grows), as it takes seconds.
  const last: { verified: VerifiedHistory | null } = { verified: null };
  const verifyHistory = () =>
    seconds(async () => {
      last.verified = await verifyEntries({
        spaceId,
        from: null,
        entries,
        resolveAuthor,
        remembered: null,
      });
    });
  const rawVerify = () =>
    seconds(async () => {
      for (const [i, payload] of payloads.entries()) {
        if (
          !(await subtle.verify(
            ECDSA_SIGN,
            authorOf(i).signingKey.publicKey.key,
            rawSignatures[i]!,
            payload,
          ))
        )
          throw new BenchFailure('a raw ECDSA signature does not verify');
      }
    });
  progress(
    `verify: verifyEntries over ${entries.length} entries against ${entries.length} raw ECDSA verifies; ${ROUNDS} interleaved rounds`,
  );
  const verify = await fastestInterleaved([
    ['raw', rawVerify],
    ['history', verifyHistory],
  ]);
  const verifiedEntries = last.verified?.entries ?? [];
  const quarter = verifiedEntries.slice(0, 1 + HISTORY_DOCUMENTS / 4);
  progress(
    `fold: foldEntries over the first ${quarter.length} and all ${verifiedEntries.length} verified entries, once each`,
  );
  const fold = (list: readonly VerifiedEntry[]) => {
    const start = performance.now();
    const documents = foldEntries(null, list).documents.size;
    const time = (performance.now() - start) / 1000;
    if (documents !== list.length - 1)
      throw new BenchFailure(
        `the folded state has ${documents} documents for ${list.length} entries`,
      );
    return time;
  };
  const foldQuarter = fold(quarter);
  const foldAll = fold(verifiedEntries);
  const verifyOnly = verify.get('history')!;
  const historyVerify = entries.length / (verifyOnly + foldAll);
  const rawVerifyRate = entries.length / verify.get('raw')!;
  report.add(
    'verify_entries_per_s',
    `verifyEntries + foldEntries, ${entries.length}-entry history, 2 authors (verify best of ${ROUNDS} + fold once)`,
    historyVerify,
    'entries/s',
    {
      summary: true,
      section: 'history',
    },
  );
  report.add(
    'verify_per_s',
    'raw WebCrypto ECDSA P-256 verify over the same payload bytes, sequential (baseline)',
    rawVerifyRate,
    'ops/s',
    {
      summary: true,
      section: 'ecdsa',
    },
  );
  report.add(
    'verify_vs_raw_verify',
    'history verify + fold / raw ECDSA verify',
    historyVerify / rawVerifyRate,
    'x',
    { summary: true, section: 'history' },
  );
  report.add(
    'verify_10k_ms',
    `verifyEntries + foldEntries, the whole ${entries.length}-entry history`,
    (verifyOnly + foldAll) * 1000,
    'ms',
    { section: 'history' },
  );
  report.add(
    'verify_only_per_s',
    `verifyEntries alone (parse, chain, resolve, signature, hash), ${entries.length} entries`,
    entries.length / verifyOnly,
    'entries/s',
    {
      section: 'history',
    },
  );
  report.add(
    'verify_only_vs_raw_verify',
    'verifyEntries alone / raw ECDSA verify',
    entries.length / verifyOnly / rawVerifyRate,
    'x',
    { summary: true, section: 'history' },
  );
  report.add(
    'fold_10k_ms',
    `foldEntries, ${verifiedEntries.length} entries`,
    foldAll * 1000,
    'ms',
    { summary: true, section: 'history' },
  );
  report.add(
    'fold_2500_ms',
    `foldEntries, the first ${quarter.length} entries`,
    foldQuarter * 1000,
    'ms',
    { section: 'history' },
  );
  report.add(
    'fold_growth_4x_entries',
    `foldEntries time for 4x the entries (${verifiedEntries.length} / ${quarter.length}; 4 = linear, 16 = quadratic)`,
    foldAll / foldQuarter,
    'x',
    {
      summary: true,
      section: 'history',
    },
  );

  const signHistory = () =>
    seconds(async () => {
      for (let i = 1; i <= SIGN_ENTRIES; i++)
        await signEntry(authorOf(i), spaceId, heads[i]!, drafts[i]!);
    });
  const rawSign = () =>
    seconds(async () => {
      for (let i = 1; i <= SIGN_ENTRIES; i++)
        await subtle.sign(ECDSA_SIGN, authorOf(i).signingKey.key, payloads[i]!);
    });
  progress(
    `sign: signEntry against raw ECDSA sign, ${SIGN_ENTRIES} entries each; ${ROUNDS} interleaved rounds`,
  );
  const sign = await fastestInterleaved([
    ['raw', rawSign],
    ['history', signHistory],
  ]);
  const historySign = SIGN_ENTRIES / sign.get('history')!;
  const rawSignRate = SIGN_ENTRIES / sign.get('raw')!;
  report.add(
    'sign_entries_per_s',
    `signEntry (build, validate, serialise, sign), ${SIGN_ENTRIES} document.create entries`,
    historySign,
    'entries/s',
    {
      summary: true,
      section: 'history',
    },
  );
  report.add(
    'sign_per_s',
    'raw WebCrypto ECDSA P-256 sign over the same payload bytes, sequential (baseline)',
    rawSignRate,
    'ops/s',
    {
      summary: true,
      section: 'ecdsa',
    },
  );
  report.add('sign_vs_raw_sign', 'history sign / raw ECDSA sign', historySign / rawSignRate, 'x', {
    section: 'history',
  });
}

interface Person {
  readonly id: string;
  readonly email: string;
  readonly role: DirectoryEntry['role'];
  readonly enc: GeneratedKeyPair;
  readonly sig: SigningPrivateKey;
}

/** directory.verify_ms: verifyDirectory over 200 people, each with a real certificate chained to the root. */
async function measureDirectory(
  report: GroupReport,
  progress: (line: string) => void,
): Promise<void> {
  const wrapping = await generateSecretKey('user');
  progress(`directory: generating ${RSA_KEYS} RSA-4096 key pairs (not timed)`);
  const rsa = await Promise.all(
    Array.from({ length: RSA_KEYS }, (_, i) =>
      generateKeyPair(wrapping, { id: `bench-rsa-${i}`, owner: 'bench' }),
    ),
  );
  const roles: DirectoryEntry['role'][] = [
    'admin',
    ...Array<'admin'>(DIRECTORY.admins).fill('admin'),
    ...Array<'team'>(DIRECTORY.team).fill('team'),
    ...Array<'client'>(DIRECTORY.clients).fill('client'),
  ];
  const people: Person[] = await Promise.all(
    roles.map(async (role, i) => {
      const id = newClientId();
      const { privateKey } = await generateSigningKeyPair(wrapping, { id, owner: id });
      return {
        id,
        email: `person-${i}@kluis.test`,
        role,
        enc: rsa[i % RSA_KEYS]!,
        sig: privateKey,
      };
    }),
  );
  const [root, ...rest] = people as [Person, ...Person[]];
  const admins = rest.filter((p) => p.role === 'admin');
  const team = rest.filter((p) => p.role === 'team');
  const start = Date.UTC(2026, 0, 1);
  let minute = 0;
  const certify = (issuer: Person, p: Person, basis: CertificateBasis): Promise<SignedPayload> =>
    signCertificate(
      { userId: issuer.id, signingKey: issuer.sig },
      {
        userId: p.id,
        email: p.email,
        role: p.role,
        encKey: toHex(p.enc.publicKey.fingerprint),
        sigKey: toHex(p.sig.publicKey.fingerprint),
      },
      basis,
      new Date(start + 60_000 * minute++),
    );
  // The root self-signs; Administrators certify staff; Team Members (in turn) certify clients.
  const certificates = new Map<string, SignedPayload>([
    [root.id, await certify(root, root, 'root')],
  ]);
  for (const [i, p] of rest.entries()) {
    const issuer =
      p.role === 'client'
        ? team[i % team.length]!
        : p.role === 'admin'
          ? root
          : admins[i % admins.length]!;
    certificates.set(p.id, await certify(issuer, p, 'invitation'));
  }
  const entries: DirectoryEntry[] = people.map((p) => ({
    id: p.id,
    email: p.email,
    role: p.role,
    publicKey: toBase64Url(p.enc.publicKey.spki),
    signingPublicKey: toBase64Url(p.sig.publicKey.spki),
    certificates: [certificates.get(p.id)!],
    binding: null,
    escrowCopyStatement: null,
  }));
  const pins = { adminRootFingerprint: toHex(root.sig.publicKey.fingerprint) };

  progress(
    `directory: verifyDirectory over ${entries.length} people, one warm-up and ${DIRECTORY_RUNS} timed`,
  );
  const once = async () => {
    const verified = await verifyDirectory(entries, pins);
    if (!verified.rootFound || verified.identities.size !== entries.length)
      throw new BenchFailure(
        `verifyDirectory vouched for ${verified.identities.size} of ${entries.length} people`,
      );
  };
  await once();
  const runs: number[] = [];
  for (let i = 0; i < DIRECTORY_RUNS; i++) runs.push((await seconds(once)) * 1000);
  report.add(
    'verify_ms',
    `verifyDirectory, ${entries.length} people (1 root + ${DIRECTORY.admins} admins, ${DIRECTORY.team} team, ${DIRECTORY.clients} clients), median of ${DIRECTORY_RUNS}`,
    median(runs),
    'ms',
    { summary: true, section: 'directory' },
  );
  report.add(
    'verify_min_ms',
    `verifyDirectory, ${entries.length} people, fastest of ${DIRECTORY_RUNS}`,
    Math.min(...runs),
    'ms',
    {
      section: 'directory',
    },
  );
}

/** Issue 18's trust machinery in the crypto group (its metrics go to the history, ecdsa and directory JSON sections). */
export async function measureTrust(
  report: GroupReport,
  progress: (line: string) => void,
): Promise<void> {
  await measureHistory(report, progress);
  await measureDirectory(report, progress);
  report.note(
    `Trust machinery (issue 18): the history is entry 0 + ${HISTORY_DOCUMENTS} document.create entries signed by a client and a Team Member in turn, built once; ` +
      `the resolver answers from a map of the two real keys (the worker's Trust answers from its verified directory). ` +
      `Raw ECDSA baselines sign and verify the same payload bytes without Kluis's statement context. verifyEntries and raw verify runs are the fastest of ${ROUNDS} interleaved; foldEntries runs once (it takes seconds); sign runs cover ${SIGN_ENTRIES} entries.`,
  );
  report.note(
    `The directory's ${1 + DIRECTORY.admins + DIRECTORY.team + DIRECTORY.clients} people share ${RSA_KEYS} RSA-4096 encryption keys (generating 200 would take minutes); ` +
      `verifyDirectory still imports every person's RSA and ECDSA key and verifies every certificate, which is its cost. Each person has their own signing key.`,
  );
}
