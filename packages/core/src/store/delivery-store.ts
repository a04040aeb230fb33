import type { Redis } from 'ioredis';
import { InvalidCursorError, type Page } from './batch-store.js';
import { storeKeyPrefix } from './keys.js';
import { decodeCursor, encodeCursor, lexPage } from './paging.js';
import { runScript } from './scripts.js';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/**
 * Why a delivery ended failed: `exhausted` (every attempt of the schedule failed), `gone` (410),
 * `aborted` (the receiver answered `webhook-delivery: abort-message`), `endpoint_disabled`,
 * `endpoint_deleted`.
 */
export type DeliveryFailureReason =
  | 'exhausted'
  | 'gone'
  | 'aborted'
  | 'endpoint_disabled'
  | 'endpoint_deleted';

export interface DeliveryAttempt {
  at: string;
  /** Where this attempt went: an endpoint's URL may change between attempts. */
  url?: string;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string;
  error: string | null;
  /** 0 for the first series, n for the n-th redelivery. */
  series?: number;
}

export interface Delivery {
  id: string;
  object: 'delivery';
  batch_id: string;
  /** null for the batch's own `webhook`. */
  endpoint_id: string | null;
  event_type: string;
  webhook_id: string;
  url: string;
  status: DeliveryStatus;
  failure_reason: DeliveryFailureReason | null;
  attempts: DeliveryAttempt[];
  next_attempt_at: string | null;
  /** How many times it was redelivered by hand (POST /v1/deliveries/{id}/redeliver). */
  redeliveries: number;
  created_at: string;
}

export interface DeliveryInternal extends Delivery {
  tenant_id: string;
  body: string;
  /** Attempts made in the current series: the retry schedule restarts with each redelivery. */
  series_attempts: number;
  /** For `items.completed`: how many items the event carries. */
  item_count: number;
}

/**
 * What an attempt reads of its delivery: the fields it sends and checks, not the whole record (the
 * hot path; the rest is read only when an attempt fails for good).
 */
export type DeliveryToSend = Pick<
  DeliveryInternal,
  'id' | 'batch_id' | 'endpoint_id' | 'webhook_id' | 'status' | 'body' | 'series_attempts'
>;

/** What DeliveryStore.claim returns: the deliveries claimed, with what their attempts need. */
export interface DeliveryClaim {
  deliveries: DeliveryToSend[];
  /** How many of them were claimed again because their lease lapsed (a worker died mid-attempt). */
  recovered: number;
  /** When the next delivery is due or lease lapses (ms); null when none is pending. */
  nextAtMs: number | null;
}

export interface PendingDeliveries {
  due: number;
  scheduled: number;
  sending: number;
  oldestDueS: number;
}

/** Values per claimed delivery in claimDeliveries' reply: the id and seven fields. */
const CLAIM_FIELDS = 8;

/** The endpoint log keeps the newest deliveries only; batch logs are bounded by the batch. */
const ENDPOINT_LOG_MAX = 10_000;

/**
 * The webhook delivery log: one record per (event, target), with every attempt. The body is fixed at
 * creation so every retry and every redelivery sends the same bytes under the same `webhook-id`.
 */
export class DeliveryStore {
  /** Under the store's hash tag (keys.ts storeKeyPrefix). */
  private readonly prefix: string;

  constructor(
    readonly redis: Redis,
    deploymentPrefix: string,
  ) {
    this.prefix = storeKeyPrefix(deploymentPrefix);
  }

  private key(id: string): string {
    return `${this.prefix}:delivery:${id}`;
  }

  private batchIndex(batchId: string): string {
    return `${this.prefix}:batch:${batchId}:deliveries`;
  }

  private endpointIndex(endpointId: string): string {
    return `${this.prefix}:whep:${endpointId}:deliveries`;
  }

  /** Deliveries waiting for their next attempt: id -> when it is due (ms). */
  private get dueKey(): string {
    return `${this.prefix}:deliveries:due`;
  }

  /** Deliveries an attempt holds: id -> when its lease lapses (ms). */
  private get sendingKey(): string {
    return `${this.prefix}:deliveries:sending`;
  }

  /** Set when a delivery becomes due now; a worker with nothing to do blocks on it (waitForDue). */
  private get wakeKey(): string {
    return `${this.prefix}:deliveries:wake`;
  }

