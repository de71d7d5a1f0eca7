// /: today's numbers, the 30-day chart and the breakdowns by outcome and by treatment kind.
// Refreshes (throttled) when the live stream brings news.

import { h, mount, type Child } from '../dom';
import { formatNumber, outcomeLabel, treatmentKindLabel, TREATMENT_STATUS_FILTER_LABEL, type Tone } from '../format';
import { routeUrl } from '../router';
import type { Stats } from '../types';
import { dailyChart } from '../ui/chart';
import { debounce, errorState, loadingState } from '../ui/common';
import { liveIndicator } from '../ui/live';
import { Lifecycle, type ScreenFactory } from './screen';

function card(label: string, value: number, tone: Tone = 'muted', href?: string): HTMLElement {
  const content: Child = [
    h('span', { class: 'card-value' }, formatNumber(value)),
    h('span', { class: 'card-label' }, label),
  ];
  return h('li', { class: `card tone-${tone}` }, href ? h('a', { href }, content) : content);
}

/** Horizontal bars (HTML): label, count, share of the largest. */
function breakdown(
  id: string,
  title: string,
  counts: Record<string, number>,
  label: (k: string) => { text: string; tone: Tone },
  href: (k: string) => string,
): HTMLElement {
  const entries = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title),
    entries.length
      ? h(
          'ul',
          { class: 'bars' },
          entries.map(([key, n]) => {
            const l = label(key);
            const fill = h('span', { class: `bar-fill tone-${l.tone}` });
            // CSSOM, not a style attribute: stays valid under a strict Content-Security-Policy
            fill.style.width = `${Math.max(2, (n / max) * 100).toFixed(1)}%`;
            return h(
              'li',
              null,
              h('a', { href: href(key), class: 'bar-label' }, l.text),
              h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
              h('span', { class: 'bar-value' }, formatNumber(n)),
            );
          }),
        )
      : h('p', { class: 'muted' }, 'Nada registrado ainda.'),
  );
}

function view(s: Stats): Child {
  const t = s.today;
  const statusLabel = (k: string): { text: string; tone: Tone } => ({
    text: TREATMENT_STATUS_FILTER_LABEL[k] ?? k,
    tone: k === 'done' ? 'ok' : k === 'dead' ? 'bad' : 'info',
  });
  const unmapped = s.totals.unmapped_products;
  const unmappedUrl = routeUrl('catalog', {}, { ver: 'sem-mapeamento' });
  return [
    unmapped > 0
      ? h(
          'p',
          { class: 'notice tone-info unmapped-alert', role: 'status' },
          unmapped === 1
            ? '1 produto sem mapeamento: ele libera o curso criado automaticamente. '
            : `${formatNumber(unmapped)} produtos sem mapeamento: eles liberam os cursos criados automaticamente. `,
          h('a', { href: unmappedUrl }, 'Mapear no Catálogo'),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'sec-hoje' },
      h('h2', { id: 'sec-hoje' }, 'Hoje'),
      h(
        'ul',
        { class: 'cards' },
        card('Eventos recebidos', t.events, 'info', routeUrl('events')),
        card('Processados', t.processed, 'ok', routeUrl('events', {}, { resultado: 'processed' })),
        card('Rejeitados', t.rejected, t.rejected ? 'bad' : 'muted'),
        card('Tratativas concluídas', t.treatments_done, 'ok', routeUrl('treatments', {}, { status: 'done' })),
        card(
          'Tratativas pendentes',
          t.treatments_pending,
          t.treatments_pending ? 'warn' : 'muted',
          routeUrl('treatments', {}, { status: 'pending' }),
        ),
        card(
          'Falharam definitivamente',
          t.treatments_dead,
          t.treatments_dead ? 'bad' : 'muted',
          routeUrl('treatments', {}, { status: 'dead' }),
        ),
        card('Novos clientes', t.new_customers, 'info', routeUrl('customers')),
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'sec-30dias' },
      h('h2', { id: 'sec-30dias' }, 'Últimos 30 dias'),
      dailyChart(s.daily, window.innerWidth < 600),
    ),
    h(
      'div',
      { class: 'grid-2' },
      breakdown('sec-resultado', 'Eventos por resultado', s.events_by_outcome, outcomeLabel, (k) =>
        routeUrl('events', {}, { resultado: k }),
      ),
      breakdown('sec-tipo', 'Tratativas por tipo', s.treatments_by_kind, treatmentKindLabel, (k) =>
        routeUrl('treatments', {}, { tipo: k }),
      ),
      breakdown('sec-status', 'Tratativas por status', s.treatments_by_status, statusLabel, (k) =>
        routeUrl('treatments', {}, { status: k }),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'sec-totais' },
        h('h2', { id: 'sec-totais' }, 'Totais'),
        h(
          'ul',
          { class: 'cards cards-small' },
          card('Clientes', s.totals.customers),
          card('Matrículas ativas', s.totals.active_enrollments, 'ok'),
          card('Eventos', s.totals.events),
          card('Tratativas', s.totals.treatments),
          card('Produtos sem mapeamento', unmapped, unmapped ? 'warn' : 'muted', unmappedUrl),
        ),
      ),
    ),
  ];
}

export const dashboardScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  const live = liveIndicator(ctx.stream);
  life.add(live.dispose);
  const area = h('div', { class: 'dashboard' }, loadingState());
  let loadedOnce = false;

  const load = (): void => {
    ctx.api.stats().then(
      (s) => {
        if (!life.alive) return;
        loadedOnce = true;
        mount(area, view(s));
      },
      (err: unknown) => {
        if (life.alive && !loadedOnce) mount(area, errorState(err, load));
      },
    );
  };
  const refreshSoon = debounce(load, 3000);
  life.add(refreshSoon.cancel);
  life.add(ctx.stream.subscribe(() => refreshSoon()));
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h(
      'div',
      { class: 'screen-head' },
      h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Painel'), live.el),
    ),
    area,
  );
  return { title: 'Painel', el, dispose: life.dispose };
};
