// Document requests: staff ask a client for documents (a checklist with a due date), close them; due reminders.
import type { Logger } from 'pino';
import type { CreateRequestBody, DocumentRequest } from '../../shared/api';
import { requestCloseDraft, requestCreateDraft } from '../../shared/flows/space-entries';
import type { SignedEntry } from '../../shared/flows/space-history';
import type { Db } from '../db/database';
import type { Config } from '../env';
import { fail } from '../errors';
import {
  closeRequestRow,
  findExistingItemIds,
  findRequest,
  insertRequest,
  listDueReminders,
  listRequestsWithItems,
  setReminderSent,
} from '../repositories/requests.repository';
import { touchSpace } from '../repositories/spaces.repository';
import { requireOrganisation, type Actor } from './account-deps';
import { recordAuditEvent } from './audit.service';
import { notifyQuietly, type Notifier } from './notifications';
import { requireInUsableSpace, requireSpace } from './space-access';
import { appendEntry, checkEntry } from './space-history';
import { spaceLink } from './space-notifications';

export interface RequestsDeps {
  readonly db: Db;
  readonly config: Config;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly now: () => Date;
}

const requestNotFound = () => fail('request_not_found', 'There is no such document request.');
const idTaken = () => fail('id_taken', 'This id is in use; make a new one.');

/** `YYYY-MM-DD` of `date` in UTC. */
function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Whether `value` (already YYYY-MM-DD by the schema) names a day that exists (not 2025-02-30). */
function isRealDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && utcDate(date) === value;
}

function requestViews(listed: Awaited<ReturnType<typeof listRequestsWithItems>>): DocumentRequest[] {
  const documentsByItem = new Map<string, string[]>();
  for (const document of listed.documents) {
    if (document.request_item_id === null) continue;
    const ids = documentsByItem.get(document.request_item_id) ?? [];
    ids.push(document.id);
    documentsByItem.set(document.request_item_id, ids);
  }
  return listed.requests.map((row) => ({
    id: row.id,
    spaceId: row.space_id,
    body: row.body,
    dueDate: row.due_date,
    createdAt: row.created_at,
    createdBy: row.created_by,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
    reminderSentAt: row.reminder_sent_at,
    items: listed.items
      .filter((item) => item.request_id === row.id)
      .map((item) => ({ id: item.id, body: item.body, documentIds: documentsByItem.get(item.id) ?? [] })),
  }));
}

export function createRequestsService(deps: RequestsDeps) {
  const { db, config, logger, notifier } = deps;
  let remindersRunning = false;

  async function oneRequest(spaceId: string, requestId: string): Promise<DocumentRequest> {
    const [request] = requestViews(await listRequestsWithItems(db, spaceId, requestId));
    if (!request) throw requestNotFound();
    return request;
  }

  return {
    async listRequests(actor: Actor, spaceId: string) {
      await requireSpace(db, actor, spaceId);
      return { requests: requestViews(await listRequestsWithItems(db, spaceId)) };
    },

    /** Staff ask the client of a space for documents, due on `dueDate` (today or later, UTC). */
    async createRequest(actor: Actor, spaceId: string, body: CreateRequestBody): Promise<DocumentRequest> {
      const space = await requireSpace(db, actor, spaceId);
      if (space.kind !== 'client') throw fail('forbidden', 'Document requests go to a client; the team space has none.');
      const now = deps.now();
      if (!isRealDate(body.dueDate)) throw fail('due_date_invalid', `${body.dueDate} is not a day of the calendar.`);
      if (body.dueDate < utcDate(now)) throw fail('due_date_invalid', 'The due date is in the past; choose today or a later day.');
      const at = now.toISOString();
      const itemIds = body.items.map((item) => item.itemId);
      const checked = await checkEntry(db, actor, space.id, body.entry, requestCreateDraft(body));
      await db.transaction().execute(async (trx) => {
        if (await findRequest(trx, body.requestId)) throw idTaken();
        if (new Set(itemIds).size !== itemIds.length || (await findExistingItemIds(trx, itemIds)).length > 0) throw idTaken();
        await insertRequest(
          trx,
          { id: body.requestId, space_id: space.id, body: body.body, due_date: body.dueDate, created_by: actor.userId, created_at: at, closed_at: null, closed_by: null, reminder_sent_at: null },
          body.items.map((item, position) => ({ id: item.itemId, request_id: body.requestId, position, body: item.body })),
        );
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, {
          action: 'request.created',
          actorId: actor.userId,
          targetType: 'request',
          targetId: body.requestId,
          ip: actor.ip,
          details: { spaceId: space.id, dueDate: body.dueDate, items: itemIds },
        });
      });
      return oneRequest(space.id, body.requestId);
    },

    async closeRequest(actor: Actor, requestId: string, body: { entry: SignedEntry }): Promise<DocumentRequest> {
      const { row, space } = await requireInUsableSpace(db, actor, await findRequest(db, requestId), requestNotFound);
      const checked = await checkEntry(db, actor, space.id, body.entry, requestCloseDraft(row.id));
      const at = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        if (!(await closeRequestRow(trx, row.id, actor.userId, at))) throw fail('request_closed', 'This document request is closed already.');
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, { action: 'request.closed', actorId: actor.userId, targetType: 'request', targetId: row.id, ip: actor.ip, details: { spaceId: space.id } });
      });
      return oneRequest(space.id, row.id);
    },

    /**
     * Reminds clients once of open requests due within KLUIS_REQUEST_REMINDER_DAYS (or overdue) that
     * still have an item without a document. Like lock notices: the mark and its audit event commit
     * first (so two sweeps cannot both send), then the e-mail goes out; if it could not be sent,
     * the mark is taken back (audited) and the next sweep tries again. index.ts calls this
     * periodically. Returns how many reminders went out.
     */
    async sendDueReminders(): Promise<number> {
      if (remindersRunning) return 0;
      remindersRunning = true;
      try {
        const now = deps.now();
        const lastDueDate = utcDate(new Date(now.getTime() + config.spaces.reminderDays * 86_400_000));
        const due = await listDueReminders(db, lastDueDate);
        if (due.length === 0) return 0;
        const { organisation } = await requireOrganisation(db);
        let sent = 0;
        for (const request of due) {
          const claimed = await db.transaction().execute(async (trx) => {
            if (!(await setReminderSent(trx, request.id, now.toISOString()))) return false;
            await recordAuditEvent(trx, {
              action: 'request.reminder_sent',
              targetType: 'request',
              targetId: request.id,
              details: { spaceId: request.space_id, clientId: request.client_id, dueDate: request.due_date },
            });
            return true;
          });
          if (!claimed) continue;
          // WARNING: the reminder says only that documents are requested, by when, and where: nothing confidential.
          const delivered = await notifyQuietly(notifier, logger, request.email, request.language, {
            kind: 'request_reminder',
            organisationName: organisation.name,
            link: spaceLink(config, request.space_id),
            dueDate: request.due_date,
          });
          if (delivered) {
            sent += 1;
            continue;
          }
          await db.transaction().execute(async (trx) => {
            await setReminderSent(trx, request.id, null);
            await recordAuditEvent(trx, { action: 'request.reminder_failed', result: 'failure', targetType: 'request', targetId: request.id, details: { spaceId: request.space_id } });
          });
        }
        return sent;
      } finally {
        remindersRunning = false;
      }
    },
  };
}

export type RequestsService = ReturnType<typeof createRequestsService>;
