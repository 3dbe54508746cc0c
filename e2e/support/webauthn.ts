// A CDP virtual authenticator (platform, resident keys, user verification, PRF) for WebAuthn journeys in Chromium.
import type { BrowserContext, CDPSession, Page } from '@playwright/test';

export interface VirtualAuthenticatorOptions {
  /** Whether the simulated user passes verification (PIN or biometrics). Default true. */
  readonly userVerified?: boolean;
  /** Support the PRF extension (the key-safe wrap by passkey needs it). Default true. */
  readonly prf?: boolean;
}

export interface VirtualCredential {
  readonly credentialId: string;
  readonly isResidentCredential: boolean;
  readonly rpId?: string;
  readonly userHandle?: string;
  readonly signCount: number;
}

export interface VirtualAuthenticator {
  readonly authenticatorId: string;
  credentials(): Promise<VirtualCredential[]>;
  setUserVerified(verified: boolean): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Adds a CTAP2 "internal" (platform) authenticator with resident keys and user verification to
 * this page's browser, answering every ceremony at once (automatic presence simulation).
 */
export async function addVirtualAuthenticator(
  context: BrowserContext,
  page: Page,
  options: VirtualAuthenticatorOptions = {},
): Promise<VirtualAuthenticator> {
  const session: CDPSession = await context.newCDPSession(page);
  await session.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await session.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: options.userVerified ?? true,
      automaticPresenceSimulation: true,
      hasPrf: options.prf ?? true,
    },
  });
  return {
    authenticatorId,
    async credentials() {
      const { credentials } = await session.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials.map((credential) => ({
        credentialId: credential.credentialId,
        isResidentCredential: credential.isResidentCredential,
        rpId: credential.rpId,
        userHandle: credential.userHandle,
        signCount: credential.signCount,
      }));
    },
    async setUserVerified(verified) {
      await session.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
    },
    async remove() {
      await session.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      await session.detach();
    },
  };
}
