// The two small forms of review mode, each a native modal <dialog>: a note when rejecting, the prompt
// when regenerating. Focus goes to the field, Escape or Cancel closes, focus returns where it was; an
// error of the API stays in the dialog so the text typed is not lost.

import { $ } from './dom.js';

/**
 * `open({ title, value, submit })`: `submit(value)` runs on Enter (Ctrl+Enter in a textarea) or the
 * submit button; the dialog closes when it resolves and shows its message when it throws.
 */
export function createFormDialog(dialogSelector) {
  const dialog = $(dialogSelector);
  const form = $('form', dialog);
  const field = $('input, textarea', form);
  const heading = $('h2', dialog);
  const error = $('.field-error', dialog);
  const submitButton = $('button[type="submit"]', form);
  let current = null;
  let returnTo = null;

  $('[data-close]', form).addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    current = null;
    returnTo?.focus();
  });
  if (field.tagName === 'TEXTAREA') {
    field.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current) return;
    submitButton.disabled = true;
    error.textContent = '';
    field.removeAttribute('aria-invalid');
    try {
      await current.submit(field.value);
      dialog.close();
    } catch (err) {
      error.textContent = err.message;
      field.setAttribute('aria-invalid', 'true');
    } finally {
      submitButton.disabled = false;
    }
  });

  return {
    open({ title, value = '', submit }) {
      current = { submit };
      returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      heading.textContent = title;
      field.value = value;
      error.textContent = '';
      field.removeAttribute('aria-invalid');
      dialog.showModal();
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
    },
    isOpen: () => dialog.open,
  };
}
