import { isProviderError, type OutboxStore } from '@pixelmill/core';
import type { ImageModel, ModelRegistry, ModelSpec } from '@pixelmill/providers';
import { estimateCostUsd } from '@pixelmill/providers';
import {
  type CircuitBreaker,
  type CircuitState,
  type KeyRevocations,
  keyId,
  type Limiter,
} from '@pixelmill/ratelimit';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { keyResources } from '../generate/resources.js';
import type { Spool } from '../generate/spool.js';
import type { UploadGate } from '../generate/upload-gate.js';

/** Provider latencies span 100 ms (cached, tiny) to minutes (4K on a slow model). */
const LATENCY_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

/** Everything a worker process exports on /metrics (Prometheus text). */
export interface WorkerMetrics {
  registry: Registry;
  providerCalls: Counter<'provider' | 'model' | 'outcome'>;
  providerRateLimited: Counter<'provider' | 'model'>;
  providerLatency: Histogram<'provider' | 'model' | 'outcome'>;
  providerInFlight: Gauge<'provider' | 'model'>;
  providerImages: Counter<'provider' | 'model'>;
  spendUsd: Counter<'provider' | 'model'>;
  webhookDeliveries: Counter<'outcome'>;
  webhookExhausted: Counter;
  webhookEndpointsDisabled: Counter<'reason'>;
  webhookWaiting: Counter<'reason'>;
  jobs: Counter<'queue' | 'outcome'>;
  /** Outputs flagged by the automatic checks, once per check that flagged (generate/qa). */
  qaFlagged: Counter<'check'>;
  /** Flagged outputs generated again by a batch's `qa.on_flag: regenerate` (a new version each). */
  qaRegenerated: Counter;
}

