import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeLabel } from './format';
import {
  AUDIT_ACTION_LABELS,
  AUDIT_FIELD_LABELS,
  AUDIT_TARGET_LABELS,
  auditActionText,
  auditFieldText,
  auditTargetText,
  DECISION_NOTES,
  IMPORT_PROBLEMS,
  IMPORT_RESULTS,
  importProblemText,
  importResultText,
  IGNORED_REASONS,
  isKnownNote,
  isKnownReason,
  noteText,
  OUTCOME_DESCRIPTIONS,
  reasonText,
  rejectionText,
  ROLE_LABELS,
  roleText,
  TREATMENT_ERRORS,
  TREATMENT_REASONS,
  treatmentErrorText,
  UNKNOWN_AUDIT,
  UNKNOWN_NOTE,
  UNKNOWN_REASON,
  UNKNOWN_REJECTION,
} from './labels';
import { OUTCOMES, ROLES } from './types';

// The codes the API sends (the vocabulary agreed with the backend): every one must have a pt-BR text.
const API_DECISION_NOTES = [
  'approval_after_reversal',
  'order_already_approved',
  'access_already_active',
  'access_renewed',
  'renewal_after_reversal',
  'no_active_access_to_end',
  'not_acted_upon',
  'order_already_reversed',
  'refund_before_approval',
  'access_not_active',
  'no_access_to_revoke',
  'order_already_paid',
  'order_already_in_state',
  'already_received',
];
const API_IGNORED_REASONS = [
  'purchase_complete',
  'dispute_opened',
  'payment_late',
  'cart_abandoned',
  'subscription_changed',
  'members_area_activity',
  'shipping_event',
  'connection_test',
  'refund_requested',
];
const API_TREATMENT_REASONS = [
  'payment_approved',
  'repurchase',
  'subscription_renewed',
  'payment_refunded',
  'chargeback',
  'payment_refused',
  'awaiting_payment',
  'payment_expired',
  'purchase_canceled',
  'subscription_canceled_end_of_period',
  'subscription_canceled',
  'expired',
  'manual',
  'import',
  'bulk',
];
// The import's line problems and results (LineProblem / ImportResult in the backend).
const API_IMPORT_PROBLEMS = [
  'missing_header',
  'invalid_header',
  'invalid_encoding',
  'wrong_column_count',
  'invalid_email',
  'invalid_name',
  'missing_course',
  'unknown_course',
  'ambiguous_course',
  'invalid_date',
  'past_date',
  'duplicate_line',
];
const API_IMPORT_RESULTS = ['new_access', 'extend', 'already_active'];
const API_OUTCOMES = [
  'processed',
  'duplicate',
  'ignored',
  'unauthorized',
  'invalid_json',
  'unprocessable',
  'payload_too_large',
  'unknown_source',
  'error',
  'request_timeout',
  'rate_limited',
];
const REJECTIONS = API_OUTCOMES.filter((o) => !['processed', 'duplicate', 'ignored'].includes(o));

/** Looks like Portuguese prose, not a code: no snake_case, starts with a capital letter. */
function assertPortuguese(text: string | null, what: string): void {
  assert.ok(text, `${what}: no text`);
  assert.doesNotMatch(text, /[a-z]+_[a-z]+/, `${what}: looks like a code: ${text}`);
  assert.match(text, /^[A-ZÁÉÍÓÚÂÊÔÃÕÇ]/, `${what}: ${text}`);
}

test('every decision note and ignored reason of the API has a pt-BR text', () => {
  for (const code of [...API_DECISION_NOTES, ...API_IGNORED_REASONS]) {
    assert.ok(isKnownNote(code), code);
    const text = noteText(code);
    assert.notEqual(text, UNKNOWN_NOTE, code);
    assertPortuguese(text, code);
  }
  assert.equal(noteText('no_access_to_revoke'), DECISION_NOTES['no_access_to_revoke']);
  assert.match(noteText('no_access_to_revoke') ?? '', /não tinha acesso ativo/);
  assert.equal(noteText('cart_abandoned'), 'Abandono de carrinho não gera ação.');
  // nothing mapped that the API does not send
  assert.deepEqual(Object.keys(DECISION_NOTES).sort(), [...API_DECISION_NOTES].sort());
  assert.deepEqual(Object.keys(IGNORED_REASONS).sort(), [...API_IGNORED_REASONS].sort());
});

test('every treatment reason of the API has a pt-BR text', () => {
  for (const code of API_TREATMENT_REASONS) {
    assert.ok(isKnownReason(code), code);
    assert.notEqual(reasonText(code), UNKNOWN_REASON, code);
    assertPortuguese(reasonText(code), code);
  }
  assert.equal(reasonText('payment_approved'), 'Pagamento aprovado');
  assert.equal(
    reasonText('subscription_canceled_end_of_period'),
    'Assinatura cancelada: o acesso termina com o período pago',
  );
  assert.deepEqual(Object.keys(TREATMENT_REASONS).sort(), [...API_TREATMENT_REASONS].sort());
});

test('an unknown code or an old English sentence gets a pt-BR fallback, never itself', () => {
  for (const raw of [
    'some_new_code',
    'refund of an order that never granted access',
    '__proto__',
    'toString',
    'constructor',
  ]) {
    assert.equal(noteText(raw), UNKNOWN_NOTE, raw);
    assert.equal(reasonText(raw), UNKNOWN_REASON, raw);
    assert.ok(!isKnownNote(raw) && !isKnownReason(raw), raw);
  }
  assertPortuguese(UNKNOWN_NOTE, 'fallback note');
  assertPortuguese(UNKNOWN_REASON, 'fallback reason');
  assert.equal(noteText(null), null);
  assert.equal(noteText(''), null);
  assert.equal(reasonText(undefined), null);
  // a note is not a reason and vice versa
  assert.equal(reasonText('cart_abandoned'), UNKNOWN_REASON);
  assert.equal(noteText('payment_approved'), UNKNOWN_NOTE);
});

