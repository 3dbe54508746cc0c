// Liveness and self-description of the server.
import { endpoints, type EndpointResponse } from '../../shared/api';
import type { Db } from '../db/database';
import { AppError } from '../errors';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/build-openapi-document';
import { pingDatabase } from '../repositories/system.repository';

export interface SystemService {
  getHealth(): Promise<EndpointResponse<typeof endpoints.health>>;
  getOpenApiDocument(): OpenApiDocument;
}

export function createSystemService(deps: { readonly db: Db; readonly version: string }): SystemService {
  let openApiDocument: OpenApiDocument | undefined;
  return {
    async getHealth() {
      try {
        await pingDatabase(deps.db);
      } catch (error) {
        throw new AppError(503, 'service_unavailable', 'The database is not reachable.', { cause: error });
      }
      return { status: 'ok', version: deps.version, time: new Date().toISOString() };
    },
    getOpenApiDocument() {
      openApiDocument ??= buildOpenApiDocument(Object.values(endpoints), { title: 'Kluis API', version: deps.version });
      return openApiDocument;
    },
  };
}
