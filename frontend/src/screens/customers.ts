// /clientes?q=: search as you type (e-mail, nome, CPF), keyboard navigation, "Carregar mais",
// CSV export of the current search.

import { saveDownload } from '../csv';
import { h } from '../dom';
import { errorMessage } from '../errors';
import { accessLabel, enrollmentLabel, formatDocument, formatNumber, formatRelative } from '../format';
import { routeUrl } from '../router';
import type { CustomerSummary } from '../types';
import { badge, debounce, emptyState, field, withBusy } from '../ui/common';
import { domView, pagedList } from '../ui/paged-list';
import { Lifecycle, type ScreenFactory } from './screen';

export const SEARCH_DEBOUNCE_MS = 250;
const PAGE_SIZE = 20;

function resultItem(c: CustomerSummary): HTMLElement {
  const name = c.name?.trim() ? c.name : null;
  return h(
    'li',
    null,
    h(
      'a',
      { class: 'result', href: routeUrl('customer', { id: c.id }), 'data-id': c.id },
      h(
        'span',
        { class: 'result-main' },
        h('span', { class: 'result-name' }, name ?? c.email),
        name ? h('span', { class: 'result-email' }, c.email) : null,
        h(
          'span',
          { class: 'result-meta' },
          c.document ? `CPF ${formatDocument(c.document)}` : null,
          c.document && c.last_activity_at ? ' · ' : null,
          c.last_activity_at ? `atividade ${formatRelative(c.last_activity_at)}` : null,
        ),
      ),
      h(
        'span',
        { class: 'result-badges' },
        badge(accessLabel(c.access)),
        c.enrollments.map((e) => h('span', { class: 'course' }, `${e.course_name}: ${enrollmentLabel(e.status).text}`)),
      ),
    ),
  );
}

/** Arrow keys move between the input and the results; Enter follows the focused link. */
function keyboardNavigation(input: HTMLInputElement, list: HTMLElement): void {
  const links = (): HTMLAnchorElement[] => Array.from(list.querySelectorAll<HTMLAnchorElement>('a.result'));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      const first = links()[0];
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  list.addEventListener('keydown', (e) => {
    const all = links();
    const i = all.indexOf(document.activeElement as HTMLAnchorElement);
    if (i === -1) return;
    let target: HTMLElement | undefined;
    if (e.key === 'ArrowDown') target = all[Math.min(all.length - 1, i + 1)];
    else if (e.key === 'ArrowUp') target = i === 0 ? input : all[i - 1];
    else if (e.key === 'Home') target = all[0];
    else if (e.key === 'End') target = all[all.length - 1];
    else if (e.key === 'Escape') target = input;
    if (target) {
      e.preventDefault();
      target.focus();
    }
  });
}

export const customersScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const input = h('input', {
    type: 'search',
    name: 'q',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'ex.: maria@email.com ou 123.456.789-01',
    'aria-controls': 'resultados-clientes',
  });
  input.value = route.query.get('q') ?? '';
  const searchField = field(
    'Buscar por e-mail, nome ou CPF',
    input,
    'Os resultados aparecem enquanto você digita. Use ↓ e ↑ para navegar e Enter para abrir.',
  );
  const status = h('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'results', id: 'resultados-clientes', 'aria-label': 'Clientes encontrados' });
  const results = h('div', { class: 'results-area' });
  const more = h('button', { type: 'button', class: 'btn' }, 'Carregar mais');
  more.hidden = true;
  const exportBtn = h('button', { type: 'button', class: 'btn' }, 'Exportar CSV');
  const exportStatus = h('span', { class: 'action-status', role: 'status' });
  keyboardNavigation(input, list);

  /** The search being shown: set when a fresh search starts, kept by "Carregar mais". */
  let q = '';
  const pages = pagedList<CustomerSummary>({
    fetch: (cursor) => ctx.api.customers({ q, limit: PAGE_SIZE, cursor }),
    key: (c) => c.id,
    alive: () => life.alive,
    wrapMore: (request) => withBusy(more, 'Carregando…', request),
    view: domView({
      area: results,
      status,
      more,
      list,
      items: list,
      element: resultItem,
      empty: () =>
        emptyState(
          'Nenhum cliente encontrado',
          q ? 'Confira a grafia ou busque por outra parte do e-mail, do nome ou do CPF.' : 'Ainda não há clientes.',
        ),
      emptyText: 'Nenhum cliente encontrado.',
      summary: (count, hasMore) => {
        const label = q
          ? `${formatNumber(count)} cliente(s) para “${q}”`
          : `${formatNumber(count)} cliente(s) com atividade recente`;
        return hasMore ? `${label} — há mais.` : `${label}.`;
      },
      loadingText: 'Buscando…',
    }),
  });
  const search = (): void => {
    q = input.value.trim();
    ctx.router.replaceQuery({ q });
    pages.reload();
  };

  const debounced = debounce(() => search(), SEARCH_DEBOUNCE_MS);
  life.add(debounced.cancel);
  input.addEventListener('input', debounced);
  more.addEventListener('click', () => pages.loadMore());
  exportBtn.addEventListener('click', () => {
    exportStatus.textContent = '';
    withBusy(exportBtn, 'Exportando…', () => ctx.api.customersCsv(input.value.trim())).then(
      (file) => {
        saveDownload(file);
        exportStatus.textContent = `Arquivo ${file.filename} baixado.`;
      },
      (err: unknown) => (exportStatus.textContent = errorMessage(err)),
    );
  });

  const form = h(
    'form',
    { role: 'search', class: 'search-form', 'aria-label': 'Buscar clientes' },
    searchField.wrapper,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    debounced.cancel();
    search();
  });

  search();

  const el = h(
    'section',
    { class: 'screen' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { tabindex: '-1' }, 'Clientes'),
      h('div', { class: 'toolbar' }, exportBtn, exportStatus),
    ),
    form,
    status,
    results,
    h('div', { class: 'more' }, more),
  );
  return { title: 'Clientes', el, dispose: life.dispose, focus: input };
};
