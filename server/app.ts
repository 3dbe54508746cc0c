// createApp: the whole HTTP application (pipeline, API routes, web client) over injected dependencies.
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Db } from './db/database';
import type { Config } from './env';
import type { AppEnv } from './http/app-env';
import { clientAssets } from './http/client-assets';
import { createPipeline } from './http/pipeline';
import { KLUIS_VERSION } from './lib/version';
import { createMemoryStore, type EphemeralStore } from './auth/ephemeral-store';
import type { OpaqueServer } from './auth/opaque-server';
import { API_PREFIX } from './http/paths';
import { sessionMiddleware } from './http/session';
import { refusalRecorder } from './http/refusal-audit';
import { accountRoutes } from './routes/accounts.routes';
import { systemRoutes } from './routes/system.routes';
import { passkeyRoutes } from './routes/passkeys.routes';
import { createPasskeyFactors, createPasskeysService } from './services/second-factors/passkeys';
import { secondFactorLoginRoutes } from './routes/second-factor-login.routes';
import type { AccountDeps } from './services/account-deps';
import { createAuthService } from './services/auth.service';
import type { Notifier } from './services/notifications';
import { createPeopleService } from './services/people.service';
import { createSetupService } from './services/setup.service';
import { createSystemService } from './services/system.service';
// Second factors (issue 20)
import { secondFactorRoutes } from './routes/second-factors.routes';
import { createSecondFactorsService } from './services/second-factors/factors.service';
import { createCodeFactors } from './services/second-factors/verifiers';
// Uploads and blobs (issue 4)
import { endpoints } from '../shared/api';
import type { BlobStore } from './blobs/blob-store';
import { createLocalDiskBlobStore } from './blobs/local-disk-blob-store';
import { uploadRoutes } from './routes/uploads.routes';
import { createUploadsService } from './services/uploads.service';
// Spaces, documents, messages and requests (issue 4)
import { spaceRoutes } from './routes/spaces.routes';
import { directoryRoutes } from './routes/directory.routes';
import { lifecycleRoutes } from './routes/lifecycle.routes';
import { resetRoutes } from './routes/resets.routes';
import { rotationRoutes } from './routes/rotation.routes';
import { createLifecycleService } from './services/lifecycle.service';
import { createResetsService } from './services/resets.service';
import { createRotationService } from './services/rotation.service';
import { createDirectoryService } from './services/directory.service';
import { createDocumentsService } from './services/documents.service';
import { createMessagesService } from './services/messages.service';
import { createRequestsService } from './services/requests.service';
import { createSpaceNotifier } from './services/space-notifications';
import { createSpacesService } from './services/spaces.service';
// The auditor's workspace (issue 22)
import { auditRoutes } from './routes/audit.routes';
import { createAuditLogService } from './services/audit-log.service';
import { currentAuditContext } from './http/audit-context';
// History for people (issue 22)
import { historyRoutes } from './routes/history.routes';
import { createHistoryService } from './services/history.service';

export interface AppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly logger: Logger;
  /** The OPAQUE server over the secret kept outside the database. */
  readonly opaque: OpaqueServer;
  /** E-mail (SMTP or the outbox). */
  readonly notifier: Notifier;
  /** Pending protocol state; in memory unless given (scale-out supplies a shared one). */
  readonly store?: EphemeralStore;
  /** The clock; tests move it. */
  readonly now?: () => Date;
  /** The Vite build of client/; defaults to dist/client in this repository. */
  readonly clientDir?: string;
  /** Where ciphertext blobs live; the local directory config.blobDir unless given. */
  readonly blobs?: BlobStore;
  /** Called after each API request with the audit events it recorded (the coverage test). */
  readonly onAuditedRequest?: (request: { method: string; path: string; status: number; eventsRecorded: number }) => void;
}

const defaultClientDir = fileURLToPath(new URL('../dist/client', import.meta.url));

