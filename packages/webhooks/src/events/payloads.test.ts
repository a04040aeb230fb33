import type { Item } from '@pixelmill/core';
import { describe, expect, it } from 'vitest';
import type { EventDeps } from './event-deps.js';
import { groupedItem, itemPayload } from './payloads.js';

const qa = {
  status: 'flagged' as const,
  checks: [{ name: 'blank' as const, passed: false, value: 0.4 }],
  dhash: '0000000000000000',
};

const item: Item = {
  id: 'item_1',
  object: 'item',
  batch_id: 'batch_1',
  custom_id: 'sku-1',
  status: 'succeeded',
  attempts: 1,
  model: 'sim-image',
  provider: 'sim',
  prompt: 'a lamp [blank]',
  size: '1K',
  aspect_ratio: null,
  n: 1,
  reference_images: [],
  lane: 'realtime',
  metadata: {},
  outputs: [
    {
      index: 0,
      key: 'b/sku-1/0.png',
      content_type: 'image/png',
      width: 1,
      height: 1,
      bytes: 1,
      sha256: 'x',
      qa,
    },
  ],
  error: null,
  reused_from: null,
  cost_usd: 0,
  started_at: null,
  finished_at: null,
  qa_status: 'flagged',
  review: { status: 'pending', by: null, at: null, note: null },
  version: 1,
  chosen: { version: 1, index: null },
  versions: [],
};

const deps = {
  objects: { presignGet: async (key: string) => `https://s3.test/${key}` },
  options: { presignTtlS: 60 },
} as unknown as EventDeps;

describe('item webhook payloads', () => {
  it('carry each output qa result, in item events and in items.completed groups', async () => {
    const payload = await itemPayload(deps, item);
    expect(payload.outputs[0]?.qa).toEqual(qa);
    expect(groupedItem(payload).outputs[0]?.qa).toEqual(qa);
    const { qa: _qa, ...unchecked } = item.outputs[0] as Item['outputs'][number];
    const old = await itemPayload(deps, { ...item, outputs: [unchecked] });
    expect(groupedItem(old).outputs[0]).not.toHaveProperty('qa');
  });

  it('list versions by number, cause and time only: no prompts, no outputs', async () => {
    const versions = [
      {
        version: 1,
        cause: { reason: 'initial' as const },
        created_at: null,
        prompt: 'p',
        outputs: item.outputs,
      },
    ];
    const payload = await itemPayload(deps, { ...item, versions });
    expect(payload.versions).toEqual([{ version: 1, cause: { reason: 'initial' }, created_at: null }]);
    expect(JSON.stringify(payload)).not.toContain('a lamp');
  });
});
