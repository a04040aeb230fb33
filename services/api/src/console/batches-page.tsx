/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { Layout } from './layout.js';

/** The tenant's batches, newest first; `batches.js` fills the rows and keeps them live. */
export function BatchesPage() {
  return (
    <Layout title="Batches" page="batches">
      <div class="page-head">
        <h1>Batches</h1>
        <p class="live-indicator" id="live" />
      </div>
      <p id="load-error" class="notice notice-error" role="alert" hidden />
      <div class="table-wrap">
        <table class="table" id="batches-table">
          <caption class="visually-hidden">Your batches, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">Status</th>
              <th scope="col" class="col-progress">
                Progress
              </th>
              <th scope="col">Items</th>
              <th scope="col" class="num">
                Spend / estimate
              </th>
              <th scope="col">Created</th>
              <th scope="col">Finished</th>
            </tr>
          </thead>
          <tbody id="batch-rows" />
        </table>
      </div>
      <p id="batches-empty" class="empty" hidden>
        No batches yet. Submit one with <code>POST /v1/batches</code>; it appears here at once.
      </p>
      <button type="button" id="batches-more" class="button" hidden>
        Load more batches
      </button>
    </Layout>
  );
}
