// /tratativas: every treatment, filtered by tipo / status ("Falhou" = pending with an error) /
// text / period; "Tentar novamente" on failed and dead ones; CSV export of the current filters.

import type { ApiClient } from '../api';
import { saveDownload } from '../csv';
import { h } from '../dom';
import { errorMessage } from '../errors';
import {
  treatmentApiFilters,
  treatmentFiltersFromQuery,
  treatmentFiltersToQuery,
  treatmentMatches,
  type TreatmentFilterState,
} from '../filters';
import {
  formatDateTime,
  formatRelative,
  TREATMENT_STATUS_FILTER_LABEL,
  treatmentKindLabel,
  treatmentState,
  treatmentStateLabel,
} from '../format';
import { treatmentErrorText } from '../labels';
import { TREATMENT_FILTER_STATUSES, TREATMENT_KINDS, type Treatment } from '../types';
import {
  badge,
  debounce,
  emptyState,
  field,
  loadingState,
  select,
  table,
  tableRow,
  withBusy,
  type Column,
} from '../ui/common';
import { liveIndicator } from '../ui/live';
import { domView, pagedList } from '../ui/paged-list';
import { customerLink, retryButton, treatmentDetailView } from '../ui/records';
import { Lifecycle, type ScreenFactory } from './screen';

const PAGE_SIZE = 50;

function columns(api: ApiClient, replace: (t: Treatment) => void): Column<Treatment>[] {
  return [
    {
      label: 'Criada',
      cell: (t) =>
        h(
          'span',
          null,
          h('time', { datetime: t.created_at }, formatDateTime(t.created_at)),
          h('span', { class: 'muted small block' }, formatRelative(t.created_at)),
        ),
    },
    { label: 'Tipo', cell: (t) => treatmentKindLabel(t.kind).text },
    {
      label: 'Status',
      cell: (t) => [
        badge(treatmentStateLabel(t)),
        t.attempts > 1 ? h('span', { class: 'small muted block' }, `${t.attempts} tentativas`) : null,
      ],
    },
    { label: 'Cliente', cell: (t) => h('span', { class: 'break' }, customerLink(t.customer_id, t.customer_email)) },
    {
      label: 'Saída / erro',
      cell: (t) =>
        h(
          'details',
          { class: 'cell-details' },
          h(
            'summary',
            null,
            t.last_error ? h('span', { class: 'text-bad' }, treatmentErrorText(t)) : (t.output ?? 'Ainda sem saída'),
          ),
          treatmentDetailView(t),
        ),
    },
    { label: 'Ações', cell: (t) => retryButton(api, t, replace) ?? '—' },
  ];
}

export const treatmentsScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const filters: TreatmentFilterState = treatmentFiltersFromQuery(route.query);
  const live = liveIndicator(ctx.stream);
  life.add(live.dispose);

  const kind = select(
    'tipo',
    [['', 'Todos'], ...TREATMENT_KINDS.map((k): [string, string] => [k, treatmentKindLabel(k).text])],
    filters.kind,
  );
  const statusSel = select(
    'status',
    [
      ['', 'Todos'],
      ...TREATMENT_FILTER_STATUSES.map((s): [string, string] => [s, TREATMENT_STATUS_FILTER_LABEL[s] ?? s]),
    ],
    filters.status,
  );
  const text = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'e-mail do cliente' });
  text.value = filters.q;
  const from = h('input', { type: 'date', name: 'de' });
  from.value = filters.from;
  const to = h('input', { type: 'date', name: 'ate' });
  to.value = filters.to;
  const clear = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Limpar filtros');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filtrar tratativas' },
    field('Tipo', kind).wrapper,
    field('Status', statusSel).wrapper,
    field('De', from).wrapper,
    field('Até', to).wrapper,
    field('Texto', text).wrapper,
    h('div', { class: 'filters-actions' }, clear),
  );

  const exportBtn = h('button', { type: 'button', class: 'btn' }, 'Exportar CSV');
  const exportStatus = h('span', { class: 'action-status', role: 'status' });
  const status = h('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const area = h('div', { class: 'results-area' }, loadingState());
  const more = h('button', { type: 'button', class: 'btn' }, 'Carregar mais');
  more.hidden = true;

  const row = (t: Treatment): HTMLTableRowElement =>
    tableRow(cols, t, { 'data-id': t.id, 'data-status': treatmentState(t) });
  /** Puts a newer version of a treatment in place (after a retry, or from the live stream). */
  const replace = (t: Treatment): void => void list.replace(t);
  function onLive(t: Treatment): void {
    if (list.replace(t) || !treatmentMatches(t, filters)) return;
    list.prepend(t);
  }
  const cols = columns(ctx.api, replace);
  const { table: tableEl, body } = table('Tratativas, da mais recente à mais antiga', cols);

  const list = pagedList<Treatment>({
    fetch: (cursor) => ctx.api.treatments({ ...treatmentApiFilters(filters), limit: PAGE_SIZE, cursor }),
    key: (t) => t.id,
    alive: () => life.alive,
    wrapMore: (request) => withBusy(more, 'Carregando…', request),
    view: domView({
      area,
      status,
      more,
      list: tableEl,
      items: body,
      element: row,
      empty: () => emptyState('Nenhuma tratativa encontrada', 'Ajuste os filtros.'),
      emptyText: 'Nenhuma tratativa encontrada.',
      summary: (count, hasMore) => `${count} tratativa(s)${hasMore ? ' — há mais' : ''}.`,
    }),
  });
  const load = (): void => {
    ctx.router.replaceQuery(treatmentFiltersToQuery(filters));
    list.reload();
  };

  const apply = (): void => {
    filters.kind = kind.value;
    filters.status = statusSel.value;
    filters.from = from.value;
    filters.to = to.value;
    filters.q = text.value.trim();
    load();
  };
  const debouncedApply = debounce(apply, 300);
  life.add(debouncedApply.cancel);
  for (const control of [kind, statusSel, from, to]) control.addEventListener('change', apply);
  text.addEventListener('input', debouncedApply);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    debouncedApply.cancel();
    apply();
  });
  clear.addEventListener('click', () => {
    kind.value = statusSel.value = from.value = to.value = text.value = '';
    apply();
  });
  more.addEventListener('click', () => list.loadMore());
  exportBtn.addEventListener('click', () => {
    exportStatus.textContent = '';
    withBusy(exportBtn, 'Exportando…', () => ctx.api.treatmentsCsv(treatmentApiFilters(filters))).then(
      (file) => {
        saveDownload(file);
        exportStatus.textContent = `Arquivo ${file.filename} baixado.`;
      },
      (err: unknown) => (exportStatus.textContent = errorMessage(err)),
    );
  });
  life.add(
    ctx.stream.subscribe((m) => {
      if (m.type === 'treatment') onLive(m.treatment);
    }),
  );
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h(
      'div',
      { class: 'screen-head' },
      h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Tratativas'), live.el),
      h('div', { class: 'toolbar' }, exportBtn, exportStatus),
    ),
    h(
      'p',
      { class: 'muted' },
      'O que a Portaria decidiu fazer para cada cliente (liberar acesso, mensagens, revogar…) e como foi a execução.',
    ),
    form,
    status,
    area,
    h('div', { class: 'more' }, more),
  );
  return { title: 'Tratativas', el, dispose: life.dispose };
};
