// /clientes/:id: who the customer is, their access, orders, and the timeline of every webhook and
// treatment ("paguei e não recebi acesso" → what happened and why). Refreshes itself when the
// live stream brings news about this customer.

import type { ApiClient } from '../api';
import { saveDownload } from '../csv';
import { h, mount, type Child } from '../dom';
import { errorMessage } from '../errors';
import {
  accessLabel,
  accessOf,
  enrollmentLabel,
  eventKindText,
  formatDate,
  formatDateTime,
  formatDateTimeSeconds,
  formatDocument,
  formatMoney,
  formatPhone,
  formatRelative,
  installmentsLabel,
  isRetryable,
  orderStatusLabel,
  outcomeLabel,
  paymentMethodLabel,
  sourceLabel,
  treatmentKindLabel,
  treatmentState,
  treatmentStateLabel,
} from '../format';
import { noteText, rejectionText, treatmentErrorText } from '../labels';
import { approvedAtText, orderDetails } from '../order-details';
import { routeUrl } from '../router';
import type { CustomerDetail, Enrollment, Order, TimelineItem, Treatment } from '../types';
import {
  badge,
  debounce,
  definitions,
  emptyState,
  errorState,
  lazyDetails,
  loadingState,
  notice,
  table,
  tableRow,
  withBusy,
  type Column,
} from '../ui/common';
import { accessColumn, accessNotice, grantButton } from '../ui/access';
import { eventDetailView, replayControl, retryButton, treatmentDetailView } from '../ui/records';
import { Lifecycle, type ScreenFactory } from './screen';

const ENROLLMENT_COLUMNS: Column<Enrollment>[] = [
  { label: 'Curso', cell: (e) => e.course_name },
  { label: 'Situação', cell: (e) => badge(enrollmentLabel(e.status)) },
  { label: 'Liberada em', cell: (e) => formatDateTime(e.granted_at) },
  { label: 'Revogada em', cell: (e) => formatDateTime(e.revoked_at) },
  { label: 'Expira em', cell: (e) => (e.expires_at ? formatDate(e.expires_at) : 'Sem expiração') },
];

const ORDER_COLUMNS: Column<Order>[] = [
  { label: 'Data', cell: (o) => formatDateTime(o.created_at) },
  { label: 'Curso', cell: (o) => o.course_name ?? '—' },
  {
    label: 'Valor',
    cell: (o) => h('span', { class: 'money' }, formatMoney(o.amount_cents, o.currency)),
    className: 'num',
  },
  { label: 'Método', cell: (o) => paymentMethodLabel(o.payment_method) },
  { label: 'Parcelas', cell: (o) => installmentsLabel(o.installments) },
  { label: 'Status', cell: (o) => badge(orderStatusLabel(o.status)) },
  { label: 'Aprovado em', cell: (o) => approvedAtText(o) },
  { label: 'Condições', cell: orderDetailsCell },
  { label: 'Origem', cell: (o) => `${sourceLabel(o.source).text} · ${o.external_id}` },
];

/** Coupon, offer/plan and paid-period end, one per line, when the platform told them. */
function orderDetailsCell(o: Order): Child {
  const details = orderDetails(o);
  if (!details.length) return '—';
  return h(
    'ul',
    { class: 'order-details' },
    details.map(([label, value]) => h('li', null, `${label}: `, h('strong', null, value))),
  );
}

function profile(d: CustomerDetail): HTMLElement {
  const c = d.customer;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sec-perfil' },
    h('h2', { id: 'sec-perfil' }, 'Dados do cliente'),
    definitions([
      ['E-mail', h('span', { class: 'break' }, c.email)],
      ['Nome', c.name ?? '—'],
      ['CPF', formatDocument(c.document)],
      ['Telefone', formatPhone(c.phone)],
      ['Cliente desde', formatDateTime(c.created_at)],
      [
        'Última atividade',
        c.last_activity_at ? `${formatDateTime(c.last_activity_at)} (${formatRelative(c.last_activity_at)})` : '—',
      ],
    ]),
  );
}

