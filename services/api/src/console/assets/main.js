// Entry point of every console page: asks for the API key once per browser session, then starts the
// page's own module (named by <body data-page>).

import { ApiError, api, session } from './api.js';
import { $ } from './dom.js';

const pages = {
  batches: () => import('./batches.js'),
  batch: () => import('./batch.js'),
  review: () => import('./review.js'),
  models: () => import('./models.js'),
};

const login = $('#login');
const form = $('#login-form');
const input = $('#api-key');
const error = $('#login-error');
const content = $('#page');
const sessionBar = $('#session');

function showLogin(message = '') {
  content.hidden = true;
  sessionBar.hidden = true;
  login.hidden = false;
  error.textContent = message;
  input.setAttribute('aria-invalid', message ? 'true' : 'false');
  input.focus();
}

let started = false;

async function start() {
  // Signing in again after a rejected key: a fresh page rather than a second set of timers.
  if (started) {
    window.location.reload();
    return;
  }
  started = true;
  login.hidden = true;
  content.hidden = false;
  sessionBar.hidden = false;
  const load = pages[document.body.dataset.page];
  if (load) (await load()).start(content);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = input.value.trim();
  if (!key) {
    showLogin('Enter an API key.');
    return;
  }
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    // Any authenticated read tells whether the key is valid; this one is cheap.
    await api('/v1/batches?limit=1', { key });
    session.save(key);
    input.value = '';
    await start();
  } catch (err) {
    showLogin(
      err instanceof ApiError && err.status === 401
        ? 'That key was not accepted. Check it and try again.'
        : `Could not reach the API: ${err.message}`,
    );
  } finally {
    submit.disabled = false;
  }
});

$('#sign-out').addEventListener('click', () => {
  session.clear();
  // A fresh page drops every timer and every piece of tenant data that was on screen.
  window.location.reload();
});

window.addEventListener('console:unauthorized', () => {
  session.clear();
  showLogin('Your key is no longer accepted. Sign in again.');
});

if (session.key()) start();
else showLogin();
