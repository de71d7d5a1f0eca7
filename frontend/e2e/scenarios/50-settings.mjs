// Configurações (issue 11): the admin (kit.STAFF) opens Configurações from the navigation (after Auditoria),
// sees the read-only cards with Ligado/Desligado, no secret on the page, sends a test alert (the e2e server's
// ALERT_WEBHOOK_URL is a local recorder, kit.alertCalls) and sees the result inline; a suporte does not see the
// item and a typed URL says "Apenas administradores".

import { randomBytes } from 'node:crypto';

export default async function (kit) {
  const { browser, step, assert, until, waitForText, goto, heading, login, watch, guardCsp, STAFF, INVITE } = kit;
  const open = async (label) => {
    const context = await browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR' });
    await guardCsp(context, label);
    const page = await context.newPage();
    watch(page, label);
    return { context, page };
  };
  const nav = (page) => page.getByRole('navigation', { name: 'Principal' });
  const admin = await open('settings-admin');
  const support = await open('settings-support');
  const card = (page, id) => page.locator(`[data-card="${id}"]`);

  try {
    await step('settings: the admin opens Configurações and sees every card', async () => {
      const { page } = admin;
      await goto(page, '/entrar');
      await login(page, STAFF.email, STAFF.password);
      await heading(page, 'Painel');
      const links = await nav(page).getByRole('link').allTextContents();
      const at = links.indexOf('Configurações');
      assert(at > 0 && links[at - 1] === 'Auditoria', `nav order: ${links.join(', ')}`);
      await nav(page).getByRole('link', { name: 'Configurações' }).click();
      await heading(page, 'Configurações');
      for (const title of [
        'Fontes de webhook',
        'E-mail',
        'Plataforma do curso',
        'Alertas',
        'Worker',
        'Retenção e limites',
      ])
        await page.getByRole('heading', { name: title, level: 2 }).waitFor();
      await waitForText(card(page, 'alerts'), 'Ligado');
      await waitForText(card(page, 'email'), 'Desligado');
      await waitForText(card(page, 'platform'), 'Desligado');
      await waitForText(card(page, 'sources'), 'Hashtag');
      const text = await page.locator('main').innerText();
      assert(!text.includes('e2e-segredo-do-alerta'), 'the alert URL path (a secret) is on the page');
      assert(!text.includes(kit.WEBHOOK_TOKEN), 'a webhook token is on the page');
      await kit.shot(page, 'configuracoes-desktop');
    });

    await step('settings: "Enviar teste" sends a test alert and shows the answer inline', async () => {
      const { page } = admin;
      const tests = () => kit.alertCalls().filter((c) => c.text?.includes('alerta de teste'));
      const before = tests().length;
      await card(page, 'alerts').getByRole('button', { name: 'Enviar teste' }).click();
      await waitForText(card(page, 'alerts'), 'Enviado: o destino respondeu 200.');
      await until('the recorder got the test alert', () => tests().length > before);
      const call = tests().at(-1);
      assert(call.content === call.text, JSON.stringify(call));
      assert(call.text.includes(STAFF.email), 'the test alert names who sent it');
      // channels that are off have no test button
      assert((await card(page, 'email').getByRole('button', { name: 'Enviar teste' }).count()) === 0, 'email test');
    });

    await step('settings: a suporte does not see Configurações and gets "Apenas administradores"', async () => {
      const { page } = support;
      const email = `carla.${randomBytes(3).toString('hex')}@example.com`;
      await goto(page, '/cadastro');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Nome').fill('Carla Suporte');
      await page.getByLabel('Senha').fill('senha-da-carla-1');
      await page.getByLabel('Token de convite').fill(INVITE);
      await page.getByRole('button', { name: 'Criar conta' }).click();
      await page.waitForURL(/\/entrar\?email=/);
      await login(page, email, 'senha-da-carla-1');
      await heading(page, 'Painel');
      await nav(page).getByRole('link', { name: 'Clientes' }).waitFor();
      assert(!(await nav(page).getByRole('link', { name: 'Configurações' }).isVisible()), 'support sees Configurações');
      await goto(page, '/configuracoes');
      await heading(page, 'Apenas administradores');
    });
  } finally {
    await admin.context.close();
    await support.context.close();
  }
}
