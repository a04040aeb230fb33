// The progress and counts of a batch, shared by the batch list and the batch page.

import { el, fill } from './dom.js';
import { ended, percent } from './format.js';

/** Updates a <progress> and its text from batch counts; the bar turns green when every item ended. */
export function setProgress(bar, text, counts) {
  bar.max = Math.max(counts.total, 1);
  bar.value = ended(counts);
  bar.toggleAttribute('data-done', counts.total > 0 && ended(counts) === counts.total);
  text.textContent = `${ended(counts)} / ${counts.total} · ${percent(counts)}%`;
}

/** "20 succeeded · 1 failed · 3 queued": only the non-zero outcomes (succeeded always). */
export function countsLine(node, counts) {
  const parts = [
    ['succeeded', counts.succeeded, 'count-ok'],
    ['failed', counts.failed, 'count-bad'],
    ['running', counts.running, 'count-idle'],
    ['queued', counts.queued, 'count-idle'],
    ['cancelled', counts.cancelled, 'count-idle'],
    ['expired', counts.expired, 'count-idle'],
  ].filter(([name, n]) => name === 'succeeded' || (typeof n === 'number' && n > 0));
  return fill(
    node,
    parts.map(([name, n, cls]) => el('span', { class: cls }, `${n ?? 0} ${name}`)),
  );
}
