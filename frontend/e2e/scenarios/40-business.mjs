// Issue 10's "Done when", as one story through the screens a seller's team uses (nothing in SQL):
//   1. the admin creates a 30-day course and a lifetime one in Catálogo and maps a Kiwify product to both;
//   2. a signed Kiwify approval of that product grants both: the customer page shows the 30-day access ending
//      in 30 days and the lifetime one without an end;
//   3. a support user (a fresh sign-up, so `suporte`) finds the customer with the header search, extends the
//      30-day access by 10 days (it now ends in 40) and revokes the lifetime one, each with a reason; the
//      timeline shows both with the support user's name;
//   4. Auditoria shows both actions with the support user as the actor and the reasons;
//   5. the admin validates a 500-line CSV with 3 bad lines in Importar (exactly those line numbers, "Importar"
//      disabled), then validates and imports the fixed file, and finds an imported customer with the search;
//   6. the admin deactivates the support user in Equipe, and the support user's open page is signed out at its
//      next action.
// Only the payment webhook (signed like Kiwify) comes from outside the app.

import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURE = resolve(HERE, '../../../backend/tests/fixtures/kiwify/order_approved.json');
const DAY_MS = 86_400_000;
const ZONE = 'America/Sao_Paulo';

/** "DD/MM/YYYY" in São Paulo, as the app shows an access end. */
function brDate(ms) {
  return new Intl.DateTimeFormat('pt-BR', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: ZONE }).format(
    new Date(ms),
  );
}

/** The dates an access of `days` days granted at `since` may show (the São Paulo day may turn meanwhile). */
function endsAfter(since, days) {
  return [...new Set([brDate(since + days * DAY_MS), brDate(Date.now() + days * DAY_MS)])];
}

