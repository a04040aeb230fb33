// Cancel, retry failed items, download results.csv and the manifest, and the link to review mode. A
// server without one of these routes (an older or newer release) gets no button for it and a "not
// available" note instead.

import { api, hasRoute } from './api.js';
import { $, el, say } from './dom.js';

const labels = { cancel: 'Cancel', retry: 'Retry failed items', results: 'results.csv', review: 'Review' };

export async function createActions(root, batchId, onChanged) {
  const cancel = $('#action-cancel', root);
  const retry = $('#action-retry', root);
  const results = $('#action-results', root);
  const review = $('#action-review', root);
  // A link, not a button: the manifest is a presigned bucket URL that needs no key.
  const manifest = el('a', { id: 'action-manifest', class: 'button', target: '_blank', rel: 'noopener' });
  manifest.textContent = 'Download manifest';
  manifest.hidden = true;
  results.after(manifest);
  const status = $('#action-status', root);
  const unavailable = $('#actions-unavailable', root);
  const path = `/v1/batches/${encodeURIComponent(batchId)}`;
  let batch = null;

  const [canCancel, canRetry, canResults, canReview] = await Promise.all([
    hasRoute('post', '/v1/batches/{id}/cancel'),
    hasRoute('post', '/v1/batches/{id}/retry'),
    hasRoute('get', '/v1/batches/{id}/results'),
    hasRoute('post', '/v1/batches/{id}/items/{item}/review'),
  ]);
  const missing = new Set();
  if (!canCancel) missing.add('cancel');
  if (!canRetry) missing.add('retry');
  if (!canResults) missing.add('results');
  if (!canReview) missing.add('review');

  function update(next) {
    batch = next;
    cancel.hidden = missing.has('cancel') || !['queued', 'running'].includes(batch.status);
    retry.hidden = missing.has('retry') || !(batch.counts.failed > 0);
    results.hidden = missing.has('results') && !batch.results_url;
    manifest.hidden = !batch.manifest_url;
    review.hidden = missing.has('review');
    if (batch.manifest_url) manifest.href = batch.manifest_url;
    unavailable.hidden = missing.size === 0;
    unavailable.textContent = `Not available on this server: ${[...missing].map((m) => labels[m]).join(', ')}.`;
  }

  async function run(name, button, call, done) {
    button.disabled = true;
    say(status, 'Working…');
    try {
      say(status, done(await call()));
      onChanged();
    } catch (err) {
      if (err.routeMissing) {
        missing.add(name);
        if (batch) update(batch);
        say(status, `${labels[name]} is not available on this server.`, 'error');
      } else {
        say(status, `${labels[name]} failed: ${err.message}`, 'error');
      }
    } finally {
      button.disabled = false;
    }
  }

  cancel.addEventListener('click', () => {
    if (!window.confirm('Cancel this batch? Items not yet started end as cancelled; running ones finish.')) {
      return;
    }
    run(
      'cancel',
      cancel,
      () => api(`${path}/cancel`, { method: 'POST' }),
      () => 'Cancel requested: items not yet started end as cancelled.',
    );
  });

  retry.addEventListener('click', () => {
    const failed = batch?.counts.failed ?? 0;
    run(
      'retry',
      retry,
      () => api(`${path}/retry`, { method: 'POST' }),
      () => `${failed} failed ${failed === 1 ? 'item is' : 'items are'} queued again.`,
    );
  });

  results.addEventListener('click', () => {
    run(
      'results',
      results,
      async () => {
        // The route needs the key, so it is fetched here and saved from memory; a presigned copy
        // (results_url) needs no key and is opened directly.
        if (missing.has('results')) return saveFrom(batch.results_url);
        const blob = await api(`${path}/results`, { as: 'blob' });
        const url = URL.createObjectURL(blob);
        try {
          saveFrom(url, `${batchId}-results.csv`);
        } finally {
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        }
      },
      () => 'results.csv downloaded.',
    );
  });

  return { update };
}

function saveFrom(href, filename) {
  const a = document.createElement('a');
  a.href = href;
  if (filename) a.download = filename;
  else a.target = '_blank';
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}
