import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from './json';
import {
  answerLabel,
  catalogDecoder,
  customerToOpen,
  enabledSources,
  runDecoder,
  runSummary,
  SCENARIOS,
  scenarioName,
  scenariosOf,
  stepText,
} from './simulator';

const API_SCENARIOS = [
  'random',
  'lifecycle',
  'out-of-order',
  'duplicates',
  'pix-expiry',
  'boleto',
  'chargeback',
  'subscription',
  'hostile',
];

test('every scenario of the API has a pt-BR name and a one-line description', () => {
  assert.deepEqual(Object.keys(SCENARIOS).sort(), [...API_SCENARIOS].sort());
  for (const code of API_SCENARIOS) {
    assert.ok(SCENARIOS[code]?.name && SCENARIOS[code]?.description, code);
    assert.ok(!SCENARIOS[code]?.description.includes('\n'), code);
  }
  assert.equal(scenarioName('lifecycle'), 'Aprovação e reembolso');
  assert.equal(scenarioName('lottery'), 'Cenário sem tradução nesta versão');
});

test('only enabled sources are offered, each with its scenarios in the screen order', () => {
  const catalog = decode(catalogDecoder, {
    sources: [
      { source: 'hashtag', enabled: true, scenarios: ['random', 'lifecycle'] },
      { source: 'kiwify', enabled: true, scenarios: ['hostile', 'lifecycle', 'pix-expiry'] },
      { source: 'generic', enabled: false, scenarios: ['lifecycle'] },
    ],
    max_count: 50,
  });
  assert.deepEqual(
    enabledSources(catalog).map((s) => s.source),
    ['hashtag', 'kiwify'],
  );
  assert.deepEqual(scenariosOf(catalog.sources[1]), ['lifecycle', 'pix-expiry', 'hostile']);
  assert.deepEqual(scenariosOf(undefined), []);
});

const run = {
  source: 'kiwify',
  scenario: 'lifecycle',
  seed: 7,
  count: 1,
  deliveries: [
    {
      sequence: 0,
      step: 'approved',
      customer: 'ana@exemplo.com.br',
      status: 200,
      outcome: 'processed',
      expected_status: 200,
      expected_outcome: 'processed',
      as_expected: true,
    },
    {
      sequence: 0,
      step: 'refunded',
      customer: 'ana@exemplo.com.br',
      status: 200,
      outcome: 'duplicate',
      expected_status: 200,
      expected_outcome: 'processed',
      as_expected: false,
    },
  ],
  customers: [{ email: 'ana@exemplo.com.br', id: 12 }],
  unexpected: 1,
};

test('a run decodes and reads in pt-BR', () => {
  const r = decode(runDecoder, run);
  assert.equal(
    runSummary(r),
    'Aprovação e reembolso · Kiwify: 2 entregas enviadas, 1 com resposta diferente da esperada.',
  );
  assert.equal(stepText(r.deliveries[0]!.step, r.scenario), 'Aprovação');
  assert.equal(stepText('refunded (first)', 'out-of-order'), 'Reembolso (chegou primeiro)');
  assert.equal(stepText('missing signature', 'hostile'), 'Requisição inválida');
  assert.equal(stepText('something new', 'lifecycle'), 'Entrega de teste');
  assert.deepEqual(customerToOpen(r), { email: 'ana@exemplo.com.br', id: 12 });
  assert.equal(customerToOpen({ ...r, customers: [{ email: 'x@y.z', id: null }] }), undefined);
});

test('answers are pt-BR, never the raw code', () => {
  assert.deepEqual(answerLabel({ status: 200, outcome: 'processed' }), { text: 'Processado', tone: 'ok' });
  assert.equal(answerLabel({ status: 401, outcome: 'unauthorized' }).text, 'Não autorizado');
  assert.equal(answerLabel({ status: null, outcome: 'no_answer' }).text, 'Sem resposta do servidor');
  assert.equal(answerLabel({ status: 429, outcome: 'too_many_requests' }).text, 'Limite de requisições');
  assert.deepEqual(answerLabel({ status: 404, outcome: 'weird_code' }), { text: 'Recusado', tone: 'bad' });
});