/** `nome;email;curso;expira_em` with 500 data lines; with `bad`, lines 3, 250 and 500 of the file are broken. */
function studentsCsv(tag, course, bad) {
  const lines = ['nome;email;curso;expira_em'];
  for (let n = 2; n <= 501; n++) {
    const email = `turma.${tag}.${n}@example.com`;
    if (bad && n === 3) lines.push(`Aluna ${n};turma.${tag}.${n}.example.com;${course};`);
    else if (bad && n === 250) lines.push(`Aluna ${n};${email};Curso Inexistente ${tag};`);
    else if (bad && n === 500) lines.push(`Aluna ${n};${email};${course};31/02/2099`);
    else lines.push(`Aluna ${n};${email};${course};${n % 3 === 0 ? '31/12/2099' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export default async function business(kit) {
  const { step, assert, until, waitForText, goto, heading, login } = kit;
  const tag = randomBytes(3).toString('hex');
  const MONTH = `Jornada 30 dias ${tag}`;
  const LIFETIME = `Jornada vitalícia ${tag}`;
  const PRODUCT = `jornada-kiwify-${tag}`;
  const BUYER = { name: `Helena Jornada ${tag}`, email: `helena.${tag}@example.com` };
  const SUPPORT = { name: `Rita Jornada ${tag}`, email: `rita.${tag}@example.com`, password: 'senha-da-rita-1' };
  const EXTEND_REASON = `Módulo bônus atrasou ${tag}`;
  const REVOKE_REASON = `Pediu reembolso parcial ${tag}`;

  const open = async (label) => {
    const context = await kit.browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR', timezoneId: ZONE });
    context.setDefaultTimeout(8000);
    await kit.guardCsp(context, label);
    const page = await context.newPage();
    kit.watch(page, label);
    return { context, page };
  };
  const nav = (page) => page.getByRole('navigation', { name: 'Principal' });
  const enrollment = (page, course) =>
    page.locator('section[aria-labelledby="sec-matriculas"] tbody tr', { hasText: course });
  const endCell = (page, course) => enrollment(page, course).locator('td[data-label="Expira em"]');
  /** Waits until the access row of `course` shows one of `dates` as its end. */
  const endsOn = (page, course, dates) =>
    until(`${course} ends on ${dates.join(' or ')}`, async () => {
      const text = (await endCell(page, course).textContent({ timeout: 500 })) ?? '';
      return dates.some((d) => text.includes(d));
    });
  /** The header search, as staff use it: type, Enter, open the one result. */
  const findCustomer = async (page, email) => {
    const search = page.getByRole('searchbox', { name: 'Busca rápida de clientes' });
    await search.fill(email);
    await search.press('Enter');
    await heading(page, 'Clientes');
    const result = page.locator('a.result', { hasText: email });
    await result.waitFor();
    assert((await page.locator('a.result').count()) === 1, `the search for ${email} found more than one customer`);
    return result;
  };

  const admin = await open('jornada-admin');
  const support = await open('jornada-suporte');
  let approvedAt = 0;
  let customerId = null;

  try {
    await step('jornada 1: the admin creates a 30-day course and a lifetime course in Catálogo', async () => {
      const { page } = admin;
      await goto(page, '/entrar');
      await login(page, kit.STAFF.email, kit.STAFF.password);
      await heading(page, 'Painel');
      await nav(page).getByRole('link', { name: 'Catálogo' }).click();
      await heading(page, 'Catálogo');
      for (const [name, days] of [
        [MONTH, '30'],
        [LIFETIME, null],
      ]) {
        await page.getByRole('button', { name: 'Novo curso' }).click();
        const dialog = page.getByRole('dialog', { name: 'Novo curso' });
        await dialog.getByLabel('Nome').fill(name);
        if (days) await dialog.getByLabel('Duração (dias)').fill(days);
        else await dialog.getByLabel('Acesso vitalício (sem data de término)').check();
        await dialog.getByLabel('URL de acesso').fill(`https://membros.example.com/${encodeURIComponent(name)}`);
        await dialog.getByRole('button', { name: 'Salvar curso' }).click();
        await waitForText(page.locator('main .notice.tone-ok'), `Curso “${name}” criado.`);
      }
      await waitForText(page.locator('tr', { hasText: MONTH }), '30 dias');
      await waitForText(page.locator('tr', { hasText: LIFETIME }), 'Vitalício');
    });

    await step('jornada 1: the admin maps a Kiwify product to both courses', async () => {
      const { page } = admin;
      await page.getByRole('button', { name: 'Novo mapeamento' }).click();
      const dialog = page.getByRole('dialog', { name: 'Novo mapeamento' });
      await dialog.getByLabel('Plataforma').selectOption('kiwify');
      await dialog.getByLabel('ID do produto').fill(PRODUCT);
      await dialog.getByRole('checkbox', { name: MONTH }).check();
      await dialog.getByRole('checkbox', { name: LIFETIME }).check();
      await dialog.getByRole('button', { name: 'Salvar mapeamento' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), 'Mapeamento criado.');
      const row = page.locator('tr', { hasText: PRODUCT });
      await waitForText(row, MONTH);
      await waitForText(row, LIFETIME);
      await kit.shot(page, 'jornada-1-catalogo');
    });

    await step('jornada 2: a signed Kiwify approval of the product is accepted', async () => {
      const body = JSON.parse(readFileSync(FIXTURE, 'utf8'));
      body.order_id = `jornada-${randomBytes(8).toString('hex')}`;
      body.Customer.email = BUYER.email;
      body.Customer.full_name = BUYER.name;
      body.Customer.first_name = 'Helena';
      body.Product.product_id = PRODUCT;
      body.Product.product_name = `Produto ${PRODUCT}`;
      const raw = JSON.stringify(body);
      const signature = createHmac('sha1', kit.KIWIFY_TOKEN).update(raw).digest('hex');
      approvedAt = Date.now();
      const res = await fetch(`${kit.base}/webhooks/kiwify?signature=${signature}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: raw,
      });
      const text = await res.text();
      assert(res.status === 200, `POST /webhooks/kiwify answered ${res.status}: ${text.slice(0, 300)}`);
      const answer = JSON.parse(text);
      assert(answer.outcome === 'processed', `outcome ${answer.outcome}`);
      customerId = String(answer.customer_id);
    });

    await step('jornada 2: the customer page shows both accesses: 30 days and no end', async () => {
      const { page } = admin;
      const result = await findCustomer(page, BUYER.email);
      assert((await result.getAttribute('data-id')) === customerId, 'the search found another customer');
      await result.click();
      await heading(page, BUYER.name);
      await endsOn(page, MONTH, endsAfter(approvedAt, 30));
      await waitForText(enrollment(page, MONTH), 'Ativa');
      await waitForText(endCell(page, LIFETIME), 'Sem expiração');
      await waitForText(enrollment(page, LIFETIME), 'Ativa');
      await kit.shot(page, 'jornada-2-cliente');
    });

    await step('jornada 3: a new account signs up with the invite and signs in as suporte', async () => {
      const { page } = support;
      await goto(page, '/cadastro');
      await page.getByLabel('E-mail').fill(SUPPORT.email);
      await page.getByLabel('Nome').fill(SUPPORT.name);
      await page.getByLabel('Senha').fill(SUPPORT.password);
      await page.getByLabel('Token de convite').fill(kit.INVITE);
      await page.getByRole('button', { name: 'Criar conta' }).click();
      await page.waitForURL(/\/entrar\?email=/);
      await login(page, SUPPORT.email, SUPPORT.password);
      await heading(page, 'Painel');
      await nav(page).getByRole('link', { name: 'Clientes' }).waitFor();
      assert(!(await nav(page).getByRole('link', { name: 'Equipe' }).isVisible()), 'a suporte sees Equipe');
    });

    await step('jornada 3: the support user extends the 30-day access by 10 days with a reason', async () => {
      const { page } = support;
      await (await findCustomer(page, BUYER.email)).click();
      await heading(page, BUYER.name);
      await endsOn(page, MONTH, endsAfter(approvedAt, 30));
      await enrollment(page, MONTH).getByRole('button', { name: 'Estender', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: `Estender acesso — ${MONTH}` });
      await dialog.getByLabel('Por dias').check();
      await dialog.getByLabel('Quantidade de dias').fill('10');
      await dialog.getByLabel('Motivo').fill(EXTEND_REASON);
      await kit.shot(page, 'jornada-3-estender', { fullPage: false });
      await dialog.getByRole('button', { name: 'Estender' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const ends = endsAfter(approvedAt, 40);
      await until('the notice of the extension', async () => {
        const text = (await page.locator('.access-status').textContent({ timeout: 500 })) ?? '';
        return ends.some((d) => text.includes(`Acesso a ${MONTH} estendido até ${d}.`));
      });
      await endsOn(page, MONTH, ends);
      await waitForText(enrollment(page, MONTH), 'Ativa');
    });

    await step('jornada 3: the support user revokes the lifetime access with a reason', async () => {
      const { page } = support;
      await enrollment(page, LIFETIME).getByRole('button', { name: 'Revogar', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: `Revogar acesso — ${LIFETIME}` });
      // the reason is required
      await dialog.getByRole('button', { name: 'Revogar' }).click();
      await waitForText(dialog, 'Informe o motivo.');
      await dialog.getByLabel('Motivo').fill(REVOKE_REASON);
      await dialog.getByRole('button', { name: 'Revogar' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await waitForText(page.locator('.access-status'), `Acesso a ${LIFETIME} revogado.`);
      await waitForText(enrollment(page, LIFETIME), 'Revogada');
      await waitForText(enrollment(page, MONTH), 'Ativa');
    });

    await step(
      "jornada 3: the timeline shows the extension and the revocation with the support user's name",
      async () => {
        const { page } = support;
        for (const [kind, course, reason] of [
          ['extend_access', MONTH, EXTEND_REASON],
          ['revoke_access', LIFETIME, REVOKE_REASON],
        ]) {
          const item = page.locator(`.tl-item[data-kind="${kind}"]`, { hasText: course });
          await waitForText(item.locator('.actor'), `por ${SUPPORT.name} — Motivo: ${reason}`);
        }
        await waitForText(page.locator('.tl-item[data-kind="extend_access"] .tl-title'), 'Estender acesso');
        await waitForText(page.locator('.tl-item[data-kind="revoke_access"] .tl-title'), 'Revogar acesso');
        await kit.shot(page, 'jornada-3-linha-do-tempo');
      },
    );

    await step(
      'jornada 4: Auditoria shows both actions with the support user as the actor and the reasons',
      async () => {
        const { page } = admin;
        await nav(page).getByRole('link', { name: 'Auditoria' }).click();
        await heading(page, 'Auditoria');
        await page.getByLabel('Pessoa').selectOption({ label: `${SUPPORT.name} (${SUPPORT.email})` });
        await page.waitForURL(/pessoa=/);
        for (const [action, text, reason] of [
          ['extend_access', 'Estendeu acesso', EXTEND_REASON],
          ['revoke_access', 'Revogou acesso', REVOKE_REASON],
        ]) {
          const row = page.locator(`table.data-table tbody tr[data-action="${action}"]`).first();
          await waitForText(row.locator('td[data-label="Ação"]'), text);
          await waitForText(row.locator('td[data-label="Pessoa"]'), SUPPORT.name);
          await waitForText(row.locator('td[data-label="Motivo"]'), reason);
          await waitForText(row.locator('td[data-label="Alvo"]'), `Cliente: ${BUYER.email}`);
        }
        await until('only the support user’s two actions listed', async () => {
          const actors = await page.locator('table.data-table tbody td[data-label="Pessoa"]').allTextContents();
          return actors.length === 2 && actors.every((a) => a.includes(SUPPORT.name));
        });
        // what changed, in pt-BR (no technical field name)
        const extended = page.locator('tbody tr[data-action="extend_access"]');
        const ends = endsAfter(approvedAt, 40);
        await until('the new end in the extension', async () => {
          const text = (await extended.locator('li[data-field="expires_at"]').textContent({ timeout: 500 })) ?? '';
          return text.startsWith('Fim do acesso:') && ends.some((d) => text.includes(`→ ${d}`));
        });
        const revoked = page.locator('tbody tr[data-action="revoke_access"]');
        await waitForText(revoked.locator('li[data-field="status"]'), 'Situação: Ativa → Revogada');
        await waitForText(revoked.locator('li[data-field="course_name"]'), LIFETIME);
        const technical = await page.locator('tbody code.audit-field').allTextContents();
        assert(technical.length === 0, `fields without a pt-BR name: ${technical.join(' ')}`);
        await kit.shot(page, 'jornada-4-auditoria');
      },
    );

    await step(
      'jornada 5: a 500-line CSV with 3 bad lines is validated: exactly those lines, nothing to import',
      async () => {
        const { page } = admin;
        await nav(page).getByRole('link', { name: 'Importar' }).click();
        await heading(page, 'Importar');
        await page.getByLabel('Arquivo CSV').setInputFiles({
          name: 'turma.csv',
          mimeType: 'text/csv',
          buffer: Buffer.from(studentsCsv(tag, MONTH, true)),
        });
        const importButton = page.getByRole('button', { name: 'Importar', exact: true });
        assert(await importButton.isDisabled(), '"Importar" is enabled before validating');
        await page.getByRole('button', { name: 'Validar' }).click();
        await waitForText(page.locator('.import-report'), 'Validação: 500 linhas lidas');
        await waitForText(page.locator('.import-report'), '3 linhas com erro');
        const lines = await page
          .locator('.import-errors tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-line')));
        assert(JSON.stringify(lines) === '["3","250","500"]', `error lines: ${lines.join(', ')}`);
        await waitForText(page.locator('.import-errors tr[data-line="3"]'), 'E-mail ausente ou inválido');
        await waitForText(page.locator('.import-errors tr[data-line="250"]'), 'Curso não encontrado');
        await waitForText(page.locator('.import-errors tr[data-line="500"]'), 'Data de expiração inválida');
        assert(await importButton.isDisabled(), '"Importar" is enabled with errors');
        await page.locator('.import-report').scrollIntoViewIfNeeded();
        await kit.shot(page, 'jornada-5-importar-erros', { fullPage: false });
      },
    );

    await step('jornada 5: the fixed file validates clean and imports; an imported customer is found', async () => {
      const { page } = admin;
      await page.getByLabel('Arquivo CSV').setInputFiles({
        name: 'turma-corrigida.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(studentsCsv(tag, MONTH, false)),
      });
      const importButton = page.getByRole('button', { name: 'Importar', exact: true });
      assert(await importButton.isDisabled(), '"Importar" stays enabled for a file not validated');
      await page.getByRole('button', { name: 'Validar' }).click();
      await waitForText(page.locator('.import-report'), 'Nenhum erro: pode importar.');
      await waitForText(page.locator('.import-report'), '500 clientes novos, 500 acessos novos');
      await until('"Importar" enabled', () => importButton.isEnabled());
      await importButton.click();
      await waitForText(page.locator('.import-report'), 'Importação concluída: 500 linhas lidas');
      await waitForText(page.locator('.import-report'), '0 linhas com erro');
      await kit.shot(page, 'jornada-5-importado');
      const email = `turma.${tag}.250@example.com`;
      await (await findCustomer(page, email)).click();
      await heading(page, 'Aluna 250');
      await waitForText(enrollment(page, MONTH), 'Ativa');
      await endsOn(page, MONTH, endsAfter(Date.now(), 30));
    });

    await step('jornada 6: the admin deactivates the support user in Equipe', async () => {
      const { page } = admin;
      await nav(page).getByRole('link', { name: 'Equipe' }).click();
      await heading(page, 'Equipe');
      const row = page.locator(`tr[data-email="${SUPPORT.email}"]`);
      await waitForText(row, 'Suporte');
      await row.getByRole('button', { name: 'Desativar' }).click();
      const dialog = page.getByRole('dialog', { name: `Desativar ${SUPPORT.name}?` });
      await dialog.getByRole('button', { name: 'Desativar' }).click();
      await dialog.waitFor({ state: 'detached' });
      await waitForText(row, 'Desativado');
      await kit.shot(page, 'jornada-6-equipe');
    });

    await step("jornada 6: the support user's open page is signed out at its next action", async () => {
      const { page } = support;
      assert(/\/clientes\/[^/]+$/.test(page.url()), `the support page moved before acting: ${page.url()}`);
      // the next thing a support person does: open another screen from the navigation
      await nav(page).getByRole('link', { name: 'Eventos' }).click();
      await page.waitForURL(/\/entrar/);
      await waitForText(
        page.locator('.form-messages'),
        'Sua sessão foi encerrada (conta desativada ou senha alterada).',
      );
      await kit.shot(page, 'jornada-6-sessao-encerrada');
      await login(page, SUPPORT.email, SUPPORT.password);
      await waitForText(page.locator('.form-messages'), 'Esta conta foi desativada');
    });
  } finally {
    await admin.context.close();
    await support.context.close();
  }
}
