import { Hono } from 'hono';

/**
 * A self-contained reference page rendered in the browser from /openapi.json: no CDN, no bundle, so
 * it works on an air-gapped deployment. Each operation shows its summary, parameters, request body
 * and responses (schemas as JSON).
 */
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pixelmill API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 2rem;color:#222}
h1{margin-bottom:0}.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5em;font-weight:700;text-transform:uppercase}
.get{color:#0a7}.post{color:#07c}.delete{color:#c33}.put,.patch{color:#a60}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:24rem}
summary{cursor:pointer}
</style></head>
<body><h1>pixelmill API</h1><p>Rendered from <a href="/openapi.json">/openapi.json</a>.
Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p><div id="ops">Loading…</div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const json = (v) => '<pre>' + esc(JSON.stringify(v, null, 2)) + '</pre>';
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  document.querySelector('h1').textContent = (doc.info && doc.info.title || 'API') + ' ' + (doc.info && doc.info.version || '');
  const out = [];
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(ops)) {
      out.push('<div class="op"><details><summary><span class="m ' + esc(method) + '">' + esc(method) + '</span> <code>' + esc(path) + '</code> ' + esc(op.summary || '') + '</summary>');
      if (op.description) out.push('<p>' + esc(op.description) + '</p>');
      if (op.parameters && op.parameters.length) out.push('<h4>Parameters</h4>' + json(op.parameters));
      if (op.requestBody) out.push('<h4>Request body</h4>' + json(op.requestBody));
      if (op.responses) out.push('<h4>Responses</h4>' + json(op.responses));
      out.push('</details></div>');
    }
  }
  if (doc.components) out.push('<details><summary>Schemas</summary>' + json(doc.components) + '</details>');
  document.getElementById('ops').innerHTML = out.join('') || 'No operations.';
}).catch((e) => { document.getElementById('ops').textContent = 'Could not load /openapi.json: ' + e; });
</script></body></html>`;

export function docsRoutes(): Hono {
  const app = new Hono();
  app.get('/docs', (c) => c.html(page));
  return app;
}
