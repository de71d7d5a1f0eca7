import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accessLabel,
  accessOf,
  formatDate,
  formatDateTime,
  formatDateTimeSeconds,
  formatDay,
  formatDocument,
  formatLatency,
  formatMoney,
  formatPhone,
  formatRelative,
  formatWait,
  installmentsLabel,
  isRetryable,
  orderStatusLabel,
  outcomeLabel,
  paymentMethodLabel,
  prettyPayload,
  treatmentKindLabel,
  treatmentState,
  treatmentStateLabel,
} from './format';

test('money from integer cents, pt-BR', () => {
  assert.equal(formatMoney(123456), 'R$ 1.234,56');
  assert.equal(formatMoney(0), 'R$ 0,00');
  assert.equal(formatMoney(99700), 'R$ 997,00');
  assert.equal(formatMoney(100000000), 'R$ 1.000.000,00');
  assert.equal(formatMoney(5), 'R$ 0,05');
  assert.equal(formatMoney(null), '—');
  assert.equal(formatMoney(-1050), '-R$ 10,50');
  assert.equal(formatMoney(1999, 'brl'), 'R$ 19,99');
  assert.equal(formatMoney(1999, 'nonsense'), 'R$ 19,99');
  assert.match(formatMoney(1999, 'USD'), /US\$ 19,99/);
});

test('dates in the given time zone, pt-BR order', () => {
  const iso = '2026-11-23T02:30:00Z';
  assert.equal(formatDateTime(iso, 'UTC'), '23/11/2026 02:30');
  assert.equal(formatDateTime(iso, 'America/Sao_Paulo'), '22/11/2026 23:30');
  assert.equal(formatDateTimeSeconds('2026-11-23T00:05:09Z', 'UTC'), '23/11/2026 00:05:09');
  assert.equal(formatDate(iso, 'America/Sao_Paulo'), '22/11/2026');
  assert.equal(formatDate(iso, 'UTC'), '23/11/2026');
  assert.equal(formatDateTime(null), '—');
  assert.equal(formatDateTime('not a date'), '—');
});

test('calendar days are not shifted by the time zone', () => {
  assert.equal(formatDay('2026-11-01'), '01/11');
  assert.equal(formatDay('2026-11-01', true), '01/11/2026');
  assert.equal(formatDay('junk'), 'junk');
});

test('relative times in Portuguese', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  assert.equal(formatRelative('2026-11-23T11:59:50Z', now), 'agora mesmo');
  assert.equal(formatRelative('2026-11-23T11:55:00Z', now), 'há 5 minutos');
  assert.equal(formatRelative('2026-11-23T09:00:00Z', now), 'há 3 horas');
  assert.equal(formatRelative('2026-11-22T12:00:00Z', now), 'ontem');
  assert.equal(formatRelative('2026-11-13T12:00:00Z', now), 'há 10 dias');
  assert.equal(formatRelative('2026-11-23T14:00:00Z', now), 'em 2 horas');
  assert.equal(formatRelative('2024-11-23T12:00:00Z', now), 'há 2 anos');
  assert.equal(formatRelative(null, now), '—');
});

test('CPF, CNPJ and phone numbers', () => {
  assert.equal(formatDocument('12345678901'), '123.456.789-01');
  assert.equal(formatDocument('123.456.789-01'), '123.456.789-01');
  assert.equal(formatDocument('12345678000190'), '12.345.678/0001-90');
  assert.equal(formatDocument('X-1'), 'X-1');
  assert.equal(formatDocument(null), '—');
  assert.equal(formatPhone('11987654321'), '(11) 98765-4321');
  assert.equal(formatPhone('+55 11 98765-4321'), '(11) 98765-4321');
  assert.equal(formatPhone('1133334444'), '(11) 3333-4444');
  assert.equal(formatPhone('+1 555 0100'), '+1 555 0100');
});

