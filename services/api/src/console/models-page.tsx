/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { Layout } from './layout.js';

/**
 * The model registry as `GET /v1/models` returns it, with the live limiter state per key and the circuit
 * breaker when the server reports them (`rate_limits`); `models.js` lists any other field as text.
 */
export function ModelsPage() {
  return (
    <Layout title="Models" page="models">
      <div class="page-head">
        <h1>Models</h1>
        <p class="live-indicator" id="live" />
      </div>
      <p id="load-error" class="notice notice-error" role="alert" hidden />
      <div class="table-wrap">
        <table class="table models-table">
          <caption class="visually-hidden">
            Models, prices per image, declared limits, circuit state and each key's current usage
          </caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Provider</th>
              <th scope="col">Available</th>
              <th scope="col">Price per image</th>
              <th scope="col">Limits per key</th>
              <th scope="col">Circuit</th>
              <th scope="col">Keys now</th>
            </tr>
          </thead>
          <tbody id="model-rows" />
        </table>
      </div>
    </Layout>
  );
}
