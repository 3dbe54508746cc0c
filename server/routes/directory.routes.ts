// Key directory routes: the directory, certificates, signing keys, escrow-copy statements, the key safe.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { AppEnv } from '../http/app-env';
import type { DirectoryService } from '../services/directory.service';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export function directoryRoutes(directory: DirectoryService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  defineRoute(app, endpoints.getDirectory, (_input, c) => directory.getDirectory(actorOf(c)));
  defineRoute(app, endpoints.issueCertificate, async ({ params, body }, c) => {
    await directory.issueCertificate(actorOf(c), params.userId, body);
    return null;
  });
  defineRoute(app, endpoints.addSigningKey, async ({ body }, c) => {
    await directory.addSigningKey(actorOf(c), body);
    return null;
  });
  defineRoute(app, endpoints.putEscrowCopyStatement, async ({ body }, c) => {
    await directory.putEscrowCopyStatement(actorOf(c), body);
    return null;
  });
  defineRoute(app, endpoints.getKeySafe, (_input, c) => directory.getKeySafe(actorOf(c)));
  defineRoute(app, endpoints.updateKeySafe, ({ body }, c) => directory.updateKeySafe(actorOf(c), body));
  return app;
}
