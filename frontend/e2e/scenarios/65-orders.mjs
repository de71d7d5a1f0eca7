// Pedidos (issue 12): a signed Kiwify approval with a coupon and an offer arrives through the API, and the
// customer page shows, in pt-BR, when the order was approved (Kiwify's approved_date, São Paulo time), the
// coupon and the offer/plan. Then the refund arrives in Kiwify's wrapped shape (signature in the body) with a
// customer known only by CPF, and the page shows the order refunded, its approval time kept.

import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURE = resolve(HERE, '../../../backend/tests/fixtures/kiwify/order_approved.json');
const REFUND = resolve(HERE, '../../../backend/tests/fixtures/kiwify/wrapped_order_refunded_cpf_only.json');

export default async function (kit) {
  const { browser, step, assert, waitForText, goto, heading, login, watch, guardCsp, STAFF } = kit;
  const tag = randomBytes(4).toString('hex');
  const buyer = { email: `pedido.${tag}@example.com`, name: `Renata Pedido ${tag}` };
  const coupon = `BLACK${tag.toUpperCase()}`;
  const offer = `oferta-anual-${tag}`;
  // a CPF of this run only (digits; the customer is matched by it)
  const cpf = String(parseInt(tag, 16)).padStart(11, '7').slice(-11);
  let customerId = '';

  const context = await browser.newContext({
    viewport: kit.DESKTOP,
    locale: 'pt-BR',
    timezoneId: 'America/Sao_Paulo',
  });
  await guardCsp(context, 'orders');
  const page = await context.newPage();
  watch(page, 'orders');

  try {
    await step('orders: a signed Kiwify approval with a coupon and an offer is processed', async () => {
      const body = JSON.parse(readFileSync(FIXTURE, 'utf8'));
      body.order_id = `pedido-${tag}`;
      body.approved_date = '2026-01-01 10:02';
      body.coupon_code = coupon;
      body.Customer.email = buyer.email;
      body.Customer.full_name = buyer.name;
      body.Customer.CPF = cpf;
      body.Product.product_offer_id = offer;
      const raw = JSON.stringify(body);
      const signature = createHmac('sha1', kit.KIWIFY_TOKEN).update(raw).digest('hex');
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

    await step('orders: the customer page shows Aprovado em, Cupom and Oferta/plano in pt-BR', async () => {
      await goto(page, '/entrar');
      await login(page, STAFF.email, STAFF.password);
      await heading(page, 'Painel');
      await goto(page, `/clientes/${customerId}`);
      await heading(page, buyer.name);
      const orders = page.locator('section[aria-labelledby="sec-pedidos"]');
      const headers = await orders.locator('th').allTextContents();
      for (const label of ['Aprovado em', 'Condições'])
        assert(headers.includes(label), `order columns: ${headers.join(', ')}`);
      const row = orders.locator('tbody tr', { hasText: `pedido-${tag}` });
      await waitForText(row, '01/01/2026 10:02');
      await waitForText(row, `Cupom: ${coupon}`);
      await waitForText(row, `Oferta/plano: ${offer}`);
      await waitForText(row, 'Aprovado');
      const text = await row.innerText();
      assert(!text.includes('approved'), `a raw status code is shown: ${text}`);
      await kit.shot(page, 'pedidos-cliente');
    });

    await step(
      'orders: a wrapped Kiwify refund signed in the body, customer known only by CPF, is processed',
      async () => {
        const order = JSON.parse(readFileSync(REFUND, 'utf8')).order;
        order.order_id = `pedido-${tag}`;
        order.Customer = { full_name: buyer.name, CPF: cpf };
        const raw = JSON.stringify(order, null, 2);
        const signature = createHmac('sha1', kit.KIWIFY_TOKEN).update(raw).digest('hex');
        const body = `{"url": "${kit.base}/webhooks/kiwify", "signature": "${signature}", "order": ${raw}}`;
        const res = await fetch(`${kit.base}/webhooks/kiwify`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        const text = await res.text();
        assert(res.status === 200, `POST /webhooks/kiwify (wrapped) answered ${res.status}: ${text.slice(0, 300)}`);
        const answer = JSON.parse(text);
        assert(answer.outcome === 'processed', `outcome ${answer.outcome}`);
        assert(String(answer.customer_id) === customerId, 'the CPF matched another customer');
      },
    );

    await step('orders: the page shows the order refunded, its approval time and coupon kept', async () => {
      await page.getByRole('button', { name: 'Atualizar' }).click();
      const row = page.locator('section[aria-labelledby="sec-pedidos"] tbody tr', { hasText: `pedido-${tag}` });
      await waitForText(row, 'Reembolsado');
      await waitForText(row, '01/01/2026 10:02');
      await waitForText(row, `Cupom: ${coupon}`);
    });
  } finally {
    await context.close();
  }
}
