// Simulador (issue 12): the admin (kit.STAFF) opens Simulador from the navigation (after Configurações),
// plays "Aprovação e reembolso" for Kiwify with a customer e-mail, sees both deliveries answered
// "Processado", opens the customer and sees the grant and the revoke in the timeline; a suporte does not
// see the item and a typed URL says "Apenas administradores".

import { randomBytes } from 'node:crypto';

export default async function (kit) {
  const { browser, step, assert, waitForText, goto, heading, login, watch, guardCsp, STAFF, INVITE } = kit;
  const open = async (label) => {
    const context = await browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR' });
    await guardCsp(context, label);
    const page = await context.newPage();
    watch(page, label);
    return { context, page };
  };
  const nav = (page) => page.getByRole('navigation', { name: 'Principal' });
  const admin = await open('simulator-admin');
  const support = await open('simulator-support');
  const email = `sim.${randomBytes(3).toString('hex')}@exemplo.com.br`;

  try {
    await step('simulator: the admin plays "Aprovação e reembolso" for Kiwify with an e-mail', async () => {
      const { page } = admin;
      await goto(page, '/entrar');
      await login(page, STAFF.email, STAFF.password);
      await heading(page, 'Painel');
      const links = await nav(page).getByRole('link').allTextContents();
      const at = links.indexOf('Simulador');
      assert(at > 0 && links[at - 1] === 'Modelos de e-mail', `nav order: ${links.join(', ')}`);
      await nav(page).getByRole('link', { name: 'Simulador' }).click();
      await heading(page, 'Simulador');
      await page.getByLabel('Plataforma').selectOption('kiwify');
      await page.getByLabel('Cenário').selectOption({ label: 'Aprovação e reembolso' });
      await waitForText(page.locator('[data-scenario-description]'), 'libera e revoga o acesso');
      await page.getByLabel('E-mail do cliente').fill(email);
      await page.getByRole('button', { name: 'Enviar' }).click();
      await waitForText(page.locator('main'), 'todas com a resposta esperada');
      const rows = page.locator('.simulator-results tbody tr');
      assert((await rows.count()) === 2, `expected 2 deliveries, saw ${await rows.count()}`);
      await waitForText(rows.nth(0), 'Aprovação');
      await waitForText(rows.nth(0), 'Processado');
      await waitForText(rows.nth(1), 'Reembolso');
      await waitForText(rows.nth(1), 'Processado');
      const text = await page.locator('main').innerText();
      assert(!text.includes('processed') && !text.includes('refunded'), 'a raw code is on the page');
      await kit.shot(page, 'simulador-desktop');
    });

    await step('simulator: the link lands on the customer, with the grant and the revoke in the timeline', async () => {
      const { page } = admin;
      await page.locator(`[data-simulated-customer="${email}"]`).click();
      await page.waitForURL(/\/clientes\/\d+/);
      await waitForText(page.locator('main'), email);
      await page.locator('li.tl-treatment[data-kind="grant_access"]').first().waitFor();
      await page.locator('li.tl-treatment[data-kind="revoke_access"]').first().waitFor();
      const events = await page.locator('li.tl-event').count();
      assert(events === 2, `expected 2 webhook events in the timeline, saw ${events}`);
    });

    await step('simulator: a suporte does not see Simulador and gets "Apenas administradores"', async () => {
      const { page } = support;
      const who = `dora.${randomBytes(3).toString('hex')}@example.com`;
      await goto(page, '/cadastro');
      await page.getByLabel('E-mail').fill(who);
      await page.getByLabel('Nome').fill('Dora Suporte');
      await page.getByLabel('Senha').fill('senha-da-dora-1');
      await page.getByLabel('Token de convite').fill(INVITE);
      await page.getByRole('button', { name: 'Criar conta' }).click();
      await page.waitForURL(/\/entrar\?email=/);
      await login(page, who, 'senha-da-dora-1');
      await heading(page, 'Painel');
      await nav(page).getByRole('link', { name: 'Clientes' }).waitFor();
      assert(!(await nav(page).getByRole('link', { name: 'Simulador' }).isVisible()), 'support sees Simulador');
      await goto(page, '/simulador');
      await heading(page, 'Apenas administradores');
    });
  } finally {
    await admin.context.close();
    await support.context.close();
  }
}