/** The services behind the routes, built once per app (index.ts also uses them for start-up work). */
export function createServices(deps: AppDeps) {
  const accountDeps: AccountDeps = {
    db: deps.db,
    config: deps.config,
    logger: deps.logger,
    opaque: deps.opaque,
    notifier: deps.notifier,
    store: deps.store ?? createMemoryStore(),
    now: deps.now ?? (() => new Date()),
  };
  const blobs = deps.blobs ?? createLocalDiskBlobStore({ root: deps.config.blobDir, capacityBytes: deps.config.blobCapacityBytes });
  const spaceDeps = { db: deps.db, config: deps.config, logger: deps.logger, notifier: deps.notifier, now: accountDeps.now };
  const spaceNotifier = createSpaceNotifier(spaceDeps);
  const codeFactors = createCodeFactors(accountDeps);
  const auth = createAuthService(accountDeps, { codes: codeFactors, passkeys: createPasskeyFactors(accountDeps) });
  return {
    system: createSystemService({ db: deps.db, version: KLUIS_VERSION }),
    auth,
    passkeys: createPasskeysService(accountDeps, auth),
    setup: createSetupService(accountDeps),
    people: createPeopleService(accountDeps),
    /** TOTP, e-mail and backup code checks (the sign-in step calls them). */
    codeFactors,
    secondFactors: createSecondFactorsService(accountDeps, codeFactors),
    directory: createDirectoryService(accountDeps),
    uploads: createUploadsService({ db: deps.db, config: deps.config, logger: deps.logger, blobs, now: accountDeps.now }),
    spaces: createSpacesService(spaceDeps),
    documents: createDocumentsService({ ...spaceDeps, blobs, spaceNotifier }),
    messages: createMessagesService({ ...spaceDeps, spaceNotifier }),
    requests: createRequestsService(spaceDeps),
    resets: createResetsService(accountDeps),
    lifecycle: createLifecycleService({ ...accountDeps, blobs }),
    rotation: createRotationService(accountDeps),
    auditLog: createAuditLogService({ ...accountDeps, headEveryEvents: deps.config.audit.headEveryEvents, headMaxMinutes: deps.config.audit.headMaxMinutes }),
    history: createHistoryService({ db: deps.db }),
  };
}

export type Services = ReturnType<typeof createServices>;

export function createApp(deps: AppDeps, services: Services = createServices(deps)): Hono<AppEnv> {
  // The part upload reads its raw body itself (shared/api/uploads.ts).
  const app = createPipeline({ ...deps, rawBodyRoutes: [endpoints.uploadPart], onRefusal: refusalRecorder(deps.db) });
  app.use(`${API_PREFIX}/*`, sessionMiddleware(deps.config, services.auth));
  // A request that recorded events signs a tree head when enough are unsigned (the timer in index.ts does the rest).
  app.use(`${API_PREFIX}/*`, async (_c, next) => {
    await next();
    if (!currentAuditContext()?.eventsRecorded) return;
    await services.auditLog.signHeadIfDue().catch((error: unknown) => deps.logger.error({ err: error }, 'signing an audit tree head failed'));
  });
  app.route('/', systemRoutes(services.system));
  app.route('/', accountRoutes(deps.config, services));
  app.route('/', passkeyRoutes(deps.config, services));
  app.route('/', secondFactorLoginRoutes(deps.config, services));
  app.route('/', secondFactorRoutes(services.secondFactors));
  app.route('/', uploadRoutes(services.uploads));
  app.route('/', spaceRoutes(services));
  app.route('/', directoryRoutes(services.directory));
  app.route('/', resetRoutes(services));
  app.route('/', lifecycleRoutes(services));
  app.route('/', rotationRoutes(services));
  app.route('/', auditRoutes(services));
  app.route('/', historyRoutes(services.history));
  // Last: everything that is not an API route is the web client.
  app.use(clientAssets(deps.clientDir ?? defaultClientDir));
  return app;
}

export type App = ReturnType<typeof createApp>;
