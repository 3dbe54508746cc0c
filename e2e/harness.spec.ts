// Self-checks of the e2e support code: each helper must be able to fail for the reason that matters.
import { generateKeyPairSync } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { expectNoKeyMaterial, rawKeyLengthFindings } from './support/key-material';
import { encodingsOf, type CapturedRequest } from './support/requests';
import { addVirtualAuthenticator } from './support/webauthn';

const SECRET = 'correct horse battery staple ✓';

async function engineReady(page: Page): Promise<void> {
  await page.goto('/');
  await expect(
    page.getByRole('region', { name: 'Encryption engine' }).getByRole('status'),
  ).toContainText('Encryption engine ready');
}

test('request capture sees page and worker requests and finds a secret in URL, header and body encodings', async ({
  page,
  requests,
  consoleErrors,
}) => {
  consoleErrors.allow(/Failed to load resource/);
  await engineReady(page);
  const needles = encodingsOf(SECRET);
  const text = (encoding: string): string => {
    const needle = needles.find((candidate) => candidate.encoding === encoding);
    if (!needle) throw new Error(`no ${encoding} encoding`);
    return needle.bytes.toString('latin1');
  };

  expect(await requests.findLeaks([SECRET])).toEqual([]);

  // The page base64-encodes the secret one byte into a longer buffer, as a ciphertext field would:
  // the encoding of the secret then depends on its offset, and a naive search would miss it.
  await page.evaluate(
    async ({ header, secret }) => {
      const bytes = [7, ...new TextEncoder().encode(secret), 9, 9];
      const blob = btoa(String.fromCharCode(...bytes));
      await fetch('/api/health', { headers: { 'x-probe': header } });
      await fetch('/api/health', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ blob }),
      });
    },
    { header: text('HEX'), secret: SECRET },
  );
  const worker = page.workers().find((candidate) => candidate.url().includes('crypto.worker'));
  expect(worker, 'the crypto worker is running').toBeDefined();
  await worker?.evaluate(async (query) => {
    await fetch(`/api/health?from=worker&q=${query}`);
  }, encodeURIComponent(SECRET));

  const leaks = await requests.findLeaks([SECRET]);
  expect(leaks.map((leak) => `${leak.where}:${leak.encoding}`).sort()).toEqual([
    'body:base64@1',
    'header:HEX',
    'url:percent-encoded',
  ]);
  expect(leaks.find((leak) => leak.where === 'url')?.request.url).toContain('from=worker');
  await expect(requests.expectNoSecrets([SECRET])).rejects.toThrow(/3 place/);
  await expect(
    requests.expectNoSecrets([
      'an unrelated value',
      new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]),
    ]),
  ).resolves.toBeUndefined();
});

test('the console guard sees errors from the page and from its workers', async ({
  page,
  consoleErrors,
}) => {
  await engineReady(page);
  consoleErrors.allow(/probe-error/);
  await page.evaluate(() => console.error('probe-error from the page'));
  await page.workers()[0]?.evaluate(() => console.error('probe-error from the worker'));
  await expect
    .poll(() => consoleErrors.messages().join('\n'))
    .toMatch(/probe-error from the page[\s\S]*probe-error from the worker/);
});

test('the virtual authenticator makes a discoverable, user-verified credential with PRF', async ({
  page,
  context,
}) => {
  await engineReady(page);
  const authenticator = await addVirtualAuthenticator(context, page);
  const result = await page.evaluate(async () => {
    const credential = (await navigator.credentials.create({
      publicKey: {
        rp: { name: 'Kluis', id: location.hostname },
        user: {
          id: new Uint8Array([1, 2, 3, 4]),
          name: 'client@example.com',
          displayName: 'Client',
        },
        challenge: new Uint8Array(32),
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        extensions: { prf: {} },
      },
    })) as PublicKeyCredential | null;
    return {
      type: credential?.type,
      prf: credential?.getClientExtensionResults().prf?.enabled ?? false,
    };
  });
  expect(result).toEqual({ type: 'public-key', prf: true });
  const credentials = await authenticator.credentials();
  expect(credentials).toHaveLength(1);
  expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
  await authenticator.remove();
});

test('the key-material check finds private keys in any encoding and raw-key-sized values in unknown fields', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'der',
  });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'der',
  });
  const publicOnly = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  const request = (body: unknown): CapturedRequest => ({
    url: 'http://localhost/api/probe',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    bodyKnown: true,
    fromServiceWorker: false,
  });
  const raw32 = Buffer.alloc(32, 7).toString('base64url');
  const allowed = [
    request({
      publicKey: publicOnly.toString('base64url'),
      registrationRequest: raw32,
      token: raw32,
    }),
    request({ statement: { signature: Buffer.alloc(64, 1).toString('base64url') } }),
  ];
  expect(() => expectNoKeyMaterial(allowed)).not.toThrow();

  // A private key one byte into a larger base64url blob, hex, or as JWK; a 32-byte value in a field of no known purpose.
  const offset = Buffer.concat([Buffer.from([9]), rsa]).toString('base64url');
  for (const leaked of [
    request({ wrappedPrivateKey: offset }),
    request({ key: ec.toString('hex') }),
    request({ jwk: { kty: 'oct', k: 'x' } }),
    request({ escrowGrant: raw32 }),
    request({ nested: [{ exportKey: Buffer.alloc(64, 3).toString('base64url') }] }),
  ]) {
    expect(() => expectNoKeyMaterial([...allowed, leaked])).toThrow();
  }
  expect(rawKeyLengthFindings([request({ escrowGrant: raw32 })])).toEqual([
    { url: 'http://localhost/api/probe', path: '$.escrowGrant', bytes: 32 },
  ]);
});
