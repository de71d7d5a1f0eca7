// The course dialog's access-webhook field (issue 11): in Catálogo the admin edits a course, an invalid address
// ("ftp://…") is refused in the dialog with a pt-BR message next to the field, a valid https:// address is saved
// and shown again when the dialog reopens, and clearing it goes back to the server's default (empty field).

import { randomBytes } from 'node:crypto';

export default async function (kit) {
  const { step, assert, waitForText, goto, heading } = kit;
  const tag = randomBytes(3).toString('hex');
  const COURSE = `Webhook E2E ${tag}`;
  const HOOK = `https://plataforma.example.com/hooks/portaria-${tag}`;
  const LABEL = 'Webhook da plataforma do curso (opcional)';
  const context = await kit.browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR' });
  context.setDefaultTimeout(8000);
  await kit.guardCsp(context, 'course-webhook');
  const page = await context.newPage();
  kit.watch(page, 'course-webhook');
  const edit = async () => {
    await page.getByRole('button', { name: `Editar curso ${COURSE}` }).click();
    return page.getByRole('dialog', { name: `Editar curso: ${COURSE}` });
  };

  try {
    await step('course webhook: the admin creates a course in Catálogo', async () => {
      await goto(page, '/entrar');
      await kit.login(page, kit.STAFF.email, kit.STAFF.password);
      await heading(page, 'Painel');
      await goto(page, '/catalogo');
      await heading(page, 'Catálogo');
      await page.getByRole('button', { name: 'Novo curso' }).click();
      const dialog = page.getByRole('dialog', { name: 'Novo curso' });
      await dialog.getByLabel('Nome').fill(COURSE);
      await dialog.getByLabel('Duração (dias)').fill('30');
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), `Curso “${COURSE}” criado.`);
    });

    await step('course webhook: an invalid address is refused in the dialog with a pt-BR message', async () => {
      const dialog = await edit();
      const field = dialog.getByLabel(LABEL);
      assert((await field.inputValue()) === '', 'a new course has no webhook of its own');
      await field.fill('ftp://plataforma.example.com/hooks');
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await waitForText(dialog, 'Informe um endereço que comece com https:// (até 2.000 caracteres) ou deixe vazio.');
      await waitForText(dialog.locator('.form-messages'), 'Alguns campos estão inválidos. Corrija e tente de novo.');
      assert((await field.getAttribute('aria-invalid')) === 'true', 'the field is not marked invalid');
      await dialog.getByRole('button', { name: 'Cancelar' }).click();
      assert((await page.getByRole('dialog').count()) === 0, 'the dialog did not close');
    });

    await step('course webhook: a valid address is saved and shown when the dialog reopens', async () => {
      let dialog = await edit();
      await dialog.getByLabel(LABEL).fill(HOOK);
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), `Curso “${COURSE}” salvo.`);
      dialog = await edit();
      const shown = await dialog.getByLabel(LABEL).inputValue();
      assert(shown === HOOK, `the dialog shows ${shown}`);
      // cleared: the server's default again
      await dialog.getByLabel(LABEL).fill('');
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), `Curso “${COURSE}” salvo.`);
      dialog = await edit();
      assert((await dialog.getByLabel(LABEL).inputValue()) === '', 'the cleared webhook came back');
      await dialog.getByRole('button', { name: 'Cancelar' }).click();
    });
  } finally {
    await context.close();
  }
}
