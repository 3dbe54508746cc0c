// Seeds an organisation on a running Kluis server through the real browser flows, run from Node over
// real HTTP with the production key stretching (so Chromium can sign the same people in afterwards).
// The accounts journey (accounts.spec.ts) drives these steps through the UI; other specs and the
// browser bench start from a seeded organisation to spend their time on what they test.
import type { Role } from '../../shared/api';
import { certifiedIdentity, grantEscrowAccess, invite, login, setupOrganisation, signup } from '../../shared/flows/account-flows';
import type { UnlockedVault } from '../../shared/flows/vault';
import { browserLikeClient, type BrowserLikeClient } from '../lib/node-api-client';
import type { TestSmtpServer } from './smtp-server';
import type { KluisServer } from './kluis-server';
import { budget } from './budget';

export interface SeededMember {
  readonly role: Role;
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly userId: string;
  /** A signed-in Node client of this member (its own session, not the browser's). */
  readonly client: BrowserLikeClient;
  readonly vault: UnlockedVault;
}

export interface SeededOrganisation {
  readonly admin: SeededMember;
  readonly team: SeededMember;
  readonly clients: readonly SeededMember[];
}

/** Passphrases that pass the default password rules. */
const passwords = {
  admin: 'paarse-regenjas-op-zondag',
  team: 'blauwe-fiets-bij-het-station',
  client: 'rode-tulpen-langs-de-dijk',
} as const;

async function invitationLink(smtp: TestSmtpServer, email: string): Promise<{ token: string; fragment: string }> {
  const mail = await smtp.waitForMessage((m) => m.envelope.to.includes(email) && /invit|uitnodig/i.test(m.subject ?? ''), budget(30_000));
  const link = /https?:\/\/\S+\/invite#(t=\S+)/.exec(mail.text ?? '');
  if (!link?.[1]) throw new Error(`no invitation link in the e-mail to ${email}`);
  const fragment = link[1];
  const token = new URLSearchParams(fragment).get('t');
  if (!token) throw new Error('invitation link without a token');
  return { token, fragment };
}

/**
 * An Administrator (from the console setup link), a Team Member holding the escrow key, and
 * `clientNames.length` clients invited by the Team Member. The server must mail through `smtp`.
 */
export async function seedOrganisation(
  server: KluisServer,
  smtp: TestSmtpServer,
  clientNames: readonly string[] = ['Carla Client', 'Bram Buiten'],
): Promise<SeededOrganisation> {
  const newClient = () => browserLikeClient(`http://127.0.0.1:${server.port}`, server.origin);
  const [setupLink] = await server.waitForOutput(/http:\/\/\S+\/setup#token=([A-Za-z0-9_-]{43})/);
  const setupToken = /#token=([A-Za-z0-9_-]{43})/.exec(setupLink)?.[1];
  if (!setupToken) throw new Error('no setup token in the server output');

  const adminClient = newClient();
  const admin = { role: 'admin' as const, email: 'anna@kantoor.test', password: passwords.admin, name: 'Anna Admin' };
  const setup = await setupOrganisation(adminClient.api, {
    setupToken,
    organisationName: 'Kantoor De Vries',
    email: admin.email,
    name: admin.name,
    password: admin.password,
    language: 'en',
    // Specs that are not about second factors sign people in with the password alone (e2e/second-factors.spec.ts sets the policy itself).
    secondFactorRoles: [],
  });
  const adminVault = (await login(adminClient.api, admin.email, admin.password)).vault;
  const seededAdmin: SeededMember = { ...admin, userId: setup.userId, client: adminClient, vault: adminVault };

  const join = async (
    inviter: SeededMember,
    member: { role: Role; email: string; password: string; name: string },
  ): Promise<SeededMember> => {
    await invite(inviter.client.api, inviter.vault, { email: member.email, role: member.role, language: 'en' });
    const client = newClient();
    const { userId } = await signup(client.api, { ...(await invitationLink(smtp, member.email)), name: member.name, password: member.password, language: 'en' });
    const { vault } = await login(client.api, member.email, member.password);
    return { ...member, userId, client, vault };
  };

  let team = await join(seededAdmin, { role: 'team', email: 'tom@kantoor.test', password: passwords.team, name: 'Tom Team' });
  await grantEscrowAccess(adminClient.api, adminVault, await certifiedIdentity(adminClient.api, adminVault, team.userId));
  // A new sign-in accepts the escrow grant (re-wraps it under the Team Member's user key).
  const teamClient = newClient();
  team = { ...team, client: teamClient, vault: (await login(teamClient.api, team.email, team.password)).vault };

  const clients: SeededMember[] = [];
  for (const [index, name] of clientNames.entries()) {
    clients.push(await join(team, { role: 'client', email: `client${index + 1}@klant.test`, password: passwords.client, name }));
  }
  return { admin: seededAdmin, team, clients };
}
