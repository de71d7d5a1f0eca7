import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from './json';
import { MAIL_TEMPLATE_NAMES, mailTemplateName } from './labels';
import { frameSrc, mailPreviewDecoder, mailStatusText, mailTemplateListDecoder } from './mail';

const preview = (kind: string, frame_url: string) =>
  decode(mailPreviewDecoder, { kind, subject: 'Assunto', text: 'Olá', html: '<p>Olá</p>', frame_url });

test('every e-mail kind has a pt-BR name, an unknown one a generic name (never the code)', () => {
  assert.equal(mailTemplateName('welcome_message'), 'Boas-vindas (acesso liberado)');
  assert.equal(Object.keys(MAIL_TEMPLATE_NAMES).length, 8);
  assert.ok(!mailTemplateName('new_kind').includes('new_kind'));
  assert.ok(!mailTemplateName('__proto__').includes('proto'));
});

test('the frame loads only the server frame route of its own kind', () => {
  const ok = '/api/mail/templates/welcome_message/frame?ticket=1800000000.abcdef';
  assert.equal(frameSrc(preview('welcome_message', ok)), ok);
  for (const bad of [
    'https://evil.example/api/mail/templates/welcome_message/frame?ticket=1',
    '//evil.example/x',
    'javascript:alert(1)',
    '/api/mail/templates/refund_message/frame?ticket=1',
    '/api/mail/templates/welcome_message/frame?ticket=1"><script>',
    '/api/mail/templates/welcome_message/preview',
  ])
    assert.equal(frameSrc(preview('welcome_message', bad)), null, bad);
});

test('the status line says whether e-mail is on and where the templates come from', () => {
  const list = (enabled: boolean, templates_dir_set: boolean) =>
    decode(mailTemplateListDecoder, { enabled, templates_dir_set, items: [] });
  assert.match(mailStatusText(list(false, false)), /desligado.*SMTP_URL.*fábrica/);
  assert.match(mailStatusText(list(true, true)), /ligado\..*MAIL_TEMPLATES_DIR quando/);
});