  /**
   * Creates the record unless it exists (a step that ran twice), listed in its batch's and endpoint's
   * logs in the same atomic step; returns whether it was new.
   */
  async create(input: {
    id: string;
    tenantId: string;
    batchId: string;
    endpointId: string | null;
    eventType: string;
    webhookId: string;
    url: string;
    body: string;
    itemCount?: number;
  }): Promise<boolean> {
    const fields: Record<string, string | number> = {
      tenant_id: input.tenantId,
      batch_id: input.batchId,
      endpoint_id: input.endpointId ?? '',
      event_type: input.eventType,
      webhook_id: input.webhookId,
      url: input.url,
      body: input.body,
      status: 'pending',
      attempts: '[]',
      series_start: 0,
      redeliveries: 0,
      item_count: input.itemCount ?? 0,
    };
    const created = await runScript(
      this.redis,
      'createDelivery-6',
      [
        this.key(input.id),
        this.batchIndex(input.batchId),
        // A real key of the store's slot even for a batch webhook, whose delivery it never touches.
        this.endpointIndex(input.endpointId ?? ''),
        `${this.prefix}:delivery:seq`,
        this.dueKey,
        this.wakeKey,
      ],
      [
        input.id,
        new Date().toISOString(),
        ENDPOINT_LOG_MAX,
        input.endpointId === null ? '' : '1',
        Date.now(),
        ...Object.entries(fields).flat(),
      ],
    );
    return Number(created) === 1;
  }