function listSection<T>(
  id: string,
  title: string,
  columns: Column<T>[],
  rows: T[],
  empty: string,
  extra?: Child,
): HTMLElement {
  let content: Child;
  if (rows.length) {
    const t = table(title, columns);
    t.body.append(...rows.map((r) => tableRow(columns, r)));
    content = t.table;
  } else {
    content = emptyState(empty);
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': id },
    h('div', { class: 'panel-head' }, h('h2', { id }, title), extra),
    content,
  );
}

/** Treatments that need attention: failed (retrying) or dead. */
function attention(items: TimelineItem[]): Treatment[] {
  return items.flatMap((i) => (i.type === 'treatment' && isRetryable(i.treatment) ? [i.treatment] : []));
}

function timelineEntry(api: ApiClient, item: TimelineItem, reload: () => void): HTMLElement {
  if (item.type === 'event') {
    const e = item.event;
    const outcome = outcomeLabel(e.outcome);
    const summary = [
      h('time', { datetime: item.at, class: 'tl-time' }, formatDateTimeSeconds(item.at)),
      h(
        'span',
        { class: 'tl-title' },
        `Webhook ${sourceLabel(e.source).text}`,
        eventKindText(e) ? ` — ${eventKindText(e)}` : null,
      ),
      badge(outcome),
      e.error ? h('span', { class: 'tl-line text-bad' }, rejectionText(e.outcome, e.error)) : null,
      e.note ? h('span', { class: 'tl-line note' }, noteText(e.note)) : null,
    ];
    const details = lazyDetails(
      summary,
      async () => {
        const detail = await api.event(e.id);
        return h(
          'div',
          null,
          eventDetailView(detail),
          h('div', { class: 'actions' }, replayControl(api, e.id, reload)),
        );
      },
      { class: 'tl-details' },
    );
    return h(
      'li',
      {
        class: `tl-item tl-event tone-${outcome.tone}`,
        'data-kind': 'event',
        'data-outcome': e.outcome,
        'data-id': e.id,
      },
      details,
    );
  }
  const t = item.treatment;
  const state = treatmentStateLabel(t);
  const summary = [
    h('time', { datetime: item.at, class: 'tl-time' }, formatDateTimeSeconds(item.at)),
    h('span', { class: 'tl-title' }, treatmentKindLabel(t.kind).text, t.course_name ? ` — ${t.course_name}` : null),
    badge(state),
    t.actor
      ? h(
          'span',
          { class: 'tl-line actor' },
          `por ${t.actor.name}`,
          t.staff_reason ? ` — Motivo: ${t.staff_reason}` : null,
        )
      : null,
    t.output ? h('span', { class: 'tl-line output' }, t.output) : null,
    t.last_error ? h('span', { class: 'tl-line text-bad' }, treatmentErrorText(t)) : null,
  ];
  const details = h(
    'details',
    { class: 'tl-details' },
    h('summary', null, summary),
    h(
      'div',
      { class: 'details-body' },
      treatmentDetailView(t),
      h('div', { class: 'actions' }, retryButton(api, t, reload)),
    ),
  );
  return h(
    'li',
    {
      class: `tl-item tl-treatment tone-${state.tone}`,
      'data-kind': t.kind,
      'data-status': treatmentState(t),
      'data-id': t.id,
    },
    details,
  );
}

