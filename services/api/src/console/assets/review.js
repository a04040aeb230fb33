// Review mode of one batch: go through its items (flagged by QA first, then pending), approve, reject
// with a note, edit the prompt and regenerate, choose a version; bulk-approve what passed QA. Every
// action is a button in the tab order and a single key (a, r, e, j/k, 1-9, c, f) that can be switched
// off. A server without the review routes shows only "not available".

import { api, hasRoute } from './api.js';
import { $, $$, say, setBadge } from './dom.js';
import { clock, isActive } from './format.js';
import { poll, showLive } from './poll.js';
import { createFormDialog } from './review-dialogs.js';
import { createQueue, loadItems, MAX_ITEMS } from './review-items.js';
import { createQueueList } from './review-queue.js';
import { createItemView } from './review-view.js';

const FAST_MS = 2_000;
const IDLE_MS = 15_000;
/** Most names one bulk review takes (api.md); item ids keep the body far under the 64 KiB cap. */
const BULK_CHUNK = 1000;

const reviewRoutes = [
  ['post', '/v1/batches/{id}/items/review'],
  ['post', '/v1/batches/{id}/items/{item}/review'],
  ['post', '/v1/batches/{id}/items/{item}/regenerate'],
  ['post', '/v1/batches/{id}/items/{item}/choose'],
];

