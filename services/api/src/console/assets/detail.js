// The item detail dialog: the full image with its prompt, parameters, model, attempts, cost and error.
// A native modal <dialog>: focus moves into it, Escape closes it, focus returns to the card.

import { $, el, factNodes, fill, setBadge } from './dom.js';
import { bytes, laneLabel, usd, when } from './format.js';

export function createDetail() {
  const dialog = $('#detail');
  const title = $('#detail-title');
  const statusBadge = $('#detail-status');
  const image = $('#detail-image');
  const noImage = $('#detail-noimage');
  const caption = $('#detail-caption');
  const outputs = $('#detail-outputs');
  const outputButtons = $('#detail-output-buttons');
  const prompt = $('#detail-prompt');
  const error = $('#detail-error');
  const factList = $('#detail-facts');
  const original = el(
    'a',
    { id: 'detail-original', target: '_blank', rel: 'noopener' },
    'Open the original image',
  );
  $('#detail-links').append(original);
  let returnTo = null;

  $('#detail-close').addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener('click', (event) => {
    if (event.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside =
      event.clientX >= r.left &&
      event.clientX <= r.right &&
      event.clientY >= r.top &&
      event.clientY <= r.bottom;
    if (!inside) dialog.close();
  });
  dialog.addEventListener('close', () => {
    image.removeAttribute('src');
    returnTo?.focus();
  });

  function showOutput(item, index) {
    const output = item.outputs[index];
    for (const [i, button] of [...outputButtons.children].entries()) {
      button.setAttribute('aria-pressed', String(i === index));
    }
    image.hidden = !output?.url;
    noImage.hidden = Boolean(output?.url);
    original.hidden = !output?.url;
    if (!output?.url) {
      image.removeAttribute('src');
      noImage.textContent =
        item.status === 'failed' ? 'No image: the item failed.' : `No image yet (${item.status}).`;
      caption.textContent = '';
      return;
    }
    image.width = output.width;
    image.height = output.height;
    image.alt = item.prompt ?? item.custom_id;
    image.src = output.url;
    original.href = output.url;
    caption.textContent = `${output.width} × ${output.height} · ${bytes(output.bytes)} · ${output.content_type}`;
  }

  function open(item, from) {
    returnTo = from ?? null;
    title.textContent = item.custom_id;
    setBadge(statusBadge, item.status);
    prompt.textContent = item.prompt ?? '';
    error.hidden = !item.error;
    error.textContent = item.error ? `${item.error.code}: ${item.error.message}` : '';

    const list = item.outputs ?? [];
    outputs.hidden = list.length < 2;
    fill(
      outputButtons,
      list.length > 1
        ? list.map((o, i) => {
            const b = el(
              'button',
              { type: 'button', class: 'button button-small', 'aria-pressed': 'false' },
              `Image ${o.index + 1}`,
            );
            b.addEventListener('click', () => showOutput(item, i));
            return b;
          })
        : [],
    );
    showOutput(item, 0);

    const first = list[0];
    fill(
      factList,
      factNodes([
        ['Model', item.model],
        ['Provider', item.provider],
        ['Size', item.size],
        ['Aspect ratio', item.aspect_ratio],
        ['Images', `${list.length} of ${item.n}`],
        ['Attempts', String(item.attempts)],
        ['Lane', laneLabel(item.lane)],
        ['Cost', usd(item.cost_usd)],
        ['Started', when(item.started_at)],
        ['Finished', when(item.finished_at)],
        ['Reference images', item.reference_images?.length ? String(item.reference_images.length) : null],
        [
          'Reused from',
          item.reused_from ? `${item.reused_from.batch_id} / ${item.reused_from.custom_id}` : null,
        ],
        [
          'Metadata',
          item.metadata && Object.keys(item.metadata).length ? JSON.stringify(item.metadata) : null,
        ],
        ['Item id', item.id],
        ['Key', first?.key],
        ['SHA-256', first?.sha256],
      ]),
    );
    dialog.showModal();
  }

  return { open };
}