export function createWorkerMetrics(sources: {
  registry: ModelRegistry;
  limiter: Limiter;
  uploads: UploadGate;
  spool: Spool;
  /** The models' shared breakers (state read from Redis). */
  circuit: Pick<CircuitBreaker, 'circuitState'>;
  /** Keys out of rotation (ratelimit revoked-keys.ts); without it the gauge is not exported. */
  revocations?: KeyRevocations;
  /** The webhook outbox (shared by all workers); without it the gauge reads 0. */
  outbox?: Pick<OutboxStore, 'pending'>;
}): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: WorkerMetrics = {
    registry,
    providerCalls: new Counter({
      name: 'pixelmill_provider_calls_total',
      help: 'Provider calls by outcome: ok, or the error code (rate_limited, provider_error, timeout, ...)',
      labelNames: ['provider', 'model', 'outcome'],
      registers,
    }),
    providerRateLimited: new Counter({
      name: 'pixelmill_provider_rate_limited_total',
      help: 'Provider calls answered 429 / rate limited',
      labelNames: ['provider', 'model'],
      registers,
    }),
    providerLatency: new Histogram({
      name: 'pixelmill_provider_call_duration_seconds',
      help: 'Duration of provider calls (downloads included), per model and outcome',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    providerInFlight: new Gauge({
      name: 'pixelmill_provider_calls_in_flight',
      help: 'Provider calls this worker is waiting on right now',
      labelNames: ['provider', 'model'],
      registers,
    }),
    providerImages: new Counter({
      name: 'pixelmill_provider_images_total',
      help: 'Images returned by providers',
      labelNames: ['provider', 'model'],
      registers,
    }),
    spendUsd: new Counter({
      name: 'pixelmill_provider_spend_usd_total',
      help: 'Spend on successful provider calls at registry prices (model x size x images)',
      labelNames: ['provider', 'model'],
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'pixelmill_webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts by outcome: succeeded, retry_scheduled, failed (gave up), skipped',
      labelNames: ['outcome'],
      registers,
    }),
    webhookExhausted: new Counter({
      name: 'pixelmill_webhook_exhausted_total',
      help: 'Webhook deliveries that gave up after their last attempt (message.attempt.exhausted)',
      registers,
    }),
    webhookEndpointsDisabled: new Counter({
      name: 'pixelmill_webhook_endpoints_disabled_total',
      help: 'Tenant webhook endpoints disabled by a delivery attempt, by reason: gone (410), failing (5 days)',
      labelNames: ['reason'],
      registers,
    }),
    webhookWaiting: new Counter({
      name: 'pixelmill_webhook_deliveries_waiting_total',
      help: 'Deliveries put back without an attempt, by reason: slots (the target holds its share of this worker), rate_limit',
      labelNames: ['reason'],
      registers,
    }),
    jobs: new Counter({
      name: 'pixelmill_jobs_total',
      help: 'Jobs processed by this worker, by queue and outcome (completed, failed, delayed, handed_back)',
      labelNames: ['queue', 'outcome'],
      registers,
    }),
    qaFlagged: new Counter({
      name: 'pixelmill_qa_flagged_outputs_total',
      help: 'Outputs flagged by the automatic QA checks, by check (decodes, dimensions, aspect_ratio, blank, duplicate)',
      labelNames: ['check'],
      registers,
    }),
    qaRegenerated: new Counter({
      name: 'pixelmill_qa_regenerated_outputs_total',
      help: "Flagged outputs generated again as a new version by their batch's qa policy (on_flag: regenerate)",
      registers,
    }),
  };

  new Gauge({
    name: 'pixelmill_limiter_effective_rpm',
    help: 'Requests per minute the shared limiter currently allows per model and key (after AIMD)',
    labelNames: ['resource'],
    registers,
    async collect() {
      this.reset();
      for (const { id, state } of await limiterStates(sources)) {
        if (state.effectiveRpm !== null) this.set({ resource: id }, state.effectiveRpm);
      }
    },
  });
  new Gauge({
    name: 'pixelmill_limiter_in_flight',
    help: 'Provider calls in flight per model and key, across all workers',
    labelNames: ['resource'],
    registers,
    async collect() {
      this.reset();
      for (const { id, state } of await limiterStates(sources)) this.set({ resource: id }, state.inFlight);
    },
  });
  const { revocations } = sources;
  if (revocations !== undefined)
    new Gauge({
      name: 'pixelmill_provider_keys_revoked',
      help: 'API keys of the provider refused as invalid, revoked or forbidden, out of rotation for all its models',
      labelNames: ['provider'],
      registers,
      async collect() {
        this.reset();
        const providers = new Set(sources.registry.list().map((m) => m.provider));
        for (const provider of providers) {
          const apiKeys = [...new Set(sources.registry.provider(provider)?.apiKeys ?? [])];
          const marks = await revocations.revoked(provider, apiKeys.map(keyId));
          this.set({ provider }, marks.size);
        }
      },
    });
  new Gauge({
    name: 'pixelmill_webhook_outbox_pending',
    help: 'Item and batch ends in the webhook outbox not yet turned into deliveries by a relay, across all workers',
    registers,
    async collect() {
      this.set((await sources.outbox?.pending()) ?? 0);
    },
  });
  new Gauge({
    name: 'pixelmill_upload_pending_bytes',
    help: 'Bytes generated by this worker and not yet in the bucket',
    registers,
    collect() {
      this.set(sources.uploads.pendingBytes);
    },
  });
  new Gauge({
    name: 'pixelmill_upload_failing',
    help: '1 while uploads are retrying after failures (new generations are paused)',
    registers,
    collect() {
      this.set(sources.uploads.storageFailing ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pixelmill_upload_gate_open',
    help: '1 while new generations may start; 0 while the upload gate holds them (pending bytes at the cap, or uploads retrying)',
    registers,
    collect() {
      this.set(sources.uploads.open ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pixelmill_circuit_state',
    help: "1 for the state each model's circuit breaker is in (closed, open, half-open), 0 for the others; shared by all workers",
    labelNames: ['provider', 'model', 'state'],
    registers,
    async collect() {
      this.reset();
      for (const model of sources.registry.list()) {
        const current = await sources.circuit.circuitState(model.id);
        for (const state of CIRCUIT_STATES)
          this.set({ provider: model.provider, model: model.id, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'pixelmill_spool_files',
    help: 'Generated images waiting in the local spool for upload',
    registers,
    async collect() {
      this.set((await sources.spool.usage()).files);
    },
  });
  return metrics;
}

/** Limiter ids name keys by a hash, never the key itself, so they are safe as label values. */
async function limiterStates(sources: { registry: ModelRegistry; limiter: Limiter }) {
  const out = [];
  for (const model of sources.registry.list()) {
    for (const r of keyResources(sources.registry, model)) {
      try {
        out.push({ id: r.id, state: await sources.limiter.state(r.id) });
      } catch {
        // A resource not configured yet (another process owns the config) has no state to show.
      }
    }
  }
  return out;
}

/**
 * The same registry whose adapters count and time every provider call, so the processor needs no
 * metrics code of its own.
 */
export function instrumentRegistry(registry: ModelRegistry, metrics: WorkerMetrics): ModelRegistry {
  const wrapped = new Map<string, ImageModel>();
  const instrument = (model: ModelSpec, inner: ImageModel): ImageModel => ({
    kind: inner.kind,
    // A key check is no image call: not counted in the provider-call metrics.
    ...(inner.checkKey === undefined ? {} : { checkKey: inner.checkKey.bind(inner) }),
    async generate(req) {
      const labels = { provider: model.provider, model: model.id };
      const end = metrics.providerLatency.startTimer(labels);
      metrics.providerInFlight.inc(labels);
      try {
        const result = await inner.generate(req);
        end({ outcome: 'ok' });
        metrics.providerCalls.inc({ ...labels, outcome: 'ok' });
        metrics.providerImages.inc(labels, result.images.length);
        metrics.spendUsd.inc(labels, estimateCostUsd(model, req.size, result.images.length));
        return result;
      } catch (err) {
        const outcome = isProviderError(err) ? err.code : 'internal_error';
        end({ outcome });
        metrics.providerCalls.inc({ ...labels, outcome });
        if (outcome === 'rate_limited') metrics.providerRateLimited.inc(labels);
        throw err;
      } finally {
        metrics.providerInFlight.dec(labels);
      }
    },
  });
  // Inherits every other method, so the wrapper keeps up with the registry's interface.
  const out = Object.create(registry) as ModelRegistry;
  out.adapter = (model) => {
    let a = wrapped.get(model.id);
    if (a === undefined) {
      a = instrument(model, registry.adapter(model));
      wrapped.set(model.id, a);
    }
    return a;
  };
  return out;
}
