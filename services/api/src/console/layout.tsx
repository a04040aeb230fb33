/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
// The pragmas above let tsx (which reads no tsconfig here) compile JSX with Hono's runtime too.
import type { Child } from 'hono/jsx';

/** Where app.ts mounts the console; links and asset URLs are absolute under it. */
export const BASE = '/console';

export type PageName = 'batches' | 'batch' | 'review' | 'models';

export interface LayoutProps {
  title: string;
  page: PageName;
  /** Extra `data-*` attributes for the body, read by the client script (e.g. the batch id). */
  data?: Record<string, string>;
  children?: Child;
}

/**
 * The shell of every console page: landmarks, the key form, and an empty `#page` the client script
 * fills from the JSON API. Pages carry no tenant data, so they need no key to be served.
 */
export function Layout(props: LayoutProps) {
  const data = Object.fromEntries(Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  const current = (page: PageName) =>
    props.page === page || (page === 'batches' && (props.page === 'batch' || props.page === 'review'))
      ? 'page'
      : undefined;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · pixelmill console`}</title>
        <link rel="stylesheet" href={`${BASE}/assets/console.css`} />
        <script type="module" src={`${BASE}/assets/main.js`} />
      </head>
      <body data-page={props.page} {...data}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href={BASE}>
            <span class="brand-mark" aria-hidden="true" />
            pixelmill <span class="brand-sub">console</span>
          </a>
          <nav aria-label="Console">
            <ul>
              <li>
                <a href={BASE} aria-current={current('batches')}>
                  Batches
                </a>
              </li>
              <li>
                <a href={`${BASE}/models`} aria-current={current('models')}>
                  Models
                </a>
              </li>
            </ul>
          </nav>
          <div class="session" id="session" hidden>
            <span class="session-state">Signed in</span>
            <button type="button" class="button button-quiet" id="sign-out">
              Sign out
            </button>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <noscript>
            <p class="notice">The console needs JavaScript: it reads the JSON API with your key.</p>
          </noscript>
          <KeyForm />
          <div id="page" hidden>
            {props.children}
          </div>
        </main>
        <footer class="footer">
          <a href="/docs">API reference</a> · <a href="/openapi.json">OpenAPI document</a>
        </footer>
      </body>
    </html>
  );
}

/** The API key is asked once and kept in sessionStorage by the client script; it never goes in a URL. */
function KeyForm() {
  return (
    <section id="login" class="login" aria-labelledby="login-title" hidden>
      <h1 id="login-title">Sign in with your API key</h1>
      <p class="muted">
        The key stays in this browser tab (session storage) and is sent only as an
        <code> Authorization</code> header to this server.
      </p>
      {/* POST, so that without JavaScript the key would never land in a URL or an access log. */}
      <form id="login-form" method="post" action={`${BASE}/`} novalidate>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api_key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby="login-error"
        />
        <p id="login-error" class="field-error" role="alert" />
        <button type="submit" class="button button-primary">
          Sign in
        </button>
      </form>
    </section>
  );
}
