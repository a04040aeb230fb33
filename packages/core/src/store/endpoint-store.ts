import type { Redis } from 'ioredis';
import type { WebhookEventType } from '../schemas/common.js';
import { InvalidCursorError, type Page } from './batch-store.js';
import { storeKeyPrefix } from './keys.js';
import { decodeCursor, lexPage } from './paging.js';

export type EndpointDisabledReason = 'manual' | 'gone' | 'failing';

/** A tenant-level webhook endpoint as the API shows it: never with its secret. */
export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  description: string;
  events: WebhookEventType[];
  item_group_max_items: number;
  item_group_max_wait_s: number;
  enabled: boolean;
  /** Deliveries per second at most (across all workers); null: no limit. */
  rate_limit: number | null;
  /** Why it is disabled: `manual` (PATCH), `gone` (it answered 410), `failing` (5 days of failures). */
  disabled_reason: EndpointDisabledReason | null;
  /** Start of the current run of failed attempts; null after any 2xx. */
  failing_since: string | null;
  /** Until then the previous secret also signs (rotation overlap). */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface EndpointInternal {
  endpoint: WebhookEndpoint;
  tenantId: string;
  secret: string;
  previousSecret: string | null;
}

/** What an attempt reads of its endpoint: where it goes, whether it may, and what signs it. */
export interface EndpointToSend {
  tenantId: string;
  secret: string;
  previousSecret: string | null;
  endpoint: Pick<
    WebhookEndpoint,
    'id' | 'url' | 'enabled' | 'rate_limit' | 'failing_since' | 'previous_secret_expires_at'
  >;
}

/** The hash fields EndpointStore.getToSend reads, in order. */
const TO_SEND_FIELDS = [
  'tenant_id',
  'url',
  'enabled',
  'secret',
  'previous_secret',
  'previous_secret_expires_at',
  'rate_limit',
  'failing_since',
];

export interface NewEndpoint {
  id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  item_group_max_items: number;
  item_group_max_wait_s: number;
  enabled: boolean;
  secret: string;
  rate_limit?: number | null;
}

export type EndpointPatch = Partial<Omit<NewEndpoint, 'id' | 'secret'>>;

/** api.md: an endpoint that has failed without a single success for 5 days is disabled. */
export const DISABLE_FAILING_AFTER_MS = 5 * 24 * 3600 * 1000;
/** api.md: after a rotation the old secret keeps signing for 24 h, beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

/**
 * Tenant webhook endpoints in Redis. Secrets are stored (they are needed to sign) but only
 * {@link EndpointStore.getInternal} returns them; every public read leaves them out.
 */
export class EndpointStore {
  /** Under the store's hash tag (keys.ts storeKeyPrefix). */
  private readonly prefix: string;

  constructor(
    readonly redis: Redis,
    deploymentPrefix: string,
  ) {
    this.prefix = storeKeyPrefix(deploymentPrefix);
  }

  private key(id: string): string {
    return `${this.prefix}:whep:${id}`;
  }

