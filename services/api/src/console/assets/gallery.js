// The gallery of a batch: one focusable card per item, showing its WebP thumbnail (never the original),
// filtered by status. Cards are updated in place so focus and loaded images survive each refresh.

import { api } from './api.js';
import { $, $$, setBadge } from './dom.js';

const PAGE = 48;
const MAX = 1000;

const waiting = {
  queued: 'Queued',
  running: 'Generating…',
  cancelled: 'Cancelled',
  expired: 'Expired before it started',
};

export function createGallery(root, batchId, detail) {
  const list = $('#gallery', root);
  const more = $('#gallery-more', root);
  const status = $('#gallery-status', root);
  const template = $('#card-template', root);
  /** item id → the card's nodes and the item it shows. */
  const cards = new Map();
  let filter = '';
  let shown = PAGE;

  function createCard(item) {
    const li = template.content.firstElementChild.cloneNode(true);
    const card = {
      li,
      button: $('.card', li),
      img: $('img', li),
      placeholder: $('.card-placeholder', li),
      title: $('.card-title', li),
      badge: $('.badge', li),
      thumbnailKey: null,
      item,
    };
    li.dataset.id = item.id;
    // Named by its visible text (note, id, status); the thumbnail's alt text (the prompt) stays on the image.
    card.title.id = `card-${item.id}-title`;
    card.badge.id = `card-${item.id}-status`;
    card.placeholder.id = `card-${item.id}-note`;
    card.button.setAttribute('aria-labelledby', `${card.placeholder.id} ${card.title.id} ${card.badge.id}`);
    card.button.addEventListener('click', () => detail.open(card.item, card.button));
    return card;
  }

  function update(card, item) {
    card.item = item;
    const output = item.outputs?.[0];
    const images = item.outputs?.length ?? 0;
    card.title.title = item.custom_id;
    setBadge(card.badge, item.status);
    card.title.textContent = images > 1 ? `${item.custom_id} (${images})` : item.custom_id;
    // Presigned URLs change on every read: reload the picture only when the thumbnail itself changed.
    const key = output?.thumbnail_url ? output.thumbnail_key : null;
    if (key !== card.thumbnailKey) {
      card.thumbnailKey = key;
      if (key) card.img.src = output.thumbnail_url;
      else card.img.removeAttribute('src');
    }
    card.img.alt = item.prompt ?? item.custom_id;
    card.img.hidden = key === null;
    let text = '';
    if (key === null) {
      if (item.status === 'failed') text = `Failed: ${item.error?.code ?? 'error'}`;
      else if (item.status === 'succeeded') text = 'No preview';
      else text = waiting[item.status] ?? item.status;
    }
    card.placeholder.textContent = text;
    card.placeholder.dataset.status = item.status;
  }

  function render(items) {
    const ids = items.map((i) => i.id);
    for (const item of items) {
      let card = cards.get(item.id);
      if (card === undefined) {
        card = createCard(item);
        cards.set(item.id, card);
      }
      update(card, item);
    }
    for (const [id, card] of cards) {
      if (!ids.includes(id)) {
        card.li.remove();
        cards.delete(id);
      }
    }
    const onScreen = [...list.children].map((li) => li.dataset.id);
    if (onScreen.join() !== ids.join()) {
      const focused = document.activeElement;
      list.replaceChildren(...ids.map((id) => cards.get(id).li));
      if (focused && list.contains(focused)) focused.focus();
    }
  }

  async function refresh() {
    const query = new URLSearchParams({ limit: String(shown) });
    if (filter) query.set('status', filter);
    const page = await api(`/v1/batches/${encodeURIComponent(batchId)}/items?${query}`);
    render(page.data);
    more.hidden = !page.next_cursor || shown >= MAX;
    const what = filter ? `${filter} items` : 'items';
    status.textContent =
      page.data.length === 0
        ? `No ${what}.`
        : `Showing ${page.next_cursor ? 'the first ' : ''}${page.data.length} ${what}.`;
  }

  for (const radio of $$('input[name="status"]', root)) {
    radio.addEventListener('change', () => {
      filter = radio.value;
      shown = PAGE;
      refresh().catch((err) => {
        status.textContent = `Could not load items: ${err.message}`;
      });
    });
  }
  more.addEventListener('click', () => {
    shown = Math.min(shown + PAGE, MAX);
    refresh();
  });

  return {
    refresh,
    /** Numbers next to the filters; a status this server does not count is not offered. */
    setCounts(counts) {
      for (const span of $$('[data-count]', root)) {
        const n = counts[span.dataset.count];
        span.textContent = typeof n === 'number' ? String(n) : '';
      }
      for (const label of $$('[data-filter]', root)) {
        label.hidden = typeof counts[label.dataset.filter] !== 'number';
      }
    },
  };
}
