// What an escrow reset costs (issue 21): the resetter's side (escrow copy checked and opened, the
// recovery code stretched with Argon2id at the production 64 MiB, the wrap, the signed statement,
// the request) and the person's side (the proof: the same Argon2id, then the wrap and key safe
// opened), through the real browser flows over real HTTP against an in-process server, beside a
// bare Argon2id derivation of the same parameters measured in the same run (the ratio shows what
// the rest adds). The new password's OPAQUE stretching is the bench's cheap setting, not timed.
import { rmSync } from 'node:fs';
import { listUsers } from '../../shared/api';
import { ARGON2ID_DEFAULT, deriveArgon2id, randomBytes } from '../../shared/crypto';
import { completeEscrowReset, openEscrowReset, parseResetFragment, startEscrowReset } from '../../shared/flows/escrow-reset';
import { fast, createTestOrganisation } from '../test/org-fixture';
import type { Notification } from '../services/notifications';
import { BenchFailure, type BenchContext } from './harness';
import { median } from './measure';

/** Resets measured, interleaved with bare Argon2id derivations. */
const ROUNDS = 5;

export async function measureResets({ report, cleanup, progress }: BenchContext): Promise<void> {
  progress(`escrow resets: an in-process organisation, ${ROUNDS} resets of a client by a Team Member, interleaved with bare Argon2id (64 MiB, t=3)`);
  const org = await createTestOrganisation(['team', 'client'], { env: { LOG_LEVEL: 'warn' } });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= org.close());
  cleanup.add({ name: 'reset bench organisation', close, closeSync: () => rmSync(org.testApp.tempDir, { recursive: true, force: true }) });
  try {
    const team = org.members.team!;
    const client = org.members.client!;
    const sent = (org.testApp.notifier as { sent?: { to: string; notification: Notification }[] }).sent;
    if (!sent) throw new BenchFailure('the bench organisation has no recording notifier');
    const start: number[] = [];
    const open: number[] = [];
    const complete: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      let t = performance.now();
      await deriveArgon2id('7Q2M-XV4D-9P3K', randomBytes(16), ARGON2ID_DEFAULT, 32);
      bare.push(performance.now() - t);

      // A new login per round: a reset needs a login less than 15 minutes old.
      const resetter = await org.relogin(team);
      const { users } = await resetter.client.api(listUsers, {});
      const person = users.find((u) => u.id === client.userId);
      if (!person) throw new BenchFailure('the Team Member does not see the client');
      t = performance.now();
      const { code } = await startEscrowReset(resetter.client.api, resetter.vault, person, { liftLockout: false, removeSecondFactors: false });
      start.push(performance.now() - t);

      const mail = sent.filter((m) => m.to === client.email && m.notification.kind === 'password_reset').at(-1);
      if (!mail || mail.notification.kind !== 'password_reset') throw new BenchFailure('no reset link was e-mailed');
      const link = parseResetFragment(new URL(mail.notification.link).hash);
      if (!link) throw new BenchFailure('the reset link has no id or secret');
      const personClient = org.newClient();
      t = performance.now();
      await openEscrowReset(personClient.api, { ...link, code });
      open.push(performance.now() - t);

      const password = `${client.password}-${round}`;
      t = performance.now();
      await completeEscrowReset(personClient.api, { ...link, code, newPassword: password }, fast);
      complete.push(performance.now() - t);
      client.password = password;
    }
    const bareMs = median(bare);
    const startMs = median(start);
    const openMs = median(open);
    report.add('reset_argon2id_bare_ms', 'bare Argon2id of a recovery code (64 MiB, t=3, p=1), same run', bareMs, 'ms');
    report.add('reset_start_ms', "resetter's side: escrow copy checked and opened, code stretched, user key wrapped, statement signed, createReset", startMs, 'ms', { summary: true });
    report.add('reset_start_ratio_to_argon2id', 'resetter side / bare Argon2id', startMs / bareMs, 'x');
    report.add('reset_open_ms', "person's side, code checked: proof derived (Argon2id), openReset, wrap and key safe opened", openMs, 'ms', { summary: true });
    report.add('reset_open_ratio_to_argon2id', 'person side / bare Argon2id', openMs / bareMs, 'x');
    report.add('reset_complete_ms', 'the whole completion (open again, OPAQUE registration with cheap bench stretching, re-wrap, finish)', median(complete), 'ms');
    report.note(
      `Resets: medians of ${ROUNDS} rounds through shared/flows/escrow-reset.ts over loopback HTTP; browser crypto runs in this Node process. ` +
        'In a browser the new password adds OPAQUE\'s own Argon2id (64 MiB) once more at completion.',
    );
  } finally {
    await close();
  }
}
