import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvedAtText, orderDetails } from './order-details';

test('the approval time is shown in the given time zone, or a dash', () => {
  assert.equal(approvedAtText({ approved_at: '2026-01-01T13:02:00Z' }, 'America/Sao_Paulo'), '01/01/2026 10:02');
  assert.equal(approvedAtText({ approved_at: null }), '—');
});

test('only what the platform told is listed, in pt-BR', () => {
  assert.deepEqual(
    orderDetails(
      { coupon: 'BLACK10', offer_code: 'plano-anual', access_until: '2026-03-01T12:00:00Z' },
      'America/Sao_Paulo',
    ),
    [
      ['Cupom', 'BLACK10'],
      ['Oferta/plano', 'plano-anual'],
      ['Acesso até', '01/03/2026'],
    ],
  );
  assert.deepEqual(orderDetails({ coupon: null, offer_code: 'oferta-1', access_until: null }), [
    ['Oferta/plano', 'oferta-1'],
  ]);
  assert.deepEqual(orderDetails({ coupon: null, offer_code: null, access_until: null }), []);
});

test('the paid-period end is a date in São Paulo, not in UTC', () => {
  // 02:00 UTC on 1 March is still 28 February in São Paulo
  assert.deepEqual(
    orderDetails({ coupon: null, offer_code: null, access_until: '2026-03-01T02:00:00Z' }, 'America/Sao_Paulo'),
    [['Acesso até', '28/02/2026']],
  );
});
