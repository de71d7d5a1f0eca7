import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessRequest, bulkRequest, describeBulk, describeImport, welcomeReason, type AccessForm } from './access';

const form = (over: Partial<AccessForm> = {}): AccessForm => ({
  action: 'extend',
  courseId: '7',
  term: 'days',
  days: '10',
  until: '',
  reason: ' Atraso na entrega ',
  ...over,
});

test('access requests: the term that fits the action, a reason always', () => {
  assert.deepEqual(accessRequest(form()), {
    ok: true,
    body: { action: 'extend', course_id: 7, days: 10, reason: 'Atraso na entrega' },
  });
  assert.deepEqual(accessRequest(form({ action: 'grant', term: 'course' })), {
    ok: true,
    body: { action: 'grant', course_id: 7, reason: 'Atraso na entrega' },
  });
  assert.deepEqual(accessRequest(form({ action: 'grant', term: 'until', until: '2027-01-31' })), {
    ok: true,
    body: { action: 'grant', course_id: 7, until: '2027-01-31', reason: 'Atraso na entrega' },
  });
  assert.deepEqual(accessRequest(form({ term: 'lifetime' })), {
    ok: true,
    body: { action: 'extend', course_id: 7, lifetime: true, reason: 'Atraso na entrega' },
  });
  assert.deepEqual(accessRequest(form({ action: 'revoke', days: 'x' })), {
    ok: true,
    body: { action: 'revoke', course_id: 7, reason: 'Atraso na entrega' },
  });
  const bad = accessRequest(form({ reason: '  ', days: '0', courseId: '' }));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(Object.keys(bad.errors).sort(), ['course_id', 'days', 'reason']);
  const noTerm = accessRequest(form({ term: 'course' }));
  assert.ok(!noTerm.ok && noTerm.errors['days']);
  const noDate = accessRequest(form({ term: 'until', until: '' }));
  assert.ok(!noDate.ok && noDate.errors['until']);
  assert.ok(!accessRequest(form({ days: '2.5' })).ok);
  assert.ok(!accessRequest(form({ reason: 'x'.repeat(501) })).ok);
});

test('bulk requests and the welcome reason', () => {
  assert.deepEqual(bulkRequest({ action: 'extend', term: 'days', days: '7', until: '', reason: 'Reposição' }), {
    ok: true,
    body: { action: 'extend', days: 7, reason: 'Reposição' },
  });
  assert.deepEqual(bulkRequest({ action: 'revoke', term: 'days', days: '', until: '', reason: 'Fim' }), {
    ok: true,
    body: { action: 'revoke', reason: 'Fim' },
  });
  assert.ok(!bulkRequest({ action: 'revoke', term: 'days', days: '', until: '', reason: '' }).ok);
  assert.deepEqual(welcomeReason('  '), { ok: true, body: null });
  assert.deepEqual(welcomeReason(' não chegou '), { ok: true, body: 'não chegou' });
});

test('pt-BR summaries of a bulk preview and an import', () => {
  const bulk = {
    dry_run: true,
    action: 'extend',
    course_id: '1',
    course_name: 'Turma A',
    active: 1200,
    changed: 1199,
    skipped: 1,
  };
  assert.equal(
    describeBulk(bulk),
    'Turma A: 1.200 matrículas ativas; 1.199 serão estendidas; 1 fica como está (vitalício ou já termina depois).',
  );
  assert.equal(
    describeBulk({ ...bulk, action: 'revoke', dry_run: false, active: 1, changed: 1, skipped: 0 }),
    'Turma A: 1 matrícula ativa; 1 revogada.',
  );
  const report = {
    dry_run: true,
    imported: false,
    lines: 500,
    counts: { new_customers: 497, new_accesses: 497, extended: 0, already_active: 0, errors: 3 },
    errors: [],
    preview: [],
  };
  assert.equal(
    describeImport(report),
    'Validação: 500 linhas lidas, 497 clientes novos, 497 acessos novos, 0 acessos estendidos, 0 já ativos, 3 linhas com erro.',
  );
});