  private tenantIndex(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}:whep`;
  }

  /** Bumped on every change of a tenant's endpoints, so workers can cache the list and check cheaply. */
  versionKey(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}:whep:v`;
  }

  /** The tenant's endpoint list version: '0' while it never had an endpoint. */
  async version(tenantId: string): Promise<string> {
    return (await this.redis.get(this.versionKey(tenantId))) ?? '0';
  }

  private batchWebhookKey(batchId: string): string {
    return `${this.prefix}:whbatch:${batchId}`;
  }

  async count(tenantId: string): Promise<number> {
    return this.redis.zcard(this.tenantIndex(tenantId));
  }

  async create(tenantId: string, input: NewEndpoint): Promise<WebhookEndpoint> {
    const now = new Date().toISOString();
    await this.redis
      .multi()
      .hset(this.key(input.id), {
        tenant_id: tenantId,
        url: input.url,
        description: input.description,
        events: JSON.stringify(input.events),
        item_group_max_items: input.item_group_max_items,
        item_group_max_wait_s: input.item_group_max_wait_s,
        enabled: input.enabled ? '1' : '0',
        disabled_reason: input.enabled ? '' : 'manual',
        secret: input.secret,
        rate_limit: input.rate_limit ?? '',
        created_at: now,
        updated_at: now,
      })
      .zadd(this.tenantIndex(tenantId), 0, input.id)
      .incr(this.versionKey(tenantId))
      .exec();
    const created = await this.get(tenantId, input.id);
    if (created === null) throw new Error(`endpoint ${input.id} vanished after create`);
    return created;
  }

  /** The tenant's endpoint, or null (also for another tenant's: callers answer 404). */
  async get(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    const found = await this.getInternal(id);
    return found === null || found.tenantId !== tenantId ? null : found.endpoint;
  }

  /** With secrets: for signing only. */
  async getInternal(id: string): Promise<EndpointInternal | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.tenant_id) return null;
    return fromHash(id, h);
  }

  /** The fields a delivery attempt needs (HMGET, about half the reply of the whole record), or null. */
  async getToSend(id: string): Promise<EndpointToSend | null> {
    const [tenantId, url, enabled, secret, previousSecret, previousUntil, rateLimit, failingSince] =
      await this.redis.hmget(this.key(id), ...TO_SEND_FIELDS);
    if (!tenantId) return null;
    return {
      tenantId,
      secret: secret ?? '',
      previousSecret: previousSecret || null,
      endpoint: {
        id,
        url: url ?? '',
        enabled: enabled === '1',
        rate_limit: rateLimit ? Number.parseInt(rateLimit, 10) : null,
        failing_since: failingSince || null,
        previous_secret_expires_at: previousUntil || null,
      },
    };
  }

  /** Oldest first (ids sort by creation time). */
  async list(tenantId: string, opts: { cursor?: string; limit: number }): Promise<Page<WebhookEndpoint>> {
    const after = decodeCursor(opts.cursor);
    if (after !== undefined && !/^whep_[0-9a-z]+$/.test(after))
      throw new InvalidCursorError('Invalid cursor');
    const { members, nextCursor } = await lexPage(
      this.redis,
      this.tenantIndex(tenantId),
      after,
      opts.limit,
      'oldest',
    );
    const all = await this.getMany(members);
    return {
      data: all.map((e) => e.endpoint),
      next_cursor: nextCursor,
    };
  }

  /** Every endpoint of a tenant, with secrets: the fan-out of one event (a tenant has at most a few dozen). */
  async listInternal(tenantId: string): Promise<EndpointInternal[]> {
    return this.getMany(await this.redis.zrange(this.tenantIndex(tenantId), '0', '-1'));
  }

  private async getMany(ids: string[]): Promise<EndpointInternal[]> {
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.key(id));
    const rows = (await pipe.exec()) ?? [];
    return rows
      .map(([, h], i) => {
        const hash = h as Record<string, string>;
        return hash.tenant_id ? fromHash(ids[i] as string, hash) : null;
      })
      .filter((e): e is EndpointInternal => e !== null);
  }

  async update(tenantId: string, id: string, patch: EndpointPatch): Promise<WebhookEndpoint | null> {
    if ((await this.get(tenantId, id)) === null) return null;
    const fields: Record<string, string> = { updated_at: new Date().toISOString() };
    if (patch.url !== undefined) fields.url = patch.url;
    if (patch.description !== undefined) fields.description = patch.description;
    if (patch.events !== undefined) fields.events = JSON.stringify(patch.events);
    if (patch.item_group_max_items !== undefined)
      fields.item_group_max_items = String(patch.item_group_max_items);
    if (patch.item_group_max_wait_s !== undefined)
      fields.item_group_max_wait_s = String(patch.item_group_max_wait_s);
    if (patch.rate_limit !== undefined)
      fields.rate_limit = patch.rate_limit === null ? '' : String(patch.rate_limit);
    const pipe = this.redis.multi().hset(this.key(id), fields);
    if (patch.enabled === true) {
      // Re-enabling starts afresh: the failure clock and the reason are cleared.
      pipe.hset(this.key(id), { enabled: '1', disabled_reason: '' }).hdel(this.key(id), 'failing_since');
    } else if (patch.enabled === false) {
      pipe.hset(this.key(id), { enabled: '0', disabled_reason: 'manual' });
    }
    await pipe.incr(this.versionKey(tenantId)).exec();
    return this.get(tenantId, id);
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    if ((await this.get(tenantId, id)) === null) return false;
    await this.redis
      .multi()
      .del(this.key(id))
      .zrem(this.tenantIndex(tenantId), id)
      .incr(this.versionKey(tenantId))
      .exec();
    return true;
  }

  /**
   * Makes `secret` the signing secret; the old one keeps signing beside it until the overlap ends,
   * so receivers can switch at their own pace. A second rotation within the overlap drops the oldest.
   */
  async rotateSecret(
    tenantId: string,
    id: string,
    secret: string,
    now = new Date(),
    overlapMs = ROTATION_OVERLAP_MS,
  ): Promise<WebhookEndpoint | null> {
    const found = await this.getInternal(id);
    if (found === null || found.tenantId !== tenantId) return null;
    await this.redis.hset(this.key(id), {
      secret,
      previous_secret: found.secret,
      previous_secret_expires_at: new Date(now.getTime() + overlapMs).toISOString(),
      updated_at: now.toISOString(),
    });
    return this.get(tenantId, id);
  }

  /** A 2xx: the endpoint is healthy again. */
  async recordSuccess(id: string): Promise<void> {
    await this.redis.hdel(this.key(id), 'failing_since');
  }

  /**
   * A failed attempt. Returns true when it disabled the endpoint: failing with no success in between
   * for `disableAfterMs` (5 days).
   */
  async recordFailure(
    id: string,
    now = new Date(),
    disableAfterMs = DISABLE_FAILING_AFTER_MS,
  ): Promise<boolean> {
    const key = this.key(id);
    // HSETNX on an existing hash only: a deleted endpoint must not come back as a stub.
    if ((await this.redis.exists(key)) === 0) return false;
    await this.redis.hsetnx(key, 'failing_since', now.toISOString());
    const [since, enabled] = await this.redis.hmget(key, 'failing_since', 'enabled');
    if (enabled !== '1' || !since || now.getTime() - Date.parse(since) < disableAfterMs) return false;
    await this.disable(id, 'failing');
    return true;
  }

  async disable(id: string, reason: EndpointDisabledReason): Promise<void> {
    const tenantId = await this.redis.hget(this.key(id), 'tenant_id');
    if (!tenantId) return;
    await this.redis
      .multi()
      .hset(this.key(id), { enabled: '0', disabled_reason: reason, updated_at: new Date().toISOString() })
      .incr(this.versionKey(tenantId))
      .exec();
  }

  /** A batch's own webhook answered 410: no more events of that batch are sent to it. */
  async disableBatchWebhook(batchId: string, reason: EndpointDisabledReason): Promise<void> {
    await this.redis.set(this.batchWebhookKey(batchId), reason);
  }

  async batchWebhookDisabled(batchId: string): Promise<boolean> {
    return (await this.redis.exists(this.batchWebhookKey(batchId))) === 1;
  }
}

