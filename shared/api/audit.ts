// The auditor's workspace (issue 22): the filtered event table, the raw chain and Merkle proofs a
// browser verifies itself, signed tree heads, Auditors' countersignatures, exports, retention, and
// the history every person sees of their own documents, account and space. SECURITY.md 6.
import { z } from 'zod';
import { ALL_ROLES, defineEndpoint } from './contract';
import { checkpointSchema, logKeySchema, treeHeadSchema } from '../audit/tree-head';
import { idSchema, isoDateTime, signedPayloadSchema } from './wire';

const AUDITORS = ['admin', 'auditor'] as const;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const seqSchema = z.coerce.number().int().min(1);
const sizeSchema = z.coerce.number().int().min(0);

/** At most this many events per page (more: `audit_page_too_large`). */
export const AUDIT_PAGE_MAX = 200;
/** At most this many events per export (more: `audit_export_too_large`). */
export const AUDIT_EXPORT_MAX = 100_000;
/** At most this many raw chain events per verification page. */
export const AUDIT_CHAIN_PAGE_MAX = 5000;

export const auditResultSchema = z.enum(['success', 'failure', 'denied']);

/**
 * One event as stored: every field the chain hash covers (so a browser can re-hash it) plus, for
 * display only and never hashed, the e-mail addresses of the actor and of a person target.
 */
