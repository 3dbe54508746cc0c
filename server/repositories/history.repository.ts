// All SQL of the history people see of their own documents, account and space (issue 22): indexed
// look-ups by target (audit_events_target_id_seq) and actor, newest first, with a seq cursor.
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { AuditEventRow, Database, Db } from '../db/database';

export interface HistoryRow extends AuditEventRow {
  /** Display only: the actor's current e-mail address. */
  readonly actor_email: string | null;
  /** Display only: the e-mail address of a person target. */
  readonly target_email: string | null;
}

type EventsBuilder = ExpressionBuilder<Database & { e: Database['audit_events'] }, 'e'>;

/**
 * Action areas in which a person's own deeds are about their own account (sign-in, sign-out,
 * sessions, devices, second factors, profile, recovery), even when the target is a session or device.
 */
export const ACCOUNT_ACTION_AREAS = [
  'auth.',
  'account.',
  'second_factor.',
  'passkey.',
  'profile.',
  'recovery.',
] as const;

async function pageOf(
  db: Db,
  where: (eb: EventsBuilder) => Expression<SqlBool>,
  before: number | undefined,
  limit: number,
): Promise<HistoryRow[]> {
  let query = db
    .selectFrom('audit_events as e')
    .leftJoin('users as actor', 'actor.id', 'e.actor_id')
    .leftJoin('users as person', (join) =>
      join.onRef('person.id', '=', 'e.target_id').on('e.target_type', '=', 'user'),
    )
    .selectAll('e')
    .select(['actor.email as actor_email', 'person.email as target_email'])
    .where(where);
  if (before !== undefined) query = query.where('e.seq', '<', before);
  return query.orderBy('e.seq', 'desc').limit(limit).execute();
}

/** Events whose target is the document, or one of its versions (downloads name the version). */
export function listDocumentEvents(
  db: Db,
  documentId: string,
  before: number | undefined,
  limit: number,
): Promise<HistoryRow[]> {
  return pageOf(
    db,
    (eb) =>
      eb.or([
        eb.and([eb('e.target_type', '=', 'document'), eb('e.target_id', '=', documentId)]),
        eb.and([
          eb('e.target_type', '=', 'version'),
          eb(
            'e.target_id',
            'in',
            eb.selectFrom('document_versions').select('id').where('document_id', '=', documentId),
          ),
        ]),
      ]),
    before,
    limit,
  );
}

/**
 * Events about `userId`'s own account and client space(s): the person as target (escrow grants,
 * resets, first accesses, role changes, lock-outs ...), their own sign-in and account events, the
 * space and everything in it (documents, versions, folders, threads, messages, requests), and the
 * escrow rotations that re-sealed their keys (escrow_uses kind 'rotation' names the rotation).
 */
export function listPersonEvents(
  db: Db,
  userId: string,
  before: number | undefined,
  limit: number,
): Promise<HistoryRow[]> {
  return pageOf(
    db,
    (eb) => {
      const spaces = eb
        .selectFrom('spaces')
        .select('id')
        .where('kind', '=', 'client')
        .where('client_id', '=', userId);
      const documents = eb.selectFrom('documents').select('id').where('space_id', 'in', spaces);
      const threads = eb.selectFrom('threads').select('id').where('space_id', 'in', spaces);
      return eb.or([
        eb.and([eb('e.target_type', '=', 'user'), eb('e.target_id', '=', userId)]),
        eb.and([
          eb('e.actor_id', '=', userId),
          eb.or(ACCOUNT_ACTION_AREAS.map((area) => eb('e.action', 'like', `${area}%`))),
        ]),
        eb.and([eb('e.target_type', '=', 'space'), eb('e.target_id', 'in', spaces)]),
        eb.and([eb('e.target_type', '=', 'document'), eb('e.target_id', 'in', documents)]),
        eb.and([
          eb('e.target_type', '=', 'version'),
          eb(
            'e.target_id',
            'in',
            eb.selectFrom('document_versions').select('id').where('document_id', 'in', documents),
          ),
        ]),
        eb.and([
          eb('e.target_type', '=', 'folder'),
          eb(
            'e.target_id',
            'in',
            eb.selectFrom('folders').select('id').where('space_id', 'in', spaces),
          ),
        ]),
        eb.and([eb('e.target_type', '=', 'thread'), eb('e.target_id', 'in', threads)]),
        eb.and([
          eb('e.target_type', '=', 'message'),
          eb(
            'e.target_id',
            'in',
            eb.selectFrom('messages').select('id').where('thread_id', 'in', threads),
          ),
        ]),
        eb.and([
          eb('e.target_type', '=', 'request'),
          eb(
            'e.target_id',
            'in',
            eb.selectFrom('document_requests').select('id').where('space_id', 'in', spaces),
          ),
        ]),
        eb.and([
          eb('e.target_type', '=', 'escrow_rotation'),
          eb(
            'e.target_id',
            'in',
            eb
              .selectFrom('escrow_uses')
              .select('subject_id')
              .where('user_id', '=', userId)
              .where('kind', '=', 'rotation'),
          ),
        ]),
      ]);
    },
    before,
    limit,
  );
}
