import type { Redis } from 'ioredis';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryAttempt {
  at: string;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string;
  error: string | null;
}

export interface Delivery {
  id: string;
  object: 'delivery';
  batch_id: string;
  event_type: string;
  webhook_id: string;
  url: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  next_attempt_at: string | null;
  created_at: string;
}

/**
 * The webhook delivery log: one record per event and endpoint, with every attempt. The body is fixed
 * at creation so every retry sends the same bytes under the same `webhook-id`.
 */
export class DeliveryStore {
  constructor(
    readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:delivery:${id}`;
  }

  private batchIndex(batchId: string): string {
    return `${this.prefix}:batch:${batchId}:deliveries`;
  }

  /** Creates the record unless it exists (a finalize step that ran twice); returns whether it was new. */
  async create(input: {
    id: string;
    tenantId: string;
    batchId: string;
    eventType: string;
    webhookId: string;
    url: string;
    body: string;
  }): Promise<boolean> {
    const created = await this.redis.hsetnx(this.key(input.id), 'created_at', new Date().toISOString());
    if (created === 0) return false;
    await this.redis
      .multi()
      .hset(this.key(input.id), {
        tenant_id: input.tenantId,
        batch_id: input.batchId,
        event_type: input.eventType,
        webhook_id: input.webhookId,
        url: input.url,
        body: input.body,
        status: 'pending',
        attempts: '[]',
      })
      .rpush(this.batchIndex(input.batchId), input.id)
      .exec();
    return true;
  }

  async getInternal(id: string): Promise<(Delivery & { tenant_id: string; body: string }) | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.body) return null;
    return { ...fromHash(id, h), tenant_id: h.tenant_id ?? '', body: h.body };
  }

  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    outcome: { status: DeliveryStatus; nextAttemptAt: string | null },
  ): Promise<void> {
    const raw = (await this.redis.hget(this.key(id), 'attempts')) ?? '[]';
    const attempts = [...(JSON.parse(raw) as DeliveryAttempt[]), attempt];
    await this.redis.hset(this.key(id), {
      attempts: JSON.stringify(attempts),
      status: outcome.status,
      next_attempt_at: outcome.nextAttemptAt ?? '',
    });
  }

  async listForBatch(batchId: string): Promise<Delivery[]> {
    const ids = await this.redis.lrange(this.batchIndex(batchId), 0, -1);
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.key(id));
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([, h], i) => fromHash(ids[i] as string, h as Record<string, string>));
  }
}

function fromHash(id: string, h: Record<string, string>): Delivery {
  return {
    id,
    object: 'delivery',
    batch_id: h.batch_id ?? '',
    event_type: h.event_type ?? '',
    webhook_id: h.webhook_id ?? '',
    url: h.url ?? '',
    status: (h.status ?? 'pending') as DeliveryStatus,
    attempts: JSON.parse(h.attempts ?? '[]') as DeliveryAttempt[],
    next_attempt_at: h.next_attempt_at || null,
    created_at: h.created_at ?? '',
  };
}
