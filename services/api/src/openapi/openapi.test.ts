/**
 * /openapi.json is a valid OpenAPI 3.1 document that passes Redocly's recommended rules, its examples
 * match their schemas, and the response check every API test runs (test-support/deps.ts `call`) does
 * refuse answers the document does not describe.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ResponseValidator } from '@pixelmill/client/contract';
import { webhookEventTypeSchema } from '@pixelmill/core';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, item, MODEL, startTestEnv, type TestEnv } from '../test-support/deps.js';

let env: TestEnv;
// biome-ignore lint/suspicious/noExplicitAny: the document is walked field by field
let doc: any;

beforeAll(async () => {
  env = await startTestEnv();
  const r = await call(env.app, 'GET', '/openapi.json');
  expect(r.status).toBe(200);
  doc = r.json;
});
afterAll(() => env?.close());

describe('/openapi.json', () => {
  test('is a valid OpenAPI 3.1 document, with no 3.0 nullable', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
  });

  test("passes Redocly's recommended rules with no error and no warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(doc),
      absoluteRef: 'openapi.json',
      config,
    });
    const shown = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(shown).toEqual([]);
  });

  test('every operation has an id, a named body schema for each JSON answer, and the error shape for 4xx/5xx', () => {
    for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
      for (const [method, op] of Object.entries<Record<string, unknown>>(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toEqual(expect.any(String));
        for (const [status, res] of Object.entries<Record<string, Record<string, { schema?: unknown }>>>(
          op.responses as Record<string, never>,
        )) {
          const json = res.content?.['application/json']?.schema;
          if (Number(status) >= 400 && path !== '/readyz')
            expect(json, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
          if (json !== undefined && path !== '/openapi.json')
            expect(JSON.stringify(json), `${where} ${status}`).toMatch(/"\$ref":"#\/components\/schemas\//);
        }
        if (path.startsWith('/v1/')) {
          expect(Object.keys(op.responses as object), where).toEqual(
            expect.arrayContaining(['401', '413', '500', '503']),
          );
          expect(op.security ?? doc.security, where).toEqual([{ bearerAuth: [] }]);
        }
      }
    }
    expect(doc.paths['/admin/queues'].get.security).toEqual([{ adminKey: [] }, { adminBasic: [] }]);
    expect(doc.paths['/v1/batches'].post.responses['503'].headers['Retry-After']).toBeDefined();
    expect(doc.paths['/v1/batches'].post.responses['429'].headers['Retry-After']).toBeDefined();
    expect(Object.keys(doc.paths['/v1/batches'].post.requestBody.content).sort()).toEqual([
      'application/json',
      'application/jsonl',
      'application/x-ndjson',
      'text/csv',
    ]);
    // Every event type a target can subscribe to has its payload documented.
    expect(Object.keys(doc.webhooks).sort()).toEqual([...webhookEventTypeSchema.options].sort());
  });

  test('every example validates against its schema', () => {
    const validator = new ResponseValidator(doc);
    let checked = 0;
    for (const [name, schema] of Object.entries<{ example?: unknown }>(doc.components.schemas)) {
      if (schema.example === undefined) continue;
      checked += 1;
      expect(validator.validateComponent(name, schema.example), name).toEqual([]);
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});

describe('the copy @pixelmill/client generates its types from', () => {
  test('is the document the server serves (UPDATE_OPENAPI=1 rewrites it; then biome format it and pnpm -F @pixelmill/client generate)', () => {
    const file = fileURLToPath(import.meta.resolve('@pixelmill/client/openapi.json'));
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(doc);
  });
});

describe('the response check of the API tests', () => {
  test('refuses a body that differs from the document, and an undocumented status', () => {
    const validator = new ResponseValidator(doc);
    const get = { method: 'GET', path: '/v1/batches/batch_1', contentType: 'application/json' };
    expect(validator.check({ ...get, status: 200, body: { id: 'batch_1' } })).not.toEqual([]);
    expect(validator.check({ ...get, status: 409, body: null })).toEqual([
      'GET /v1/batches/{id}: status 409 is not documented',
    ]);
    expect(
      validator.check({
        ...get,
        status: 404,
        body: { error: { code: 'not_found', message: 'x', details: [] } },
      }),
    ).toEqual([]);
  });

  test('passes a real batch, its items and a validation error', async () => {
    const created = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, items: [item('a'), item('b')] },
    });
    expect(created.status).toBe(201);
    expect(
      (await call(env.app, 'GET', `/v1/batches/${created.json.id}/items`, { key: env.acme.key })).status,
    ).toBe(200);
    const bad = await call(env.app, 'POST', '/v1/batches', {
      key: env.acme.key,
      body: { model: MODEL, items: [] },
    });
    expect(bad.status).toBe(400);
  });
});
