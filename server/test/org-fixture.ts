// Test helper: an organisation built through the real browser flows over real HTTP (no keys written directly).
import { OPAQUE_BENCH_KEY_STRETCHING } from '../../shared/crypto';
import type { Role } from '../../shared/api';
import { certifiedIdentity, grantEscrowAccess, invite, login, setupOrganisation, signup, type FlowOptions } from '../../shared/flows/account-flows';
import type { UnlockedVault } from '../../shared/flows/vault';
import type { Notification } from '../services/notifications';
import { browserLikeClient, listen, type BrowserLikeClient, type RunningServer } from '../lib/node-api-client';
import { makeTestApp, type TestApp } from './make-test-app';

/** Passphrases that pass the password rules (no e-mail, name, role or organisation words in them). */
const memberPasswords: Record<Role, string> = {
  admin: 'paarse-regenjas-op-zondag',
  team: 'blauwe-fiets-bij-het-station',
  client: 'rode-tulpen-langs-de-dijk',
  auditor: 'groene-deur-aan-de-gracht',
};

/** Cheap client-side key stretching: the server does exactly its normal work. */
export const fast: FlowOptions = { keyStretching: OPAQUE_BENCH_KEY_STRETCHING };

export interface Member {
  readonly role: Role;
  readonly email: string;
  /** Tests that change it update it, so later relogins keep working. */
  password: string;
  readonly userId: string;
  client: BrowserLikeClient;
  vault: UnlockedVault;
}

export interface TestOrganisation {
  readonly testApp: TestApp;
  readonly server: RunningServer;
  readonly recoverySecret: string;
  readonly admin: Member;
  readonly members: Partial<Record<Role, Member>>;
  /** A new browser-like client of this server. */
  newClient(): BrowserLikeClient;
  /** Logs `member` in again in a fresh client (a new session). */
  relogin(member: Member): Promise<Member>;
  close(): Promise<void>;
}

/** The invitation link last e-mailed to `email`. */
export function invitationLinkFor(testApp: TestApp, email: string): string {
  const sent = (testApp.notifier as { sent?: { to: string; notification: Notification }[] }).sent ?? [];
  const found = sent.filter((m) => m.to === email && m.notification.kind === 'invitation').at(-1);
  if (!found || found.notification.kind !== 'invitation') throw new Error(`no invitation was sent to ${email}`);
  return found.notification.link;
}

/** Token and fragment of an invitation link `…/invite#t=<token>&e=…`. */
export function parseInvitationLink(link: string): { token: string; fragment: string } {
  const fragment = new URL(link).hash.slice(1);
  const token = new URLSearchParams(fragment).get('t');
  if (!token) throw new Error('invitation link without a token');
  return { token, fragment };
}

/**
 * The test organisations' initial second-factor policy: none, so tests that are not about second
 * factors sign people in with the password alone. Second-factor tests set the policy in Settings.
 */
const SECOND_FACTOR_ROLES: readonly Role[] = [];

/**
 * Creates an organisation with an Administrator and, for each requested role, one member invited
 * and signed up through the browser flows. Team Members are granted the escrow key.
 */
export async function createTestOrganisation(roles: readonly Role[] = [], options: Parameters<typeof makeTestApp>[0] = {}): Promise<TestOrganisation> {
  const testApp = await makeTestApp(options);
  const server = await listen(testApp);
  const newClient = () => browserLikeClient(server.baseUrl, testApp.config.publicOrigin);

  const adminClient = newClient();
  const adminEmail = 'admin@kluis.test';
  const adminPassword = 'zonnige-dinsdag-met-appeltaart';
  const setupToken = await testApp.services.setup.issueSetupToken();
  const setup = await setupOrganisation(
    adminClient.api,
    { setupToken, organisationName: 'Kantoor De Vries', email: adminEmail, name: 'Anna Admin', password: adminPassword, language: 'en', secondFactorRoles: SECOND_FACTOR_ROLES },
    fast,
  );
  const adminLogin = await login(adminClient.api, adminEmail, adminPassword, fast);
  const admin: Member = { role: 'admin', email: adminEmail, password: adminPassword, userId: setup.userId, client: adminClient, vault: adminLogin.vault };

  const members: Partial<Record<Role, Member>> = {};
  const relogin = async (member: Member): Promise<Member> => {
    const client = newClient();
    const { vault } = await login(client.api, member.email, member.password, fast);
    member.client = client;
    member.vault = vault;
    return member;
  };

  for (const role of roles) {
    const inviter = role === 'client' && members.team ? members.team : admin;
    const email = `${role}@kluis.test`;
    const password = memberPasswords[role];
    await invite(inviter.client.api, inviter.vault, { email, role, language: 'nl' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(testApp, email));
    const memberClient = newClient();
    const { userId } = await signup(memberClient.api, { token, fragment, name: `${role} Persoon`, password, language: 'nl' }, fast);
    const { vault } = await login(memberClient.api, email, password, fast);
    members[role] = { role, email, password, userId, client: memberClient, vault };
    if (role === 'team') {
      // The Administrator certifies the Team Member (their invitation binding verifies), then grants.
      await grantEscrowAccess(admin.client.api, admin.vault, await certifiedIdentity(admin.client.api, admin.vault, userId));
      await relogin(members.team!);
    }
  }

  return {
    testApp,
    server,
    recoverySecret: setup.recoverySecret,
    admin,
    members,
    newClient,
    relogin,
    close: async () => {
      await server.close();
      await testApp.close();
    },
  };
}
