// readErrorAnswer: the one reading of an error answer, over literal bodies as servers and proxies send them;
// its hand-written check agrees with the zod schema of the body.
import { describe, expect, it } from 'vitest';
import { apiErrorBodySchema } from './error-body';
import { readErrorAnswer } from './errors';

describe('readErrorAnswer', () => {
  it('takes a contract error as the server sent it', () => {
    const body = '{"error":{"code":"document_deleted","message":"This document was deleted.","requestId":"req-body"}}';
    expect(readErrorAnswer(410, body, 'req-header')).toEqual({
      status: 410,
      code: 'document_deleted',
      message: 'This document was deleted.',
      requestId: 'req-body',
      issues: undefined,
    });
  });

  it('keeps the field issues of validation_failed and falls back to the header request id', () => {
    const body = '{"error":{"code":"validation_failed","message":"Invalid input.","issues":[{"path":"body.name","message":"Required"}]}}';
    expect(readErrorAnswer(400, body, 'req-header')).toEqual({
      status: 400,
      code: 'validation_failed',
      message: 'Invalid input.',
      requestId: 'req-header',
      issues: [{ path: 'body.name', message: 'Required' }],
    });
  });

  it('has no request id when neither the body nor the header names one', () => {
    expect(readErrorAnswer(409, '{"error":{"code":"conflict","message":"Exists."}}').requestId).toBeUndefined();
  });

  // Bodies off the contract: [what, status, body, expected code].
  const offContract: readonly (readonly [string, number, string, string])[] = [
    ['an unknown code', 400, '{"error":{"code":"no_such_code","message":"x"}}', 'invalid_response'],
    ['a client-only code the server never sends', 403, '{"error":{"code":"pin_mismatch","message":"x"}}', 'invalid_response'],
    ['a code without a message', 404, '{"error":{"code":"not_found"}}', 'invalid_response'],
    ['a code that is not a string', 404, '{"error":{"code":404,"message":"x"}}', 'invalid_response'],
    ['issues of the wrong shape', 400, '{"error":{"code":"validation_failed","message":"x","issues":["name"]}}', 'invalid_response'],
    ['malformed JSON', 409, '{"error":{"code":"conflict",', 'invalid_response'],
    ['an empty body', 418, '', 'invalid_response'],
    ['a JSON string', 400, '"conflict"', 'invalid_response'],
    ['JSON null', 400, 'null', 'invalid_response'],
    ['a JSON array', 400, '[{"error":{"code":"conflict","message":"x"}}]', 'invalid_response'],
    ['an error that is not an object', 400, '{"error":"conflict"}', 'invalid_response'],
    ['a proxy page on a 500', 500, '<h1>Internal Server Error</h1>', 'invalid_response'],
    ['a proxy page on a 502', 502, '<h1>Bad gateway</h1>', 'service_unavailable'],
    ['a proxy page on a 503', 503, 'Service Unavailable', 'service_unavailable'],
    ['no body on a 504', 504, '', 'service_unavailable'],
  ];

  it.each(offContract)('reads %s as a generic error with the status kept', (_what, status, body, code) => {
    const answer = readErrorAnswer(status, body, 'req-header');
    expect([answer.status, answer.code, answer.requestId, answer.issues]).toEqual([status, code, 'req-header', undefined]);
    expect(answer.message).toMatch(code === 'service_unavailable' ? /^The server is unavailable\.$/ : new RegExp(`^The server answered ${status} `));
  });
});

describe('readErrorAnswer and apiErrorBodySchema', () => {
  // JSON bodies with the verdict both must reach: [body, a contract error?].
  const bodies: readonly (readonly [string, boolean])[] = [
    ['{"error":{"code":"conflict","message":"x"}}', true],
    ['{"error":{"code":"conflict","message":"x","requestId":"r"}}', true],
    ['{"error":{"code":"conflict","message":"x","extra":1},"more":true}', true],
    ['{"error":{"code":"validation_failed","message":"x","issues":[]}}', true],
    ['{"error":{"code":"validation_failed","message":"x","issues":[{"path":"a","message":"b","value":"c"}]}}', true],
    ['{"error":{"code":"conflict","message":"x","requestId":null}}', false],
    ['{"error":{"code":"conflict","message":"x","requestId":7}}', false],
    ['{"error":{"code":"validation_failed","message":"x","issues":{"path":"a","message":"b"}}}', false],
    ['{"error":{"code":"validation_failed","message":"x","issues":[{"path":"a"}]}}', false],
    ['{"error":{"code":"validation_failed","message":"x","issues":null}}', false],
    ['{"error":{"code":"no_such_code","message":"x"}}', false],
    ['{"error":{"code":"toString","message":"x"}}', false],
    ['{"error":{"code":"conflict","message":null}}', false],
    ['{"error":["conflict","x"]}', false],
    ['{"error":null}', false],
    ['{}', false],
    ['[]', false],
    ['42', false],
  ];

  it.each(bodies)('%s: contract error %s', (body, valid) => {
    expect(apiErrorBodySchema.safeParse(JSON.parse(body)).success).toBe(valid);
    expect(readErrorAnswer(409, body).code !== 'invalid_response').toBe(valid);
  });

  it('passes on only the fields of the contract', () => {
    const body = '{"error":{"code":"validation_failed","message":"x","extra":1,"issues":[{"path":"a","message":"b","value":"secret"}]}}';
    expect(readErrorAnswer(400, body)).toEqual({ status: 400, code: 'validation_failed', message: 'x', requestId: undefined, issues: [{ path: 'a', message: 'b' }] });
  });
});
