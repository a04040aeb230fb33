// The webhook delivery log of a batch, with every attempt and a Redeliver button where the server
// has that route. Rows are updated in place so an opened attempt list stays open.

import { api, hasRoute } from './api.js';
import { $, el, fill, say, setBadge } from './dom.js';
import { when } from './format.js';

function attemptLine(a) {
  const outcome = a.status_code ? `HTTP ${a.status_code}` : (a.error ?? 'no answer');
  const latency = typeof a.latency_ms === 'number' ? ` in ${a.latency_ms} ms` : '';
  return `${when(a.at)} — ${outcome}${latency}${a.status_code && a.error ? ` (${a.error})` : ''}`;
}

export async function createDeliveries(root, batchId) {
  const section = $('.deliveries-section', root);
  const tbody = $('#delivery-rows', root);
  const wrap = $('#deliveries-wrap', root);
  const empty = $('#deliveries-empty', root);
  const status = $('#delivery-status', root);
  let canRedeliver = await hasRoute('post', '/v1/deliveries/{id}/redeliver');
  const rows = new Map();
  let refreshSoon = () => undefined;

  async function redeliver(delivery, button) {
    button.disabled = true;
    say(status, 'Sending again…');
    try {
      await api(`/v1/deliveries/${encodeURIComponent(delivery.id)}/redeliver`, { method: 'POST' });
      say(status, `${delivery.event_type} queued for redelivery.`);
      refreshSoon();
    } catch (err) {
      if (err.routeMissing) {
        canRedeliver = false;
        for (const r of rows.values()) r.action.replaceChildren('');
        say(status, 'Redeliver is not available on this server.', 'error');
      } else {
        say(status, `Redeliver failed: ${err.message}`, 'error');
      }
    } finally {
      button.disabled = false;
    }
  }

  function createRow(d) {
    const r = {
      tr: el('tr', { 'data-id': d.id }),
      badge: el('span', { class: 'badge' }),
      summary: el('summary'),
      list: el('ol'),
      next: el('td', { class: 'when' }),
      action: el('td', { class: 'num' }),
      delivery: d,
    };
    r.tr.append(
      el('td', {}, d.event_type, el('span', { class: 'subline mono' }, d.webhook_id ?? '')),
      el('td', { class: 'endpoint', title: d.url ?? '' }, d.url ?? '—'),
      el('td', {}, r.badge),
      el('td', {}, el('details', { class: 'attempts' }, r.summary, r.list)),
      r.next,
      r.action,
    );
    if (canRedeliver) {
      const button = el(
        'button',
        { type: 'button', class: 'button button-small', 'aria-label': `Redeliver ${d.event_type}` },
        'Redeliver',
      );
      button.addEventListener('click', () => redeliver(r.delivery, button));
      r.action.append(button);
    }
    return r;
  }

  function update(r, d) {
    r.delivery = d;
    setBadge(r.badge, d.status);
    const attempts = Array.isArray(d.attempts) ? d.attempts : [];
    const last = attempts.at(-1);
    r.summary.textContent = `${attempts.length} ${attempts.length === 1 ? 'attempt' : 'attempts'}${
      last ? ` · last ${last.status_code ?? 'failed'}` : ''
    }`;
    fill(
      r.list,
      attempts.map((a) => el('li', {}, attemptLine(a))),
    );
    r.next.textContent = d.next_attempt_at ? when(d.next_attempt_at) : '—';
  }

  async function refresh() {
    let page;
    try {
      page = await api(`/v1/batches/${encodeURIComponent(batchId)}/deliveries`);
    } catch (err) {
      if (err.routeMissing) {
        section.hidden = true;
        return;
      }
      throw err;
    }
    const list = page.data ?? [];
    for (const d of list) {
      let r = rows.get(d.id);
      if (r === undefined) {
        r = createRow(d);
        rows.set(d.id, r);
        tbody.append(r.tr);
      }
      update(r, d);
    }
    wrap.hidden = list.length === 0;
    empty.hidden = list.length > 0;
  }

  return {
    refresh,
    onRedelivered(fn) {
      refreshSoon = fn;
    },
  };
}
