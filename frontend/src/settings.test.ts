import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from './json';
import { MASK, settingsCards, settingsDecoder, spanText, testResultText } from './settings';

const raw = {
  sources: [
    { source: 'hashtag', secret_set: true },
    { source: 'hotmart', secret_set: false },
  ],
  email: {
    enabled: true,
    host: 'smtp.exemplo.com',
    port: 587,
    username: 'avisos',
    password_set: true,
    from: 'Escola <avisos@exemplo.com>',
    reply_to: null,
  },
  platform: { enabled: false, host: null, secret_set: false, mode: null },
  alerts: {
    enabled: true,
    host: 'hooks.slack.com',
    http_calls: [],
    outbox_age_seconds: 900,
    rejections: 20,
    rejections_span_seconds: 300,
    window_seconds: 1800,
  },
  worker: { concurrency: 4, max_attempts: 8, poll_ms: 5000, lease_seconds: 60 },
  retention: { rejected_days: 30, raw_days: null },
  rate_limit: { per_second: 0 },
  public_url: 'https://portaria.exemplo.com',
  dev: false,
};

test('settings become cards in pt-BR, secrets masked', () => {
  const cards = settingsCards(decode(settingsDecoder, raw));
  assert.deepEqual(
    cards.map((c) => [c.id, c.on, c.test]),
    [
      ['sources', null, null],
      ['email', true, 'email'],
      ['platform', false, null],
      ['alerts', true, 'alert'],
      ['worker', true, null],
      ['retention', null, null],
    ],
  );
  const email = Object.fromEntries(cards[1]?.rows ?? []);
  assert.equal(email['Servidor SMTP'], 'smtp.exemplo.com:587');
  assert.equal(email['Senha'], MASK);
  assert.equal(email['Responder para'], 'não definido');
  assert.deepEqual(cards[0]?.rows, [
    ['Hashtag', `Ligada (segredo ${MASK})`],
    ['Hotmart', 'Desligada (sem segredo)'],
  ]);
  assert.match(cards[2]?.hint ?? '', /ACCESS_WEBHOOK_URL/);
  const alerts = Object.fromEntries(cards[3]?.rows ?? []);
  assert.match(alerts['Fila parada'] ?? '', /15 min/);
  assert.match(alerts['Repetição'] ?? '', /30 min/);
  const retention = Object.fromEntries(cards[5]?.rows ?? []);
  assert.equal(retention['Corpo de webhooks aceitos'], 'para sempre');
  assert.equal(retention['Limite de webhooks'], 'sem limite');
});

test('alerts through templated calls (ALERT_HTTP_CONFIG) show each call by host, the rest masked', () => {
  const withCalls = {
    ...raw,
    alerts: { ...raw.alerts, host: null, http_calls: ['whatsapp: POST zap.exemplo.com'] },
  };
  const card = settingsCards(decode(settingsDecoder, withCalls))[3];
  assert.equal(card?.test, 'alert');
  assert.deepEqual(card?.rows[0], ['Chamada configurada', `whatsapp: POST zap.exemplo.com (caminho e chaves ${MASK})`]);
  assert.ok(!card?.rows.some(([label]) => label === 'Destino'), 'no webhook row without ALERT_WEBHOOK_URL');
  const off = { ...raw, alerts: { ...raw.alerts, enabled: false, host: null } };
  assert.match(settingsCards(decode(settingsDecoder, off))[3]?.hint ?? '', /ALERT_HTTP_CONFIG/);
});

test('spans and test results read naturally', () => {
  assert.equal(spanText(45), '45 s');
  assert.equal(spanText(900), '15 min');
  assert.equal(spanText(5400), '1 h 30 min');
  assert.equal(
    testResultText({ channel: 'alert', ok: true, status: 200, detail: 'HTTP 200' }),
    'Enviado: o destino respondeu 200.',
  );
  assert.match(
    testResultText({ channel: 'alert', ok: false, status: 403, detail: 'HTTP 403: invalid_token' }),
    /recusou \(HTTP 403\)/,
  );
  assert.match(
    testResultText({ channel: 'alert', ok: false, status: null, detail: 'connection refused' }),
    /^Não foi possível enviar/,
  );
});