test('labels of the enumerations', () => {
  assert.deepEqual(outcomeLabel('processed'), { text: 'Processado', tone: 'ok' });
  assert.equal(outcomeLabel('unauthorized').tone, 'bad');
  assert.equal(outcomeLabel('something_new').text, 'something_new');
  assert.equal(treatmentKindLabel('grant_access').text, 'Liberar acesso');
  assert.equal(treatmentKindLabel('refund_message').text, 'Mensagem de reembolso');
  assert.equal(accessLabel('active').text, 'Acesso ativo');
  assert.equal(accessLabel('revoked').text, 'Acesso revogado');
  assert.equal(accessLabel('expired').text, 'Expirado');
  assert.equal(accessLabel('none').text, 'Sem acesso');
  assert.equal(orderStatusLabel('REEMBOLSADO').text, 'Reembolsado');
  assert.equal(paymentMethodLabel('pix'), 'Pix');
  assert.equal(paymentMethodLabel('Cartao'), 'Cartão de crédito');
  assert.equal(paymentMethodLabel('cheque'), 'cheque');
  assert.equal(installmentsLabel(1), 'à vista');
  assert.equal(installmentsLabel(12), '12x');
});

test('a pending treatment with an error is "failed"; failed and dead can be retried', () => {
  assert.equal(treatmentState({ status: 'pending', last_error: 'smtp down' }), 'failed');
  assert.equal(treatmentState({ status: 'pending', last_error: null }), 'pending');
  assert.equal(treatmentStateLabel({ status: 'pending', last_error: 'x' }).tone, 'warn');
  assert.equal(treatmentStateLabel({ status: 'dead', last_error: 'x' }).text, 'Falhou definitivamente');
  assert.equal(isRetryable({ status: 'pending', last_error: 'x' }), true);
  assert.equal(isRetryable({ status: 'dead', last_error: 'x' }), true);
  assert.equal(isRetryable({ status: 'done', last_error: null }), false);
  assert.equal(isRetryable({ status: 'pending', last_error: null }), false);
});

test('waits, latencies, payloads', () => {
  assert.equal(formatWait(1), '1 segundo');
  assert.equal(formatWait(30), '30 segundos');
  assert.equal(formatWait(61), '2 minutos');
  assert.equal(formatWait(900), '15 minutos');
  assert.equal(formatWait(3600), '1 hora');
  assert.equal(formatLatency(42), '42 ms');
  assert.equal(formatLatency(1234), '1,2 s');
  assert.equal(prettyPayload({ a: 1 }, ''), '{\n  "a": 1\n}');
  assert.equal(prettyPayload(null, '{"b":2}'), '{\n  "b": 2\n}');
  assert.equal(prettyPayload(null, 'not json <b>'), 'not json <b>');
});

test('the access of a customer from the enrollments', () => {
  const e = (status: string, at: string) => ({
    status,
    granted_at: at,
    revoked_at: status === 'revoked' ? at : null,
    expires_at: null,
  });
  assert.equal(accessOf([]), 'none');
  assert.equal(accessOf([e('revoked', '2026-01-01T00:00:00Z'), e('active', '2025-01-01T00:00:00Z')]), 'active');
  assert.equal(accessOf([e('expired', '2025-01-01T00:00:00Z'), e('revoked', '2026-01-01T00:00:00Z')]), 'revoked');
});

test('event kinds: the normalised kind in Portuguese, the source name only when it adds something', async () => {
  const { eventKindText } = await import('./format');
  assert.equal(eventKindText({ kind: 'approved', event_type: 'aprovado' }), 'Aprovado');
  assert.equal(eventKindText({ kind: 'refunded', event_type: 'PURCHASE_REFUNDED' }), 'Reembolsado · PURCHASE_REFUNDED');
  assert.equal(eventKindText({ kind: null, event_type: 'order.paid' }), 'order.paid');
  assert.equal(eventKindText({ kind: 'weird', event_type: 'weird' }), 'weird');
  assert.equal(eventKindText({ kind: null, event_type: null }), null);
});
