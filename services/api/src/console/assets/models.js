// The models page: what GET /v1/models returns, including the live limiter state of each API key and
// the circuit breaker (`rate_limits`). Fields a newer server adds are listed as text, not dropped.

import { api } from './api.js';
import { $, el, facts, fill } from './dom.js';
import { clock, usd, when } from './format.js';
import { poll, showLive } from './poll.js';

const REFRESH_MS = 5_000;

/** Fields shown in their own columns (or deliberately left out); any other is listed as text. */
const known = new Set([
  'id',
  'object',
  'aliases',
  'provider',
  'kind',
  'available',
  'sizes',
  'aspect_ratios',
  'max_reference_images',
  'price_usd',
  'limits',
  'timeout_s',
  'fallback',
  'rate_limits',
]);

/** Flattens nested objects to `a.b: value` lines, so any shape of state can be shown as text. */
function flatten(value, prefix = '', out = []) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.push([prefix, '—']);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    value.forEach((v, i) => {
      flatten(v, `${prefix}[${i}]`, out);
    });
  } else {
    out.push([prefix, Array.isArray(value) ? value.join(', ') || '—' : String(value)]);
  }
  return out;
}

const circuitTone = { closed: 'succeeded', open: 'failed', half_open: 'running' };

/** The circuit breaker of the model, as a status pill. */
function circuitCell(limits) {
  if (!limits?.circuit) return el('span', { class: 'no' }, 'not reported');
  const pill = el(
    'span',
    { class: 'badge', 'data-status': circuitTone[limits.circuit] ?? '' },
    limits.circuit,
  );
  return pill;
}

/** One line per API key (shown only as its short hash): usage in the window, in flight, and why it waits. */
function keyLine(k) {
  if (k.configured === false) return el('li', {}, el('code', {}, k.key_id), ' not used yet');
  const waits = [];
  if (k.parked) waits.push(k.parked_until ? `parked until ${when(k.parked_until)}` : 'parked (out of quota)');
  if (k.cooldown_until) waits.push(`cooling down until ${when(k.cooldown_until)}`);
  const rate =
    k.effective_rpm !== null && k.effective_rpm !== undefined && k.effective_rpm !== k.rpm
      ? `${k.effective_rpm} of ${k.rpm}`
      : `${k.rpm ?? '∞'}`;
  return el(
    'li',
    {},
    el('code', {}, k.key_id),
    ` ${k.requests_in_window ?? 0} req in window · effective ${rate} rpm · ${k.in_flight ?? 0}/${
      k.concurrency ?? '∞'
    } in flight`,
    waits.length ? el('span', { class: 'count-bad' }, ` · ${waits.join(', ')}`) : null,
  );
}

function row(m) {
  const prices = Object.entries(m.price_usd ?? {}).map(([size, p]) => [size, usd(p)]);
  const limits = Object.entries(m.limits ?? {}).map(([k, v]) => [k.replaceAll('_', ' '), String(v)]);
  if (m.timeout_s) limits.push(['timeout', `${m.timeout_s} s`]);
  if (m.fallback?.length) limits.push(['fallback', m.fallback.join(', ')]);
  const keys = m.rate_limits?.keys ?? [];
  const unknown = Object.entries(m).filter(([k]) => !known.has(k));
  const extra = unknown.length ? flatten(Object.fromEntries(unknown)) : [];
  return el(
    'tr',
    {},
    el(
      'td',
      {},
      el('strong', { class: 'mono' }, m.id),
      m.aliases?.length ? el('span', { class: 'aliases' }, `aka ${m.aliases.join(', ')}`) : null,
      el(
        'span',
        { class: 'aliases' },
        `sizes ${(m.sizes ?? []).join(', ')} · up to ${m.max_reference_images ?? 0} reference images`,
      ),
    ),
    el('td', {}, m.provider, m.kind ? el('span', { class: 'aliases' }, m.kind) : null),
    el(
      'td',
      {},
      m.available === false
        ? el('span', { class: 'no' }, 'No key configured')
        : el('span', { class: 'yes' }, 'Yes'),
    ),
    el('td', {}, prices.length ? facts(prices, 'kv') : '—'),
    el('td', {}, limits.length ? facts(limits, 'kv') : '—'),
    el('td', {}, circuitCell(m.rate_limits)),
    el(
      'td',
      {},
      keys.length ? el('ul', { class: 'keys' }, keys.map(keyLine)) : null,
      extra.length ? facts(extra, 'kv') : null,
      !keys.length && !extra.length ? el('span', { class: 'no' }, 'not reported by this server') : null,
    ),
  );
}

export function start(root) {
  const tbody = $('#model-rows', root);
  const live = $('#live', root);
  const loadError = $('#load-error', root);
  poll(
    async () => {
      const page = await api('/v1/models');
      // The table holds no focusable controls, so it is simply redrawn.
      fill(tbody, (page.data ?? []).map(row));
      loadError.hidden = true;
      showLive(live, true, clock());
      return REFRESH_MS;
    },
    {
      onError: (err) => {
        loadError.textContent = `Could not load models: ${err.message}`;
        loadError.hidden = false;
      },
    },
  );
}