export const auditEventSchema = z
  .strictObject({
    seq: z.number().int().min(1),
    id: z.string(),
    occurredAt: z.string(),
    action: z.string(),
    actorId: z.string().nullable(),
    actorRole: z.string().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    result: auditResultSchema.nullable(),
    /** The canonical JSON text exactly as hashed (ids, counts, flags: never names or contents). */
    details: z.string(),
    prevHash: hex64,
    hash: hex64,
    /** 1: written before issue 22 (role, user agent and result are not hashed and null); 2 since. */
    encoding: z.union([z.literal(1), z.literal(2)]),
    /** Display only (not hashed): the actor's current e-mail address, if the account still exists. */
    actorEmail: z.string().nullable(),
    /** Display only: the e-mail address of a person target (targetType 'user'). */
    targetEmail: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' });
export type AuditEventView = z.infer<typeof auditEventSchema>;

/** A date (YYYY-MM-DD, whole UTC day) or an ISO date-time. */
const dateFilter = z.string().max(40);

/**
 * Filters of the event table and of exports. Dates are checked by the server (malformed or
 * start-after-end: `audit_filter_invalid`), so the error is specific rather than a schema failure.
 */
export const auditFilterSchema = z.strictObject({
  /** A user id: events this person did. */
  actor: z.string().max(64).optional(),
  /** An exact action (`document.downloaded`) or an area ending in a dot (`document.`). */
  action: z.string().max(64).optional(),
  /** Events about this target id (a document, a person, a space ...). */
  target: z.string().max(64).optional(),
  from: dateFilter.optional(),
  to: dateFilter.optional(),
  result: auditResultSchema.optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const listAuditEvents = defineEndpoint({
  method: 'get',
  path: '/api/audit/events',
  operationId: 'listAuditEvents',
  summary: 'A page of audit events, newest first, filtered by actor, action, target, date range and result (Auditors and Administrators)',
  tags: ['audit'],
  access: { roles: AUDITORS },
  query: auditFilterSchema.extend({
    /** Events with seq below this (the previous page's nextCursor). */
    before: seqSchema.optional(),
    limit: z.coerce.number().int().min(1).optional(),
  }),
  response: z.strictObject({ events: z.array(auditEventSchema), nextCursor: z.number().int().nullable() }),
  errors: ['forbidden', 'audit_filter_invalid', 'audit_page_too_large'],
});

export const getAuditEvent = defineEndpoint({
  method: 'get',
  path: '/api/audit/events/:seq',
  operationId: 'getAuditEvent',
  summary: 'One event, with its inclusion proof in the newest signed tree head that contains it',
  tags: ['audit'],
  access: { roles: AUDITORS },
  params: z.strictObject({ seq: seqSchema }),
  response: z.strictObject({
    event: auditEventSchema,
    /** Null while no signed head contains the event yet (it is newer than the newest head). */
    inclusion: z.strictObject({ treeHead: treeHeadSchema, path: z.array(hex64) }).nullable(),
  }),
  errors: ['forbidden', 'audit_event_not_found', 'audit_event_pruned'],
});

export const getAuditChain = defineEndpoint({
  method: 'get',
  path: '/api/audit/chain',
  operationId: 'getAuditChain',
  summary: 'Raw events after a seq, oldest first, for verification in the browser (chain and leaf hashes)',
  tags: ['audit'],
  access: { roles: AUDITORS },
  query: z.strictObject({ after: sizeSchema.optional(), limit: z.coerce.number().int().min(1).optional() }),
  response: z.strictObject({
    events: z.array(auditEventSchema),
    /** The newest retention checkpoint: the chain starts after its throughSeq (null: nothing pruned). */
    checkpoint: checkpointSchema.nullable(),
    /**
     * When after > 0: the stored perfect subtrees covering leaves [0, after) (shared/audit/merkle.ts
     * frontierAddresses), so a verifier can start there, e.g. after pruned events. Unauthenticated
     * by itself: the signed root the verifier recomputes checks it.
     */
    frontier: z.array(z.strictObject({ level: z.number().int().min(0), index: z.number().int().min(0), hash: hex64 })).nullable(),
  }),
  errors: ['forbidden', 'audit_page_too_large'],
});

export const witnessSignatureSchema = z
  .strictObject({
    id: idSchema,
    treeSize: z.number().int().min(0),
    witnessId: idSchema,
    witnessEmail: z.string().nullable(),
    /** The Auditor's signed "audit-witness" statement (shared/audit/tree-head.ts auditWitnessPayloadSchema). */
    statement: signedPayloadSchema,
    createdAt: isoDateTime,
  })
  .meta({ id: 'AuditWitnessSignature' });
export type WitnessSignature = z.infer<typeof witnessSignatureSchema>;

export const getAuditHead = defineEndpoint({
  method: 'get',
  path: '/api/audit/head',
  operationId: 'getAuditHead',
  summary: 'The log key, the newest signed tree head, its Auditors\' countersignatures and the newest retention checkpoint (everyone)',
  tags: ['audit'],
  access: { roles: ALL_ROLES },
  response: z.strictObject({
    logId: z.string(),
    logKey: logKeySchema,
    /** Null only before the first head is signed (a new organisation's first minutes). */
    treeHead: treeHeadSchema.nullable(),
    witnesses: z.array(witnessSignatureSchema),
    /** The newest head that an Auditor countersigned, with its countersignatures (shown to everyone). */
    latestWitnessed: z.strictObject({ treeHead: treeHeadSchema, witnesses: z.array(witnessSignatureSchema) }).nullable(),
    checkpoint: checkpointSchema.nullable(),
    retentionDays: z.number().int().nullable(),
  }),
  errors: [],
});

export const listAuditHeads = defineEndpoint({
  method: 'get',
  path: '/api/audit/heads',
  operationId: 'listAuditHeads',
  summary: 'Signed tree heads in size order after a size (a verifier checks each against the events it recomputed)',
  tags: ['audit'],
  access: { roles: AUDITORS },
  query: z.strictObject({ after: sizeSchema.optional(), limit: z.coerce.number().int().min(1).optional() }),
  response: z.strictObject({ heads: z.array(treeHeadSchema) }),
  errors: ['forbidden', 'audit_page_too_large'],
});

export const getInclusionProof = defineEndpoint({
  method: 'get',
  path: '/api/audit/proofs/inclusion',
  operationId: 'getAuditInclusionProof',
  summary: 'RFC 9162 inclusion proof of event seq (leaf seq - 1) in the signed tree of treeSize',
  tags: ['audit'],
  access: { roles: ALL_ROLES },
  query: z.strictObject({ seq: seqSchema, treeSize: sizeSchema }),
  response: z.strictObject({ leafIndex: z.number().int(), treeSize: z.number().int(), leafHash: hex64, path: z.array(hex64) }),
  errors: ['forbidden', 'audit_head_not_found', 'audit_proof_unavailable', 'audit_event_not_found'],
});

export const getConsistencyProof = defineEndpoint({
  method: 'get',
  path: '/api/audit/proofs/consistency',
  operationId: 'getAuditConsistencyProof',
  summary: 'RFC 9162 consistency proof from the signed tree of size first to the signed tree of size second',
  tags: ['audit'],
  access: { roles: ALL_ROLES },
  query: z.strictObject({ first: sizeSchema, second: sizeSchema }),
  response: z.strictObject({ first: z.number().int(), second: z.number().int(), proof: z.array(hex64) }),
  errors: ['audit_head_not_found', 'audit_proof_unavailable'],
});

export const getAuditTreeSplit = defineEndpoint({
  method: 'get',
  path: '/api/audit/tree/split',
  operationId: 'getAuditTreeSplit',
  summary:
    'The two child hashes of MTH(D[start:end]) as stored (k the largest power of two below end - start): a verifier walks down from a signed root to the first leaf that differs from its own',
  tags: ['audit'],
  access: { roles: AUDITORS },
  query: z.strictObject({ start: sizeSchema, end: sizeSchema }),
  response: z.strictObject({ start: z.number().int(), split: z.number().int(), end: z.number().int(), left: hex64, right: hex64 }),
  errors: ['forbidden', 'audit_proof_unavailable'],
});

export const addAuditWitness = defineEndpoint({
  method: 'post',
  path: '/api/audit/witnesses',
  operationId: 'addAuditWitness',
  summary: 'An Auditor countersigns a signed tree head their browser verified (their certified signing key, context audit-witness)',
  tags: ['audit'],
  access: { roles: ['auditor'] },
  status: 201,
  body: z.strictObject({ statement: signedPayloadSchema }),
  response: z.strictObject({ witness: witnessSignatureSchema }),
  errors: ['forbidden', 'audit_witness_invalid', 'audit_head_not_found', 'conflict', 'csrf_rejected'],
});

export const listAuditWitnesses = defineEndpoint({
  method: 'get',
  path: '/api/audit/witnesses',
  operationId: 'listAuditWitnesses',
  summary: 'Auditors\' countersignatures, newest first (everyone may see them)',
  tags: ['audit'],
  access: { roles: ALL_ROLES },
  query: z.strictObject({ treeSize: sizeSchema.optional(), limit: z.coerce.number().int().min(1).optional() }),
  response: z.strictObject({ witnesses: z.array(witnessSignatureSchema), heads: z.array(treeHeadSchema) }),
  errors: ['audit_page_too_large'],
});

/** One event in an export, with its RFC 9162 inclusion path in the export's tree head. */
export const exportedEventSchema = auditEventSchema.omit({ actorEmail: true, targetEmail: true }).extend({ inclusionPath: z.array(hex64) });

/**
 * An export, verifiable without the server (`npm run audit:verify -- export.json`): every event
 * with its inclusion path in `treeHead`, the head's Ed25519 signature, the log key, and the
 * checkpoint and witnesses known at export time.
 */
export const auditExportSchema = z
  .strictObject({
    format: z.literal('kluis-audit-export'),
    version: z.literal(1),
    exportedAt: isoDateTime,
    exportedBy: z.string(),
    filter: auditFilterSchema,
    logId: z.string(),
    logKey: logKeySchema,
    treeHead: treeHeadSchema,
    checkpoint: checkpointSchema.nullable(),
    /** Oldest first. Events newer than treeHead are not exported (they are not signed yet). */
    events: z.array(exportedEventSchema),
    /** True when the filter was empty: the events are the whole chain (after the checkpoint) up to treeHead. */
    complete: z.boolean(),
    witnesses: z.array(witnessSignatureSchema),
  })
  .meta({ id: 'AuditExport' });
export type AuditExport = z.infer<typeof auditExportSchema>;

export const createAuditExport = defineEndpoint({
  method: 'post',
  path: '/api/audit/exports',
  operationId: 'createAuditExport',
  summary: 'Export a filtered range as JSON with hashes and proofs (the browser also turns it into CSV); the export itself is an audit event',
  tags: ['audit'],
  access: { roles: AUDITORS },
  body: z.strictObject({ filter: auditFilterSchema, format: z.enum(['json', 'csv']) }),
  response: auditExportSchema,
  errors: ['forbidden', 'audit_filter_invalid', 'audit_export_too_large', 'audit_head_not_found', 'csrf_rejected'],
});

export const getAuditRetention = defineEndpoint({
  method: 'get',
  path: '/api/audit/retention',
  operationId: 'getAuditRetention',
  summary: 'The retention period (null keeps everything) and the retention checkpoints published so far',
  tags: ['audit'],
  access: { roles: AUDITORS },
  response: z.strictObject({ retentionDays: z.number().int().nullable(), checkpoints: z.array(checkpointSchema) }),
  errors: ['forbidden'],
});

export const setAuditRetention = defineEndpoint({
  method: 'put',
  path: '/api/audit/retention',
  operationId: 'setAuditRetention',
  summary: 'Set the retention period (Administrators, recent login); pruning publishes a signed checkpoint first and never removes an unsigned event',
  tags: ['audit'],
  access: { roles: ['admin'] },
  body: z.strictObject({ retentionDays: z.number().int().min(30).max(36_500).nullable() }),
  response: z.strictObject({ retentionDays: z.number().int().nullable() }),
  errors: ['forbidden', 'reauthentication_required', 'csrf_rejected'],
});

export const getDocumentHistory = defineEndpoint({
  method: 'get',
  path: '/api/documents/:id/history',
  operationId: 'getDocumentHistory',
  summary: 'The audit events of one document (uploaded, versions, downloads, moves, deletion), for those who may see it',
  tags: ['audit', 'documents'],
  access: { roles: ALL_ROLES },
  params: z.strictObject({ id: idSchema }),
  query: z.strictObject({ before: seqSchema.optional(), limit: z.coerce.number().int().min(1).optional() }),
  response: z.strictObject({ events: z.array(auditEventSchema), nextCursor: z.number().int().nullable() }),
  errors: ['forbidden', 'document_not_found', 'audit_page_too_large'],
});

export const getMyHistory = defineEndpoint({
  method: 'get',
  path: '/api/me/history',
  operationId: 'getMyHistory',
  summary: 'The audit events about the caller\'s own account and space, including every use of escrow on them',
  tags: ['audit'],
  access: { roles: ALL_ROLES },
  query: z.strictObject({ before: seqSchema.optional(), limit: z.coerce.number().int().min(1).optional() }),
  response: z.strictObject({ events: z.array(auditEventSchema), nextCursor: z.number().int().nullable() }),
  errors: ['audit_page_too_large'],
});

export const auditEndpoints = {
  listAuditEvents,
  getAuditEvent,
  getAuditChain,
  getAuditHead,
  listAuditHeads,
  getInclusionProof,
  getConsistencyProof,
  getAuditTreeSplit,
  addAuditWitness,
  listAuditWitnesses,
  createAuditExport,
  getAuditRetention,
  setAuditRetention,
  getDocumentHistory,
  getMyHistory,
} as const;
