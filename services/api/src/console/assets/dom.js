// Small DOM helpers. Text from the API is only ever set as text (textContent, attributes), never as
// HTML, so a prompt or a webhook response cannot inject markup.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** `el('td', { class: 'num' }, 'text', childNode)`; attributes with null/undefined/false are skipped. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces a node's children. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A status pill; CSS colours it by `data-status`. */
export function badge(status) {
  return el('span', { class: 'badge', 'data-status': status }, status);
}

export function setBadge(node, status) {
  node.dataset.status = status;
  node.textContent = status;
}

/** The `<dt>`/`<dd>` pairs of a description list; a value may be text or a node. Empty values are left out. */
export function factNodes(pairs) {
  return pairs
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .flatMap(([label, value]) => [el('dt', {}, label), el('dd', {}, value)]);
}

/** A `<dl>` of label/value pairs. */
export const facts = (pairs, className) => el('dl', { class: className }, factNodes(pairs));

/** Writes a message into a status line; `tone: 'error'` colours it. */
export function say(node, message, tone = 'info') {
  node.textContent = message;
  node.dataset.tone = tone;
}
