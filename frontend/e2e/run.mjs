// Browser end-to-end test of the staff app against the real backend.
//
//   PORTARIA_BIN=/abs/target/debug/portaria TEST_DATABASE_URL=postgres://… node e2e/run.mjs
//
// Creates a throw-away database (portaria_e2e_<random>) on the TEST_DATABASE_URL server, starts
// `portaria serve` on a free port, drives Debian's Chromium (never downloads a browser) through
// the screens, takes screenshots (e2e/screenshots; with E2E_UPDATE_DOCS=1 the best go to docs/screenshots), and
// always cleans up: browser, server, database. Last line: "N passed, M failed".

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const FRONTEND = resolve(HERE, '..');
const DIST = join(FRONTEND, 'dist');
const SHOTS = join(HERE, 'screenshots');
const DOCS_SHOTS = resolve(FRONTEND, '..', 'docs', 'screenshots');
const SERVER_LOG = join(HERE, 'server.log');
const WEBHOOK_TOKEN = 'e2e-token';
const KIWIFY_TOKEN = 'e2e-kiwify-token';
const INVITE = 'uhdfaAADF123';
const STEP_TIMEOUT_MS = 20_000;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--lang=pt-BR',
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const STAFF = {
  email: `suporte.${randomBytes(3).toString('hex')}@example.com`,
  name: 'Equipe de Suporte',
  password: 'senha-muito-secreta',
};
const JOAO = {
  nome: 'João Ávila',
  email: 'joao.avila@example.com',
  valor: 997.0,
  forma_pagamento: 'cartao',
  parcelas: 3,
};
const XSS_NAME = '<img src=x onerror=alert(1)>';

// --- tiny test harness ------------------------------------------------------------------------

const results = [];

