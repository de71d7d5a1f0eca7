// Small shared pieces of UI: badges, loading / error / empty states, labelled fields, tables
// that become stacked cards on phones, lazy <details>, buttons with a busy state.

import { errorMessage } from '../errors';
import type { Tone } from '../format';
import { h, mount, uid, type Child } from '../dom';

export function badge(label: { text: string; tone: Tone }, extraClass = ''): HTMLElement {
  return h('span', { class: `badge tone-${label.tone} ${extraClass}`.trim() }, label.text);
}

export function loadingState(text = 'Carregando…'): HTMLElement {
  return h(
    'p',
    { class: 'state state-loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    text,
  );
}

export function errorState(err: unknown, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'state state-error', role: 'alert' },
    h('p', null, errorMessage(err)),
    retry ? h('button', { type: 'button', class: 'btn', on: { click: retry } }, 'Tentar de novo') : null,
  );
}

export function emptyState(text: string, hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'state state-empty', role: 'status' },
    h('p', { class: 'state-title' }, text),
    hint ? h('p', null, hint) : null,
  );
}

/** A notice line (success / error) that screen readers announce. */
export function notice(text: string, tone: 'ok' | 'bad' | 'info' = 'info'): HTMLElement {
  return h('p', { class: `notice tone-${tone}`, role: tone === 'bad' ? 'alert' : 'status' }, text);
}

export interface FieldParts {
  wrapper: HTMLElement;
  error: HTMLElement;
}

/** A <label> + control + hint + error slot, wired with for/id and aria-describedby. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): FieldParts {
  const id = control.id || uid('f');
  control.id = id;
  const errorId = `${id}-erro`;
  const hintId = `${id}-dica`;
  const error = h('p', { class: 'field-error', id: errorId, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null,
    error,
  );
  return { wrapper, error };
}

export function setFieldError(parts: FieldParts, control: HTMLElement, message: string | null): void {
  parts.error.textContent = message ?? '';
  if (message) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
}

export function select(name: string, options: [value: string, label: string][], value: string): HTMLSelectElement {
  const el = h(
    'select',
    { name },
    options.map(([v, text]) => h('option', { value: v }, text)),
  );
  el.value = value;
  return el;
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  className?: string;
}

/** A table whose cells carry data-label, so CSS can stack each row as a card on phones. */
export function table<T>(
  caption: string,
  columns: Column<T>[],
): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  const el = h(
    'table',
    { class: 'data-table' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)),
      ),
    ),
    body,
  );
  return { table: el, body };
}

export function tableRow<T>(columns: Column<T>[], row: T, attrs: Record<string, string> = {}): HTMLTableRowElement {
  // One wrapper per cell: on phones the td is a two-column grid (label, value).
  return h(
    'tr',
    attrs,
    columns.map((c) =>
      h('td', { 'data-label': c.label, class: c.className }, h('div', { class: 'cell' }, c.cell(row))),
    ),
  );
}

/** A <details> whose content is loaded the first time it is opened (and again after an error). */
export function lazyDetails(
  summary: Child,
  load: () => Promise<Node>,
  attrs: Record<string, string> = {},
): HTMLDetailsElement {
  const body = h('div', { class: 'details-body' });
  const details = h('details', attrs, h('summary', null, summary), body);
  let state: 'idle' | 'loading' | 'loaded' = 'idle';
  const run = (): void => {
    state = 'loading';
    mount(body, loadingState());
    load().then(
      (node) => {
        state = 'loaded';
        mount(body, node);
      },
      (err: unknown) => {
        state = 'idle';
        mount(body, errorState(err, run));
      },
    );
  };
  details.addEventListener('toggle', () => {
    if (details.open && state === 'idle') run();
  });
  return details;
}

/** Runs `action` with the button disabled and a busy label. */
export async function withBusy<T>(button: HTMLButtonElement, busyText: string, action: () => Promise<T>): Promise<T> {
  const original = button.textContent ?? '';
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = busyText;
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = original;
  }
}

/** A definition list from [term, description] pairs. */
export function definitions(pairs: [string, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'defs' },
    pairs.map(([term, desc]) => h('div', null, h('dt', null, term), h('dd', null, desc))),
  );
}

export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  ms: number,
): ((...args: A) => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wrapped = (...args: A): void => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = (): void => clearTimeout(timer);
  return wrapped;
}
