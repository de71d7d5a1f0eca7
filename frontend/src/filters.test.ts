import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  endOfLocalDay,
  eventApiFilters,
  eventFiltersFromQuery,
  eventFiltersToQuery,
  eventMatches,
  startOfLocalDay,
  treatmentFiltersFromQuery,
  treatmentMatches,
} from './filters';
import type { EventSummary, Treatment } from './types';

const event = (over: Partial<EventSummary> = {}): EventSummary => ({
  id: '1',
  source: 'hashtag',
  received_at: new Date(2026, 10, 23, 12).toISOString(),
  outcome: 'processed',
  error: null,
  note: null,
  event_type: null,
  kind: null,
  dedup_key: null,
  duplicate_of: null,
  replay_of: null,
  customer_id: 'c',
  customer_email: 'joao@email.com',
  order_id: null,
  latency_ms: null,
  ...over,
});

const treatment = (over: Partial<Treatment> = {}): Treatment => ({
  id: 't',
  kind: 'grant_access',
  status: 'pending',
  attempts: 1,
  run_at: '',
  output: null,
  last_error: 'boom',
  reason: null,
  event_id: null,
  customer_id: 'c',
  customer_email: 'ana@x.com',
  course_id: null,
  course_name: null,
  created_at: new Date(2026, 10, 23, 12).toISOString(),
  updated_at: '',
  done_at: null,
  actor: null,
  staff_reason: null,
  ...over,
});

test('filters round-trip through the URL with Portuguese keys; bad dates are dropped', () => {
  const f = eventFiltersFromQuery(
    new URLSearchParams('origem=hashtag&resultado=processed&de=2026-11-01&ate=junk&q=%20joao%20'),
  );
  assert.deepEqual(f, { source: 'hashtag', outcome: 'processed', q: 'joao', from: '2026-11-01', to: '' });
  assert.deepEqual(eventFiltersToQuery(f), {
    origem: 'hashtag',
    resultado: 'processed',
    de: '2026-11-01',
    ate: '',
    q: 'joao',
  });
  assert.deepEqual(treatmentFiltersFromQuery(new URLSearchParams('tipo=grant_access&status=failed')), {
    kind: 'grant_access',
    status: 'failed',
    q: '',
    from: '',
    to: '',
  });
});

test('local days become RFC 3339 bounds', () => {
  assert.equal(startOfLocalDay('2026-11-23'), new Date(2026, 10, 23).toISOString());
  assert.equal(endOfLocalDay('2026-11-23'), new Date(2026, 10, 24).toISOString());
  assert.equal(startOfLocalDay(''), '');
  const api = eventApiFilters({ source: '', outcome: '', q: '', from: '2026-11-01', to: '' });
  assert.equal(api.from, new Date(2026, 10, 1).toISOString());
  assert.equal(api.to, '');
});

test('live events are matched against the filters', () => {
  const none = { source: '', outcome: '', q: '', from: '', to: '' };
  assert.equal(eventMatches(event(), none), true);
  assert.equal(eventMatches(event(), { ...none, source: 'kiwify' }), false);
  assert.equal(eventMatches(event(), { ...none, outcome: 'duplicate' }), false);
  assert.equal(eventMatches(event(), { ...none, q: 'JOAO' }), true);
  assert.equal(eventMatches(event({ customer_email: null }), { ...none, q: 'joao' }), false);
  assert.equal(eventMatches(event(), { ...none, to: '2026-11-22' }), false);
  assert.equal(eventMatches(event(), { ...none, from: '2026-11-23', to: '2026-11-23' }), true);
});

test('live treatments are matched against the filters ("failed" = pending with an error)', () => {
  const none = { kind: '', status: '', q: '', from: '', to: '' };
  assert.equal(treatmentMatches(treatment(), { ...none, status: 'failed' }), true);
  assert.equal(treatmentMatches(treatment(), { ...none, status: 'pending' }), true);
  assert.equal(treatmentMatches(treatment({ last_error: null }), { ...none, status: 'failed' }), false);
  assert.equal(treatmentMatches(treatment({ status: 'done', last_error: null }), { ...none, status: 'done' }), true);
  assert.equal(treatmentMatches(treatment(), { ...none, kind: 'welcome_message' }), false);
  assert.equal(treatmentMatches(treatment(), { ...none, q: 'ana' }), true);
});
