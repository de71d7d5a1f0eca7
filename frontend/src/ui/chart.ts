// The 30-day chart of the panel: inline SVG built with createElementNS (no chart library).
// Stacked bars per day (processed / rejected / other events) and a line of treatments.

import { h, svg } from '../dom';
import { formatDay, formatNumber } from '../format';
import type { DailyStat } from '../types';

/** A "nice" axis maximum and tick step covering `max` (e.g. 37 → 40 with step 10). */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: ticks, step: 1 };
  const rough = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const niceStep = step < 1 ? 1 : step;
  return { max: Math.ceil(max / niceStep) * niceStep, step: niceStep };
}

/** Events that were neither processed nor rejected (duplicates, ignored). */
export function otherEvents(d: DailyStat): number {
  return Math.max(0, d.events - d.processed - d.rejected);
}

const PAD = { top: 16, right: 20, bottom: 28, left: 40 };

/**
 * `narrow` draws for a phone: a smaller coordinate system, so that the text keeps a readable
 * size once the SVG is scaled to the screen width, and fewer day labels.
 */
export function dailyChart(daily: DailyStat[], narrow = false): HTMLElement {
  const W = narrow ? 400 : 960;
  const H = narrow ? 230 : 260;
  const labelEvery = narrow ? 7 : 5;
  const peak = Math.max(0, ...daily.map((d) => Math.max(d.events, d.treatments)));
  const scale = niceScale(peak);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, daily.length);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number): number => PAD.top + plotH - (v / scale.max) * plotH;

  const grid = [];
  for (let v = 0; v <= scale.max; v += scale.step) {
    grid.push(
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, formatNumber(v)),
    );
  }

  const bars = daily.map((d, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const parts: [number, string][] = [
      [d.processed, 'bar-processed'],
      [d.rejected, 'bar-rejected'],
      [otherEvents(d), 'bar-other'],
    ];
    let base = 0;
    const rects = parts.map(([value, cls]) => {
      const rect = svg('rect', {
        x,
        y: y(base + value),
        width: barW,
        height: Math.max(0, y(base) - y(base + value)),
        class: cls,
      });
      base += value;
      return rect;
    });
    const label = `${formatDay(d.day)}: ${d.events} eventos (${d.processed} processados, ${d.rejected} rejeitados), ${d.treatments} tratativas`;
    const last = daily.length - 1;
    const showDay = i === last || (i % labelEvery === 0 && last - i >= labelEvery / 2);
    return svg(
      'g',
      { class: 'day', 'data-day': d.day },
      svg('title', null, label),
      // a transparent full-height target so the tooltip works on empty days too
      svg('rect', { x: PAD.left + i * slot, y: PAD.top, width: slot, height: plotH, class: 'hit' }),
      rects,
      showDay
        ? svg('text', { x: x + barW / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' }, formatDay(d.day))
        : null,
    );
  });

  const points = daily
    .map((d, i) => `${(PAD.left + i * slot + slot / 2).toFixed(1)},${y(d.treatments).toFixed(1)}`)
    .join(' ');
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'grafico-titulo' },
    svg('title', { id: 'grafico-titulo' }, `Eventos e tratativas por dia nos últimos ${daily.length} dias`),
    grid,
    bars,
    daily.length ? svg('polyline', { points, class: 'line-treatments' }) : null,
  );

  return h(
    'figure',
    { class: 'chart-figure' },
    h('div', { class: 'chart-scroll' }, chart),
    h(
      'figcaption',
      { class: 'legend' },
      legendItem('bar-processed', 'Processados'),
      legendItem('bar-rejected', 'Rejeitados'),
      legendItem('bar-other', 'Duplicados/ignorados'),
      legendItem('line-treatments', 'Tratativas'),
    ),
    dataTableOf(daily),
  );
}

function legendItem(cls: string, text: string): HTMLElement {
  return h('span', { class: 'legend-item' }, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
}

/** The same numbers as a table, for screen readers and for anyone who wants the exact values. */
function dataTableOf(daily: DailyStat[]): HTMLElement {
  return h(
    'details',
    { class: 'chart-data' },
    h('summary', null, 'Ver os números por dia'),
    h(
      'table',
      { class: 'data-table compact' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Dia', 'Eventos', 'Processados', 'Rejeitados', 'Tratativas'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        null,
        [...daily]
          .reverse()
          .map((d) =>
            h(
              'tr',
              null,
              h('td', { 'data-label': 'Dia' }, formatDay(d.day, true)),
              h('td', { 'data-label': 'Eventos' }, formatNumber(d.events)),
              h('td', { 'data-label': 'Processados' }, formatNumber(d.processed)),
              h('td', { 'data-label': 'Rejeitados' }, formatNumber(d.rejected)),
              h('td', { 'data-label': 'Tratativas' }, formatNumber(d.treatments)),
            ),
          ),
      ),
    ),
  );
}
