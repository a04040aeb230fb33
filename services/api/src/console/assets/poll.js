// Live updates by polling the JSON API: quick while something runs, slow when idle, paused while
// the tab is hidden. One request at a time, so a slow server is never piled on.

const HIDDEN_MS = 30_000;

/**
 * `refresh()` does one update and returns how many ms to wait before the next one (null: stop).
 * Returns `{ now() }` to refresh at once (after an action) and `{ stop() }`.
 */
export function poll(refresh, { onError } = {}) {
  let timer;
  let running = false;
  let again = false;
  let stopped = false;

  async function tick() {
    clearTimeout(timer);
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    let next = 10_000;
    try {
      next = await refresh();
    } catch (err) {
      onError?.(err);
    } finally {
      running = false;
    }
    if (stopped || next === null) return;
    if (again) {
      again = false;
      next = 0;
    }
    timer = setTimeout(tick, document.hidden ? Math.max(next, HIDDEN_MS) : next);
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) tick();
  });
  tick();
  return {
    now: tick,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** "Live · updated 10:14:03" while polling fast; just the time when idle. */
export function showLive(node, live, clockText) {
  node.classList.toggle('is-live', live);
  node.textContent = live ? `Live · updated ${clockText}` : `Updated ${clockText}`;
}
