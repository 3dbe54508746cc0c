// Space routes: spaces, folders, documents and versions (content streamed with Range), threads and messages, requests.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { AppEnv } from '../http/app-env';
import type { DocumentsService } from '../services/documents.service';
import type { MessagesService } from '../services/messages.service';
import type { RequestsService } from '../services/requests.service';
import type { SpacesService } from '../services/spaces.service';
import { actorOf } from './actor';
import { blobResponse, rangeOf } from './blob-response';
import { defineRawRoute, defineRoute } from './define-route';

export interface SpaceServices {
  readonly spaces: SpacesService;
  readonly documents: DocumentsService;
  readonly messages: MessagesService;
  readonly requests: RequestsService;
}

export function spaceRoutes({ spaces, documents, messages, requests }: SpaceServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  defineRoute(app, endpoints.listSpaces, (_input, c) => spaces.listSpaces(actorOf(c)));
  defineRoute(app, endpoints.createSpace, ({ body }, c) => spaces.createSpace(actorOf(c), body));
  defineRoute(app, endpoints.adoptSpace, ({ params, body }, c) => spaces.adoptSpace(actorOf(c), params.spaceId, body));
  defineRoute(app, endpoints.getSpace, ({ params }, c) => spaces.getSpace(actorOf(c), params.spaceId));
  defineRoute(app, endpoints.getHistory, ({ params, query }, c) => spaces.getHistory(actorOf(c), params.spaceId, query));

  defineRoute(app, endpoints.listDocuments, ({ params, query }, c) => documents.listDocuments(actorOf(c), params.spaceId, query));
  defineRoute(app, endpoints.createFolder, ({ params, body }, c) => documents.createFolder(actorOf(c), params.spaceId, body));
  defineRoute(app, endpoints.renameFolder, ({ params, body }, c) => documents.renameFolder(actorOf(c), params.folderId, body));
  defineRoute(app, endpoints.deleteFolder, ({ params, body }, c) => documents.deleteFolder(actorOf(c), params.folderId, body));
  defineRoute(app, endpoints.createDocument, ({ params, body }, c) => documents.createDocument(actorOf(c), params.spaceId, body));
  defineRoute(app, endpoints.getDocument, ({ params }, c) => documents.getDocument(actorOf(c), params.documentId));
  defineRoute(app, endpoints.addVersion, ({ params, body }, c) => documents.addVersion(actorOf(c), params.documentId, body));
  defineRoute(app, endpoints.moveDocument, ({ params, body }, c) => documents.moveDocument(actorOf(c), params.documentId, body));
  defineRoute(app, endpoints.deleteDocument, ({ params, body }, c) => documents.deleteDocument(actorOf(c), params.documentId, body));
  defineRawRoute(app, endpoints.downloadVersion, async ({ params }, c) => blobResponse(c, await documents.readVersion(actorOf(c), params.versionId, rangeOf(c))));

  defineRoute(app, endpoints.listThreads, ({ params }, c) => messages.listThreads(actorOf(c), params.spaceId));
  defineRoute(app, endpoints.createThread, ({ params, body }, c) => messages.createThread(actorOf(c), params.spaceId, body));
  defineRoute(app, endpoints.getThread, ({ params }, c) => messages.getThread(actorOf(c), params.threadId));
  defineRoute(app, endpoints.postMessage, ({ params, body }, c) => messages.postMessage(actorOf(c), params.threadId, body));
  defineRoute(app, endpoints.reviseMessage, ({ params, body }, c) => messages.reviseMessage(actorOf(c), params.messageId, body));
  defineRoute(app, endpoints.markThreadRead, async ({ params }, c) => {
    await messages.markThreadRead(actorOf(c), params.threadId);
    return null;
  });

  defineRoute(app, endpoints.listRequests, ({ params }, c) => requests.listRequests(actorOf(c), params.spaceId));
  defineRoute(app, endpoints.createRequest, ({ params, body }, c) => requests.createRequest(actorOf(c), params.spaceId, body));
  defineRoute(app, endpoints.closeRequest, ({ params, body }, c) => requests.closeRequest(actorOf(c), params.requestId, body));

  return app;
}
