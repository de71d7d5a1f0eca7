// Modelos de e-mail (issue 11): the admin (kit.STAFF) opens "Modelos de e-mail" from the navigation (right after
// Configurações), sees every message kind by its pt-BR name (never a code), and for the chosen one the subject,
// the plain-text part and the HTML part in a sandboxed frame with the sample name, course and amount. The frame's
// document comes from the server with its own narrow CSP (the templates' inline styles apply: the run fails on any
// CSP violation, in the app or in the frame). Choosing another kind updates the address and the preview.

export default async function (kit) {
  const { browser, step, assert, waitForText, goto, heading, login, watch, guardCsp, STAFF } = kit;
  const context = await browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR' });
  await guardCsp(context, 'mail');
  const page = await context.newPage();
  watch(page, 'mail');
  const nav = page.getByRole('navigation', { name: 'Principal' });
  const kinds = page.getByRole('navigation', { name: 'Modelos' });
  const frame = page.frameLocator('iframe.mail-frame');
  const names = [
    'Boas-vindas (acesso liberado)',
    'Pagamento pendente (boleto ou Pix)',
    'Pagamento recusado',
    'Pagamento expirado',
    'Reembolso confirmado',
    'Assinatura cancelada',
    'Acesso encerrado',
    'Lembrete de fim de acesso',
  ];

  try {
    await step('mail: the admin opens Modelos de e-mail and sees every kind by its pt-BR name', async () => {
      await goto(page, '/entrar');
      await login(page, STAFF.email, STAFF.password);
      await heading(page, 'Painel');
      const links = await nav.getByRole('link').allTextContents();
      const at = links.indexOf('Modelos de e-mail');
      assert(at > 0 && links[at - 1] === 'Configurações', `nav order: ${links.join(', ')}`);
      await nav.getByRole('link', { name: 'Modelos de e-mail' }).click();
      await heading(page, 'Modelos de e-mail');
      await kinds.getByRole('link', { name: names[0] }).waitFor();
      const shown = await kinds.getByRole('link').allTextContents();
      assert(JSON.stringify(shown) === JSON.stringify(names), `kinds: ${shown.join(', ')}`);
      const text = await page.locator('main').innerText();
      assert(!/_message|revoke_access/.test(text), `a raw code is on the page: ${text}`);
      await waitForText(page.locator('main'), 'O envio de e-mails está desligado');
    });

    await step('mail: the welcome shows subject, text and the HTML part rendered in a sandboxed frame', async () => {
      await waitForText(
        page.locator('[data-mail="subject"]'),
        'Seu acesso ao curso Confeitaria Profissional está liberado',
      );
      const plain = page.locator('[data-mail="text"]');
      await waitForText(plain, 'Olá, Maria!');
      await waitForText(plain, 'R$ 1.234,56');
      const iframe = page.locator('iframe.mail-frame');
      assert((await iframe.getAttribute('sandbox')) === '', 'the frame is not sandboxed (no allow-* at all)');
      assert((await iframe.getAttribute('title')) === 'Prévia do e-mail: Boas-vindas (acesso liberado)', 'frame title');
      const body = frame.locator('body');
      await waitForText(body, 'Olá, Maria!');
      await waitForText(body, 'Confeitaria Profissional');
      await waitForText(body, 'R$ 1.234,56');
      // the inline styles of the template apply (the frame's own CSP allows them; the app's would not)
      const background = await body.evaluate((el) => getComputedStyle(el).backgroundColor);
      assert(background === 'rgb(244, 245, 247)', `the frame's inline style did not apply: ${background}`);
      const button = frame.getByRole('link', { name: 'Acessar o curso' });
      const color = await button.evaluate((el) => getComputedStyle(el).backgroundColor);
      assert(color === 'rgb(37, 99, 235)', `button style: ${color}`);
      await kit.shot(page, 'modelos-de-email-desktop');
    });

    await step('mail: choosing another kind updates the address, the subject and the frame', async () => {
      await kinds.getByRole('link', { name: 'Pagamento pendente (boleto ou Pix)' }).click();
      await page.waitForURL(/\/modelos-de-email\?modelo=payment_pending_message$/);
      await waitForText(page.locator('[data-mail="subject"]'), 'Seu pix do curso Confeitaria Profissional');
      await waitForText(frame.locator('body'), 'br.gov.bcb.pix');
      const current = await kinds.locator('a[aria-current]').allTextContents();
      assert(current.length === 1 && current[0] === 'Pagamento pendente (boleto ou Pix)', `current: ${current}`);
      // a reload keeps the chosen kind (and gets a fresh ticket for its frame)
      await page.reload({ waitUntil: 'domcontentloaded' });
      await heading(page, 'Modelos de e-mail');
      await waitForText(frame.locator('body'), 'br.gov.bcb.pix');
    });

    await step('mail: the frame document is refused without its ticket and answers under its own policy', async () => {
      const src = await page.locator('iframe.mail-frame').getAttribute('src');
      const ok = await fetch(`${kit.base}${src}`);
      const csp = ok.headers.get('content-security-policy') ?? '';
      assert(ok.status === 200 && csp.includes("default-src 'none'") && csp.includes('sandbox'), `${ok.status} ${csp}`);
      assert(csp.includes("frame-ancestors 'self'") && !csp.includes('script'), csp);
      const bare = await fetch(`${kit.base}${src.split('?')[0]}`);
      assert(bare.status === 401, `without the ticket: ${bare.status}`);
    });
  } finally {
    await context.close();
  }
}
