// Manual access and the import (issue 10): a `suporte` extends one access by 10 days and revokes another with a
// reason on the customer page, and the timeline shows who did it; the admin validates a 500-line CSV with 3 bad
// lines (exactly those line numbers listed, "Importar" disabled), fixes it and imports it.

const SUPPORT = { email: 'suporte.acesso@example.com', name: 'Sofia Suporte', password: 'senha-do-suporte-1' };
const CARLA = { nome: 'Carla Estende', email: 'carla.estende@example.com' };
const DAVI = { nome: 'Davi Revoga', email: 'davi.revoga@example.com' };

/** A CSV of 500 data lines for `course`; with `bad`, lines 3, 250 and 500 of the file are broken. */
function csv(course, bad) {
  const lines = ['nome;email;curso;expira_em'];
  for (let n = 2; n <= 501; n++) {
    if (bad && n === 3) lines.push('Sem Arroba;sem-arroba.example.com;' + course + ';');
    else if (bad && n === 250) lines.push(`Aluno ${n};importado${n}@example.com;Curso Que Não Existe;`);
    else if (bad && n === 500) lines.push(`Aluno ${n};importado${n}@example.com;${course};31/02/2099`);
    else lines.push(`Aluno ${n};importado${n}@example.com;${course};${n % 2 ? '31/12/2099' : ''}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

export default async function access(kit) {
  const { step, assert, waitForText, goto, heading, login, psql } = kit;
  const sql = (q) => psql(q).trim();

  await step('acesso: customers with access from approved webhooks', async () => {
    for (const c of [CARLA, DAVI]) {
      const answer = await kit.postHashtag({
        ...c,
        status: 'aprovado',
        valor: 197,
        forma_pagamento: 'pix',
        parcelas: 1,
      });
      assert(answer.outcome === 'processed', JSON.stringify(answer));
    }
    // Carla's access ends in 20 days (the simulator's course is lifetime), so it can be extended
    sql(
      `UPDATE enrollments SET expires_at = now() + interval '20 days' WHERE customer_id = (SELECT id FROM customers WHERE email = '${CARLA.email}')`,
    );
  });

  const support = await kit.browser.newContext({
    viewport: kit.DESKTOP,
    locale: 'pt-BR',
    timezoneId: 'America/Sao_Paulo',
  });
  await kit.guardCsp(support, 'acesso/suporte');
  const page = await support.newPage();
  kit.watch(page, 'acesso/suporte');

  await step('acesso: a support user signs up with the invite and signs in', async () => {
    await goto(page, '/cadastro');
    await page.getByLabel('E-mail').fill(SUPPORT.email);
    await page.getByLabel('Nome').fill(SUPPORT.name);
    await page.getByLabel('Senha').fill(SUPPORT.password);
    await page.getByLabel('Token de convite').fill(kit.INVITE);
    await page.getByRole('button', { name: 'Criar conta' }).click();
    await page.waitForURL(/\/entrar\?email=/);
    await login(page, SUPPORT.email, SUPPORT.password);
    await heading(page, 'Painel');
    assert(sql(`SELECT role FROM users WHERE email = '${SUPPORT.email}'`) === 'suporte', 'not a suporte');
  });

  const carlaId = sql(`SELECT id FROM customers WHERE email = '${CARLA.email}'`);
  const daviId = sql(`SELECT id FROM customers WHERE email = '${DAVI.email}'`);
  const endOf = (id) =>
    sql(
      `SELECT to_char(expires_at AT TIME ZONE 'America/Sao_Paulo', 'DD/MM/YYYY') FROM enrollments WHERE customer_id = ${id}`,
    );

  await step('acesso: the support user extends an access by 10 days with a reason', async () => {
    await goto(page, `/clientes/${carlaId}`);
    await heading(page, CARLA.nome);
    const before = sql(`SELECT expires_at FROM enrollments WHERE customer_id = ${carlaId}`);
    await page.getByRole('button', { name: 'Estender', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await waitForText(dialog.locator('h2'), 'Estender acesso');
    await dialog.getByLabel('Quantidade de dias').fill('10');
    // the reason is required
    await dialog.getByRole('button', { name: 'Estender' }).click();
    await waitForText(dialog, 'Informe o motivo.');
    await dialog.getByLabel('Motivo').fill('Atraso na liberação do módulo 2');
    await dialog.getByRole('button', { name: 'Estender' }).click();
    await waitForText(page.locator('.access-status'), `estendido até ${endOf(carlaId)}`);
    const days = sql(
      `SELECT round(extract(epoch FROM expires_at - '${before}'::timestamptz) / 86400) FROM enrollments WHERE customer_id = ${carlaId}`,
    );
    assert(days === '10', `extended by ${days} days`);
    await waitForText(page.locator('.tl-item[data-kind="extend_access"] .actor'), `por ${SUPPORT.name}`);
    await waitForText(
      page.locator('.tl-item[data-kind="extend_access"] .actor'),
      'Motivo: Atraso na liberação do módulo 2',
    );
    await kit.shot(page, 'acesso-estendido-desktop');
  });

  await step('acesso: the support user revokes another access with a reason', async () => {
    await goto(page, `/clientes/${daviId}`);
    await heading(page, DAVI.nome);
    await page.getByRole('button', { name: 'Revogar', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Motivo').fill('Pediu cancelamento por e-mail');
    await dialog.getByRole('button', { name: 'Revogar' }).click();
    await waitForText(page.locator('.access-status'), 'revogado');
    await waitForText(page.locator('.tl-item[data-kind="revoke_access"] .actor'), `por ${SUPPORT.name}`);
    assert(sql(`SELECT status FROM enrollments WHERE customer_id = ${daviId}`) === 'revoked', 'not revoked');
    const audited = sql(
      `SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.user_id WHERE u.email = '${SUPPORT.email}' AND a.action IN ('extend_access', 'revoke_access')`,
    );
    assert(audited === '2', `audit entries: ${audited}`);
  });
  await support.close();

  const admin = await kit.browser.newContext({
    viewport: kit.DESKTOP,
    locale: 'pt-BR',
    timezoneId: 'America/Sao_Paulo',
  });
  await kit.guardCsp(admin, 'acesso/admin');
  const adminPage = await admin.newPage();
  kit.watch(adminPage, 'acesso/admin');
  const course = sql(
    `SELECT c.name FROM courses c JOIN enrollments e ON e.course_id = c.id WHERE e.customer_id = ${carlaId}`,
  );

  await step('importar: a 500-line CSV with 3 bad lines is previewed with exactly those line numbers', async () => {
    await goto(adminPage, '/entrar');
    await login(adminPage, kit.STAFF.email, kit.STAFF.password);
    await heading(adminPage, 'Painel');
    await adminPage.getByRole('link', { name: 'Importar' }).click();
    await heading(adminPage, 'Importar');
    await adminPage.getByLabel('Arquivo CSV').setInputFiles({
      name: 'alunos.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`\uFEFF${csv(course, true)}`),
    });
    await adminPage.getByRole('button', { name: 'Validar' }).click();
    await waitForText(adminPage.locator('.import-report'), '3 linhas com erro');
    const lines = await adminPage
      .locator('.import-errors tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.dataset.line));
    assert(JSON.stringify(lines) === '["3","250","500"]', `error lines: ${lines}`);
    await waitForText(adminPage.locator('.import-errors'), 'E-mail ausente ou inválido');
    await waitForText(adminPage.locator('.import-errors'), 'Curso não encontrado');
    await waitForText(adminPage.locator('.import-errors'), 'Data de expiração inválida');
    assert(await adminPage.getByRole('button', { name: 'Importar' }).isDisabled(), '"Importar" is enabled with errors');
    assert(sql(`SELECT count(*) FROM customers WHERE email LIKE 'importado%'`) === '0', 'the dry run wrote');
    await adminPage.locator('.import-report').scrollIntoViewIfNeeded();
    await kit.shot(adminPage, 'importar-erros-desktop', { fullPage: false });
  });

  await step('importar: the fixed file is validated and imported', async () => {
    await adminPage.getByLabel('Arquivo CSV').setInputFiles({
      name: 'alunos-corrigido.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv(course, false)),
    });
    const importButton = adminPage.getByRole('button', { name: 'Importar' });
    assert(await importButton.isDisabled(), '"Importar" is enabled before validating');
    await adminPage.getByRole('button', { name: 'Validar' }).click();
    await waitForText(adminPage.locator('.import-report'), 'Nenhum erro: pode importar.');
    await waitForText(adminPage.locator('.import-preview tbody tr').first(), 'Novo acesso');
    await importButton.click();
    await waitForText(adminPage.locator('.import-report'), 'Importação concluída');
    assert(sql(`SELECT count(*) FROM customers WHERE email LIKE 'importado%'`) === '500', 'not imported');
    assert(sql(`SELECT count(*) FROM audit_log WHERE action = 'import_access'`) === '1', 'not audited');
  });
  await admin.close();
}
