import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assetsDir } from './assets.js';
import { consoleRoutes } from './routes.js';

const app = consoleRoutes();

async function get(path: string) {
  const res = await app.request(path);
  return { res, text: await res.text() };
}

describe('console pages', () => {
  it('serves the batch list as an HTML shell with landmarks, the key form and a strict CSP', async () => {
    for (const path of ['/', '']) {
      const { res, text } = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(text.startsWith('<!doctype html>')).toBe(true);
      expect(text).toContain('<html lang="en">');
      expect(text).toContain('<main id="main"');
      expect(text).toContain('<nav aria-label="Console">');
      expect(text).toContain('<label for="api-key">API key</label>');
      expect(text).toMatch(/<input[^>]*id="api-key"[^>]*type="password"/);
      // Without JavaScript the form posts: the key never lands in a URL.
      expect(text).toMatch(/<form id="login-form" method="post"/);
      expect(text).toContain('data-page="batches"');
      expect(text).toContain('<script type="module" src="/console/assets/main.js">');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('renders a batch page for a well-formed id, with the gallery template and the detail dialog', async () => {
    const { res, text } = await get('/batches/batch_01JABC');
    expect(res.status).toBe(200);
    expect(text).toContain('data-batch-id="batch_01JABC"');
    expect(text).toContain('<dialog id="detail" class="detail" aria-labelledby="detail-title">');
    expect(text).toContain('<template id="card-template">');
    expect(text).toContain('<button type="button" class="card">');
    expect(text).toMatch(/<input type="radio" name="status" value="failed"/);
  });

  it('renders review mode for a batch: keyed buttons, the two dialogs, the "not available" notice', async () => {
    const { res, text } = await get('/batches/batch_01JABC/review');
    expect(res.status).toBe(200);
    expect(text).toContain('data-page="review"');
    expect(text).toContain('data-batch-id="batch_01JABC"');
    expect(text).toContain('href="/console/batches/batch_01JABC"');
    // The breadcrumb's "Batches" and the top navigation both lead back.
    expect(text).toContain('aria-current="page">Batches');
    for (const key of ['a', 'r', 'e', 'f']) expect(text).toContain(`aria-keyshortcuts="${key}"`);
    expect(text).toContain('<dialog id="reject-dialog"');
    expect(text).toContain('<dialog id="edit-dialog"');
    expect(text).toMatch(/<section id="review-unavailable"[^>]*hidden/);
    expect(text).toMatch(/<div id="review-view" hidden/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('answers 404 for an id that is not one, so nothing odd is ever echoed into the page', async () => {
    expect((await get('/batches/%3Cscript%3E')).res.status).toBe(404);
    expect((await get(`/batches/${'a'.repeat(101)}`)).res.status).toBe(404);
    expect((await get('/batches/%3Cscript%3E/review')).res.status).toBe(404);
  });

  it('serves the models page', async () => {
    const { res, text } = await get('/models');
    expect(res.status).toBe(200);
    expect(text).toContain('data-page="models"');
    expect(text).toContain('aria-current="page">Models');
  });
});

describe('console assets', () => {
  it('serves every browser file with its type, and nothing outside the asset table', async () => {
    const files = readdirSync(assetsDir);
    expect(files).toContain('main.js');
    expect(files).toContain('console.css');
    for (const name of files) {
      const { res } = await get(`/assets/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(
        name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/,
      );
    }
    expect((await get('/assets/routes.tsx')).res.status).toBe(404);
    expect((await get('/assets/..%2Froutes.tsx')).res.status).toBe(404);
  });

  it('has every module the scripts import (the browser loads them without a bundler)', () => {
    for (const name of readdirSync(assetsDir).filter((n) => n.endsWith('.js'))) {
      const source = readFileSync(join(assetsDir, name), 'utf8');
      for (const [, target] of source.matchAll(/(?:from|import\()\s*'\.\/([^']+)'/g)) {
        expect(readdirSync(assetsDir), `${name} imports ./${target}`).toContain(target);
      }
    }
  });

  it('never writes API text as HTML', () => {
    for (const name of readdirSync(assetsDir).filter((n) => n.endsWith('.js'))) {
      const source = readFileSync(join(assetsDir, name), 'utf8');
      expect(source, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });
});
