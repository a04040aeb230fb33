import {
  batchHeaderSchema,
  batchItemInputSchema,
  type FieldProblem,
  numberedLines,
  zodProblems,
} from '@pixelmill/core';
import { type AcceptedBatch, BatchAcceptance } from '../batches/accept-batch.js';
import type { AppDeps } from '../deps.js';
import { invalidRequest } from '../errors.js';
import type { MeteredBody } from './metered-body.js';

const onLine = (line: number, problems: FieldProblem[]): FieldProblem[] =>
  problems.map((p) => ({ path: `line ${line}: ${p.path}`, message: p.message }));

/**
 * `application/x-ndjson`: line 1 is the batch header (the JSON body without `items`), every other
 * non-blank line one item. Lines are read, validated and written as they arrive: the next chunk of
 * the body is read only when the next line is wanted. Stopping early leaves the rest of the body
 * unread but open, so the route can still drain it (to hash it, or to answer without cutting the
 * upload off).
 */
export async function ingestNdjson(
  deps: AppDeps,
  tenantId: string,
  body: MeteredBody,
): Promise<AcceptedBatch> {
  const lines = numberedLines(body.stream.iterator({ destroyOnReturn: false }));
  let acceptance: BatchAcceptance | undefined;
  try {
    for await (const { text: line, number: at } of lines) {
      const locate = (field: string) => `line ${at}: ${field}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        const problem = { path: `line ${at}`, message: `Malformed JSON: ${(err as Error).message}` };
        if (acceptance === undefined) throw invalidRequest([problem]);
        acceptance.reject(locate, [problem]);
        continue;
      }
      if (acceptance === undefined) {
        const header = batchHeaderSchema.safeParse(value);
        if (!header.success) throw invalidRequest(onLine(at, zodProblems(header.error)));
        acceptance = await BatchAcceptance.begin(deps, tenantId, header.data, {
          locateHeader: locate,
          items: `line ${at + 1}`,
        });
        continue;
      }
      const item = batchItemInputSchema.safeParse(value);
      if (item.success) await acceptance.add(item.data, locate);
      else acceptance.reject(locate, onLine(at, zodProblems(item.error)));
      if (acceptance.full) break;
    }
  } catch (err) {
    await acceptance?.abort();
    throw err;
  }
  if (acceptance === undefined) {
    throw invalidRequest([{ path: 'line 1', message: 'The first line must be the batch header' }]);
  }
  return acceptance.finish();
}
