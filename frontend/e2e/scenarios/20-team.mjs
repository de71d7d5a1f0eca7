// Staff roles (issue 10): the admin (kit.STAFF, the first account) sees Equipe and Auditoria; a new support
// account does not (and a typed URL says "Apenas administradores"); the header search with `/`; "Alterar
// senha"; the admin deactivates the support user in Equipe (a <dialog> confirms) and that user's open page is
// signed out at its next action; Auditoria shows the deactivation with the admin as the actor.

import { randomBytes } from 'node:crypto';

export default async function (kit) {
  const { browser, step, assert, until, waitForText, goto, heading, login, watch, guardCsp, STAFF, INVITE } = kit;
  const SUPPORT = {
    name: 'Bruno Suporte',
    email: `bruno.${randomBytes(3).toString('hex')}@example.com`,
    password: 'senha-do-bruno-1',
    newPassword: 'senha-nova-do-bruno-2',
  };

  const open = async (label) => {
    const context = await browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR' });
    await guardCsp(context, label);
    const page = await context.newPage();
    watch(page, label);
    return { context, page };
  };
  const admin = await open('team-admin');
  const support = await open('team-support');
  const nav = (page) => page.getByRole('navigation', { name: 'Principal' });

  try {
    await step('team: the admin sees Equipe and Auditoria in the navigation', async () => {
      const { page } = admin;
      await goto(page, '/entrar');
      await login(page, STAFF.email, STAFF.password);
      await heading(page, 'Painel');
      await nav(page).getByRole('link', { name: 'Equipe' }).waitFor();
      await nav(page).getByRole('link', { name: 'Auditoria' }).waitFor();
    });

    await step('team: a new account signs up as suporte and sees no admin screen', async () => {
      const { page } = support;
      await goto(page, '/cadastro');
      await page.getByLabel('E-mail').fill(SUPPORT.email);
      await page.getByLabel('Nome').fill(SUPPORT.name);
      await page.getByLabel('Senha').fill(SUPPORT.password);
      await page.getByLabel('Token de convite').fill(INVITE);
      await page.getByRole('button', { name: 'Criar conta' }).click();
      await page.waitForURL(/\/entrar\?email=/);
      await login(page, SUPPORT.email, SUPPORT.password);
      await heading(page, 'Painel');
      await nav(page).getByRole('link', { name: 'Clientes' }).waitFor();
      for (const name of ['Equipe', 'Auditoria']) {
        const visible = await nav(page).getByRole('link', { name }).isVisible();
        assert(!visible, `support sees ${name}`);
      }
      await goto(page, '/equipe');
      await heading(page, 'Apenas administradores');
      await goto(page, '/auditoria');
      await heading(page, 'Apenas administradores');
    });

    await step(
      'header search: `/` focuses it (not while typing elsewhere), Enter opens Clientes with the term',
      async () => {
        const { page } = support;
        await goto(page, '/eventos');
        await heading(page, 'Eventos');
        await page.locator('main h1').click();
        await page.keyboard.press('/');
        const search = page.getByRole('searchbox', { name: 'Busca rápida de clientes' });
        await until('the header search has the focus', () => search.evaluate((el) => el === document.activeElement));
        await page.keyboard.type('joao');
        await page.keyboard.press('Enter');
        await page.waitForURL(/\/clientes\?q=joao$/);
        await heading(page, 'Clientes');
        const field = page.getByLabel('Buscar por e-mail, nome ou CPF');
        assert((await field.inputValue()) === 'joao', 'Clientes did not get the term');
        // a `/` typed in another field stays in that field
        await field.fill('');
        await field.focus();
        await page.keyboard.type('a/b');
        assert((await field.inputValue()) === 'a/b', `typing "/" left the field: ${await field.inputValue()}`);
      },
    );

    await step('Alterar senha: the support user changes their password and keeps working', async () => {
      const { page } = support;
      await page.getByRole('link', { name: 'Alterar senha' }).click();
      await heading(page, 'Alterar senha');
      await page.getByLabel('Senha atual').fill('senha-errada-123');
      await page.getByLabel('Nova senha', { exact: true }).fill(SUPPORT.newPassword);
      await page.getByLabel('Repita a nova senha').fill(SUPPORT.newPassword);
      await page.getByRole('button', { name: 'Alterar senha' }).click();
      await waitForText(page.locator('form.auth-form'), 'A senha atual está incorreta.');
      await page.getByLabel('Senha atual').fill(SUPPORT.password);
      await page.getByRole('button', { name: 'Alterar senha' }).click();
      await waitForText(page.locator('.form-messages'), 'Senha alterada');
      await nav(page).getByRole('link', { name: 'Tratativas' }).click();
      await heading(page, 'Tratativas');
      await page
        .locator('.results-status')
        .filter({ hasText: /tratativa/ })
        .waitFor();
      assert(!page.url().includes('/entrar'), 'signed out after changing the password');
    });

    await step('Equipe: the admin deactivates the support user after an in-page confirmation', async () => {
      const { page } = admin;
      await nav(page).getByRole('link', { name: 'Equipe' }).click();
      await heading(page, 'Equipe');
      const row = page.locator(`tr[data-email="${SUPPORT.email}"]`);
      await waitForText(row, 'Suporte');
      await waitForText(row, 'Ativo');
      const own = page.locator(`tr[data-email="${STAFF.email}"]`);
      await waitForText(own, 'Sua conta');
      await waitForText(own, 'Administrador');
      await row.getByRole('button', { name: 'Desativar' }).click();
      const dialog = page.getByRole('dialog', { name: `Desativar ${SUPPORT.name}?` });
      await dialog.waitFor();
      await kit.shot(page, 'equipe-dialogo-desktop', { fullPage: false });
      await dialog.getByRole('button', { name: 'Desativar' }).click();
      await dialog.waitFor({ state: 'detached' });
      await waitForText(row, 'Desativado');
      await waitForText(page.locator('.results-status'), `${SUPPORT.name} foi desativado`);
      assert((await row.getAttribute('data-active')) === 'false', 'the row is not marked inactive');
      await kit.shot(page, 'equipe-desktop');
    });

    await step("team: the deactivated user's open page is signed out at its next action", async () => {
      const { page } = support;
      await nav(page).getByRole('link', { name: 'Eventos' }).click();
      await page.waitForURL(/\/entrar/);
      await waitForText(page.locator('.form-messages'), 'Sua sessão foi encerrada');
      await login(page, SUPPORT.email, SUPPORT.newPassword);
      await waitForText(page.locator('.form-messages'), 'Esta conta foi desativada');
    });

    await step('Auditoria: the deactivation, with the admin as the actor and what changed', async () => {
      const { page } = admin;
      await nav(page).getByRole('link', { name: 'Auditoria' }).click();
      await heading(page, 'Auditoria');
      await page.getByLabel('Ação').selectOption({ label: 'Alterou uma pessoa da equipe' });
      await page.waitForURL(/acao=update_user/);
      const first = page.locator('table.data-table tbody tr[data-action="update_user"]').first();
      await waitForText(first, STAFF.name);
      await waitForText(first, `Pessoa da equipe: ${SUPPORT.name}`);
      await waitForText(first.locator('li[data-field="active"]'), 'Ativo → Desativado');
      // the password change is there too, by the support user
      await page.getByLabel('Ação').selectOption({ label: 'Alterou a própria senha' });
      await waitForText(page.locator('table.data-table tbody tr[data-action="change_password"]').first(), SUPPORT.name);
      const text = (await page.locator('main').textContent()) ?? '';
      assert(!/update_user|change_password/.test(text), 'a raw code on the screen');
      await kit.shot(page, 'auditoria-desktop');
    });
  } finally {
    await admin.context.close();
    await support.context.close();
  }
}
