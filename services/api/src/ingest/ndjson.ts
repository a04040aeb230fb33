import { createInterface } from 'node:readline';
import { batchHeaderSchema, batchItemInputSchema, type FieldProblem, zodProblems } from '@pixelmill/core';
import { type AcceptedBatch, BatchAcceptance } from '../batches/accept-batch.js';
import type { AppDeps } from '../deps.js';
import { invalidRequest } from '../errors.js';
import type { MeteredBody } from './metered-body.js';

const onLine = (line: number, problems: FieldProblem[]): FieldProblem[] =>
  problems.map((p) => ({ path: `line ${line}: ${p.path}`, message: p.message }));

/**
 * `application/x-ndjson`: line 1 is the batch header (the JSON body without `items`), every other
 * non-blank line one item. Lines are read, validated and written as they arrive.
 */
export async function ingestNdjson(
  deps: AppDeps,
  tenantId: string,
  body: MeteredBody,
): Promise<AcceptedBatch> {
  const lines = createInterface({ input: body.stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let acceptance: BatchAcceptance | undefined;
  try {
    for await (const line of lines) {
      lineNo += 1;
      if (line.trim() === '') continue;
      const at = lineNo;
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
