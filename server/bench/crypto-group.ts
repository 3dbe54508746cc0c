// Bench group "crypto" (issues 2, 18): raw WebCrypto AES-GCM against our STREAM file format, pipeline depths, memory, Argon2id, records; signed histories and certificates.
import { randomFillSync } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ARGON2ID_DEFAULT,
  type FileContext,
  decryptFileStream,
  decryptRecord,
  deriveArgon2id,
  encryptFileStream,
  encryptRecord,
  encryptedFileSize,
  generateSecretKey,
  randomBytes,
} from '../../shared/crypto';
import { type BenchContext, type BenchGroup, makeTempDir } from './harness';
import { MIB, RssSampler, median, timeEach } from './measure';
import { measureTrust } from './trust-measure';

/** Plaintext streamed through every file run. */
const INPUT_BYTES = 256 * MIB;
/** The source hands out pieces of this size (as a file read or a network body would). */
const PIECE_BYTES = 1 * MIB;
/** The raw baseline's call size: the same as the format's chunk size. */
const RAW_CALL_BYTES = 64 * 1024;
const PIPELINE_DEPTHS = [1, 2, 4, 8] as const;
/** Each variant runs this many times, interleaved with the others; the best run counts. */
const ROUNDS = 5;
const RECORD_BYTES = 100;
const FILE_CONTEXT: FileContext = { id: 'bench-version', owner: 'bench-space' };

// The raw baseline measures WebCrypto itself, so it calls it directly; application code never does
// (it goes through shared/crypto).
// eslint-disable-next-line no-restricted-properties
const subtle = crypto.subtle;

/** One timed run: seconds, how busy the main thread was, and how far RSS rose above its level at the start. */
interface Run {
  readonly seconds: number;
  /** Event loop utilisation of this (the main) thread: near 1 means JavaScript on the main thread is the limit. */
  readonly busy: number;
  readonly rssGrowthMib: number;
}

const mibPerSecond = (bytes: number, seconds: number) => bytes / MIB / seconds;

async function measured(body: (sampleRss: () => void) => Promise<void>): Promise<Run> {
  const rss = new RssSampler();
  const loop = performance.eventLoopUtilization();
  const start = performance.now();
  let rssGrowthMib: number;
  try {
    await body(() => rss.sample());
  } finally {
    rssGrowthMib = rss.stop();
  }
  return {
    seconds: (performance.now() - start) / 1000,
    busy: performance.eventLoopUtilization(loop).utilization,
    rssGrowthMib,
  };
}

/**
 * Runs every variant `rounds` times, in forward then backward order and so on, and keeps each
 * variant's fastest run: drift on a shared machine then hits every variant alike.
 */
async function bestOfInterleaved<K extends string>(
  variants: readonly (readonly [K, () => Promise<Run>])[],
  rounds: number,
): Promise<{ best: Map<K, Run>; runs: Map<K, Run[]> }> {
  const runs = new Map<K, Run[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, variant] of round % 2 === 0 ? variants : [...variants].reverse())
      runs.get(name)!.push(await variant());
  }
  const best = new Map(
    [...runs].map(
      ([name, list]) => [name, list.reduce((a, b) => (b.seconds < a.seconds ? b : a))] as const,
    ),
  );
  return { best, runs };
}

/**
 * `totalBytes` of plaintext as `piece` again and again. WARNING: this is only sound because `piece`
 * is never written after it was filled: the stream transforms hold pieces by reference.
 */
function generatedPlaintext(totalBytes: number, piece: Uint8Array): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= totalBytes) return controller.close();
        const size = Math.min(piece.length, totalBytes - sent);
        controller.enqueue(size === piece.length ? piece : piece.subarray(0, size));
        sent += size;
      },
    },
    { highWaterMark: 1 },
  );
}

/** Reads a file in fresh `pieceBytes` buffers (a fresh one each time: transforms keep references). */
function fileSource(handle: FileHandle, pieceBytes: number): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const buffer = new Uint8Array(pieceBytes);
        const { bytesRead } = await handle.read(buffer, 0, pieceBytes, position);
        if (bytesRead === 0) return controller.close();
        position += bytesRead;
        controller.enqueue(bytesRead === pieceBytes ? buffer : buffer.subarray(0, bytesRead));
      },
    },
    { highWaterMark: 1 },
  );
}

