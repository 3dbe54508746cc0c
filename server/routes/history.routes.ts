// History routes (issue 22): a document's audit events, and the caller's own account and space events.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { AppEnv } from '../http/app-env';
import type { HistoryService } from '../services/history.service';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export function historyRoutes(history: HistoryService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  defineRoute(app, endpoints.getDocumentHistory, ({ params, query }, c) =>
    history.getDocumentHistory(actorOf(c), params.id, query),
  );
  defineRoute(app, endpoints.getMyHistory, ({ query }, c) =>
    history.getMyHistory(actorOf(c), query),
  );
  return app;
}
