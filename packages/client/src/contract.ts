/**
 * @module Checks answers of the API against its OpenAPI document (this package's openapi.json): the
 * status must be documented for the operation, and a JSON body must match that response's schema
 * (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). The API's in-process tests and the end-to-end
 * suite run every response through it, so the document cannot drift from the server.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export is the plugin itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

/** Paths that are not part of the API contract: the console's pages and bull-board's own UI and API. */
const UNDOCUMENTED = [/^\/console(\/|$)/, /^\/admin\/queues\/./];

export interface ResponseCheck {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

export class ResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly routes: { method: string; pattern: RegExp; operation: Operation; template: string }[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(document: object) {
    const doc = document as Json;
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    const schemas = (doc.components as { schemas?: Json } | undefined)?.schemas ?? {};
    this.ajv.addSchema({ ...rebase({ schemas }), $id: 'pixelmill:components' });
    for (const [template, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries(item))
        this.routes.push({
          method: method.toUpperCase(),
          pattern,
          operation: operation as Operation,
          template,
        });
    }
  }

  /** Problems with one answer; an empty list when it matches the document. */
  check(r: ResponseCheck): string[] {
    const path = r.path.split('?')[0] ?? r.path;
    if (UNDOCUMENTED.some((p) => p.test(path))) return [];
    const route = this.routes.find((x) => x.method === r.method.toUpperCase() && x.pattern.test(path));
    const where = route ? `${route.method} ${route.template}` : `${r.method} ${path} (no operation)`;
    const responses = route ? (route.operation.responses ?? {}) : noOperation(path);
    const response =
      responses[String(r.status)] ?? responses[`${String(r.status)[0]}XX`] ?? responses.default;
    if (response === undefined) return [`${where}: status ${r.status} is not documented`];
    const content = response.content ?? {};
    const mediaType = (r.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (Object.keys(content).length === 0) {
      return r.body === null || r.body === ''
        ? []
        : [`${where} ${r.status}: a body where none is documented`];
    }
    const media = content[mediaType];
    if (media === undefined)
      return [`${where} ${r.status}: content type ${mediaType || '(none)'} is not documented`];
    if (mediaType !== 'application/json' || media.schema === undefined) return [];
    const validate = this.validatorFor(`${where} ${r.status}`, media.schema);
    if (validate(r.body)) return [];
    return (validate.errors ?? []).map((e) => `${where} ${r.status}: body${e.instancePath} ${e.message}`);
  }

  /** Problems of `value` against the named component schema. */
  validateComponent(name: string, value: unknown): string[] {
    const validate = this.validatorFor(`component ${name}`, { $ref: `#/components/schemas/${name}` });
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${name}${e.instancePath} ${e.message}`);
  }

  private validatorFor(key: string, schema: Json): ValidateFunction {
    let v = this.compiled.get(key);
    if (v === undefined) {
      v = this.ajv.compile(rebase(schema));
      this.compiled.set(key, v);
    }
    return v;
  }
}

/**
 * No such operation: 404 in the error shape, or what the middleware in front answers first (the body
 * cap everywhere; under /v1 the Redis gate and the key check).
 */
function noOperation(path: string): Record<string, { content: Record<string, { schema: Json }> }> {
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const statuses = path.startsWith('/v1/') ? ['401', '404', '413', '503'] : ['404', '413'];
  return Object.fromEntries(statuses.map((s) => [s, error]));
}

/** `#/components/schemas/X` → the components schema registered under its own id. */
function rebase(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"pixelmill:components#/')) as Json;
}