export async function start(root) {
  const batchId = document.body.dataset.batchId;
  const batchPath = `/v1/batches/${encodeURIComponent(batchId)}`;
  const view = $('#review-view', root);
  const unavailable = $('#review-unavailable', root);
  const notFound = $('#not-found', root);
  const loadError = $('#load-error', root);

  const present = await Promise.all(reviewRoutes.map(([m, p]) => hasRoute(m, p)));
  if (!present.every(Boolean)) {
    unavailable.hidden = false;
    document.title = 'Review not available · pixelmill console';
    return;
  }

  const live = $('#live', root);
  const batchBadge = $('#batch-status', root);
  const bar = $('#review-bar', root);
  const barLabel = $('#review-bar-label', root);
  const truncatedNote = $('#review-truncated', root);
  const status = $('#review-status', root);
  const empty = $('#review-empty', root);
  const layout = $('#review-layout', root);
  const bulk = $('#bulk-approve', root);
  const shortcutsOn = $('#shortcuts-on', root);
  const buttons = {
    approve: $('#review-approve', root),
    reject: $('#review-reject', root),
    edit: $('#review-edit', root),
    prev: $('#review-prev', root),
    next: $('#review-next', root),
    full: $('#review-full', root),
  };

  const queue = createQueue();
  const itemView = createItemView(root, { onChoose: (version, index) => choose(version, index) });
  const queueList = createQueueList(root, { onSelect: (id) => show(queue.indexOf(id)) });
  const rejectDialog = createFormDialog('#reject-dialog');
  const editDialog = createFormDialog('#edit-dialog');
  let current = -1;
  let full = false;
  let busy = false;

  const item = () => (current >= 0 ? queue.at(current) : undefined);
  const itemPath = (it) => `${batchPath}/items/${encodeURIComponent(it.id)}`;
  const ended = (it) => !['queued', 'running'].includes(it.status);

  function render() {
    const counts = queue.counts();
    const total = queue.size;
    const reviewed = counts.approved + counts.rejected;
    bar.max = Math.max(total, 1);
    bar.value = reviewed;
    bar.toggleAttribute('data-done', total > 0 && reviewed === total);
    barLabel.textContent = `${reviewed} / ${total} reviewed · ${total ? Math.floor((reviewed / total) * 100) : 100}%`;
    for (const span of $$('[data-review-count]', root))
      span.textContent = String(counts[span.dataset.reviewCount]);
    bulk.textContent = `Approve all that passed QA (${counts.passed})`;
    bulk.disabled = busy || counts.passed === 0;
    empty.hidden = total > 0;
    layout.hidden = total === 0;
    const it = item();
    if (!it) return;
    itemView.render(it, { full, index: current, total });
    queueList.render(queue.items(), it.id);
    buttons.prev.disabled = current <= 0;
    buttons.next.disabled = current >= total - 1;
    buttons.edit.disabled = busy || !ended(it);
    buttons.approve.disabled = busy;
    buttons.reject.disabled = busy;
  }

  function show(index) {
    if (index < 0 || index >= queue.size) return;
    if (index !== current) full = false;
    current = index;
    render();
    queueList.reveal(item().id);
  }

  /** Runs one API action; its message goes to the status line, an error too (the item stays). */
  async function act(run) {
    if (busy) return;
    busy = true;
    render();
    try {
      await run();
    } catch (err) {
      say(status, err.routeMissing ? 'Review is not available on this server.' : err.message, 'error');
    } finally {
      busy = false;
      render();
    }
  }

  /** After a review: on to the next pending item, or stay when every item is reviewed. */
  function advance(message) {
    const next = queue.nextPending(current);
    if (next === -1) say(status, `${message} Every item is reviewed.`);
    else {
      say(status, message);
      show(next);
    }
  }

  async function review(it, action, note) {
    const body = { action, ...(note ? { note } : {}) };
    const updated = await api(`${itemPath(it)}/review`, { method: 'POST', body });
    queue.put(updated);
    advance(`${it.custom_id} ${action === 'approve' ? 'approved' : 'rejected'}.`);
  }

  function approve() {
    const it = item();
    if (it) act(() => review(it, 'approve'));
  }

  function reject() {
    const it = item();
    if (!it || busy) return;
    rejectDialog.open({
      title: `Reject ${it.custom_id}`,
      value: '',
      submit: (note) => review(it, 'reject', note.trim()),
    });
  }

  function edit() {
    const it = item();
    if (!it || busy || !ended(it)) return;
    editDialog.open({
      title: `Edit and regenerate ${it.custom_id}`,
      value: it.prompt,
      submit: async (text) => {
        const prompt = text.trim();
        // An unchanged prompt regenerates as it is (an empty body).
        const body = prompt && prompt !== it.prompt ? { prompt } : {};
        const updated = await api(`${itemPath(it)}/regenerate`, { method: 'POST', body });
        queue.put(updated);
        say(status, `${it.custom_id}: version ${updated.version} is being generated.`);
        render();
        poller.now();
      },
    });
  }

  function choose(version, index) {
    const it = item();
    if (!it) return;
    act(async () => {
      const updated = await api(`${itemPath(it)}/choose`, { method: 'POST', body: { version, index } });
      queue.put(updated);
      say(
        status,
        `${it.custom_id}: version ${version}${index === null ? '' : `, image ${index + 1},`} chosen.`,
      );
    });
  }

  /** `c`: the version after the chosen one that has images, wrapping round. */
  function chooseNext() {
    const it = item();
    if (!it) return;
    const usable = it.versions.filter((v) => v.outputs.length > 0).map((v) => v.version);
    if (usable.length < 2) {
      say(status, `${it.custom_id} has one version.`);
      return;
    }
    const at = usable.indexOf(it.chosen.version);
    choose(usable[(at + 1) % usable.length], null);
  }

  function chooseNumber(n) {
    const it = item();
    const v = it?.versions.find((x) => x.version === n);
    if (!v || v.outputs.length === 0) {
      if (it) say(status, `${it.custom_id} has no version ${n} with images.`, 'error');
      return;
    }
    choose(n, null);
  }

  function showFull() {
    full = true;
    render();
  }

  bulk.addEventListener('click', () =>
    act(async () => {
      // The whole batch, not only the items loaded here: ask the server which ones qualify.
      const { items } = await loadItems(
        batchId,
        { review: 'pending', qa: 'passed' },
        Number.POSITIVE_INFINITY,
      );
      if (items.length === 0) {
        say(status, 'No pending item passed QA.');
        return;
      }
      const n = items.length;
      if (!window.confirm(`Approve ${n} pending ${n === 1 ? 'item' : 'items'} that passed QA?`)) return;
      let reviewed = 0;
      for (let i = 0; i < items.length; i += BULK_CHUNK) {
        const item_ids = items.slice(i, i + BULK_CHUNK).map((x) => x.id);
        const res = await api(`${batchPath}/items/review`, {
          method: 'POST',
          body: { item_ids, action: 'approve' },
        });
        reviewed += res.reviewed;
        for (const updated of res.data) queue.put(updated);
      }
      say(status, `Approved ${reviewed} ${reviewed === 1 ? 'item' : 'items'} that passed QA.`);
    }),
  );
  buttons.approve.addEventListener('click', approve);
  buttons.reject.addEventListener('click', reject);
  buttons.edit.addEventListener('click', edit);
  buttons.prev.addEventListener('click', () => show(current - 1));
  buttons.next.addEventListener('click', () => show(current + 1));
  buttons.full.addEventListener('click', showFull);

  const keys = {
    a: approve,
    r: reject,
    e: edit,
    j: () => show(current + 1),
    ArrowRight: () => show(current + 1),
    k: () => show(current - 1),
    ArrowLeft: () => show(current - 1),
    c: chooseNext,
    f: showFull,
  };
  document.addEventListener('keydown', (event) => {
    if (!shortcutsOn.checked || view.hidden || event.defaultPrevented) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    const target = event.target;
    if (
      target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
    ) {
      return;
    }
    const run = /^[1-9]$/.test(event.key) ? () => chooseNumber(Number(event.key)) : keys[event.key];
    if (!run) return;
    event.preventDefault();
    run();
  });

  const poller = poll(
    async () => {
      let batch;
      try {
        batch = await api(batchPath);
      } catch (err) {
        if (err.status === 404) {
          view.hidden = true;
          notFound.hidden = false;
          document.title = 'Batch not found · pixelmill console';
          return null;
        }
        throw err;
      }
      const { items, truncated } = await loadItems(batchId);
      queue.set(items);
      view.hidden = false;
      loadError.hidden = true;
      setBadge(batchBadge, batch.status);
      truncatedNote.hidden = !truncated;
      truncatedNote.textContent = `The batch has more than ${MAX_ITEMS.toLocaleString('en')} items: this page shows and counts the first ${MAX_ITEMS.toLocaleString('en')}.`;
      if (current === -1 && queue.size > 0) {
        const firstPending = queue.nextPending(queue.size - 1);
        current = firstPending === -1 ? 0 : firstPending;
      }
      render();
      const active = isActive(batch) || queue.items().some((it) => !ended(it));
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