  async getInternal(id: string): Promise<DeliveryInternal | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.body) return null;
    const delivery = fromHash(id, h);
    return {
      ...delivery,
      tenant_id: h.tenant_id ?? '',
      body: h.body,
      series_attempts: delivery.attempts.length - Number(h.series_start ?? 0),
      item_count: Number(h.item_count ?? 0),
    };
  }

  /**
   * Claims up to `max` deliveries for attempts, each with a lease until `nowMs + leaseMs`: first those
   * whose lease lapsed (their worker died mid-attempt), then those due, oldest first. Each comes with
   * the fields its attempt needs, read in the same atomic step. The lease ends with recordAttempt,
   * finish or defer.
   */
  async claim(nowMs: number, leaseMs: number, max: number): Promise<DeliveryClaim> {
    const reply = (await runScript(
      this.redis,
      'claimDeliveries-3',
      [this.dueKey, this.sendingKey, this.wakeKey],
      [nowMs, leaseMs, max, `${this.prefix}:delivery:`],
    )) as (string | number | null)[];
    const deliveries: DeliveryToSend[] = [];
    for (let i = 2; i + CLAIM_FIELDS <= reply.length; i += CLAIM_FIELDS) {
      const [id, body, status, batchId, endpointId, webhookId, attempts, seriesStart] = reply
        .slice(i, i + CLAIM_FIELDS)
        .map((v) => (v === null ? '' : String(v)));
      deliveries.push({
        id: id ?? '',
        batch_id: batchId ?? '',
        endpoint_id: endpointId || null,
        webhook_id: webhookId ?? '',
        status: (status || 'pending') as DeliveryStatus,
        body: body ?? '',
        series_attempts: (JSON.parse(attempts || '[]') as unknown[]).length - Number(seriesStart || 0),
      });
    }
    const nextAt = Number(reply[1]);
    return { deliveries, recovered: Number(reply[0]), nextAtMs: nextAt < 0 ? null : nextAt };
  }

  /**
   * Ends an attempt's lease without an attempt: due again at `atMs`. False when the lease had lapsed
   * and another claim holds the delivery now.
   */
  async defer(id: string, atMs: number): Promise<boolean> {
    return (
      Number(await runScript(this.redis, 'deferDelivery-2', [this.sendingKey, this.dueKey], [id, atMs])) === 1
    );
  }

  /** Makes a pending delivery due now unless it is due or being attempted (a job of an earlier version). */
  async schedule(id: string, nowMs = Date.now()): Promise<boolean> {
    const made = await runScript(
      this.redis,
      'scheduleDelivery-4',
      [this.key(id), this.dueKey, this.sendingKey, this.wakeKey],
      [nowMs, id],
    );
    return Number(made) === 1;
  }

  /**
   * Waits on `blocking` (a connection of its own) until a delivery may have become due, at most
   * `timeoutMs`.
   */
  async waitForDue(blocking: Redis, timeoutMs: number): Promise<void> {
    await blocking.bzpopmin(this.wakeKey, Math.max(0.01, timeoutMs / 1000));
  }

  /** When a delivery's next attempt is due (ms) while it waits for it; null otherwise. */
  async dueAt(id: string): Promise<number | null> {
    const score = await this.redis.zscore(this.dueKey, id);
    return score === null ? null : Number(score);
  }

  /**
   * Deliveries not ended, by where they are: `due` (ready for an attempt now), `scheduled` (a retry
   * later), `sending` (an attempt holds it); and how long the oldest due one has waited.
   */
  async pendingCounts(nowMs = Date.now()): Promise<PendingDeliveries> {
    const [due, all, sending, oldest] = await Promise.all([
      this.redis.zcount(this.dueKey, '-inf', nowMs),
      this.redis.zcard(this.dueKey),
      this.redis.zcard(this.sendingKey),
      this.redis.zrange(this.dueKey, '0', '0', 'WITHSCORES'),
    ]);
    const oldestAt = oldest[1];
    return {
      due,
      scheduled: all - due,
      sending,
      oldestDueS: oldestAt === undefined ? 0 : Math.max(0, (nowMs - Number(oldestAt)) / 1000),
    };
  }

  /** The tenant's delivery, or null (also for another tenant's). */
  async get(tenantId: string, id: string): Promise<Delivery | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.body || h.tenant_id !== tenantId) return null;
    return fromHash(id, h);
  }

  /** Appends an attempt and sets the outcome: one atomic step, one round trip (the hot path). */
  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    outcome: { status: DeliveryStatus; nextAttemptAt: string | null; failureReason?: DeliveryFailureReason },
  ): Promise<void> {
    const { series: _series, ...fields } = attempt;
    const next = outcome.nextAttemptAt;
    await runScript(
      this.redis,
      'recordAttempt-3',
      [this.key(id), this.dueKey, this.sendingKey],
      [
        JSON.stringify(fields),
        outcome.status,
        next ?? '',
        outcome.failureReason ?? '',
        next === null ? '' : Date.parse(next),
        id,
      ],
    );
  }

  /** Ends a delivery without an attempt (its endpoint is disabled or gone), and its lease. */
  async finish(id: string, failureReason: DeliveryFailureReason): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(id), { status: 'failed', next_attempt_at: '', failure_reason: failureReason })
      .zrem(this.sendingKey, id)
      .zrem(this.dueKey, id)
      .exec();
  }

  /**
   * Starts a new attempt series of an ended delivery, due now; a pending delivery waiting for its next
   * attempt is made due now instead (not one an attempt holds). Returns the redelivery number, `'pending'` when a
   * series is still running, or null when there is no such delivery.
   */
  async startRedelivery(id: string, now = new Date()): Promise<number | 'pending' | null> {
    const r = Number(
      await runScript(
        this.redis,
        'startRedelivery-3',
        [this.key(id), this.dueKey, this.wakeKey],
        [now.toISOString(), now.getTime(), id],
      ),
    );
    if (r === -2) return null;
    if (r === -1) return 'pending';
    return r;
  }

  /** A batch's deliveries in creation order; the cursor is a position in an append-only list. */
  async listForBatch(batchId: string, opts: { cursor?: string; limit: number }): Promise<Page<Delivery>> {
    const raw = decodeCursor(opts.cursor);
    if (raw !== undefined && !/^(0|[1-9]\d{0,15})$/.test(raw)) throw new InvalidCursorError('Invalid cursor');
    const start = raw === undefined ? 0 : Number(raw);
    const ids = await this.redis.lrange(this.batchIndex(batchId), start, start + opts.limit);
    const page = ids.slice(0, opts.limit);
    return {
      data: await this.getMany(page),
      next_cursor: ids.length > opts.limit ? encodeCursor(String(start + opts.limit)) : null,
    };
  }

  /** An endpoint's deliveries, newest first (the last 10,000). */
  async listForEndpoint(
    endpointId: string,
    opts: { cursor?: string; limit: number },
  ): Promise<Page<Delivery>> {
    const after = decodeCursor(opts.cursor);
    if (after !== undefined && !/^\d{15}:dlv_[0-9a-z]+$/.test(after))
      throw new InvalidCursorError('Invalid cursor');
    // Members are "<15-digit time>:<delivery id>": newest first.
    const { members, nextCursor } = await lexPage(
      this.redis,
      this.endpointIndex(endpointId),
      after,
      opts.limit,
      'newest',
    );
    return {
      data: await this.getMany(members.map((m) => m.slice(m.indexOf(':') + 1))),
      next_cursor: nextCursor,
    };
  }

  /** Drops an endpoint's log index (the records stay in their batches' logs). */
  async forgetEndpoint(endpointId: string): Promise<void> {
    await this.redis.del(this.endpointIndex(endpointId));
  }

  private async getMany(ids: string[]): Promise<Delivery[]> {
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.key(id));
    const rows = (await pipe.exec()) ?? [];
    return rows
      .map(([, h], i) => ({ id: ids[i] as string, h: h as Record<string, string> }))
      .filter(({ h }) => Boolean(h.body))
      .map(({ id, h }) => fromHash(id, h));
  }
}

function fromHash(id: string, h: Record<string, string>): Delivery {
  return {
    id,
    object: 'delivery',
    batch_id: h.batch_id ?? '',
    endpoint_id: h.endpoint_id || null,
    event_type: h.event_type ?? '',
    webhook_id: h.webhook_id ?? '',
    url: h.url ?? '',
    status: (h.status ?? 'pending') as DeliveryStatus,
    failure_reason: (h.failure_reason || null) as DeliveryFailureReason | null,
    attempts: JSON.parse(h.attempts ?? '[]') as DeliveryAttempt[],
    next_attempt_at: h.next_attempt_at || null,
    redeliveries: Number(h.redeliveries ?? 0),
    created_at: h.created_at ?? '',
  };
}
