// Routes of server/services/audit-log.service.ts (issue 22): the auditor's workspace API.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { Services } from '../app';
import type { AppEnv } from '../http/app-env';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export function auditRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { auditLog } = services;
  defineRoute(app, endpoints.listAuditEvents, ({ query }) => auditLog.listAuditEvents(query));
  defineRoute(app, endpoints.getAuditEvent, ({ params }) => auditLog.getAuditEvent(params.seq));
  defineRoute(app, endpoints.getAuditChain, ({ query }) => auditLog.getAuditChain(query));
  defineRoute(app, endpoints.getAuditHead, () => auditLog.getAuditHead());
  defineRoute(app, endpoints.listAuditHeads, ({ query }) => auditLog.listAuditHeads(query));
  defineRoute(app, endpoints.getInclusionProof, ({ query }) => auditLog.getInclusionProof(query));
  defineRoute(app, endpoints.getConsistencyProof, ({ query }) => auditLog.getConsistencyProof(query));
  defineRoute(app, endpoints.getAuditTreeSplit, ({ query }) => auditLog.getAuditTreeSplit(query));
  defineRoute(app, endpoints.addAuditWitness, ({ body }, c) => auditLog.addAuditWitness(actorOf(c), body.statement));
  defineRoute(app, endpoints.listAuditWitnesses, ({ query }) => auditLog.listAuditWitnesses(query));
  defineRoute(app, endpoints.createAuditExport, ({ body }, c) => auditLog.createAuditExport(actorOf(c), body));
  defineRoute(app, endpoints.getAuditRetention, () => auditLog.getAuditRetention());
  defineRoute(app, endpoints.setAuditRetention, ({ body }, c) => auditLog.setAuditRetention(actorOf(c), body.retentionDays));
  return app;
}
