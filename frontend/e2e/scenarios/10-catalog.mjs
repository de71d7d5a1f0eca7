// Issue 10, the catalog: the admin creates a 30-day course and a lifetime one in the Catálogo screen, maps a
// Kiwify product to both, a signed Kiwify approval grants both, and the customer page shows both accesses
// with the right ends. Then a product seen without a mapping shows on the Painel and is mapped from there.

import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURE = resolve(HERE, '../../../backend/tests/fixtures/kiwify/order_approved.json');
const DAY_MS = 86_400_000;

/** "DD/MM/YYYY" in São Paulo, as the app shows an access end. */
function brDate(ms) {
  return new Intl.DateTimeFormat('pt-BR', {
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    timeZone: 'America/Sao_Paulo',
  }).format(new Date(ms));
}

export default async function catalog(kit) {
  const { step, assert, waitForText, goto, heading } = kit;
  const tag = randomBytes(3).toString('hex');
  const MONTH = `Mensal E2E ${tag}`;
  const LIFETIME = `Vitalício E2E ${tag}`;
  const PRODUCT = `e2e-kiwify-${tag}`;
  const UNMAPPED = `e2e-sem-mapa-${tag}`;
  const EMAIL = `catalogo.${tag}@example.com`;

  /** Posts a Kiwify order_approved for `product`, signed like Kiwify (HMAC-SHA1 hex of the raw body). */
  async function kiwifyApproval(product, email) {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    body.order_id = `e2e-${randomBytes(8).toString('hex')}`;
    body.Customer.email = email;
    body.Customer.full_name = 'Cliente Catálogo';
    body.Product.product_id = product;
    body.Product.product_name = `Produto ${product}`;
    const raw = JSON.stringify(body);
    const signature = createHmac('sha1', kit.KIWIFY_TOKEN).update(raw).digest('hex');
    const res = await fetch(`${kit.base}/webhooks/kiwify?signature=${signature}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: raw,
    });
    const text = await res.text();
    assert(res.status === 200, `POST /webhooks/kiwify answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  const context = await kit.browser.newContext({
    viewport: kit.DESKTOP,
    locale: 'pt-BR',
    timezoneId: 'America/Sao_Paulo',
  });
  context.setDefaultTimeout(8000);
  await kit.guardCsp(context, 'catalog');
  const page = await context.newPage();
  kit.watch(page, 'catalog');
  let customerId = null;
  let approvedAt = 0;

  try {
    await step('Catálogo: the admin signs in and opens Catálogo from the navigation', async () => {
      await goto(page, '/entrar');
      await kit.login(page, kit.STAFF.email, kit.STAFF.password);
      await heading(page, 'Painel');
      await page.getByRole('navigation', { name: 'Principal' }).getByRole('link', { name: 'Catálogo' }).click();
      await heading(page, 'Catálogo');
      await waitForText(page.locator('main'), 'A duração vale para os próximos acessos liberados');
    });

    await step('Catálogo: creates a 30-day course and a lifetime course in the dialog', async () => {
      await page.getByRole('button', { name: 'Novo curso' }).click();
      let dialog = page.getByRole('dialog', { name: 'Novo curso' });
      await dialog.getByLabel('Nome').fill(MONTH);
      await dialog.getByLabel('Duração (dias)').fill('30');
      await dialog.getByLabel('URL de acesso').fill('https://membros.example.com/mensal');
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), `Curso “${MONTH}” criado.`);
      await waitForText(page.locator('tr', { hasText: MONTH }), '30 dias');

      await page.getByRole('button', { name: 'Novo curso' }).click();
      dialog = page.getByRole('dialog', { name: 'Novo curso' });
      await dialog.getByLabel('Nome').fill(LIFETIME);
      // a duration is required unless the access is for life: the field says so
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await dialog.getByText('Informe a duração em dias (de 1 a 36.500) ou marque Acesso vitalício.').waitFor();
      await dialog.getByLabel('Acesso vitalício (sem data de término)').check();
      assert(
        await dialog.getByLabel('Duração (dias)').isDisabled(),
        'the days field stays enabled for a lifetime course',
      );
      await dialog.getByRole('button', { name: 'Salvar curso' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), `Curso “${LIFETIME}” criado.`);
      await waitForText(page.locator('tr', { hasText: LIFETIME }), 'Vitalício');
      await kit.shot(page, 'catalogo-cursos');
    });

    await step('Catálogo: maps a Kiwify product to both courses', async () => {
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
      await waitForText(row, 'Todas as ofertas');
      // the same product and offer again: refused with a pt-BR message, in the dialog
      await page.getByRole('button', { name: 'Novo mapeamento' }).click();
      const again = page.getByRole('dialog', { name: 'Novo mapeamento' });
      await again.getByLabel('ID do produto').fill(PRODUCT);
      await again.getByRole('checkbox', { name: MONTH }).check();
      await again.getByRole('button', { name: 'Salvar mapeamento' }).click();
      await waitForText(again.locator('.form-messages'), 'Já existe um mapeamento');
      await again.getByRole('button', { name: 'Cancelar' }).click();
      assert((await page.getByRole('dialog').count()) === 0, 'the dialog did not close');
    });

    await step('Kiwify: one signed approval of the product grants both courses', async () => {
      approvedAt = Date.now();
      const answer = await kiwifyApproval(PRODUCT, EMAIL);
      assert(answer.outcome === 'processed', `outcome ${answer.outcome}`);
      const kinds = answer.treatments.map((t) => t.kind).join(',');
      assert(kinds === 'grant_access,welcome_message,grant_access,welcome_message', `treatments: ${kinds}`);
      customerId = String(answer.customer_id);
    });

    await step('Cliente: the customer page shows both accesses with the right ends', async () => {
      assert(customerId, 'no customer from the approval');
      await goto(page, `/clientes/${customerId}`);
      const month = page.locator('tr', { hasText: MONTH });
      const ends = [brDate(approvedAt + 30 * DAY_MS), brDate(Date.now() + 30 * DAY_MS)];
      await kit.until(`the 30-day access ends on ${ends[0]}`, async () => {
        const text = (await month.first().textContent({ timeout: 500 })) ?? '';
        return text.includes('Ativa') && ends.some((d) => text.includes(d));
      });
      const lifetime = page.locator('tr', { hasText: LIFETIME });
      await waitForText(lifetime, 'Sem expiração');
      await waitForText(lifetime, 'Ativa');
      await kit.shot(page, 'catalogo-cliente');
    });

    await step('Painel: a product without a mapping is counted, and "Mapear" maps it', async () => {
      const answer = await kiwifyApproval(UNMAPPED, `sem.mapa.${tag}@example.com`);
      assert(answer.outcome === 'processed', `outcome ${answer.outcome}`);
      await page.getByRole('navigation', { name: 'Principal' }).getByRole('link', { name: 'Painel' }).click();
      await heading(page, 'Painel');
      await waitForText(page.locator('main .unmapped-alert'), 'sem mapeamento');
      await page.getByRole('link', { name: 'Mapear no Catálogo' }).click();
      await heading(page, 'Catálogo');
      const row = page.locator('section[aria-labelledby="sem-mapeamento"] tr', { hasText: UNMAPPED });
      await waitForText(row, `Produto ${UNMAPPED}`);
      await row.getByRole('button', { name: 'Mapear' }).click();
      const dialog = page.getByRole('dialog', { name: 'Novo mapeamento' });
      assert((await dialog.getByLabel('ID do produto').inputValue()) === UNMAPPED, 'the product id is not prefilled');
      assert((await dialog.getByLabel('Plataforma').inputValue()) === 'kiwify', 'the platform is not prefilled');
      assert(
        await dialog.getByRole('checkbox', { name: `Produto ${UNMAPPED}` }).isChecked(),
        'its automatic course is not preselected',
      );
      await dialog.getByRole('checkbox', { name: MONTH }).check();
      await dialog.getByRole('button', { name: 'Salvar mapeamento' }).click();
      await waitForText(page.locator('main .notice.tone-ok'), 'Mapeamento criado.');
      await waitForText(
        page.locator('section[aria-labelledby="sem-mapeamento"]'),
        'Todos os produtos vistos têm mapeamento',
      );
    });
    await step('Catálogo: a suporte sees the catalog without the buttons that change it', async () => {
      const support = { email: `suporte.catalogo.${tag}@example.com`, password: 'senha-do-suporte-1' };
      const res = await fetch(`${kit.base}/api/auth/signup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...support, name: 'Suporte Catálogo', invite_token: kit.INVITE }),
      });
      assert(res.status === 201, `sign-up answered ${res.status}`);
      const other = await kit.browser.newContext({ viewport: kit.DESKTOP, locale: 'pt-BR' });
      await kit.guardCsp(other, 'catalog-suporte');
      try {
        const p = await other.newPage();
        kit.watch(p, 'catalog-suporte');
        await goto(p, '/entrar?next=%2Fcatalogo');
        await kit.login(p, support.email, support.password);
        await heading(p, 'Catálogo');
        await waitForText(p.locator('main'), 'Somente administradores podem alterar o catálogo');
        await waitForText(p.locator('tr', { hasText: PRODUCT }), MONTH);
        assert((await p.getByRole('button', { name: 'Novo curso' }).count()) === 0, 'a suporte sees "Novo curso"');
        assert((await p.getByRole('button', { name: 'Editar' }).count()) === 0, 'a suporte sees "Editar"');
      } finally {
        await other.close();
      }
    });
  } finally {
    await context.close();
  }
}
