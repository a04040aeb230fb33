// The models page: what GET /v1/models returns. Known fields get columns; every other field (live
// rate-limit state per key, circuit state, whatever a newer server adds) is listed under "Live state".

import { api } from './api.js';
import { $, el, facts, fill } from './dom.js';
import { clock, usd } from './format.js';
import { poll, showLive } from './poll.js';

const REFRESH_MS = 5_000;

/** Fields shown in their own columns (or deliberately left out); the rest is "live state". */
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

function row(m) {
  const prices = Object.entries(m.price_usd ?? {}).map(([size, p]) => [size, usd(p)]);
  const limits = Object.entries(m.limits ?? {}).map(([k, v]) => [k.replaceAll('_', ' '), String(v)]);
  if (m.timeout_s) limits.push(['timeout', `${m.timeout_s} s`]);
  if (m.fallback?.length) limits.push(['fallback', m.fallback.join(', ')]);
  const extra = Object.fromEntries(Object.entries(m).filter(([k]) => !known.has(k)));
  const state = flatten(extra);
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
    el(
      'td',
      {},
      state.length ? facts(state, 'kv') : el('span', { class: 'no' }, 'not reported by this server'),
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
