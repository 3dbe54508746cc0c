// All SQL of notification e-mail throttling and of who receives space notifications.
import type { Db, Trx } from '../db/database';

type Executor = Db | Trx;

export function findNotificationMark(db: Executor, userId: string, spaceId: string, kind: string) {
  return db.selectFrom('notification_marks').selectAll().where('user_id', '=', userId).where('space_id', '=', spaceId).where('kind', '=', kind).executeTakeFirst();
}

export async function setNotificationMark(trx: Trx, userId: string, spaceId: string, kind: string, at: string | null): Promise<void> {
  if (at === null) {
    await trx.deleteFrom('notification_marks').where('user_id', '=', userId).where('space_id', '=', spaceId).where('kind', '=', kind).execute();
    return;
  }
  await trx
    .insertInto('notification_marks')
    .values({ user_id: userId, space_id: spaceId, kind, last_sent_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'space_id', 'kind']).doUpdateSet({ last_sent_at: at }))
    .execute();
}

/** Administrators and Team Members whose account is not locked right now. */
export function listReachableStaff(db: Executor, now: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'language'])
    .where('role', 'in', ['admin', 'team'])
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .orderBy('id')
    .execute();
}

export function findRecipient(db: Executor, userId: string) {
  return db.selectFrom('users').select(['id', 'email', 'language']).where('id', '=', userId).executeTakeFirst();
}
