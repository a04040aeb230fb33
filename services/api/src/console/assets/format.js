// Formatting of API values for people: money, times, sizes, progress.

const thisYear = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const otherYear = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** Image prices are fractions of a cent apart: three decimals below $100. */
export function usd(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return `$${value.toFixed(Math.abs(value) >= 100 ? 2 : 3)}`;
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return (d.getFullYear() === new Date().getFullYear() ? thisYear : otherYear).format(d);
}

export const clock = (date = new Date()) => timeOnly.format(date);

export function bytes(n) {
  if (typeof n !== 'number') return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Items that have ended, whatever the outcome (newer servers add statuses such as `expired`). */
export function ended(counts) {
  return (counts.succeeded ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0) + (counts.expired ?? 0);
}

export function percent(counts) {
  return counts.total > 0 ? Math.floor((ended(counts) / counts.total) * 100) : 100;
}

/** Batches whose numbers still move: the console keeps polling them. */
export const isActive = (batch) => ['queued', 'running', 'cancelling'].includes(batch.status);

export const capitalize = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** How a batch obtains its images, and at which prices (docs/api.md "Economy mode"). */
export function modeLabel(mode) {
  if (mode === 'economy') return 'Economy · provider batch APIs, batch prices';
  if (mode === 'auto') return 'Auto · economy at batch prices, realtime when the deadline needs it';
  return 'Realtime';
}

/** An item's lane and the price its cost was counted at. */
export function laneLabel(lane) {
  if (lane === 'economy') return 'Economy · provider batch API, batch price';
  if (lane === 'realtime') return 'Realtime';
  return lane ?? null;
}
