/** google.protobuf.Duration as JSON: seconds with up to 3 decimals here, e.g. "12.5s", "1s". */
export function googleDuration(ms: number): string {
  const s = (Math.max(0, Math.ceil(ms)) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${s}s`;
}

/** Go's time.Duration.String() for whole milliseconds: "250ms", "1s", "6m0s", "1h0m0.5s". */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const secs = ((total % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (h > 0) return `${h}h${m}m${secs}s`;
  if (m > 0) return `${m}m${secs}s`;
  return `${secs}s`;
}

/** Retry-After header value: whole seconds, rounded up so waiting that long is enough. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
