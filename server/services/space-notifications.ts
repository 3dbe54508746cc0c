// E-mail notices of new documents and messages in client spaces: to the other side, at most one per quiet period.
import type { Logger } from 'pino';
import type { SpaceRow } from '../db/database';
import { relaxedTransaction } from '../db/relaxed';
import type { Db } from '../db/database';
import type { Config } from '../env';
import { findNotificationMark, findRecipient, listReachableStaff, setNotificationMark } from '../repositories/notifications.repository';
import { requireOrganisation, type Actor } from './account-deps';
import { notifyQuietly, type Notifier } from './notifications';
import { isStaff } from './space-access';

/** At most one e-mail per recipient, space and kind in this period. */
export const NOTIFICATION_QUIET_MS = 15 * 60_000;

export type SpaceActivity = 'document' | 'message';

export interface SpaceNotifierDeps {
  readonly db: Db;
  readonly config: Config;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly now: () => Date;
}

/** The page of a space in the web app: the only thing a notice links to. */
export function spaceLink(config: Config, spaceId: string): string {
  return `${config.publicOrigin}/spaces/${spaceId}`;
}

export function createSpaceNotifier(deps: SpaceNotifierDeps) {
  const { db, config, logger, notifier } = deps;

  /** Who hears of `actor`'s activity in `space`: the client hears of staff, staff of the client; nobody in the team space. */
  async function recipientsOf(actor: Actor, space: SpaceRow, now: string) {
    if (space.kind !== 'client' || space.client_id === null) return [];
    if (isStaff(actor)) {
      const client = await findRecipient(db, space.client_id);
      return client ? [client] : [];
    }
    return (await listReachableStaff(db, now)).filter((person) => person.id !== actor.userId);
  }

  return {
    /**
     * Tells the other side of a client space that something new is there. WARNING: the e-mail
     * says only "a new document/message" and links to the space; nothing confidential (SECURITY.md
     * 4.4.2). A mark is taken before sending and given back if sending failed, so a quiet period
     * starts only with an e-mail that went out. Never throws: the change itself is already saved.
     */
    async notifySpaceActivity(actor: Actor, space: SpaceRow, activity: SpaceActivity): Promise<void> {
      try {
        const now = deps.now();
        const nowIso = now.toISOString();
        const quietSince = new Date(now.getTime() - NOTIFICATION_QUIET_MS).toISOString();
        const recipients = await recipientsOf(actor, space, nowIso);
        if (recipients.length === 0) return;
        const { organisation } = await requireOrganisation(db);
        const link = spaceLink(config, space.id);
        await Promise.all(
          recipients.map(async (recipient) => {
            // Bookkeeping nobody is told is saved: the relaxed commit is enough.
            const claim = await relaxedTransaction(db, async (trx) => {
              const mark = await findNotificationMark(trx, recipient.id, space.id, activity);
              if (mark && mark.last_sent_at > quietSince) return null;
              await setNotificationMark(trx, recipient.id, space.id, activity, nowIso);
              return { previous: mark?.last_sent_at ?? null };
            });
            if (!claim) return;
            const kind = activity === 'document' ? 'new_document' : 'new_message';
            const sent = await notifyQuietly(notifier, logger, recipient.email, recipient.language, { kind, organisationName: organisation.name, link });
            if (!sent) await relaxedTransaction(db, (trx) => setNotificationMark(trx, recipient.id, space.id, activity, claim.previous));
          }),
        );
      } catch (error) {
        logger.error({ err: error, spaceId: space.id }, 'space notification failed');
      }
    },
  };
}

export type SpaceNotifier = ReturnType<typeof createSpaceNotifier>;
