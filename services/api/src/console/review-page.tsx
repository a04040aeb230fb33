/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { BASE, Layout } from './layout.js';

/** The keys of review mode, shown on the page and named by each button's `aria-keyshortcuts`. */
const shortcuts: [string, string][] = [
  ['a', 'approve'],
  ['r', 'reject (with a note)'],
  ['e', 'edit the prompt and regenerate'],
  ['j / →', 'next item'],
  ['k / ←', 'previous item'],
  ['1–9', 'choose that version'],
  ['c', 'choose the next version'],
  ['f', 'full image'],
];

/** A button with its keyboard shortcut: named in `aria-keyshortcuts` and shown as a hint after the label. */
function KeyButton(props: { id: string; class: string; keys: string; hint: string; children: string }) {
  return (
    <button type="button" id={props.id} class={props.class} aria-keyshortcuts={props.keys}>
      {props.children}{' '}
      <span class="key-hint" aria-hidden="true">
        {props.hint}
      </span>
    </button>
  );
}

/**
 * Review mode of one batch: flagged items first, then pending ones; a large preview, the prompt, the
 * QA checks, the versions side by side and the review. `review.js` fills it; a server without the
 * review routes shows only "not available".
 */
export function ReviewPage(props: { id: string }) {
  const batchHref = `${BASE}/batches/${props.id}`;
  return (
    <Layout title={`Review ${props.id}`} page="review" data={{ 'batch-id': props.id }}>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <ol>
          <li>
            <a href={BASE}>Batches</a>
          </li>
          <li>
            <a href={batchHref}>
              <code>{props.id}</code>
            </a>
          </li>
          <li aria-current="page">Review</li>
        </ol>
      </nav>

      <section id="not-found" class="notice-block" aria-labelledby="not-found-title" hidden>
        <h1 id="not-found-title">Batch not found</h1>
        <p>
          There is no batch <code>{props.id}</code> for this API key. It may belong to another tenant, or the
          id may be mistyped.
        </p>
        <p>
          <a href={BASE}>Back to your batches</a>
        </p>
      </section>
      <section id="review-unavailable" class="notice-block" aria-labelledby="unavailable-title" hidden>
        <h1 id="unavailable-title">Review not available</h1>
        <p>
          Review is not available on this server: it has no review routes. The batch's images are on{' '}
          <a href={batchHref}>its page</a>.
        </p>
      </section>
      <p id="load-error" class="notice notice-error" role="alert" hidden />

      <div id="review-view" hidden>
        <div class="page-head">
          <h1>
            Review <code class="batch-id">{props.id}</code>
          </h1>
          <span id="batch-status" class="badge" />
          <p class="live-indicator" id="live" />
        </div>

        <section class="panel review-progress" aria-labelledby="review-progress-title">
          <h2 id="review-progress-title" class="visually-hidden">
            Review progress
          </h2>
          <div class="progress-row">
            <progress id="review-bar" max={1} value={0} aria-labelledby="review-bar-label" />
            <span id="review-bar-label" class="progress-label" />
          </div>
          <div class="review-progress-foot">
            <ul class="review-counts" id="review-counts">
              <li>
                <span class="count-ok" data-review-count="approved" /> approved
              </li>
              <li>
                <span class="count-bad" data-review-count="rejected" /> rejected
              </li>
              <li>
                <span data-review-count="pending" /> pending
              </li>
              <li>
                <span class="count-warn" data-review-count="flagged" /> flagged by QA
              </li>
            </ul>
            <button type="button" id="bulk-approve" class="button">
              Approve all that passed QA
            </button>
          </div>
          <p id="review-truncated" class="muted small" hidden />
          <p id="review-status" class="action-status" role="status" />
        </section>

        <p id="review-empty" class="empty" hidden>
          This batch has no items.
        </p>

        <div class="review-layout" id="review-layout">
          <section id="review-item" class="panel review-item" aria-labelledby="review-item-title">
            <div class="review-head">
              <h2 id="review-item-title">Item</h2>
              <span id="review-item-status" class="badge" />
              <span id="review-item-qa" class="badge" />
              <span id="review-item-review" class="badge" />
              <span id="review-position" class="muted small review-position" />
            </div>

            <div class="toolbar review-actions" id="review-actions">
              <KeyButton id="review-approve" class="button button-ok" keys="a" hint="a">
                Approve
              </KeyButton>
              <KeyButton id="review-reject" class="button button-danger" keys="r" hint="r">
                Reject…
              </KeyButton>
              <KeyButton id="review-edit" class="button" keys="e" hint="e">
                Edit and regenerate…
              </KeyButton>
              <KeyButton id="review-prev" class="button button-quiet" keys="k ArrowLeft" hint="k">
                Previous
              </KeyButton>
              <KeyButton id="review-next" class="button button-quiet" keys="j ArrowRight" hint="j">
                Next
              </KeyButton>
            </div>

            <div class="review-body">
              <figure class="review-figure">
                <div id="review-preview" class="review-preview" />
                <figcaption class="review-caption">
                  <span id="review-caption" class="muted small" />
                  <KeyButton id="review-full" class="button button-small" keys="f" hint="f">
                    Show full image
                  </KeyButton>
                </figcaption>
              </figure>
              <div class="review-side">
                <h3 class="facts-title" id="review-prompt-title">
                  Prompt
                </h3>
                <p id="review-prompt" class="prompt" />
                <p id="review-error" class="notice notice-error" hidden />
                <h3 class="facts-title">Review</h3>
                <p id="review-state" class="review-state" />
                <h3 class="facts-title">QA checks</h3>
                <p id="review-checks-none" class="muted small" hidden>
                  No checks: no image of this version was checked.
                </p>
                <table class="checks-table" id="review-checks">
                  <caption class="visually-hidden">Automatic checks of the chosen images</caption>
                  <thead>
                    <tr>
                      <th scope="col" class="check-cell check-head">
                        Image
                      </th>
                      <th scope="col" class="check-cell check-head">
                        Check
                      </th>
                      <th scope="col" class="check-cell check-head">
                        Result
                      </th>
                      <th scope="col" class="check-cell check-head">
                        Measured
                      </th>
                    </tr>
                  </thead>
                  <tbody id="review-check-rows" />
                </table>
              </div>
            </div>

            <h3 class="facts-title">Versions</h3>
            <ol id="review-versions" class="versions" aria-label="Versions of this item" />
          </section>

          <section class="review-queue" aria-labelledby="queue-title">
            <h2 id="queue-title">Queue</h2>
            <p class="muted small">Flagged by QA first, then pending, then reviewed.</p>
            <ol id="review-queue" class="queue" />
          </section>
        </div>

        <section class="panel review-keys" aria-labelledby="keys-title">
          <h2 id="keys-title">Keyboard</h2>
          <dl class="keys-list">
            {shortcuts.map(([key, what]) => (
              <div>
                <dt>
                  <kbd>{key}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
          <label class="check">
            <input type="checkbox" id="shortcuts-on" checked /> Single-key shortcuts (off: buttons only)
          </label>
        </section>
      </div>

      <dialog id="reject-dialog" class="detail review-dialog" aria-labelledby="reject-title">
        <form id="reject-form" method="dialog">
          <div class="detail-head">
            <h2 id="reject-title">Reject</h2>
          </div>
          <div class="dialog-body">
            <label for="reject-note">Note (optional)</label>
            <input id="reject-note" name="note" type="text" maxlength={2000} autocomplete="off" />
            <p id="reject-error" class="field-error" role="alert" />
          </div>
          <div class="dialog-foot">
            <button type="submit" class="button button-danger" value="reject">
              Reject
            </button>
            <button type="button" class="button button-quiet" data-close>
              Cancel
            </button>
          </div>
        </form>
      </dialog>

      <dialog id="edit-dialog" class="detail review-dialog" aria-labelledby="edit-title">
        <form id="edit-form" method="dialog">
          <div class="detail-head">
            <h2 id="edit-title">Edit and regenerate</h2>
          </div>
          <div class="dialog-body">
            <label for="edit-prompt">Prompt</label>
            <textarea
              id="edit-prompt"
              name="prompt"
              rows={5}
              maxlength={32000}
              aria-describedby="edit-help"
            />
            <p id="edit-help" class="muted small">
              A new version of this item, generated and paid like any other. Ctrl+Enter regenerates.
            </p>
            <p id="edit-error" class="field-error" role="alert" />
          </div>
          <div class="dialog-foot">
            <button type="submit" class="button button-primary" value="regenerate">
              Regenerate
            </button>
            <button type="button" class="button button-quiet" data-close>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </Layout>
  );
}
