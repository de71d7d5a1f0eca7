// How events and treatments are shown, shared by the customer timeline, Eventos and Tratativas:
// the event detail (raw payload), the treatment detail (output, last error) and the two actions
// (replay an event, retry a treatment).

import type { ApiClient } from '../api';
import { h, type Child } from '../dom';
import { errorMessage } from '../errors';
import {
  eventKindText,
  formatDateTimeSeconds,
  formatLatency,
  formatNumber,
  isRetryable,
  outcomeLabel,
  prettyPayload,
  sourceLabel,
  treatmentKindLabel,
  treatmentStateLabel,
} from '../format';
import { isKnownNote, isKnownReason, noteText, reasonText, rejectionText, treatmentErrorText } from '../labels';
import { routeUrl } from '../router';
import type { EventDetail, ProcessResult, Treatment } from '../types';
import { badge, definitions, notice, withBusy } from './common';

export function customerLink(id: string | null, email: string | null): Child {
  if (!email && !id) return '—';
  if (!id) return email;
  return h('a', { href: routeUrl('customer', { id }) }, email ?? `Cliente ${id}`);
}

export function eventDetailView(d: EventDetail): HTMLElement {
  const headers = Object.entries(d.headers);
  return h(
    'div',
    { class: 'event-detail' },
    definitions([
      ['Evento', `#${d.id}`],
      ['Origem', sourceLabel(d.source).text],
      ['Recebido em', formatDateTimeSeconds(d.received_at)],
      ['Resultado', badge(outcomeLabel(d.outcome))],
      ...(d.error
        ? [['Motivo', h('span', { class: 'text-bad' }, rejectionText(d.outcome, d.error))] as [string, Child]]
        : []),
      ...(d.note ? [['Observação', noteText(d.note)] as [string, Child]] : []),
      ...(eventKindText(d) ? [['Tipo', eventKindText(d)] as [string, Child]] : []),
      ...(d.duplicate_of ? [['Duplicado de', `#${d.duplicate_of}`] as [string, Child]] : []),
      ...(d.replay_of ? [['Reprocessamento de', `#${d.replay_of}`] as [string, Child]] : []),
      ['Latência', formatLatency(d.latency_ms)],
      ['Tamanho', `${formatNumber(d.body_size)} bytes${d.truncated ? ' (cortado)' : ''}`],
      ...(d.remote_addr ? [['Endereço', d.remote_addr] as [string, Child]] : []),
    ]),
    technicalDetail([
      ['Erro', d.error],
      ['Código da observação', d.note && !isKnownNote(d.note) ? d.note : null],
    ]),
    h('h4', null, 'Corpo recebido'),
    d.truncated ? notice('O corpo era grande demais e foi guardado cortado.', 'info') : null,
    d.raw_body_purged_at
      ? notice(
          `O corpo foi apagado em ${formatDateTimeSeconds(d.raw_body_purged_at)} pela política de retenção; o registro e as decisões continuam aqui.`,
          'info',
        )
      : h(
          'pre',
          { class: 'payload', tabindex: '0', 'aria-label': 'Corpo do webhook' },
          prettyPayload(d.body_json, d.raw_body),
        ),
    headers.length
      ? h(
          'details',
          { class: 'headers' },
          h('summary', null, `Cabeçalhos (${headers.length})`),
          h('pre', { class: 'payload' }, headers.map(([k, v]) => `${k}: ${v}`).join('\n')),
        )
      : null,
    d.treatments.length
      ? [
          h('h4', null, 'Tratativas geradas'),
          h(
            'ul',
            { class: 'plain' },
            d.treatments.map((t) => h('li', null, treatmentInline(t))),
          ),
        ]
      : null,
  );
}

function treatmentInline(t: Treatment): Child {
  return [
    treatmentKindLabel(t.kind).text,
    ' ',
    badge(treatmentStateLabel(t)),
    t.output ? h('div', { class: 'output' }, t.output) : null,
  ];
}

