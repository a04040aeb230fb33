// The batch page: summary and progress, actions, gallery and webhook log, re-read every 2 s while the
// batch runs. Another tenant's batch answers 404 like a missing one: the page says "not found".

import { api } from './api.js';
import { createActions } from './batch-actions.js';
import { createDeliveries } from './deliveries.js';
import { createDetail } from './detail.js';
import { $, el, factNodes, fill, setBadge } from './dom.js';
import { clock, isActive, modeLabel, usd, when } from './format.js';
import { createGallery } from './gallery.js';
import { poll, showLive } from './poll.js';
import { countsLine, setProgress } from './progress.js';

const FAST_MS = 2_000;
const IDLE_MS = 15_000;

export async function start(root) {
  const batchId = document.body.dataset.batchId;
  const view = $('#batch-view', root);
  const notFound = $('#not-found', root);
  const loadError = $('#load-error', root);
  const live = $('#live', root);
  const statusBadge = $('#batch-status', root);
  const bar = $('#batch-progress', root);
  const barText = $('#progress-label', root);
  const stats = $('#batch-stats', root);

  const detail = createDetail();
  const gallery = createGallery(root, batchId, detail);
  const [actions, deliveries] = await Promise.all([
    createActions(root, batchId, () => poller.now()),
    createDeliveries(root, batchId),
  ]);
  deliveries.onRedelivered(() => poller.now());

  function summary(batch) {
    setBadge(statusBadge, batch.status);
    setProgress(bar, barText, batch.counts);
    const images = batch.images ?? {};
    fill(
      stats,
      factNodes([
        ['Model', batch.model],
        ['Items', countsLine(el('span', { class: 'counts' }), batch.counts)],
        ['Images', `${images.generated ?? 0} of ${images.requested ?? '?'}`],
        ['Mode', modeLabel(batch.mode)],
        ['Spend / estimate', `${usd(batch.cost.actual_usd)} / ${usd(batch.cost.estimated_usd)}`],
        ['Created', when(batch.created_at)],
        ['Finished', when(batch.completed_at)],
        [
          'Output',
          batch.output ? `${batch.output.prefix || '(bucket root)'} · ${batch.output.format}` : null,
        ],
        ['Priority', batch.priority],
      ]),
    );
    groupPairs(stats);
  }

  const poller = poll(
    async () => {
      let batch;
      try {
        batch = await api(`/v1/batches/${encodeURIComponent(batchId)}`);
      } catch (err) {
        if (err.status === 404) {
          view.hidden = true;
          notFound.hidden = false;
          document.title = 'Batch not found · pixelmill console';
          return null;
        }
        throw err;
      }
      view.hidden = false;
      loadError.hidden = true;
      summary(batch);
      actions.update(batch);
      gallery.setCounts(batch.counts);
      await Promise.all([gallery.refresh(), deliveries.refresh()]);
      const active = isActive(batch);
      showLive(live, active, clock());
      return active ? FAST_MS : IDLE_MS;
    },
    {
      onError: (err) => {
        loadError.textContent = `Could not load the batch: ${err.message}`;
        loadError.hidden = false;
      },
    },
  );
}

/** Wraps consecutive dt/dd pairs of a <dl> in <div>s (allowed in HTML) for grid layout. */
function groupPairs(dl) {
  const nodes = [...dl.children];
  const groups = [];
  for (let i = 0; i < nodes.length; i += 2) groups.push(el('div', {}, nodes[i], nodes[i + 1]));
  dl.replaceChildren(...groups);
}
