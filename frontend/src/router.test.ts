import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAdminRoute, isAppLinkClick, isPublicRoute, matchRoute, routeUrl } from './router';

test('matches every route, with params and query', () => {
  assert.equal(matchRoute('/').name, 'dashboard');
  assert.equal(matchRoute('/entrar?next=%2Feventos').name, 'login');
  assert.equal(matchRoute('/entrar?next=%2Feventos').query.get('next'), '/eventos');
  assert.equal(matchRoute('/cadastro').name, 'signup');
  assert.equal(matchRoute('/clientes?q=jo%C3%A3o').query.get('q'), 'joão');
  assert.equal(matchRoute('/clientes/').name, 'customers');
  const customer = matchRoute('/clientes/42');
  assert.equal(customer.name, 'customer');
  assert.deepEqual(customer.params, { id: '42' });
  assert.equal(matchRoute('/clientes/a%20b').params['id'], 'a b');
  assert.equal(matchRoute('/eventos?origem=hashtag').name, 'events');
  assert.equal(matchRoute('/tratativas?status=failed').query.get('status'), 'failed');
  assert.equal(matchRoute('/clientes/1/extra').name, 'notFound');
  assert.equal(matchRoute('/nada').name, 'notFound');
  assert.equal(matchRoute('/clientes/%E0%A4%A').name, 'notFound');
  assert.equal(matchRoute('http://host/eventos?x=1').url, '/eventos?x=1');
});

test('builds URLs, leaving empty query values out', () => {
  assert.equal(routeUrl('dashboard'), '/');
  assert.equal(routeUrl('import'), '/importar');
  assert.equal(matchRoute('/importar').name, 'import');
  assert.equal(routeUrl('customer', { id: '7' }), '/clientes/7');
  assert.equal(routeUrl('customer', { id: 'a/b' }), '/clientes/a%2Fb');
  assert.equal(routeUrl('customers', {}, { q: 'joão avi' }), '/clientes?q=jo%C3%A3o+avi');
  assert.equal(
    routeUrl('events', {}, { origem: '', resultado: 'processed', de: null }),
    '/eventos?resultado=processed',
  );
  assert.throws(() => routeUrl('customer'));
  const back = routeUrl('treatments', {}, { status: 'failed', tipo: 'grant_access' });
  assert.equal(matchRoute(back).query.get('tipo'), 'grant_access');
});

test('public routes', () => {
  assert.equal(isPublicRoute('login'), true);
  assert.equal(isPublicRoute('signup'), true);
  assert.equal(isPublicRoute('customers'), false);
});

test('which link clicks the app handles', () => {
  const click = { button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, defaultPrevented: false };
  const link = { target: '', hasDownload: false, href: 'http://app/clientes' };
  assert.equal(isAppLinkClick(click, link, 'http://app'), true);
  assert.equal(isAppLinkClick({ ...click, ctrlKey: true }, link, 'http://app'), false);
  assert.equal(isAppLinkClick({ ...click, button: 1 }, link, 'http://app'), false);
  assert.equal(isAppLinkClick(click, { ...link, target: '_blank' }, 'http://app'), false);
  assert.equal(isAppLinkClick(click, { ...link, hasDownload: true }, 'http://app'), false);
  assert.equal(isAppLinkClick(click, { ...link, href: 'http://other/clientes' }, 'http://app'), false);
  assert.equal(isAppLinkClick(click, { ...link, href: 'http://app/api/docs/' }, 'http://app'), false);
});

test('the team, the audit and the password screens; only the first two are for administrators', () => {
  assert.equal(matchRoute('/equipe').name, 'team');
  assert.equal(matchRoute('/auditoria?acao=update_user').name, 'audit');
  assert.equal(matchRoute('/alterar-senha').name, 'password');
  assert.ok(isAdminRoute('team') && isAdminRoute('audit'));
  assert.equal(matchRoute('/configuracoes').name, 'settings');
  assert.ok(isAdminRoute('settings'));
  assert.equal(matchRoute('/modelos-de-email?modelo=refund_message').name, 'mail');
  assert.ok(isAdminRoute('mail'));
  for (const name of ['dashboard', 'customers', 'customer', 'events', 'treatments', 'password', 'login'] as const)
    assert.ok(!isAdminRoute(name), name);
});