/** The secrets that sign a delivery now: the current one, and the previous one during the overlap. */
export function signingSecrets(e: EndpointToSend, now = new Date()): string[] {
  const until = e.endpoint.previous_secret_expires_at;
  if (e.previousSecret && until && Date.parse(until) > now.getTime()) return [e.secret, e.previousSecret];
  return [e.secret];
}

function fromHash(id: string, h: Record<string, string>): EndpointInternal {
  const int = (v: string | undefined, d: number) => (v ? Number.parseInt(v, 10) : d);
  return {
    tenantId: h.tenant_id ?? '',
    secret: h.secret ?? '',
    previousSecret: h.previous_secret || null,
    endpoint: {
      id,
      object: 'webhook_endpoint',
      url: h.url ?? '',
      description: h.description ?? '',
      events: JSON.parse(h.events ?? '[]') as WebhookEventType[],
      item_group_max_items: int(h.item_group_max_items, 100),
      item_group_max_wait_s: int(h.item_group_max_wait_s, 10),
      enabled: h.enabled === '1',
      rate_limit: h.rate_limit ? Number.parseInt(h.rate_limit, 10) : null,
      disabled_reason: (h.disabled_reason || null) as EndpointDisabledReason | null,
      failing_since: h.failing_since || null,
      previous_secret_expires_at: h.previous_secret_expires_at || null,
      created_at: h.created_at ?? '',
      updated_at: h.updated_at ?? '',
    },
  };
}
