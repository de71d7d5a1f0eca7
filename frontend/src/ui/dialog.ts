// An in-page modal form (<dialog>): a title, fields, a submit button with a busy state, "Cancelar", and an
// error line. Never window.confirm/prompt. Escape and "Cancelar" close it; the opener gets the focus back.

import { h, type Child } from '../dom';
import { errorMessage, fieldErrors } from '../errors';

export interface FormDialog {
  el: HTMLDialogElement;
  open(): void;
  close(): void;
  /** The message above the buttons (null clears it). */
  setError(message: string | null): void;
}

export interface FormDialogOptions {
  title: string;
  /** A line under the title (who and what). */
  subtitle?: string;
  fields: Child;
  submitLabel: string;
  busyLabel: string;
  /** Runs on submit; resolve to close, throw an API error to show it (field errors go to `showFieldErrors`). */
  submit: () => Promise<void>;
  /** Shows per-field messages of a validation_failed answer; returns whether any was shown. */
  showFieldErrors?: (errors: Record<string, string>) => boolean;
  /** Before each opening: reset the fields. */
  onOpen?: () => void;
}

/** Thrown by a `submit` that found the fields wrong before asking the API (they show their own messages). */
export class InvalidForm extends Error {
  constructor() {
    super('invalid form');
    this.name = 'InvalidForm';
  }
}

let dialogCounter = 0;

export function formDialog(opts: FormDialogOptions): FormDialog {
  dialogCounter += 1;
  const titleId = `dialogo-${dialogCounter}`;
  const error = h('p', { class: 'field-error dialog-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, opts.submitLabel);
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Cancelar');
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-form', novalidate: true },
    h('h2', { id: titleId }, opts.title),
    opts.subtitle ? h('p', { class: 'muted small' }, opts.subtitle) : null,
    opts.fields,
    error,
    h('div', { class: 'dialog-actions' }, submit, cancel),
  );
  const el = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
  let opener: Element | null = null;
  const setError = (message: string | null): void => {
    error.textContent = message ?? '';
  };
  const close = (): void => {
    if (el.open) el.close();
  };
  el.addEventListener('close', () => {
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
  });
  cancel.addEventListener('click', close);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setError(null);
    const original = submit.textContent;
    submit.disabled = true;
    submit.textContent = opts.busyLabel;
    opts.submit().then(
      () => {
        submit.disabled = false;
        submit.textContent = original;
        close();
      },
      (err: unknown) => {
        submit.disabled = false;
        submit.textContent = original;
        if (err instanceof InvalidForm) {
          setError('Corrija os campos indicados.');
          return;
        }
        const fields = fieldErrors(err);
        const shown = Object.keys(fields).length > 0 && (opts.showFieldErrors?.(fields) ?? false);
        setError(shown ? 'Corrija os campos indicados.' : errorMessage(err));
      },
    );
  });
  return {
    el,
    open() {
      opener = document.activeElement;
      setError(null);
      opts.onOpen?.();
      // inside <main>: it goes away with the screen
      if (!el.isConnected) (document.getElementById('conteudo') ?? document.body).append(el);
      el.showModal();
    },
    close,
    setError,
  };
}