/** Pipes `source` (through `transform`) into a sink that counts bytes (and hands them to `write`). */
function pipeRun(
  source: () => ReadableStream<Uint8Array>,
  transform: TransformStream<Uint8Array, Uint8Array> | null,
  expectedBytes: number,
  write: (chunk: Uint8Array) => Promise<void> = () => Promise.resolve(),
): Promise<Run> {
  return measured(async (sampleRss) => {
    let received = 0;
    const sink = new WritableStream<Uint8Array>({
      async write(chunk) {
        received += chunk.length;
        sampleRss();
        await write(chunk);
      },
    });
    const input = source();
    await (transform ? input.pipeThrough(transform) : input).pipeTo(sink);
    if (received !== expectedBytes)
      throw new Error(`a stream run produced ${received} bytes instead of ${expectedBytes}`);
  });
}

/** The raw baseline: AES-256-GCM over `totalBytes` in RAW_CALL_BYTES calls, one await at a time, one key. */
async function rawEncrypt(totalBytes: number, piece: Uint8Array<ArrayBuffer>): Promise<Run> {
  const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const iv = new Uint8Array(12);
  const counter = new DataView(iv.buffer);
  let calls = 0;
  return measured(async () => {
    for (let done = 0; done < totalBytes; done += piece.length) {
      for (let offset = 0; offset < piece.length; offset += RAW_CALL_BYTES) {
        counter.setUint32(8, calls++); // a distinct IV per call, as any real use needs
        await subtle.encrypt(
          { name: 'AES-GCM', iv, tagLength: 128 },
          key,
          piece.subarray(offset, offset + RAW_CALL_BYTES),
        );
      }
    }
  });
}

/** The same for decryption: one piece's worth of ciphertext calls, decrypted over and over. */
async function rawDecrypt(totalBytes: number, piece: Uint8Array<ArrayBuffer>): Promise<Run> {
  const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const calls: { iv: Uint8Array<ArrayBuffer>; ciphertext: ArrayBuffer }[] = [];
  for (let offset = 0; offset < piece.length; offset += RAW_CALL_BYTES) {
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setUint32(8, calls.length);
    const ciphertext = await subtle.encrypt(
      { name: 'AES-GCM', iv, tagLength: 128 },
      key,
      piece.subarray(offset, offset + RAW_CALL_BYTES),
    );
    calls.push({ iv, ciphertext });
  }
  return measured(async () => {
    for (let done = 0; done < totalBytes; done += piece.length) {
      for (const call of calls)
        await subtle.decrypt(
          { name: 'AES-GCM', iv: call.iv, tagLength: 128 },
          key,
          call.ciphertext,
        );
    }
  });
}

