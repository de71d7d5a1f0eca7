// An in-page confirmation (<dialog>, never window.confirm): a question, "Cancelar" and the action's button.
// The action runs inside the dialog: it stays open (buttons busy) until the API answers, shows a failure in
// Portuguese and lets the user try again or cancel; it closes on success.

import { h, type Child } from '../dom';
import { errorMessage } from '../errors';
import { notice, withBusy } from './common';

export interface ConfirmOptions<T> {
  title: string;
  body: Child;
  /** The confirming button's text, e.g. "Desativar". */
  confirmLabel: string;
  busyLabel?: string;
  /** A destructive action: the button is red. */
  danger?: boolean;
  action: () => Promise<T>;
}

/** Opens the dialog; resolves with the action's result, or null when it was canceled. */
export function confirmDialog<T>(o: ConfirmOptions<T>): Promise<T | null> {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const error = h('div', { class: 'dialog-error' });
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Cancelar');
  const confirm = h(
    'button',
    { type: 'button', class: `btn ${o.danger ? 'btn-danger' : 'btn-primary'}` },
    o.confirmLabel,
  );
  const dialog = h(
    'dialog',
    { class: 'confirm-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, o.title),
    h('div', { class: 'dialog-body' }, o.body),
    error,
    h('div', { class: 'dialog-actions' }, cancel, confirm),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let result: T | null = null;
    let busy = false;
    dialog.addEventListener('cancel', (e) => {
      if (busy) e.preventDefault(); // Escape while the request runs: wait for the answer
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => {
      busy = true;
      cancel.disabled = true;
      error.replaceChildren();
      withBusy(confirm, o.busyLabel ?? 'Aguarde…', o.action).then(
        (value) => {
          result = value;
          busy = false;
          dialog.close();
        },
        (err: unknown) => {
          busy = false;
          cancel.disabled = false;
          error.replaceChildren(notice(errorMessage(err), 'bad'));
          confirm.focus();
        },
      );
    });
    dialog.showModal();
    cancel.focus();
  });
}

/** Closes every open confirmation (the screen is going away: a sign-out, a navigation). */
export function closeConfirmDialogs(): void {
  for (const d of document.querySelectorAll<HTMLDialogElement>('dialog.confirm-dialog')) d.close();
}