export function treatmentDetailView(t: Treatment): HTMLElement {
  return h(
    'div',
    { class: 'treatment-detail' },
    definitions([
      ['Tratativa', `#${t.id}`],
      ['Situação', badge(treatmentStateLabel(t))],
      ['Tentativas', String(t.attempts)],
      ['Agendada para', formatDateTimeSeconds(t.run_at)],
      ['Concluída em', formatDateTimeSeconds(t.done_at)],
      ...(t.course_name ? [['Curso', t.course_name] as [string, Child]] : []),
      ...(t.reason ? [['Motivo', reasonText(t.reason)] as [string, Child]] : []),
      ...(t.event_id ? [['Evento de origem', `#${t.event_id}`] as [string, Child]] : []),
    ]),
    h('h4', null, 'Saída'),
    h('pre', { class: 'payload' }, t.output ?? 'Ainda sem saída (a tratativa não foi executada).'),
    t.last_error ? [h('h4', null, 'Último erro'), h('p', { class: 'text-bad' }, treatmentErrorText(t))] : null,
    technicalDetail([
      ['Mensagem do erro', t.last_error],
      ['Código do motivo', t.reason && !isKnownReason(t.reason) ? t.reason : null],
    ]),
  );
}

/**
 * "Detalhe técnico": what the API sent verbatim (English error messages, codes this version does not know),
 * collapsed, for whoever investigates. Nothing when every value is empty.
 */
export function technicalDetail(entries: [string, string | null | undefined][]): HTMLElement | null {
  const shown = entries.filter((e): e is [string, string] => !!e[1]);
  if (!shown.length) return null;
  return h(
    'details',
    { class: 'technical' },
    h('summary', null, 'Detalhe técnico'),
    shown.map(([label, value]) =>
      h(
        'div',
        { class: 'technical-entry' },
        h('span', { class: 'muted small' }, label),
        h('pre', { class: 'payload' }, value),
      ),
    ),
  );
}

/** "Tentar novamente" for a failed/dead treatment; `done` gets the treatment back to pending. */
export function retryButton(api: ApiClient, t: Treatment, done: (t: Treatment) => void): HTMLElement | null {
  if (!isRetryable(t)) return null;
  const status = h('span', { class: 'action-status', role: 'status' });
  const button = h('button', { type: 'button', class: 'btn btn-small' }, 'Tentar novamente');
  button.addEventListener('click', () => {
    status.textContent = '';
    withBusy(button, 'Enviando…', () => api.retryTreatment(t.id)).then(
      (updated) => {
        status.textContent = 'Nova tentativa agendada.';
        done(updated);
      },
      (err: unknown) => {
        status.textContent = errorMessage(err);
        status.className = 'action-status text-bad';
      },
    );
  });
  return h('span', { class: 'action' }, button, status);
}

export function describeReplay(r: ProcessResult): string {
  const kinds = r.treatments.map((t) => treatmentKindLabel(t.kind).text);
  const treatments = kinds.length ? `${kinds.length} tratativa(s): ${kinds.join(', ')}` : 'nenhuma tratativa nova';
  return `Reprocessado (evento #${r.event_id}): ${outcomeLabel(r.outcome).text} — ${treatments}.`;
}

/** "Reprocessar" with an inline confirmation (no window.confirm) and the result shown next to it. */
export function replayControl(api: ApiClient, eventId: string, done?: (r: ProcessResult) => void): HTMLElement {
  const wrap = h('span', { class: 'action replay' });
  const status = h('span', { class: 'action-status', role: 'status' });
  const start = h('button', { type: 'button', class: 'btn btn-small' }, 'Reprocessar');
  const confirm = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, 'Confirmar');
  const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Cancelar');
  const question = h(
    'span',
    { class: 'confirm', role: 'group', 'aria-label': 'Confirmar reprocessamento' },
    h('span', null, 'Reprocessar este evento?'),
    confirm,
    cancel,
  );
  question.hidden = true;
  const ask = (yes: boolean): void => {
    start.hidden = yes;
    question.hidden = !yes;
    (yes ? confirm : start).focus();
  };
  start.addEventListener('click', () => {
    status.textContent = '';
    ask(true);
  });
  cancel.addEventListener('click', () => ask(false));
  confirm.addEventListener('click', () => {
    withBusy(confirm, 'Reprocessando…', () => api.replayEvent(eventId)).then(
      (result) => {
        status.className = 'action-status text-ok';
        status.textContent = describeReplay(result);
        ask(false);
        done?.(result);
      },
      (err: unknown) => {
        status.className = 'action-status text-bad';
        status.textContent = `Não foi possível reprocessar: ${errorMessage(err)}`;
        ask(false);
      },
    );
  });
  wrap.append(start, question, status);
  return wrap;
}
