// The batch list: the tenant's newest batches, re-read every 2 s while one of them runs.

import { api } from './api.js';
import { $, el, setBadge } from './dom.js';
import { clock, isActive, usd, when } from './format.js';
import { poll, showLive } from './poll.js';
import { countsLine, setProgress } from './progress.js';

const PAGE = 25;
const MAX = 1000;
const FAST_MS = 2_000;
/** Idle: still look every few seconds, so a batch submitted elsewhere shows up without a reload. */
const IDLE_MS = 5_000;

export function start(root) {
  const tbody = $('#batch-rows', root);
  const empty = $('#batches-empty', root);
  const more = $('#batches-more', root);
  const live = $('#live', root);
  const loadError = $('#load-error', root);
  /** batch id → the row's cells that change. */
  const rows = new Map();
  let shown = PAGE;

  function createRow(batch) {
    const href = `/console/batches/${encodeURIComponent(batch.id)}`;
    const r = {
      tr: el('tr', { 'data-id': batch.id }),
      status: el('span', { class: 'badge' }),
      bar: el('progress', { 'aria-label': `Progress of ${batch.id}` }),
      barText: el('span', { class: 'progress-text' }),
      counts: el('span', { class: 'counts' }),
      spend: el('td', { class: 'num' }),
      finished: el('td', { class: 'when' }),
    };
    r.tr.append(
      el(
        'td',
        {},
        el('a', { class: 'batch-link', href }, batch.id),
        el('span', { class: 'subline' }, batch.model),
      ),
      el('td', {}, r.status),
      el('td', {}, el('div', { class: 'progress-cell' }, r.bar, r.barText)),
      el('td', {}, r.counts),
      r.spend,
      el('td', { class: 'when' }, when(batch.created_at)),
      r.finished,
    );
    return r;
  }

  function update(r, batch) {
    setBadge(r.status, batch.status);
    setProgress(r.bar, r.barText, batch.counts);
    countsLine(r.counts, batch.counts);
    r.spend.textContent = `${usd(batch.cost.actual_usd)} / ${usd(batch.cost.estimated_usd)}`;
    r.finished.textContent = when(batch.completed_at);
  }

  function render(batches) {
    const ids = batches.map((b) => b.id);
    for (const batch of batches) {
      let r = rows.get(batch.id);
      if (r === undefined) {
        r = createRow(batch);
        rows.set(batch.id, r);
      }
      update(r, batch);
    }
    for (const [id, r] of rows) {
      if (!ids.includes(id)) {
        r.tr.remove();
        rows.delete(id);
      }
    }
    const onScreen = [...tbody.children].map((tr) => tr.dataset.id);
    if (onScreen.join() !== ids.join()) {
      // A new batch on top: reorder, and keep keyboard focus where it was.
      const focused = document.activeElement;
      tbody.replaceChildren(...ids.map((id) => rows.get(id).tr));
      if (focused && tbody.contains(focused)) focused.focus();
    }
    empty.hidden = batches.length > 0;
  }

  const poller = poll(
    async () => {
      const page = await api(`/v1/batches?limit=${shown}`);
      render(page.data);
      more.hidden = !page.next_cursor || shown >= MAX;
      loadError.hidden = true;
      const active = page.data.some(isActive);
      showLive(live, active, clock());
      return active ? FAST_MS : IDLE_MS;
    },
    {
      onError: (err) => {
        loadError.textContent = `Could not load batches: ${err.message}`;
        loadError.hidden = false;
      },
    },
  );

  more.addEventListener('click', () => {
    shown = Math.min(shown + PAGE, MAX);
    poller.now();
  });
}