export const customerScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const id = route.params['id'] ?? '';
  const title = h('h1', { tabindex: '-1' }, 'Cliente');
  const access = h('span', { class: 'head-badge' });
  const body = h('div', { class: 'customer-body' }, loadingState());
  const timelineList = h('ol', { class: 'timeline', 'aria-label': 'Linha do tempo, do mais antigo ao mais recente' });
  const timelineArea = h(
    'div',
    { 'aria-live': 'polite', 'aria-busy': 'true' },
    loadingState('Carregando linha do tempo…'),
  );
  const alerts = h('div', { class: 'alerts' });
  const accessStatus = h('div', { class: 'access-status' });
  let email = '';
  const accessCtx = {
    api: ctx.api,
    customerId: id,
    customerLabel: () => email,
    done: (message: string) => {
      mount(accessStatus, accessNotice(message));
      refresh();
    },
  };
  const grantBtn = grantButton(accessCtx);

  const loadTimeline = (): void => {
    timelineArea.setAttribute('aria-busy', 'true');
    ctx.api.timeline(id).then(
      (items) => {
        if (!life.alive) return;
        timelineArea.setAttribute('aria-busy', 'false');
        const openIds = new Set(
          Array.from(timelineList.querySelectorAll('li[data-id]'))
            .filter((li) => li.querySelector('details[open]'))
            .map((li) => `${li.className}|${li.getAttribute('data-id')}`),
        );
        timelineList.replaceChildren(...items.map((item) => timelineEntry(ctx.api, item, refresh)));
        // keep open what staff had opened
        for (const li of Array.from(timelineList.querySelectorAll('li[data-id]'))) {
          if (openIds.has(`${li.className}|${li.getAttribute('data-id')}`))
            li.querySelector('details')?.setAttribute('open', '');
        }
        mount(timelineArea, items.length ? timelineList : emptyState('Nenhum evento ou tratativa para este cliente.'));
        const failing = attention(items);
        mount(
          alerts,
          failing.length
            ? notice(
                `${failing.length} tratativa(s) com falha: ${failing.map((t) => treatmentKindLabel(t.kind).text).join(', ')}. Veja na linha do tempo.`,
                'bad',
              )
            : null,
        );
      },
      (err: unknown) => {
        if (!life.alive) return;
        timelineArea.setAttribute('aria-busy', 'false');
        mount(timelineArea, errorState(err, loadTimeline));
      },
    );
  };

  const loadCustomer = (): void => {
    ctx.api.customer(id).then(
      (d) => {
        if (!life.alive) return;
        email = d.customer.email;
        title.textContent = d.customer.name?.trim() || d.customer.email;
        document.title = `${title.textContent} · Portaria`;
        mount(access, badge(accessLabel(accessOf(d.enrollments))));
        const exportBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Exportar pedidos (CSV)');
        exportBtn.addEventListener('click', () => {
          withBusy(exportBtn, 'Exportando…', () => ctx.api.ordersCsv({ q: email })).then(
            saveDownload,
            (err: unknown) => {
              exportBtn.after(notice(errorMessage(err), 'bad'));
            },
          );
        });
        mount(
          body,
          profile(d),
          listSection(
            'sec-matriculas',
            'Acesso aos cursos',
            [...ENROLLMENT_COLUMNS, accessColumn(accessCtx)],
            d.enrollments,
            'Nenhuma matrícula: este cliente nunca teve acesso liberado.',
            grantBtn,
          ),
          listSection(
            'sec-pedidos',
            'Pedidos',
            ORDER_COLUMNS,
            d.orders,
            'Nenhum pedido registrado.',
            d.orders.length ? exportBtn : null,
          ),
        );
      },
      (err: unknown) => {
        if (!life.alive) return;
        title.textContent = 'Cliente';
        mount(body, errorState(err, loadCustomer));
      },
    );
  };

  const refresh = (): void => {
    loadCustomer();
    loadTimeline();
  };
  const liveRefresh = debounce(refresh, 600);
  life.add(liveRefresh.cancel);
  life.add(
    ctx.stream.subscribe((m) => {
      const customerId = m.type === 'webhook_event' ? m.event.customer_id : m.treatment.customer_id;
      if (customerId === id) liveRefresh();
    }),
  );

  const refreshBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Atualizar');
  refreshBtn.addEventListener('click', refresh);
  refresh();

  const el = h(
    'section',
    { class: 'screen' },
    h('p', { class: 'back' }, h('a', { href: routeUrl('customers') }, '← Clientes')),
    h('div', { class: 'screen-head' }, h('div', { class: 'title-row' }, title, access)),
    alerts,
    accessStatus,
    body,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'sec-linha' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'sec-linha' }, 'Linha do tempo'), refreshBtn),
      h(
        'p',
        { class: 'muted small' },
        'Cada webhook recebido e cada tratativa, do mais antigo ao mais recente. Abra um item para ver o corpo recebido, a saída ou o erro.',
      ),
      timelineArea,
    ),
  );
  return { title: 'Cliente', el, dispose: life.dispose };
};