test('every outcome has a pt-BR label; a rejection shows what it means, not its English error', () => {
  for (const outcome of API_OUTCOMES) {
    const label = outcomeLabel(outcome);
    assert.notEqual(label.text, outcome, outcome);
    assertPortuguese(label.text, outcome);
  }
  assert.equal(outcomeLabel('request_timeout').text, 'Tempo esgotado');
  assert.equal(outcomeLabel('rate_limited').text, 'Limite de requisições');
  assert.equal(outcomeLabel('unknown_source').text, 'Origem desconhecida');
  assert.equal(outcomeLabel('error').text, 'Erro interno');
  for (const outcome of REJECTIONS) {
    assert.ok(OUTCOME_DESCRIPTIONS[outcome], outcome);
    const text = rejectionText(outcome, 'Missing or invalid webhook token.');
    assertPortuguese(text, outcome);
    assert.doesNotMatch(text ?? '', /invalid webhook token/);
  }
  assert.equal(rejectionText('unauthorized', null), null);
  assert.equal(rejectionText('something_new', 'boom'), UNKNOWN_REJECTION);
  // the filter offers every outcome that is recorded row by row
  for (const o of API_OUTCOMES.filter((o) => o !== 'rate_limited'))
    assert.ok((OUTCOMES as readonly string[]).includes(o), o);
});

// The audit's vocabularies (AuditAction / AuditTarget in openapi.yaml; the Record types make tsc check them too).
const API_AUDIT_ACTIONS = [
  'replay_event',
  'retry_treatment',
  'grant_access',
  'extend_access',
  'revoke_access',
  'resend_welcome',
  'import_access',
  'bulk_extend',
  'bulk_revoke',
  'create_course',
  'update_course',
  'create_product_mapping',
  'update_product_mapping',
  'delete_product_mapping',
  'update_user',
  'change_password',
];
const API_AUDIT_TARGETS = ['webhook_event', 'treatment', 'customer', 'course', 'product_mapping', 'user', 'import'];

test('every audit action and target, and both roles, have a pt-BR text', () => {
  assert.deepEqual(Object.keys(AUDIT_ACTION_LABELS).sort(), [...API_AUDIT_ACTIONS].sort());
  assert.deepEqual(Object.keys(AUDIT_TARGET_LABELS).sort(), [...API_AUDIT_TARGETS].sort());
  for (const code of API_AUDIT_ACTIONS) {
    assert.notEqual(auditActionText(code), UNKNOWN_AUDIT, code);
    assertPortuguese(auditActionText(code), code);
  }
  for (const code of API_AUDIT_TARGETS) assertPortuguese(auditTargetText(code), code);
  for (const field of Object.keys(AUDIT_FIELD_LABELS)) assertPortuguese(auditFieldText(field), field);
  assert.equal(roleText('admin'), 'Administrador');
  assert.equal(roleText('suporte'), 'Suporte');
  assert.deepEqual(Object.keys(ROLE_LABELS).sort(), [...ROLES].sort());
  // unknown codes: pt-BR, never the code
  assert.equal(auditActionText('format_disk'), UNKNOWN_AUDIT);
  assertPortuguese(auditTargetText('planet'), 'unknown target');
  assertPortuguese(roleText('dono'), 'unknown role');
  assert.equal(auditActionText('__proto__'), UNKNOWN_AUDIT);
  assert.equal(auditFieldText('toString'), null);
});

test("a treatment's last error is shown in pt-BR, never the executor's English", () => {
  for (const [raw, text] of Object.entries(TREATMENT_ERRORS)) {
    assertPortuguese(text, raw);
    assert.equal(treatmentErrorText({ status: 'canceled', last_error: raw }), text);
  }
  for (const status of ['pending', 'dead', 'canceled']) {
    const text = treatmentErrorText({ status, last_error: 'connection refused (os error 111)' });
    assertPortuguese(text, status);
    assert.doesNotMatch(text ?? '', /connection refused/);
  }
  assert.equal(treatmentErrorText({ status: 'done', last_error: null }), null);
});

test('every import problem and result has a pt-BR text', () => {
  // the header's column names are what the file must say, not codes
  const header = (t: string): string => t.replace('nome;email;curso;expira_em', 'colunas');
  for (const code of API_IMPORT_PROBLEMS) assertPortuguese(header(importProblemText(code, null)), code);
  for (const code of API_IMPORT_RESULTS) assertPortuguese(importResultText(code), code);
  assert.deepEqual(Object.keys(IMPORT_PROBLEMS).sort(), [...API_IMPORT_PROBLEMS].sort());
  assert.deepEqual(Object.keys(IMPORT_RESULTS).sort(), [...API_IMPORT_RESULTS].sort());
  assert.equal(importProblemText('invalid_email', 'sem-arroba'), 'E-mail ausente ou inválido. Valor: “sem-arroba”.');
  assert.equal(importProblemText('duplicate_line', '4'), 'Mesmo e-mail e curso de uma linha anterior (linha 4).');
  assert.doesNotMatch(importProblemText('something_new', null), /_/);
});
