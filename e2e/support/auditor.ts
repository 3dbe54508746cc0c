// An Auditor joining a seeded organisation through the real flows (invitation mail, sign-up in Node), with keys
// an Administrator certified: what the audit workspace specs start from.
import { certifiedIdentity, invite, login, signup } from '../../shared/flows/account-flows';
import { browserLikeClient } from '../../server/lib/node-api-client';
import type { SeededMember } from '../../server/test/seed-organisation';
import type { TestSmtpServer } from '../../server/test/smtp-server';
import type { KluisServer } from '../../server/test/kluis-server';
import { budget } from '../../server/test/budget';

export async function joinAuditor(
  server: KluisServer,
  smtp: TestSmtpServer,
  admin: SeededMember,
  member: { email: string; name: string } = { email: 'olga@controle.test', name: 'Olga Onderzoek' },
): Promise<SeededMember> {
  const password = 'gele-lantaarn-aan-de-gracht';
  await invite(admin.client.api, admin.vault, { email: member.email, role: 'auditor', language: 'en' });
  const mail = await smtp.waitForMessage((m) => m.envelope.to.includes(member.email), budget(30_000));
  const fragment = /https?:\/\/\S+\/invite#(t=\S+)/.exec(mail.text ?? '')?.[1];
  const token = fragment ? new URLSearchParams(fragment).get('t') : null;
  if (!fragment || !token) throw new Error(`no invitation link in the e-mail to ${member.email}`);
  const client = browserLikeClient(`http://127.0.0.1:${server.port}`, server.origin);
  const { userId } = await signup(client.api, { token, fragment, name: member.name, password, language: 'en' });
  // The Administrator's browser certifies the Auditor's keys (their invitation binding verifies).
  const identity = await certifiedIdentity(admin.client.api, admin.vault, userId);
  if (identity?.role !== 'auditor') throw new Error('the Auditor was not certified');
  const { vault } = await login(client.api, member.email, password);
  return { role: 'auditor', email: member.email, password, name: member.name, userId, client, vault };
}