async function step(name, fn) {
  const started = Date.now();
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS / 1000}s`)), STEP_TIMEOUT_MS);
      }),
    ]);
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
    return true;
  } catch (err) {
    results.push({ name, ok: false, error: err });
    console.log(
      `not ok - ${name}\n    ${String(err?.message ?? err)
        .split('\n')
        .slice(0, 6)
        .join('\n    ')}`,
    );
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function until(what, fn, timeoutMs = 10_000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the locator's text contains `expected` (string or RegExp). */
async function waitForText(locator, expected, timeoutMs = 10_000) {
  let seen = '';
  try {
    return await until(
      `text ${expected}`,
      async () => {
        seen = (await locator.first().textContent({ timeout: 500 })) ?? '';
        return typeof expected === 'string' ? seen.includes(expected) : expected.test(seen);
      },
      timeoutMs,
    );
  } catch {
    throw new Error(`expected text ${expected} not found; saw: ${JSON.stringify(seen.slice(0, 300))}`);
  }
}

// --- database and server ----------------------------------------------------------------------

function psql(url, sql) {
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
}

/** An incoming-webhook endpoint for the alerts (ALERT_WEBHOOK_URL): records each JSON body, answers 200. */
function alertHook() {
  const calls = [];
  const srv = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      try {
        calls.push(JSON.parse(body));
      } catch {
        calls.push({ invalid: body });
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  return new Promise((resolveHook) => {
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      resolveHook({ url: `http://127.0.0.1:${port}/alertas/e2e-segredo-do-alerta`, calls, close: () => srv.close() });
    });
  });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function tail(file, lines = 25) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(base, server) {
  let exited = null;
  server.once('exit', (code, signal) => (exited = code ?? signal));
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    if (exited !== null) throw new Error(`portaria exited (${exited}) before /readyz:\n${tail(SERVER_LOG)}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`portaria not ready after 90 s:\n${tail(SERVER_LOG)}`);
}

// --- HTTP helpers -------------------------------------------------------------------------------

let BASE = '';

async function postHashtag(body) {
  const res = await fetch(`${BASE}/webhooks/hashtag?token=${WEBHOOK_TOKEN}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert(res.status === 200, `POST /webhooks/hashtag answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// --- page helpers -------------------------------------------------------------------------------

const pageErrors = [];
const dialogs = [];
const cspViolations = [];

/**
 * Records every Content-Security-Policy violation in the pages of `context`: the `securitypolicyviolation`
 * events (reported through a binding, which the policy cannot block) and Chromium's "Refused to ..." console
 * errors.
 */
async function guardCsp(context, label) {
  await context.exposeBinding('__portariaCspViolation', ({ page }, v) =>
    cspViolations.push(`${label} ${page.url()}: ${v}`),
  );
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__portariaCspViolation(
        `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  context.on('console', (msg) => {
    if (msg.type() === 'error' && /Refused to|Content Security Policy/i.test(msg.text())) {
      cspViolations.push(`${label} ${msg.page()?.url() ?? ''}: ${msg.text()}`);
    }
  });
}

function watch(page, label) {
  page.on('pageerror', (err) => pageErrors.push(`${label}: ${err.message}`));
  page.on('dialog', (dialog) => {
    dialogs.push(`${label}: ${dialog.type()} ${dialog.message()}`);
    dialog.dismiss().catch(() => undefined);
  });
}

async function goto(page, path) {
  await page.goto(`${BASE}${path}`, { waitUntil: 'domcontentloaded' });
}

async function heading(page, text) {
  await waitForText(page.locator('main h1'), text);
}

async function shot(page, name, { fullPage = true } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(150); // let the last paint settle
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** No horizontal scrolling: the layout fits the viewport width. */
async function assertFits(page, width) {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(scroll <= width + 1, `page is ${scroll}px wide on a ${width}px screen`);
}

async function login(page, email, password) {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Senha').fill(password);
  await page.getByRole('button', { name: 'Entrar' }).click();
}

// --- the run --------------------------------------------------------------------------------------

async function main() {
  const bin = process.env.PORTARIA_BIN;
  assert(bin && existsSync(bin), `PORTARIA_BIN must be the path of the portaria binary (got ${bin ?? 'nothing'})`);
  if (!existsSync(join(DIST, 'index.html')))
    execFileSync(process.execPath, ['build.mjs'], { cwd: FRONTEND, stdio: 'inherit' });

  const serverUrl = new URL(process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
  const dbName = `portaria_e2e_${randomBytes(5).toString('hex')}`;
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;

  let server = null;
  let browser = null;
  let hook = null;
  let dbCreated = false;
  const cleanup = async () => {
    hook?.close();
    if (browser) await browser.close().catch(() => undefined);
    browser = null;
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          server?.kill('SIGKILL');
          r();
        }, 5000);
        server.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    server = null;
    if (dbCreated) {
      try {
        psql(serverUrl.toString(), `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } catch (err) {
        console.error(`could not drop ${dbName}: ${err.stderr ?? err.message}`);
      }
      dbCreated = false;
    }
  };
  // Last resort if the process dies without reaching `finally`: synchronous cleanup only.
  process.once('exit', () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (dbCreated) {
      try {
        psql(serverUrl.toString(), `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } catch {
        // nothing more can be done here
      }
    }
  });
  // Output piped into `head` must not kill the run before it cleans up.
  process.stdout.on('error', () => undefined);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      cleanup().finally(() => process.exit(130));
    });
  }

  try {
    psql(serverUrl.toString(), `CREATE DATABASE "${dbName}"`);
    dbCreated = true;
    const port = await freePort();
    BASE = `http://127.0.0.1:${port}`;
    hook = await alertHook();
    const log = openSync(SERVER_LOG, 'w');
    server = spawn(bin, ['serve'], {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl.toString(),
        PORTARIA_ENV: 'test',
        PORTARIA_BIND: `127.0.0.1:${port}`,
        FRONTEND_DIR: DIST,
        BCRYPT_COST: '4',
        HASHTAG_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        KIWIFY_WEBHOOK_TOKEN: KIWIFY_TOKEN,
        JWT_SECRET: randomBytes(32).toString('hex'),
        WORKER_CONCURRENCY: '1',
        WORKER_POLL_MS: '200',
        ALERT_WEBHOOK_URL: hook.url,
        PUBLIC_URL: BASE,
        RUST_LOG: process.env.RUST_LOG ?? 'info',
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    await waitReady(BASE, server);
    console.log(`# portaria on ${BASE}, database ${dbName}`);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    await scenario(browser);
    // Further scenarios, one module per area in e2e/scenarios/ (run in name order after the main one,
    // against the same server; STAFF is the first account, so the admin).
    const kit = {
      browser,
      base: BASE,
      step,
      assert,
      until,
      waitForText,
      goto,
      heading,
      shot,
      login,
      watch,
      guardCsp,
      postHashtag,
      psql: (sql) => psql(dbUrl.toString(), sql),
      STAFF,
      INVITE,
      WEBHOOK_TOKEN,
      KIWIFY_TOKEN,
      alertCalls: () => hook.calls,
      DESKTOP,
      PHONE,
    };
    const dir = join(HERE, 'scenarios');
    const modules = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.mjs'))
          // E2E_SCENARIOS=60,70 runs only the modules whose names start with those prefixes (while working on one)
          .filter(
            (f) => !process.env.E2E_SCENARIOS || process.env.E2E_SCENARIOS.split(',').some((p) => f.startsWith(p)),
          )
          .sort()
      : [];
    for (const file of modules) {
      const mod = await import(join(dir, file));
      await mod.default(kit);
    }
    if (modules.length) {
      await step('scenarios: no CSP violation, JavaScript error or browser dialog', async () => {
        assert(cspViolations.length === 0, `CSP violations: ${[...new Set(cspViolations)].join('; ')}`);
        assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
        assert(dialogs.length === 0, `dialogs: ${dialogs.join('; ')}`);
      });
    }
  } catch (err) {
    results.push({ name: 'setup', ok: false, error: err });
    console.log(
      `not ok - setup\n    ${String(err?.stack ?? err)
        .split('\n')
        .slice(0, 8)
        .join('\n    ')}`,
    );
  } finally {
    await cleanup();
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

async function scenario(browser) {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const context = await browser.newContext({
    viewport: DESKTOP,
    locale: 'pt-BR',
    timezoneId: 'America/Sao_Paulo',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(8000);
  await guardCsp(context, 'desktop');
  const page = await context.newPage();
  watch(page, 'desktop');
  const state = { joaoId: null, xssId: null, loggedIn: false };
  const good = new Set(); // screenshots of screens that rendered without an error state

  await step('SPA shell: deep links get index.html, missing assets a 404', async () => {
    const deep = await fetch(`${BASE}/clientes/123?x=1`);
    assert(deep.status === 200 && (await deep.text()).includes('/assets/app.js'), `deep link answered ${deep.status}`);
    const missing = await fetch(`${BASE}/assets/nope.js`);
    assert(missing.status === 404, `missing asset answered ${missing.status}`);
  });

  await step(
    'security headers: CSP without inline scripts, nosniff, Referrer-Policy on the app, the API and errors',
    async () => {
      for (const path of [
        '/',
        '/clientes/123',
        '/assets/app.js',
        '/api/auth/me',
        '/api/nope',
        '/healthz',
        '/api/docs/',
      ]) {
        const res = await fetch(`${BASE}${path}`);
        const csp = res.headers.get('content-security-policy') ?? '';
        assert(/(^|;\s*)script-src 'self'(;|$)/.test(csp), `${path}: script-src is not 'self' only: ${csp}`);
        assert(csp.includes("frame-ancestors 'none'"), `${path}: no frame-ancestors 'none': ${csp}`);
        assert(path === '/api/docs/' || !csp.includes('unsafe'), `${path}: ${csp}`);
        assert(res.headers.get('x-content-type-options') === 'nosniff', `${path}: no nosniff`);
        assert(
          res.headers.get('referrer-policy') === 'no-referrer',
          `${path}: Referrer-Policy ${res.headers.get('referrer-policy')}`,
        );
      }
    },
  );

  await step('signed out: a private URL goes to /entrar?next=<path>', async () => {
    await goto(page, '/tratativas?status=failed');
    await page.waitForURL(/\/entrar\?next=%2Ftratativas%3Fstatus%3Dfailed$/);
    await heading(page, 'Entrar');
  });

  await step('CSP: an inline script injected into the page is refused, and the guard sees it', async () => {
    const before = cspViolations.length;
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true;';
      document.body.append(script);
    });
    await until('the violation report', async () => cspViolations.length > before, 5000);
    assert((await page.evaluate(() => window.__inlineRan)) === undefined, 'the inline script ran');
    cspViolations.splice(before); // expected: not a failure of the app
  });

  await step('Cadastro: a wrong invite token shows the error in Portuguese', async () => {
    await page.getByRole('link', { name: /Cadastre-se/ }).click();
    await page.waitForURL(/\/cadastro$/);
    await page.getByLabel('E-mail').fill(STAFF.email);
    await page.getByLabel('Nome').fill(STAFF.name);
    await page.getByLabel('Senha').fill('curta');
    await page.getByLabel('Token de convite').fill('token-errado');
    await page.getByRole('button', { name: 'Criar conta' }).click();
    await waitForText(page.locator('form.auth-form'), 'A senha precisa ter pelo menos 8 caracteres.');
    await page.getByLabel('Senha').fill(STAFF.password);
    await page.getByRole('button', { name: 'Criar conta' }).click();
    await waitForText(page.locator('.form-messages'), 'Token de convite inválido');
    await shot(page, 'cadastro-erro-desktop');
  });

  await step('Cadastro: sign up with the invite token', async () => {
    await page.getByLabel('Token de convite').fill(INVITE);
    await page.getByRole('button', { name: 'Criar conta' }).click();
    await page.waitForURL(/\/entrar\?email=/);
    await waitForText(page.locator('.form-messages'), 'Conta criada');
    assert((await page.getByLabel('E-mail').inputValue()) === STAFF.email, 'the e-mail is not pre-filled');
  });

  await step('Entrar: a wrong password shows "E-mail ou senha incorretos."', async () => {
    await login(page, STAFF.email, 'senha-errada-123');
    await waitForText(page.locator('.form-messages'), 'E-mail ou senha incorretos.');
  });

  await step('Entrar: log in and land on the Painel', async () => {
    await login(page, STAFF.email, STAFF.password);
    await page.waitForURL(`${BASE}/`);
    await heading(page, 'Painel');
    await waitForText(page.locator('.user'), STAFF.name);
    state.loggedIn = true;
  });

  await step('webhooks: approval and refund of João Ávila, and a customer named <img …>', async () => {
    const approval = await postHashtag({ ...JOAO, status: 'aprovado' });
    assert(approval.outcome === 'processed', `approval outcome ${approval.outcome}`);
    const kinds = approval.treatments
      .map((t) => t.kind)
      .sort()
      .join(',');
    assert(kinds === 'grant_access,welcome_message', `approval treatments: ${kinds}`);
    const refund = await postHashtag({ ...JOAO, status: 'reembolsado' });
    assert(refund.outcome === 'processed', `refund outcome ${refund.outcome}`);
    const refundKinds = refund.treatments
      .map((t) => t.kind)
      .sort()
      .join(',');
    assert(refundKinds === 'refund_message,revoke_access', `refund treatments: ${refundKinds}`);
    assert(String(refund.customer_id) === String(approval.customer_id), 'refund went to another customer');
    state.joaoId = String(approval.customer_id);
    const xss = await postHashtag({
      nome: XSS_NAME,
      email: 'xss@example.com',
      status: 'aprovado',
      valor: 47.9,
      forma_pagamento: 'pix',
      parcelas: 1,
    });
    state.xssId = String(xss.customer_id);
  });

  await step('Clientes: "joao avi" (partial, unaccented) finds João Ávila; ↓ + Enter opens it', async () => {
    await page.getByRole('navigation', { name: 'Principal' }).getByRole('link', { name: 'Clientes' }).click();
    await page.waitForURL(/\/clientes$/);
    const input = page.getByLabel('Buscar por e-mail, nome ou CPF');
    await input.click();
    await page.locator('a.result').first().waitFor(); // the recent customers, before typing
    await input.pressSequentially('joao avi', { delay: 40 });
    await page.waitForURL(/[?&]q=joao\+avi$/);
    await until('only João in the results', async () => {
      const names = await page.locator('a.result .result-name').allTextContents();
      return names.length === 1 && names[0] === 'João Ávila';
    });
    const result = page.locator('a.result', { hasText: 'João Ávila' });
    await waitForText(result, 'Acesso revogado');
    await input.focus();
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    assert(focused.includes('João Ávila'), `ArrowDown focused: ${focused}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/clientes\/[^/?]+$/);
    state.joaoId = page.url().split('/').pop();
  });

  await step('Cliente: profile, access, order in R$ with method and installments', async () => {
    await heading(page, 'João Ávila');
    const body = page.locator('main');
    await waitForText(body, 'joao.avila@example.com');
    await waitForText(page.locator('.head-badge'), 'Acesso revogado');
    await waitForText(page.locator('#sec-pedidos').locator('..').locator('..'), 'R$ 997,00');
    await waitForText(body, 'Cartão de crédito');
    await waitForText(body, '3x');
  });

  await step('Cliente: the timeline shows the four treatments with their outputs', async () => {
    const kinds = ['grant_access', 'welcome_message', 'revoke_access', 'refund_message'];
    await until(
      'the four treatments, done, with an output',
      async () => {
        const found = await page.evaluate(
          (wanted) =>
            wanted.map((k) => {
              const li = document.querySelector(`li.tl-treatment[data-kind="${k}"]`);
              return li
                ? { k, status: li.getAttribute('data-status'), output: li.querySelector('.output')?.textContent ?? '' }
                : null;
            }),
          kinds,
        );
        if (found.every((f) => f && f.output)) return true;
        await page
          .getByRole('button', { name: 'Atualizar' })
          .click()
          .catch(() => undefined);
        await page.waitForTimeout(700);
        return false;
      },
      15_000,
      50,
    );
    await waitForText(
      page.locator('li.tl-treatment[data-kind="grant_access"] .output'),
      'Liberar acesso do e-mail: joao.avila@example.com',
    );
    const events = await page.locator('li.tl-event').count();
    assert(events === 2, `expected 2 webhook events in the timeline, saw ${events}`);
    await waitForText(page.locator('li.tl-treatment[data-kind="grant_access"]'), 'Concluída');
  });

  await step('Cliente: an event expands to its pretty-printed payload', async () => {
    const first = page.locator('li.tl-event').first();
    await first.locator('summary').click();
    await waitForText(first.locator('pre.payload').first(), '"nome": "João Ávila"');
    const treatment = page.locator('li.tl-treatment[data-kind="revoke_access"]');
    await treatment.locator('summary').first().click();
    await waitForText(treatment.locator('.treatment-detail'), 'Saída');
    await shot(page, 'cliente-desktop');
    good.add('cliente-desktop');
  });

  await step('XSS: a customer named <img src=x onerror=alert(1)> renders as text, no dialog', async () => {
    await goto(page, `/clientes?q=${encodeURIComponent('xss@example.com')}`);
    const name = page.locator('a.result .result-name').first();
    await waitForText(name, XSS_NAME);
    assert((await name.textContent()) === XSS_NAME, 'the name is not the literal text');
    assert((await page.locator('#app img').count()) === 0, 'an <img> was created from data');
    await name.click();
    await page.waitForURL(/\/clientes\/[^/?]+$/);
    await heading(page, XSS_NAME);
    assert((await page.locator('main h1').textContent()) === XSS_NAME, 'the heading is not the literal text');
    await page.locator('li.tl-event summary').first().click();
    await waitForText(page.locator('li.tl-event pre.payload').first(), XSS_NAME);
    await page.waitForTimeout(300);
    assert((await page.locator('#app img').count()) === 0, 'an <img> was created from data');
    assert(dialogs.length === 0, `dialogs fired: ${dialogs.join('; ')}`);
  });

  await step('Eventos: a webhook posted while the page is open appears without reload', async () => {
    await goto(page, '/eventos');
    await heading(page, 'Eventos');
    await page.locator('.live[data-status="live"]').waitFor({ timeout: 10_000 });
    await page.locator('table.data-table tbody tr').first().waitFor();
    await page.evaluate(() => {
      window.__noReload = 'still here';
    });
    await postHashtag({
      nome: 'Maria Ao Vivo',
      email: 'maria.aovivo@example.com',
      status: 'aprovado',
      valor: 1234.56,
      forma_pagamento: 'pix',
      parcelas: 1,
    });
    const row = page.locator('table.data-table tbody tr', { hasText: 'maria.aovivo@example.com' });
    await row.first().waitFor({ timeout: 10_000 });
    const firstRow = await page.locator('table.data-table tbody tr').first().textContent();
    assert(firstRow?.includes('maria.aovivo@example.com'), 'the new event is not at the top');
    assert((await page.evaluate(() => window.__noReload)) === 'still here', 'the page was reloaded');
  });

  await step('Eventos: "Ver corpo" shows the payload; "Reprocessar" asks, then shows the result', async () => {
    const id = await page
      .locator('table.data-table tbody tr', { hasText: 'maria.aovivo@example.com' })
      .first()
      .getAttribute('data-id');
    const row = page.locator(`table.data-table tbody tr[data-id="${id}"]`);
    await row.getByRole('button', { name: 'Ver corpo' }).click();
    await waitForText(page.locator('tr.detail-row pre.payload').first(), '"nome": "Maria Ao Vivo"');
    await row.getByRole('button', { name: 'Reprocessar' }).click();
    await row.getByRole('button', { name: 'Confirmar' }).click();
    await waitForText(row.locator('.action-status'), /Reprocessado|Não foi possível/);
    const text = (await row.locator('.action-status').textContent()) ?? '';
    assert(text.startsWith('Reprocessado'), `replay failed: ${text}`);
    assert(dialogs.length === 0, `dialogs fired: ${dialogs.join('; ')}`);
    await shot(page, 'eventos-desktop');
    good.add('eventos-desktop');
  });

  await step(
    'Eventos: a rejected webhook and a duplicate read in Portuguese; the English error only under "Detalhe técnico"',
    async () => {
      await goto(page, '/eventos');
      await heading(page, 'Eventos');
      const bad = await fetch(`${BASE}/webhooks/hashtag?token=wrong-token`, {
        method: 'POST',
        body: JSON.stringify({ email: 'intruso@example.com' }),
      });
      assert(bad.status === 401, `a wrong token answered ${bad.status}`);
      const { error } = await bad.json();
      const duplicate = await postHashtag({
        nome: 'Maria Ao Vivo',
        email: 'maria.aovivo@example.com',
        status: 'aprovado',
        valor: 1234.56,
        forma_pagamento: 'pix',
        parcelas: 1,
      });
      assert(duplicate.outcome === 'duplicate', `the repeat answered ${duplicate.outcome}`);
      await page.reload({ waitUntil: 'domcontentloaded' });
      const rejected = page
        .locator('table.data-table tbody tr', { has: page.locator('.badge', { hasText: 'Não autorizado' }) })
        .first();
      await waitForText(rejected, 'Token ou assinatura do webhook ausente ou inválido.');
      const rejectedText = (await rejected.textContent()) ?? '';
      assert(!rejectedText.includes(error.message), `the English error shows in the row: ${rejectedText}`);
      const repeat = page.locator(`table.data-table tbody tr[data-id="${duplicate.event_id}"]`);
      await waitForText(repeat, 'Duplicado');
      const repeatText = (await repeat.textContent()) ?? '';
      if (duplicate.note) assert(!repeatText.includes(duplicate.note), `the raw note shows in the row: ${repeatText}`);
      assert(
        !/[a-z]+_[a-z]+/.test(repeatText.replace(/maria\.aovivo@example\.com/, '')),
        `a code shows in the row: ${repeatText}`,
      );
      await rejected.getByRole('button', { name: 'Ver corpo' }).click();
      const detail = page.locator('tr.detail-row').first();
      await waitForText(detail, 'Motivo');
      const technical = detail.locator('details.technical');
      assert((await technical.getAttribute('open')) === null, 'the technical detail starts open');
      await technical.locator('summary', { hasText: 'Detalhe técnico' }).click();
      await waitForText(technical, error.message);
    },
  );

  await step('Eventos: filter by resultado updates the list and the URL', async () => {
    await page.getByLabel('Resultado').selectOption('processed');
    await page.waitForURL(/resultado=processed/);
    await until('only processed rows', async () => {
      const badges = await page
        .locator('table.data-table tbody tr td[data-label="Resultado"] .badge')
        .allTextContents();
      return badges.length > 0 && badges.every((b) => b === 'Processado');
    });
    await page.reload({ waitUntil: 'domcontentloaded' });
    await heading(page, 'Eventos');
    assert((await page.getByLabel('Resultado').inputValue()) === 'processed', 'the filter was lost on reload');
  });

  await step('Tratativas: filter by tipo, CSV export with the filters', async () => {
    await goto(page, '/tratativas?tipo=grant_access');
    await heading(page, 'Tratativas');
    await until('grant_access rows', async () => {
      const kinds = await page.locator('table.data-table tbody td[data-label="Tipo"]').allTextContents();
      return kinds.length >= 3 && kinds.every((k) => k === 'Liberar acesso');
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Exportar CSV' }).click(),
    ]);
    assert(download.suggestedFilename().endsWith('.csv'), `file name ${download.suggestedFilename()}`);
    const csv = readFileSync(await download.path(), 'utf8');
    assert(csv.includes('joao.avila@example.com'), 'the CSV does not list João');
    assert(!csv.includes('welcome_message'), 'the CSV ignored the tipo filter');
    await page.getByLabel('Status').selectOption('failed');
    await page.waitForURL(/status=failed/);
    await waitForText(page.locator('main'), 'Nenhuma tratativa encontrada');
    await page.getByLabel('Status').selectOption('');
    await page.locator('table.data-table tbody tr').first().waitFor();
    await shot(page, 'tratativas-desktop');
    good.add('tratativas-desktop');
  });

  await step('Clientes: CSV export of the current search', async () => {
    await goto(page, '/clientes?q=example.com');
    await page.locator('a.result').first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Exportar CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert(csv.includes('joao.avila@example.com'), 'the CSV does not list João');
    await shot(page, 'clientes-desktop');
    good.add('clientes-desktop');
  });

  await step("Painel: today's cards, the 30-day SVG chart, breakdowns", async () => {
    await page.getByRole('link', { name: 'Painel' }).click();
    await heading(page, 'Painel');
    await page.locator('svg.chart').waitFor();
    const days = await page.locator('svg.chart g.day').count();
    assert(days === 30, `the chart has ${days} days`);
    const cards = await page.locator('#sec-hoje + ul.cards > li').count();
    assert(cards >= 7, `${cards} cards`);
    await waitForText(page.locator('main'), 'Eventos por resultado');
    await waitForText(page.locator('main'), 'Liberar acesso');
    await shot(page, 'painel-desktop');
    good.add('painel-desktop');
  });

  await step('Swagger UI at /api/docs/ renders under its Content-Security-Policy', async () => {
    await goto(page, '/api/docs/');
    await waitForText(page.locator('.swagger-ui .info .title'), 'Portaria');
    await page.locator('.opblock').first().waitFor();
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
  });

  await step('Session: an expired session goes to /entrar?next=… and back after login', async () => {
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('portaria.session') ?? '{}');
      s.expiresAt = Date.now() - 1000;
      localStorage.setItem('portaria.session', JSON.stringify(s));
    });
    await goto(page, '/tratativas?status=done');
    await page.waitForURL(/\/entrar\?next=%2Ftratativas%3Fstatus%3Ddone$/);
    await waitForText(page.locator('.form-messages'), 'Sua sessão expirou');
    await login(page, STAFF.email, STAFF.password);
    await page.waitForURL(/\/tratativas\?status=done$/);
    await heading(page, 'Tratativas');
  });

  await step('Session: a token the API rejects (401) also goes back to /entrar?next=…', async () => {
    const saved = await page.evaluate(() => localStorage.getItem('portaria.session'));
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('portaria.session') ?? '{}');
      s.token = 'not-a-valid-token';
      localStorage.setItem('portaria.session', JSON.stringify(s));
    });
    await goto(page, '/eventos');
    await page.waitForURL(/\/entrar\?next=%2Feventos$/);
    await page.evaluate((s) => s && localStorage.setItem('portaria.session', s), saved);
  });

  // Screenshots of every screen, desktop and phone; the phone pass also checks the layout fits.
  const storage = await context.storageState();
  const screens = [
    ['painel', '/', 'Painel'],
    ['clientes', '/clientes', 'Clientes'],
    ['cliente', state.joaoId ? `/clientes/${state.joaoId}` : null, 'João Ávila'],
    ['eventos', '/eventos', 'Eventos'],
    ['tratativas', '/tratativas', 'Tratativas'],
  ];

  await step('Screenshots: Entrar and Cadastro (desktop and phone)', async () => {
    for (const [label, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ]) {
      const ctx = await browser.newContext({
        viewport,
        locale: 'pt-BR',
        timezoneId: 'America/Sao_Paulo',
        isMobile: label === 'phone',
        hasTouch: label === 'phone',
        deviceScaleFactor: label === 'phone' ? 2 : 1,
      });
      ctx.setDefaultTimeout(8000);
      await guardCsp(ctx, label);
      const p = await ctx.newPage();
      watch(p, label);
      await goto(p, '/entrar');
      await heading(p, 'Entrar');
      await assertFits(p, viewport.width);
      await shot(p, `entrar-${label}`);
      await goto(p, '/cadastro');
      await heading(p, 'Cadastro');
      await assertFits(p, viewport.width);
      await shot(p, `cadastro-${label}`);
      good.add(`entrar-${label}`).add(`cadastro-${label}`);
      await ctx.close();
    }
  });

  await step('Phone (390 and 360 px): every screen fits without horizontal scrolling', async () => {
    const ctx = await browser.newContext({
      viewport: PHONE,
      locale: 'pt-BR',
      timezoneId: 'America/Sao_Paulo',
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      storageState: storage,
    });
    ctx.setDefaultTimeout(8000);
    await guardCsp(ctx, 'phone');
    const p = await ctx.newPage();
    watch(p, 'phone');
    const problems = [];
    for (const [name, path, title] of screens) {
      if (!path) continue;
      await goto(p, path);
      await heading(p, title);
      // (no 'networkidle': the live stream keeps a request open)
      await until(`${name} loaded`, async () => (await p.locator('.state-loading').count()) === 0, 8000);
      await p.waitForTimeout(300);
      if (name === 'cliente')
        await p
          .locator('li.tl-event summary')
          .first()
          .click()
          .catch(() => undefined);
      try {
        await assertFits(p, PHONE.width);
      } catch (err) {
        problems.push(`${name}: ${err.message}`);
      }
      const failed = await p.locator('.state-error').count();
      await shot(p, `${name}-phone`);
      if (!failed) good.add(`${name}-phone`);
    }
    // and the narrowest phones the app supports
    await p.setViewportSize({ width: 360, height: 740 });
    for (const [name, path, title] of screens) {
      if (!path) continue;
      await goto(p, path);
      await heading(p, title);
      await until(`${name} loaded`, async () => (await p.locator('.state-loading').count()) === 0, 8000);
      try {
        await assertFits(p, 360);
      } catch (err) {
        problems.push(`${name} at 360px: ${err.message}`);
      }
    }
    await ctx.close();
    assert(problems.length === 0, problems.join('; '));
  });

  await step('Sair: logs out and protects the app again', async () => {
    await goto(page, '/');
    await heading(page, 'Painel');
    await page.getByRole('button', { name: 'Sair' }).click();
    await page.waitForURL(/\/entrar$/);
    await goto(page, '/clientes');
    await page.waitForURL(/\/entrar\?next=%2Fclientes$/);
  });

  await step('no Content-Security-Policy violation on any screen (app and Swagger UI)', async () => {
    assert(cspViolations.length === 0, `CSP violations: ${[...new Set(cspViolations)].join('; ')}`);
  });

  await step('no JavaScript errors and no dialogs in any page', async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    assert(dialogs.length === 0, `dialogs: ${dialogs.join('; ')}`);
  });

  await context.close();

  // With E2E_UPDATE_DOCS=1 (`make screenshots`) the best screenshots go to docs/screenshots (only screens
  // that rendered without an error); a plain test run leaves the committed pictures alone.
  if (process.env.E2E_UPDATE_DOCS !== '1') {
    console.log('# screenshots in e2e/screenshots (make screenshots copies the best ones to docs/screenshots)');
    return;
  }
  const best = [
    'painel-desktop',
    'clientes-desktop',
    'cliente-desktop',
    'eventos-desktop',
    'tratativas-desktop',
    'entrar-desktop',
    'cadastro-desktop',
    'painel-phone',
    'clientes-phone',
    'cliente-phone',
    'eventos-phone',
    'entrar-phone',
  ];
  mkdirSync(DOCS_SHOTS, { recursive: true });
  const copied = [];
  for (const name of best) {
    const file = join(SHOTS, `${name}.png`);
    if (good.has(name) && existsSync(file)) {
      copyFileSync(file, join(DOCS_SHOTS, `${name}.png`));
      copied.push(name);
    }
  }
  console.log(`# screenshots in e2e/screenshots; copied to docs/screenshots: ${copied.join(', ') || 'none'}`);
}

await main();
