/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { BASE, Layout } from './layout.js';

/** Item statuses offered as gallery filters; the client hides those the batch's counts do not know. */
const filters = ['succeeded', 'failed', 'running', 'queued', 'cancelled', 'expired'] as const;

/**
 * One batch: summary, actions, the thumbnail gallery with its detail dialog, and the webhook log.
 * Everything tenant-specific is fetched by `batch.js`; another tenant's id shows "not found".
 */
export function BatchPage(props: { id: string }) {
  return (
    <Layout title={`Batch ${props.id}`} page="batch" data={{ 'batch-id': props.id }}>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <ol>
          <li>
            <a href={BASE}>Batches</a>
          </li>
          <li aria-current="page">
            <code>{props.id}</code>
          </li>
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
      <p id="load-error" class="notice notice-error" role="alert" hidden />

      <div id="batch-view" hidden>
        <div class="page-head">
          <h1>
            Batch <code class="batch-id">{props.id}</code>
          </h1>
          <span id="batch-status" class="badge" />
          <p class="live-indicator" id="live" />
        </div>

        <section class="panel summary" aria-labelledby="summary-title">
          <h2 id="summary-title" class="visually-hidden">
            Summary
          </h2>
          <div class="progress-row">
            <progress id="batch-progress" max={1} value={0} aria-labelledby="progress-label" />
            <span id="progress-label" class="progress-label" />
          </div>
          <dl class="stats" id="batch-stats" />
        </section>

        <section class="actions" aria-labelledby="actions-title">
          <h2 id="actions-title" class="visually-hidden">
            Actions
          </h2>
          <div class="toolbar">
            <button type="button" id="action-cancel" class="button button-danger" hidden>
              Cancel batch
            </button>
            <button type="button" id="action-retry" class="button" hidden>
              Retry failed items
            </button>
            <button type="button" id="action-results" class="button" hidden>
              Download results.csv
            </button>
            <a
              id="action-review"
              class="button button-primary"
              href={`${BASE}/batches/${props.id}/review`}
              hidden
            >
              Review images
            </a>
          </div>
          <p id="action-status" class="action-status" role="status" />
          <p id="actions-unavailable" class="muted small" hidden />
        </section>

        <section class="gallery-section" aria-labelledby="gallery-title">
          <div class="section-head">
            <h2 id="gallery-title">Images</h2>
            <fieldset class="filters" id="filters">
              <legend class="visually-hidden">Show items</legend>
              <label class="filter">
                <input type="radio" name="status" value="" checked />
                <span class="filter-pill">
                  All <span class="filter-count" data-count="total" />
                </span>
              </label>
              {filters.map((s) => (
                <label class="filter" data-filter={s}>
                  <input type="radio" name="status" value={s} />
                  <span class="filter-pill">
                    {s[0]?.toUpperCase() + s.slice(1)} <span class="filter-count" data-count={s} />
                  </span>
                </label>
              ))}
            </fieldset>
          </div>
          <p id="gallery-status" class="muted small" role="status" />
          <ul id="gallery" class="gallery" aria-labelledby="gallery-title" />
          <button type="button" id="gallery-more" class="button" hidden>
            Load more images
          </button>
          <template id="card-template">
            <li class="gallery-item">
              <button type="button" class="card">
                <span class="card-thumb">
                  <img alt="" loading="lazy" decoding="async" hidden />
                  <span class="card-placeholder" />
                </span>{' '}
                <span class="card-meta">
                  {/* The space keeps the visible text "id status" equal to the accessible name. */}
                  <span class="card-title" /> <span class="badge" />
                </span>
              </button>
            </li>
          </template>
        </section>

        <section class="deliveries-section" aria-labelledby="deliveries-title">
          <h2 id="deliveries-title">Webhook deliveries</h2>
          <p id="deliveries-empty" class="empty" hidden>
            No webhook deliveries for this batch yet.
          </p>
          <div class="table-wrap" id="deliveries-wrap" hidden>
            <table class="table">
              <caption class="visually-hidden">Webhook deliveries and their attempts</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Next attempt</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody id="delivery-rows" />
            </table>
          </div>
          <p id="delivery-status" class="action-status" role="status" />
        </section>
      </div>

      <dialog id="detail" class="detail" aria-labelledby="detail-title">
        <div class="detail-head">
          <h2 id="detail-title">Item</h2>
          <span id="detail-status" class="badge" />
          <button type="button" id="detail-close" class="button button-quiet detail-close">
            Close
          </button>
        </div>
        <div class="detail-body">
          <figure class="detail-figure">
            <img id="detail-image" alt="" hidden />
            <p id="detail-noimage" class="detail-noimage" hidden />
            <figcaption id="detail-caption" class="muted small" />
          </figure>
          <div class="detail-side">
            <fieldset id="detail-outputs" class="outputs" hidden>
              <legend class="visually-hidden">Images of this item</legend>
              <div id="detail-output-buttons" class="output-buttons" />
            </fieldset>
            <h3 class="facts-title">Prompt</h3>
            <p id="detail-prompt" class="prompt" />
            <p id="detail-error" class="notice notice-error" hidden />
            <dl id="detail-facts" class="facts" />
            {/* The link to the original (a presigned bucket URL) is added by detail.js. */}
            <p id="detail-links" />
          </div>
        </div>
      </dialog>
    </Layout>
  );
}
