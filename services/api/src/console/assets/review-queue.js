// The queue beside the item in review mode: one button per item (its thumbnail, custom_id, review
// status and QA flag), the current one marked. Rows are updated in place so focus and pictures survive.

import { $, el, setBadge } from './dom.js';
import { chosenOutputs } from './review-view.js';

export function createQueueList(root, { onSelect }) {
  const list = $('#review-queue', root);
  /** item id → its row's nodes. */
  const rows = new Map();

  function row(item) {
    const title = el('span', { class: 'queue-title', id: `queue-${item.id}-title` });
    const review = el('span', { class: 'badge', id: `queue-${item.id}-review` });
    const flag = el('span', {
      class: 'badge queue-flag',
      id: `queue-${item.id}-qa`,
      'data-status': 'flagged',
    });
    const img = el('img', { class: 'queue-img', alt: '', loading: 'lazy', decoding: 'async' });
    const button = el(
      'button',
      {
        type: 'button',
        class: 'queue-item',
        'aria-labelledby': `${title.id} ${review.id} ${flag.id}`,
      },
      el('span', { class: 'queue-thumb' }, img),
      el('span', { class: 'queue-meta' }, title, ' ', review, ' ', flag),
    );
    button.addEventListener('click', () => onSelect(item.id));
    const li = el('li', { 'data-id': item.id }, button);
    return { li, button, title, review, flag, img, thumbnailKey: undefined };
  }

  return {
    render(items, currentId) {
      const ids = items.map((i) => i.id);
      for (const item of items) {
        let r = rows.get(item.id);
        if (!r) {
          r = row(item);
          rows.set(item.id, r);
        }
        r.title.textContent = item.custom_id;
        setBadge(r.review, item.review.status);
        r.flag.textContent = item.qa_status === 'flagged' ? 'flagged' : '';
        const output = chosenOutputs(item)[0];
        const key = output?.thumbnail_url ? output.thumbnail_key : null;
        if (key !== r.thumbnailKey) {
          r.thumbnailKey = key;
          if (key) r.img.src = output.thumbnail_url;
          else r.img.removeAttribute('src');
          r.img.hidden = key === null;
        }
        if (item.id === currentId) r.button.setAttribute('aria-current', 'true');
        else r.button.removeAttribute('aria-current');
      }
      const onScreen = [...list.children].map((li) => li.dataset.id);
      if (onScreen.join() !== ids.join()) {
        const focused = document.activeElement;
        list.replaceChildren(...ids.map((id) => rows.get(id).li));
        if (focused && list.contains(focused)) focused.focus();
      }
    },
    /** Keeps the current row in view as j/k move through a long queue. */
    reveal(id) {
      rows.get(id)?.li.scrollIntoView({ block: 'nearest' });
    },
  };
}
