// /auditoria (administrators): every audited staff action, newest first — who, what, on which target, why,
// and what changed — filtered by pessoa, ação and período (in the URL), "Carregar mais" by cursor.

import {
  auditApiFilters,
  auditChanges,
  auditDetails,
  auditFiltersFromQuery,
  auditFiltersToQuery,
  type AuditFilterState,
  type AuditLine,
} from '../audit-view';
import { h, type Child } from '../dom';
import { formatDateTime, formatRelative } from '../format';
import { AUDIT_ACTION_LABELS, auditActionText, auditTargetText } from '../labels';
import { routeUrl } from '../router';
import type { AuditEntry } from '../types';
import { emptyState, field, loadingState, select, table, tableRow, withBusy, type Column } from '../ui/common';
import { domView, pagedList } from '../ui/paged-list';
import { Lifecycle, type ScreenFactory } from './screen';

const PAGE_SIZE = 50;

function target(e: AuditEntry): Child {
  const kind = auditTargetText(e.target.type);
  if (!e.target.id) return kind;
  const name = e.target.label ?? `#${e.target.id}`;
  const text = e.target.label ? `${kind}: ${name}` : `${kind} ${name}`;
  if (e.target.type === 'customer') return h('a', { href: routeUrl('customer', { id: e.target.id }) }, text);
  return h('span', { class: 'break' }, text);
}

function lines(items: AuditLine[], withBefore: boolean): HTMLElement {
  return h(
    'ul',
    { class: 'plain audit-changes' },
    items.map((l) =>
      h(
        'li',
        { 'data-field': l.key },
        l.label
          ? h('span', { class: 'audit-field' }, `${l.label}: `)
          : h('code', { class: 'audit-field' }, `${l.key}: `),
        withBefore && l.before !== null
          ? [h('span', { class: 'audit-before' }, l.before), h('span', { 'aria-label': 'passou a' }, ' → ')]
          : null,
        h('span', { class: 'audit-after' }, l.after),
      ),
    ),
  );
}

function changes(e: AuditEntry): Child {
  const changed = auditChanges(e);
  const details = auditDetails(e);
  if (!changed.length && !details.length) return h('span', { class: 'muted' }, '—');
  return [changed.length ? lines(changed, true) : null, details.length ? lines(details, false) : null];
}

const columns: Column<AuditEntry>[] = [
  {
    label: 'Quando',
    cell: (e) =>
      h(
        'span',
        null,
        h('time', { datetime: e.created_at }, formatDateTime(e.created_at)),
        h('span', { class: 'muted small block' }, formatRelative(e.created_at)),
      ),
  },
  {
    label: 'Pessoa',
    cell: (e) =>
      e.actor
        ? h(
            'span',
            { class: 'audit-actor' },
            e.actor.name,
            h('span', { class: 'muted small block break' }, e.actor.email),
          )
        : h('span', { class: 'muted' }, 'Conta removida'),
  },
  { label: 'Ação', cell: (e) => auditActionText(e.action) },
  { label: 'Alvo', cell: target },
  {
    label: 'Motivo',
    cell: (e) => (e.reason ? h('span', { class: 'break' }, e.reason) : h('span', { class: 'muted' }, '—')),
  },
  { label: 'Alterações', cell: changes },
];

export const auditScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const filters: AuditFilterState = auditFiltersFromQuery(route.query);

  const actor = select('pessoa', [['', 'Todas']], '');
  const action = select(
    'acao',
    [['', 'Todas'], ...Object.entries(AUDIT_ACTION_LABELS).map(([code, text]): [string, string] => [code, text])],
    filters.action,
  );
  const from = h('input', { type: 'date', name: 'de' });
  from.value = filters.from;
  const to = h('input', { type: 'date', name: 'ate' });
  to.value = filters.to;
  const clear = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Limpar filtros');
  const targetNote = h('p', { class: 'muted small' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filtrar auditoria' },
    field('Pessoa', actor).wrapper,
    field('Ação', action).wrapper,
    field('De', from).wrapper,
    field('Até', to).wrapper,
    h('div', { class: 'filters-actions' }, clear),
  );

  // The people of the filter: the team (an actor in the URL that is not listed is kept as "Pessoa #id").
  const fillPeople = (people: [string, string][]): void => {
    const options: [string, string][] = [['', 'Todas'], ...people];
    if (filters.actor && !people.some(([v]) => v === filters.actor))
      options.push([filters.actor, `Pessoa #${filters.actor}`]);
    actor.replaceChildren(...options.map(([v, text]) => h('option', { value: v }, text)));
    actor.value = filters.actor;
  };
  fillPeople([]);
  ctx.api.users().then(
    (list) => {
      if (life.alive) fillPeople(list.items.map((u): [string, string] => [u.id, `${u.name} (${u.email})`]));
    },
    () => undefined, // the list itself says what went wrong
  );

  const status = h('p', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const area = h('div', { class: 'results-area' }, loadingState());
  const more = h('button', { type: 'button', class: 'btn' }, 'Carregar mais');
  more.hidden = true;
  const { table: tableEl, body } = table('Ações da equipe, da mais recente à mais antiga', columns);
  const list = pagedList<AuditEntry>({
    fetch: (cursor) => ctx.api.audit({ ...auditApiFilters(filters), limit: PAGE_SIZE, cursor }),
    key: (e) => e.id,
    alive: () => life.alive,
    wrapMore: (request) => withBusy(more, 'Carregando…', request),
    view: domView({
      area,
      status,
      more,
      list: tableEl,
      items: body,
      element: (e) => tableRow(columns, e, { 'data-id': e.id, 'data-action': e.action }),
      empty: () => emptyState('Nenhuma ação registrada', 'Ajuste os filtros.'),
      emptyText: 'Nenhuma ação registrada.',
      summary: (count, hasMore) => `${count} ação(ões)${hasMore ? ' — há mais' : ''}.`,
    }),
  });

  const showTarget = (): void => {
    targetNote.textContent =
      filters.targetType && filters.targetId
        ? `Somente ${auditTargetText(filters.targetType).toLowerCase()} #${filters.targetId}.`
        : '';
  };
  const load = (): void => {
    showTarget();
    ctx.router.replaceQuery(auditFiltersToQuery(filters));
    list.reload();
  };
  const apply = (): void => {
    filters.actor = actor.value;
    filters.action = action.value;
    filters.from = from.value;
    filters.to = to.value;
    load();
  };
  for (const control of [actor, action, from, to]) control.addEventListener('change', apply);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  clear.addEventListener('click', () => {
    actor.value = action.value = from.value = to.value = '';
    filters.targetType = filters.targetId = '';
    apply();
  });
  more.addEventListener('click', () => list.loadMore());
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, 'Auditoria')),
    h(
      'p',
      { class: 'muted' },
      'Quem fez o quê, em quem, por quê e o que mudou: reprocessamentos, novas tentativas, acessos, catálogo, importações e equipe.',
    ),
    form,
    targetNote,
    status,
    area,
    h('div', { class: 'more' }, more),
  );
  return { title: 'Auditoria', el, dispose: life.dispose };
};
