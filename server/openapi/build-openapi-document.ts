// Builds the OpenAPI 3.1 document of the API from the shared/api contract (the same zod schemas that validate).
import { z } from 'zod';
import { apiErrorBodySchema, errorCodesOf, errorStatus, type Endpoint, type ErrorCode } from '../../shared/api';

type JsonSchema = Record<string, unknown>;

// A type alias, not an interface: it must fit the contract's open (indexable) document schema.
export type OpenApiDocument = {
  openapi: '3.1.1';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, JsonSchema>>;
  components: { schemas: Record<string, JsonSchema> };
};

const COMPONENTS = '#/components/schemas/';

/** `/api/documents/:id` -> `/api/documents/{id}` */
export function toOpenApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod emits refs to `#/$defs/X`; in OpenAPI the shared schemas live under components. */
function moveRefsToComponents(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(moveRefsToComponents);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, member]) => [
      key,
      key === '$ref' && typeof member === 'string' && member.startsWith('#/$defs/')
        ? COMPONENTS + member.slice('#/$defs/'.length)
        : moveRefsToComponents(member),
    ]),
  );
}

function schemaKey(endpoint: Endpoint, part: 'body' | 'query' | 'params' | 'response'): string {
  return `${endpoint.operationId}.${part}`;
}

/**
 * Converts every schema in one pass, so a schema with `.meta({ id })` becomes one component that
 * all operations reference. `io: 'input'` describes what travels on the wire: request bodies are
 * parsed from it, responses are encoded to it.
 */
function convertSchemas(endpoints: readonly Endpoint[]): { inline: Record<string, JsonSchema>; components: Record<string, JsonSchema> } {
  const shape: Record<string, z.ZodType> = { error: apiErrorBodySchema };
  for (const endpoint of endpoints) {
    for (const part of ['body', 'query', 'params', 'response'] as const) {
      const schema = endpoint[part];
      if (schema) shape[schemaKey(endpoint, part)] = schema;
    }
  }
  const converted = z.toJSONSchema(z.object(shape), { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' });
  const moved = moveRefsToComponents(converted);
  if (!isRecord(moved) || !isRecord(moved.properties)) throw new Error('unexpected JSON Schema from zod');
  const inline = Object.fromEntries(Object.entries(moved.properties).filter((entry): entry is [string, JsonSchema] => isRecord(entry[1])));
  const components = isRecord(moved.$defs)
    ? Object.fromEntries(Object.entries(moved.$defs).filter((entry): entry is [string, JsonSchema] => isRecord(entry[1])))
    : {};
  return { inline, components };
}

function resolveRef(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith(COMPONENTS)) {
    const target = components[ref.slice(COMPONENTS.length)];
    if (target) return target;
  }
  return schema;
}

function parameters(location: 'path' | 'query', schema: JsonSchema | undefined, components: Record<string, JsonSchema>): JsonSchema[] {
  if (!schema) return [];
  const object = resolveRef(schema, components);
  const properties = isRecord(object.properties) ? object.properties : {};
  const required = Array.isArray(object.required) ? object.required : [];
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.includes(name),
    schema: property,
  }));
}

function errorResponses(endpoint: Endpoint): Record<string, JsonSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(endpoint)) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: `Error: ${codes.join(', ')}`,
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: `${COMPONENTS}ApiError` },
                { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } },
              ],
            },
          },
        },
      },
    ]),
  );
}

export function buildOpenApiDocument(endpoints: readonly Endpoint[], info: { title: string; version: string }): OpenApiDocument {
  const { inline, components } = convertSchemas(endpoints);
  if (!components.ApiError) throw new Error('apiErrorBodySchema must carry .meta({ id: "ApiError" })');
  const paths: OpenApiDocument['paths'] = {};
  for (const endpoint of endpoints) {
    const body = inline[schemaKey(endpoint, 'body')];
    const status = endpoint.status ?? 200;
    const success =
      status === 204
        ? { description: endpoint.summary }
        : { description: endpoint.summary, content: { 'application/json': { schema: inline[schemaKey(endpoint, 'response')] } } };
    const parameterList = [
      ...parameters('path', inline[schemaKey(endpoint, 'params')], components),
      ...parameters('query', inline[schemaKey(endpoint, 'query')], components),
    ];
    const operation: JsonSchema = {
      operationId: endpoint.operationId,
      summary: endpoint.summary,
      tags: [...endpoint.tags],
      'x-access': endpoint.access,
      ...(parameterList.length ? { parameters: parameterList } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: { [String(status)]: success, ...errorResponses(endpoint) },
    };
    const path = toOpenApiPath(endpoint.path);
    paths[path] = { ...paths[path], [endpoint.method]: operation };
  }
  return {
    openapi: '3.1.1',
    info: {
      ...info,
      description: 'Kluis HTTP API. Every secret is encrypted in the browser; this API moves ciphertext and metadata only.',
    },
    paths,
    components: { schemas: components },
  };
}