/** Runs `op` for at least `minMs` (after a short warm-up); operations per second. */
async function opsPerSecond(minMs: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await op();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    await op();
    count++;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

async function measureStream({ report, cleanup, progress }: BenchContext): Promise<void> {
  const piece = new Uint8Array(PIECE_BYTES);
  randomFillSync(piece);
  const input = `${INPUT_BYTES / MIB} MiB`;
  const rate = (run: Run | undefined) => mibPerSecond(INPUT_BYTES, run!.seconds);
  const depthName = (depth: number) => `depth_${depth}` as const;
  report.add('input_mib', 'plaintext per file run', INPUT_BYTES / MIB, 'MiB');

  const key = await generateSecretKey('file');
  const cipherBytes = encryptedFileSize(INPUT_BYTES);
  const fileRuns: Run[] = [];
  const fileRun = async (run: Promise<Run>) => {
    const result = await run;
    fileRuns.push(result);
    return result;
  };
  const encryptRun = (options: { pipelineDepth?: number }) => () =>
    fileRun(
      pipeRun(
        () => generatedPlaintext(INPUT_BYTES, piece),
        encryptFileStream(key, FILE_CONTEXT, options),
        cipherBytes,
      ),
    );

  progress(
    `encrypt, ${input} each: raw WebCrypto, encryptFileStream at the default depth and at depths ${PIPELINE_DEPTHS.join(', ')}; ${ROUNDS} interleaved rounds`,
  );
  const encrypt = await bestOfInterleaved(
    [
      ['raw', () => rawEncrypt(INPUT_BYTES, piece)],
      ['default', encryptRun({})],
      ...PIPELINE_DEPTHS.map(
        (depth) => [depthName(depth), encryptRun({ pipelineDepth: depth })] as const,
      ),
    ],
    ROUNDS,
  );
  const raw = rate(encrypt.best.get('raw'));
  const fileEncrypt = rate(encrypt.best.get('default'));
  report.add(
    'node_raw_aesgcm_mib_s',
    'raw AES-256-GCM encrypt, 64 KiB calls, sequential awaits',
    raw,
    'MiB/s',
    { summary: true },
  );
  report.add(
    'file_encrypt_mib_s',
    'encryptFileStream (default pipeline depth)',
    fileEncrypt,
    'MiB/s',
    { summary: true },
  );
  report.add('file_encrypt_ratio_to_raw', 'file encrypt / raw', fileEncrypt / raw, 'x', {
    summary: true,
  });
  for (const depth of PIPELINE_DEPTHS) {
    report.add(
      `file_encrypt_depth_${depth}_mib_s`,
      `encryptFileStream, pipeline depth ${depth}`,
      rate(encrypt.best.get(depthName(depth))),
      'MiB/s',
    );
  }
  report.add(
    'file_encrypt_fastest_depth',
    'fastest encrypt pipeline depth',
    fastest(PIPELINE_DEPTHS, (d) => encrypt.best.get(depthName(d))!.seconds),
    '',
    { summary: true },
  );
  report.add(
    'node_raw_aesgcm_main_thread_busy',
    'main thread busy during raw encrypt',
    encrypt.best.get('raw')!.busy,
    'fraction',
  );
  report.add(
    'file_encrypt_main_thread_busy',
    'main thread busy during file encrypt (default depth)',
    encrypt.best.get('default')!.busy,
    'fraction',
  );

  // Decryption needs the real ciphertext: written once to a temp file, then read from the page cache.
  const dir = await makeTempDir(cleanup, 'kluis-bench-crypto-');
  const cipherPath = join(dir, 'ciphertext.klsf');
  progress(`writing the ${input} ciphertext to ${cipherPath} (not timed)`);
  const out = await open(cipherPath, 'w');
  try {
    await pipeRun(
      () => generatedPlaintext(INPUT_BYTES, piece),
      encryptFileStream(key, FILE_CONTEXT),
      cipherBytes,
      async (chunk) => {
        await out.write(chunk);
      },
    );
  } finally {
    await out.close();
  }
  const fromFile =
    (transform: () => TransformStream<Uint8Array, Uint8Array> | null, expected: number) =>
    async () => {
      const handle = await open(cipherPath, 'r');
      try {
        return await pipeRun(() => fileSource(handle, PIECE_BYTES), transform(), expected);
      } finally {
        await handle.close();
      }
    };
  const decryptRun = (options: { pipelineDepth?: number }) => () =>
    fileRun(fromFile(() => decryptFileStream(key, FILE_CONTEXT, options), INPUT_BYTES)());

  progress(
    `decrypt, ${input} each: raw WebCrypto, reading the file alone, decryptFileStream from the file at the default depth and at depths ${PIPELINE_DEPTHS.join(', ')}; ${ROUNDS} interleaved rounds`,
  );
  const decrypt = await bestOfInterleaved(
    [
      ['raw', () => rawDecrypt(INPUT_BYTES, piece)],
      ['read', fromFile(() => null, cipherBytes)],
      ['default', decryptRun({})],
      ...PIPELINE_DEPTHS.map(
        (depth) => [depthName(depth), decryptRun({ pipelineDepth: depth })] as const,
      ),
    ],
    ROUNDS,
  );
  await rm(dir, { recursive: true, force: true });

  const rawDecryptRate = rate(decrypt.best.get('raw'));
  const fileDecrypt = rate(decrypt.best.get('default'));
  report.add(
    'node_raw_aesgcm_decrypt_mib_s',
    'raw AES-256-GCM decrypt, 64 KiB calls, sequential awaits',
    rawDecryptRate,
    'MiB/s',
  );
  report.add(
    'file_decrypt_mib_s',
    'decryptFileStream (default pipeline depth), from file',
    fileDecrypt,
    'MiB/s',
    { summary: true },
  );
  report.add('file_decrypt_ratio_to_raw', 'file decrypt / raw encrypt', fileDecrypt / raw, 'x', {
    summary: true,
  });
  report.add(
    'file_decrypt_ratio_to_raw_decrypt',
    'file decrypt / raw decrypt',
    fileDecrypt / rawDecryptRate,
    'x',
  );
  for (const depth of PIPELINE_DEPTHS) {
    report.add(
      `file_decrypt_depth_${depth}_mib_s`,
      `decryptFileStream, pipeline depth ${depth}`,
      rate(decrypt.best.get(depthName(depth))),
      'MiB/s',
    );
  }
  report.add(
    'file_decrypt_fastest_depth',
    'fastest decrypt pipeline depth',
    fastest(PIPELINE_DEPTHS, (d) => decrypt.best.get(depthName(d))!.seconds),
    '',
  );
  report.add(
    'file_decrypt_main_thread_busy',
    'main thread busy during file decrypt (default depth)',
    decrypt.best.get('default')!.busy,
    'fraction',
  );
  report.add(
    'file_read_mib_s',
    'reading the ciphertext file alone (the decrypt input path)',
    mibPerSecond(cipherBytes, decrypt.best.get('read')!.seconds),
    'MiB/s',
  );
  const growth = fileRuns.map((r) => r.rssGrowthMib);
  report.add(
    'file_peak_rss_growth_mib',
    `peak RSS growth during a ${input} file run (worst of ${growth.length})`,
    Math.max(...growth),
    'MiB',
    { summary: true },
  );
  report.note(
    `Every figure is the best of ${ROUNDS} runs interleaved with the other variants. RSS sampled every 20 ms and on every output chunk; ` +
      `growth per file run ${Math.min(...growth).toFixed(1)}-${Math.max(...growth).toFixed(1)} MiB, median ${median(growth).toFixed(1)} MiB.`,
  );
  const spread = (runs: readonly Run[] | undefined) =>
    runs!.map((r) => rate(r).toFixed(0)).join('/');
  const closeToFastest = (best: Map<string, Run>) => {
    const fastestSeconds = Math.min(...PIPELINE_DEPTHS.map((d) => best.get(depthName(d))!.seconds));
    return PIPELINE_DEPTHS.filter(
      (d) => best.get(depthName(d))!.seconds <= fastestSeconds * 1.1,
    ).join(', ');
  };
  report.note(
    `Pipeline depths within 10 % of the fastest: encrypt ${closeToFastest(encrypt.best)}; decrypt ${closeToFastest(decrypt.best)} (closer than that is noise here).`,
  );
  report.note(
    `All runs, MiB/s: raw encrypt ${spread(encrypt.runs.get('raw'))}, file encrypt ${spread(encrypt.runs.get('default'))}, raw decrypt ${spread(decrypt.runs.get('raw'))}, file decrypt ${spread(decrypt.runs.get('default'))}.`,
  );

  // Argon2id after the file runs: its 64 MiB of WebAssembly memory stays allocated.
  progress('Argon2id m=64 MiB, t=3, p=1 (hash-wasm): one warm-up, five timed');
  const salt = randomBytes(16);
  await deriveArgon2id('bench password', salt, ARGON2ID_DEFAULT);
  const argon = await timeEach(5, () => deriveArgon2id('bench password', salt, ARGON2ID_DEFAULT));
  report.add('argon2id_64mib_t3_ms', 'Argon2id 64 MiB t=3 p=1, median of 5', median(argon), 'ms', {
    summary: true,
  });
  report.add(
    'argon2id_64mib_t3_min_ms',
    'Argon2id 64 MiB t=3 p=1, fastest of 5',
    Math.min(...argon),
    'ms',
  );

  progress(`records of ${RECORD_BYTES} bytes: encrypt and decrypt, sequential and 100 at a time`);
  const recordKey = await generateSecretKey('space');
  const recordContext = { type: 'document-name', id: 'bench-document', owner: 'bench-space' };
  const plaintext = new Uint8Array(RECORD_BYTES).fill(0x61);
  const envelope = await encryptRecord(recordKey, plaintext, recordContext);
  report.add(
    'record_encrypt_ops_s',
    `encryptRecord, ${RECORD_BYTES} bytes, sequential`,
    await opsPerSecond(1000, () => encryptRecord(recordKey, plaintext, recordContext)),
    'ops/s',
  );
  report.add(
    'record_decrypt_ops_s',
    `decryptRecord, ${RECORD_BYTES} bytes, sequential`,
    await opsPerSecond(1000, () => decryptRecord(recordKey, envelope, recordContext)),
    'ops/s',
    { summary: true },
  );
  const batch = Array.from({ length: 100 }, () => envelope);
  const batchesPerSecond = await opsPerSecond(1000, () =>
    Promise.all(batch.map((e) => decryptRecord(recordKey, e, recordContext))),
  );
  report.add(
    'record_decrypt_batch_ops_s',
    `decryptRecord, ${RECORD_BYTES} bytes, 100 concurrently (a list page)`,
    batchesPerSecond * batch.length,
    'ops/s',
  );
}

function fastest<T>(variants: readonly T[], seconds: (variant: T) => number): T {
  return variants.reduce((best, variant) => (seconds(variant) < seconds(best) ? variant : best));
}

async function run(context: BenchContext): Promise<void> {
  if (context.runs('stream')) await measureStream(context);
  if (context.runs('trust')) await measureTrust(context.report, context.progress);
}

export const cryptoGroup: BenchGroup = {
  name: 'crypto',
  title:
    'crypto (issues 2, 18): Node WebCrypto, our STREAM file format, Argon2id, records, signed histories, the certificate directory',
  parts: {
    stream: 'raw AES-GCM against the STREAM file format, Argon2id, records (minutes)',
    trust: 'signed space histories and verifyDirectory beside raw ECDSA (under a minute)',
  },
  run,
};
