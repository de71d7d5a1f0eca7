// /eventos: the webhook log. Filters in the URL, "Carregar mais", live updates at the top,
// the raw payload per event and "Reprocessar" with an inline confirmation.

import type { ApiClient } from '../api';
import { h, mount } from '../dom';
import {
  eventApiFilters,
  eventFiltersFromQuery,
  eventFiltersToQuery,
  eventMatches,
  type EventFilterState,
} from '../filters';
import {
  eventKindText,
  formatDateTimeSeconds,
  formatLatency,
  formatRelative,
  outcomeLabel,
  sourceLabel,
} from '../format';
import { noteText, rejectionText } from '../labels';
import { OUTCOMES, SOURCES, type EventSummary } from '../types';
import {
  badge,
  debounce,
  emptyState,
  errorState,
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
import { customerLink, eventDetailView, replayControl } from '../ui/records';
import { Lifecycle, type ScreenFactory } from './screen';

const PAGE_SIZE = 50;

function columns(
  api: ApiClient,
  toggle: (e: EventSummary, button: HTMLButtonElement) => void,
  prepend: (id: string) => void,
): Column<EventSummary>[] {
  return [
    {
      label: 'Recebido',
      cell: (e) =>
        h(
          'span',
          null,
          h('time', { datetime: e.received_at }, formatDateTimeSeconds(e.received_at)),
          h('span', { class: 'muted small block' }, formatRelative(e.received_at)),
        ),
    },
    { label: 'Origem', cell: (e) => sourceLabel(e.source).text },
    {
      label: 'Resultado',
      cell: (e) => [
        badge(outcomeLabel(e.outcome)),
        e.error ? h('span', { class: 'small text-bad block' }, rejectionText(e.outcome, e.error)) : null,
        e.note ? h('span', { class: 'small muted block' }, noteText(e.note)) : null,
      ],
    },
    { label: 'Tipo', cell: (e) => eventKindText(e) ?? '—' },
    { label: 'Cliente', cell: (e) => h('span', { class: 'break' }, customerLink(e.customer_id, e.customer_email)) },
    { label: 'Latência', cell: (e) => formatLatency(e.latency_ms), className: 'num' },
    {
      label: 'Ações',
      cell: (e) => {
        const button = h(
          'button',
          { type: 'button', class: 'btn btn-small btn-ghost', 'aria-expanded': 'false' },
          'Ver corpo',
        );
        button.addEventListener('click', () => toggle(e, button));
        return h(
          'span',
          { class: 'actions' },
          button,
          replayControl(api, e.id, (r) => prepend(r.event_id)),
        );
      },
    },
  ];
}

export const eventsScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const filters: EventFilterState = eventFiltersFromQuery(route.query);
  const live = liveIndicator(ctx.stream);
  life.add(live.dispose);

  // --- filters form
  const source = select(
    'origem',
    [['', 'Todas'], ...SOURCES.map((s): [string, string] => [s, sourceLabel(s).text])],
    filters.source,
  );
  const outcome = select(
    'resultado',
    [['', 'Todos'], ...OUTCOMES.map((o): [string, string] => [o, outcomeLabel(o).text])],
    filters.outcome,
  );
  const from = h('input', { type: 'date', name: 'de' });
  from.value = filters.from;
  const to = h('input', { type: 'date', name: 'ate' });
  to.value = filters.to;
  const text = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'e-mail ou texto do corpo' });
  text.value = filters.q;
  const clear = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Limpar filtros');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filtrar eventos' },
    field('Origem', source).wrapper,
    field('Resultado', outcome).wrapper,
    field('De', from).wrapper,
    field('Até', to).wrapper,
    field('Texto', text).wrapper,
    h('div', { class: 'filters-actions' }, clear),
  );

  // --- list
  const status = h('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const area = h('div', { class: 'results-area' }, loadingState());
  const more = h('button', { type: 'button', class: 'btn' }, 'Carregar mais');
  more.hidden = true;

  const toggle = (e: EventSummary, button: HTMLButtonElement): void => {
    const row = button.closest('tr');
    const next = row?.nextElementSibling;
    if (next?.classList.contains('detail-row')) {
      next.remove();
      button.setAttribute('aria-expanded', 'false');
      button.textContent = 'Ver corpo';
      return;
    }
    const cell = h('td', { colspan: '7' }, loadingState());
    row?.after(h('tr', { class: 'detail-row' }, cell));
    button.setAttribute('aria-expanded', 'true');
    button.textContent = 'Ocultar corpo';
    ctx.api.event(e.id).then(
      (d) => mount(cell, eventDetailView(d)),
      (err: unknown) => mount(cell, errorState(err)),
    );
  };

  function addNew(e: EventSummary): void {
    if (!eventMatches(e, filters) || !list.prepend(e)) return;
    status.textContent = `Novo evento recebido: ${sourceLabel(e.source).text}, ${outcomeLabel(e.outcome).text}.`;
  }
  /** After a replay: fetch the new event and show it at the top (the stream may bring it too). */
  function prependById(id: string): void {
    ctx.api.event(id).then(
      (d) => life.alive && addNew(d),
      () => undefined,
    );
  }
  const cols = columns(ctx.api, toggle, prependById);
  const { table: tableEl, body } = table('Eventos de webhook, do mais recente ao mais antigo', cols);

  const list = pagedList<EventSummary>({
    fetch: (cursor) => ctx.api.events({ ...eventApiFilters(filters), limit: PAGE_SIZE, cursor }),
    key: (e) => e.id,
    alive: () => life.alive,
    wrapMore: (request) => withBusy(more, 'Carregando…', request),
    view: domView({
      area,
      status,
      more,
      list: tableEl,
      items: body,
      element: (e) => tableRow(cols, e, { 'data-id': e.id }),
      empty: () =>
        emptyState('Nenhum evento encontrado', 'Ajuste os filtros ou aguarde: novos webhooks aparecem aqui ao vivo.'),
      emptyText: 'Nenhum evento encontrado.',
      summary: (count, hasMore) => `${count} evento(s)${hasMore ? ' — há mais' : ''}.`,
    }),
  });
  const load = (): void => {
    ctx.router.replaceQuery(eventFiltersToQuery(filters));
    list.reload();
  };

  const apply = (): void => {
    filters.source = source.value;
    filters.outcome = outcome.value;
    filters.from = from.value;
    filters.to = to.value;
    filters.q = text.value.trim();
    load();
  };
  const debouncedApply = debounce(apply, 300);
  life.add(debouncedApply.cancel);
  for (const control of [source, outcome, from, to]) control.addEventListener('change', apply);
  text.addEventListener('input', debouncedApply);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    debouncedApply.cancel();
    apply();
  });
  clear.addEventListener('click', () => {
    source.value = outcome.value = from.value = to.value = text.value = '';
    apply();
  });
  more.addEventListener('click', () => list.loadMore());

  life.add(
    ctx.stream.subscribe((m) => {
      if (m.type === 'webhook_event') addNew(m.event);
    }),
  );
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h(
      'div',
      { class: 'screen-head' },
      h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Eventos'), live.el),
    ),
    h(
      'p',
      { class: 'muted' },
      'Todos os webhooks recebidos, do mais recente ao mais antigo. Novos eventos aparecem no topo sem recarregar.',
    ),
    form,
    status,
    area,
    h('div', { class: 'more' }, more),
  );
  return { title: 'Eventos', el, dispose: life.dispose };
};
