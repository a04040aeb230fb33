import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { blockedWordIndex, drawOutcome } from './faults.js';
import { imageLook } from './image-directives.js';
import type { Denial, Grant } from './limits.js';
import { makePng, padPng } from './png.js';
import { sleep } from './shutdown.js';
import type { SimState } from './state.js';
import type { Outcome } from './stats.js';

/** Under @hono/node-server the raw request is in env; in-process (app.request) it is absent. */
export type SimEnv = { Bindings: { incoming?: IncomingMessage } };
export type SimContext = Context<SimEnv>;

export interface RequestInfo {
  key: string;
  model: string;
  prompt: string;
}

/** A parse failure; model is set when known so the error still counts under key|model. */
export interface ParseError {
  error: Response;
  model?: string;
}

interface Generated {
  response: Response;
  images: number;
}

/** One wire format: how it authenticates, parses, and renders each outcome. */
export interface FormatSpec<P extends RequestInfo> {
  apiKey(c: SimContext): string | undefined;
  missingKey(c: SimContext): Response;
  depleted(c: SimContext): Response;
  /** The key is unknown to the provider (invalid, revoked or deleted). */
  revoked(c: SimContext): Response;
  parse(c: SimContext, key: string): Promise<P | ParseError>;
  rateLimited(c: SimContext, p: P, d: Denial): Response;
  serverError(c: SimContext, p: P, variant: number): Response;
  noImage(c: SimContext, p: P, variant: number): Response;
  blocked(c: SimContext, p: P, wordIndex: number): Response;
  success(c: SimContext, p: P, grant: Grant): Generated;
}

/** Thrown for a reset fault when there is no socket to destroy (in-process use). */
export class SimResetError extends Error {
  constructor() {
    super('provider-sim: connection reset (fault)');
  }
}

export function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
  });
}

/**
 * A new generated PNG; the image counter makes repeated prompts give distinct bytes. `[blank]`,
 * `[blank:<k>]` and `[duplicate:<group>]` in the prompt ask for a bad image, `[sim-pad:<kB>]` for a
 * bigger file (image-directives.ts).
 */
export function nextImage(state: SimState, width: number, height: number, prompt: string): Buffer {
  state.imageCounter++;
  let seen = 0;
  if (/\[blank:\d{1,3}\]/i.test(prompt)) {
    seen = state.promptImages.get(prompt) ?? 0;
    state.promptImages.set(prompt, seen + 1);
  }
  const look = imageLook(prompt, seen);
  return padPng(makePng(width, height, look.seed, state.imageCounter, look.blank), look.padBytes);
}

/** Store a PNG for GET /__files/{id}.png, dropping the oldest beyond the cap. */
export function storeFile(state: SimState, png: Buffer, cap: number): string {
  const id = `img-${state.imageCounter}-${Math.random().toString(36).slice(2, 10)}`;
  state.files.set(id, png);
  while (state.files.size > cap) {
    const oldest = state.files.keys().next().value;
    if (oldest === undefined) break;
    state.files.delete(oldest);
  }
  return id;
}

/**
 * Resolve when the client goes away or the simulator closes: a hang never answers. Whichever comes
 * first removes the other two waits, so nothing stays registered after the request.
 */
function waitForDisconnect(c: SimContext, state: SimState): Promise<void> {
  return new Promise((resolve) => {
    const socket = c.env?.incoming?.socket;
    if (socket?.destroyed || state.shutdown.isClosed) return resolve();
    const signal = c.req.raw.signal;
    const done = (): void => {
      socket?.off('close', done);
      signal?.removeEventListener('abort', done);
      cancel();
      resolve();
    };
    const cancel = state.shutdown.onClose(done);
    socket?.once('close', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function resetConnection(c: SimContext): Response {
  const socket = c.env?.incoming?.socket;
  if (!socket) throw new SimResetError();
  socket.destroy();
  // Nothing reaches the client; node-server ignores writes to the destroyed socket.
  return new Response(null, { status: 500 });
}

/**
 * The common request flow: key → revoked → credit → parse → limiter → latency → fault → block words →
 * image. Everything past the limiter counts as accepted (it used an RPM slot), as it would
 * upstream.
 */
export async function handle<P extends RequestInfo>(
  state: SimState,
  spec: FormatSpec<P>,
  c: SimContext,
): Promise<Response> {
  const finish = (response: Response, o: Omit<Outcome, 'status' | 'images'>, images = 0): Response => {
    state.stats.record({ ...o, status: String(response.status), images });
    return response;
  };

  const key = spec.apiKey(c);
  if (!key) return finish(spec.missingKey(c), {});
  if (state.config.revokedKeys.includes(key)) return finish(spec.revoked(c), { key });
  if (state.config.depletedKeys.includes(key)) return finish(spec.depleted(c), { key });
  const parsed = await spec.parse(c, key);
  if ('error' in parsed) return finish(parsed.error, { key, model: parsed.model });
  const p = parsed;
  const info = { key, model: p.model, prompt: p.prompt };

  const { config } = state;
  const draw = drawOutcome(state.rng, config);
  const now = state.now();
  const expectedEnd = draw.fault === 'hang' ? Number.POSITIVE_INFINITY : now + draw.latencyMs;
  const grant = state.limiter.acquire(config.limits, config.windowMs, key, p.model, now, expectedEnd);
  state.stats.arrival(key, Date.now(), grant.ok);
  if (!grant.ok) return finish(spec.rateLimited(c, p, grant), info);

  state.stats.accepted(key, p.model, now, config.windowMs);
  const ended = state.stats.started(key, p.model);
  try {
    if (draw.fault === 'hang') {
      state.stats.record({ ...info, status: 'hang', images: 0 });
      await waitForDisconnect(c, state);
      return new Response(null, { status: 504 });
    }
    await sleep(draw.latencyMs, state.shutdown);
    if (draw.fault === 'reset') {
      state.stats.record({ ...info, status: 'reset', images: 0 });
      return resetConnection(c);
    }
    if (draw.fault === 'http5xx') return finish(spec.serverError(c, p, draw.variant), info);
    if (draw.fault === 'noImage') return finish(spec.noImage(c, p, draw.variant), info);
    const word = blockedWordIndex(p.prompt, config.blockedWords);
    if (word >= 0) return finish(spec.blocked(c, p, word), info);
    const out = spec.success(c, p, grant);
    return finish(out.response, info, out.images);
  } finally {
    grant.release();
    ended();
  }
}
