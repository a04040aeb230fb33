// The items of a batch for review mode: loaded in pages, kept in one order for the session (flagged by
// QA first, then pending, then reviewed) so that reviewing an item never moves the others around.

import { api } from './api.js';

const PAGE = 1000;
/** Most items review mode loads; a larger batch shows (and counts) its first ones and says so. */
export const MAX_ITEMS = 5000;

/**
 * The batch's items matching `query` (list filters), in submission order, up to `max`; `truncated`
 * when there are more.
 */
export async function loadItems(batchId, query = {}, max = MAX_ITEMS) {
  const items = [];
  let cursor = null;
  do {
    const params = new URLSearchParams({ ...query, limit: String(PAGE) });
    if (cursor) params.set('cursor', cursor);
    const page = await api(`/v1/batches/${encodeURIComponent(batchId)}/items?${params}`);
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}

/** 0: pending and flagged, 1: pending, 2: reviewed. */
const rank = (item) => (item.review.status !== 'pending' ? 2 : item.qa_status === 'flagged' ? 0 : 1);

export function createQueue() {
  /** item id → item, and the ids in review order. */
  const byId = new Map();
  let order = [];

  return {
    /** Takes a fresh listing: the first one sets the order, later ones only append new items. */
    set(items) {
      const fresh = order.length === 0;
      for (const item of items) {
        if (!byId.has(item.id) && !fresh) order.push(item.id);
        byId.set(item.id, item);
      }
      if (fresh) {
        order = items
          .map((item, i) => ({ id: item.id, r: rank(item), i }))
          .sort((a, b) => a.r - b.r || a.i - b.i)
          .map((e) => e.id);
      }
    },
    /** One item as an action's answer returned it. */
    put(item) {
      if (!byId.has(item.id)) order.push(item.id);
      byId.set(item.id, item);
    },
    get: (id) => byId.get(id),
    at: (i) => byId.get(order[i]),
    indexOf: (id) => order.indexOf(id),
    get size() {
      return order.length;
    },
    items: () => order.map((id) => byId.get(id)),
    /** The first pending item after position `from` (wrapping round), or -1. */
    nextPending(from) {
      for (let step = 1; step <= order.length; step++) {
        const i = (from + step) % order.length;
        if (byId.get(order[i]).review.status === 'pending') return i;
      }
      return -1;
    },
    counts() {
      const counts = { approved: 0, rejected: 0, pending: 0, flagged: 0, passed: 0 };
      for (const item of byId.values()) {
        counts[item.review.status] += 1;
        if (item.qa_status === 'flagged') counts.flagged += 1;
        if (item.review.status === 'pending' && item.qa_status === 'passed') counts.passed += 1;
      }
      return counts;
    },
  };
}
