import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  auditApiFilters,
  auditChanges,
  auditDetails,
  auditFiltersFromQuery,
  auditFiltersToQuery,
  auditValue,
} from './audit-view';
import { formatNumber } from './format';
import type { AuditEntry } from './types';

test('audit filters: URL ⇄ state ⇄ API query', () => {
  const f = auditFiltersFromQuery(
    new URLSearchParams('pessoa=7&acao=update_user&alvo_tipo=user&alvo=9&de=2026-12-01&ate=2026-12-02'),
  );
  assert.deepEqual(f, {
    actor: '7',
    action: 'update_user',
    targetType: 'user',
    targetId: '9',
    from: '2026-12-01',
    to: '2026-12-02',
  });
  assert.deepEqual(auditFiltersToQuery(f), {
    pessoa: '7',
    acao: 'update_user',
    alvo_tipo: 'user',
    alvo: '9',
    de: '2026-12-01',
    ate: '2026-12-02',
  });
  const api = auditApiFilters(f);
  assert.equal(api.actor, '7');
  assert.equal(api.target_id, '9');
  assert.equal(new Date(api.from ?? '').getDate(), 1, 'local start of the day');
  assert.equal(new Date(api.to ?? '').getDate(), 3, 'exclusive: the start of the next local day');
  // garbage in the URL is no filter
  assert.deepEqual(auditFiltersFromQuery(new URLSearchParams('pessoa=abc&alvo=-1&de=ontem')), {
    actor: '',
    action: '',
    targetType: '',
    targetId: '',
    from: '',
    to: '',
  });
});

const entry = (e: Partial<AuditEntry>): AuditEntry => ({
  id: '1',
  actor: { id: '1', name: 'Dona', email: 'dona@x.com' },
  action: 'update_user',
  target: { type: 'user', id: '2', label: 'Bia' },
  reason: null,
  before: null,
  after: null,
  details: {},
  created_at: '2026-12-02T10:00:00Z',
  ...e,
});

test('a user change reads as what changed, in pt-BR', () => {
  const lines = auditChanges(
    entry({ before: { role: 'suporte', active: true }, after: { role: 'suporte', active: false } }),
  );
  assert.deepEqual(lines, [{ key: 'active', label: 'Situação', before: 'Ativo', after: 'Desativado' }]);
  const promoted = auditChanges(
    entry({ before: { role: 'suporte', active: true }, after: { role: 'admin', active: true } }),
  );
  assert.deepEqual(promoted, [{ key: 'role', label: 'Papel', before: 'Suporte', after: 'Administrador' }]);
  // nothing changed: every field is shown
  assert.equal(auditChanges(entry({ before: { role: 'admin' }, after: { role: 'admin' } })).length, 1);
  assert.deepEqual(auditChanges(entry({})), []);
});

test('a retried treatment, a course and the details read in pt-BR', () => {
  const retry = auditChanges(
    entry({
      target: { type: 'treatment', id: '5', label: null },
      before: { status: 'dead', attempts: 5, last_error: 'smtp: connection refused' },
      after: { status: 'pending', attempts: 0 },
    }),
  );
  const byKey = Object.fromEntries(retry.map((l) => [l.key, l]));
  assert.equal(byKey['status']?.before, 'Falhou definitivamente');
  assert.equal(byKey['status']?.after, 'Pendente');
  assert.equal(byKey['attempts']?.after, '0');
  assert.doesNotMatch(byKey['last_error']?.before ?? '', /smtp/);
  assert.equal(byKey['last_error']?.after, '—');
  assert.equal(auditValue('access_days', null, 'course'), 'Vitalício');
  assert.equal(auditValue('access_days', 30, 'course'), '30 dia(s)');
  assert.equal(auditValue('active', false, 'course'), 'Inativo');
  assert.equal(auditValue('flag', true, 'course'), 'Sim');
  assert.match(auditValue('expires_at', '2026-12-31T23:00:00Z', 'customer'), /^\d{2}\/\d{2}\/\d{4}/);
  assert.equal(auditValue('course_ids', [1, 2], 'product_mapping'), '#1, #2');
  // record numbers are no quantities; a count is
  assert.equal(auditValue('treatments', [1025, 1026], 'customer'), '#1025, #1026');
  assert.equal(auditValue('treatments', 1500, 'import'), formatNumber(1500));
  assert.equal(auditValue('course_id', 1234, 'customer'), '#1234');
  // a group of fields reads field by field
  assert.equal(
    auditValue('counts', { new_customers: 3, errors: 0 }, 'import'),
    'Clientes novos: 3, Linhas com erro: 0',
  );
  assert.equal(auditValue('term', { days: 10 }, 'course'), 'Dias: 10 dia(s)');
  // what an access change records has labels
  const revoke = auditChanges(
    entry({
      target: { type: 'customer', id: '4', label: 'a@x.com' },
      before: { id: 9, course_id: 5, status: 'active', revoked_at: null },
      after: { id: 9, course_id: 5, status: 'revoked', revoked_at: '2026-12-02T10:00:00Z' },
    }),
  );
  assert.ok(revoke.length === 2 && revoke.every((l) => l.label), JSON.stringify(revoke));
  const details = auditDetails(
    entry({ target: { type: 'webhook_event', id: '3', label: null }, details: { outcome: 'processed' } }),
  );
  assert.deepEqual(details, [{ key: 'outcome', label: 'Resultado', before: null, after: 'Processado' }]);
  // a field this version does not know keeps its technical name, without a label
  assert.deepEqual(auditChanges(entry({ after: { color: 'blue' } })), [
    { key: 'color', label: null, before: null, after: 'blue' },
  ]);
});
