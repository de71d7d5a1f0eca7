// /simulador (administrators): choose an enabled source, a scenario and (optionally) a customer e-mail,
// send; the server signs the scenario's deliveries with its own secrets and posts them to itself. The
// answers show here in pt-BR, with a link to the customer's timeline.

import { h, mount } from '../dom';
import { errorMessage, fieldErrors } from '../errors';
import { routeUrl } from '../router';
import {
  answerLabel,
  customerToOpen,
  enabledSources,
  runSummary,
  scenarioDescription,
  scenarioName,
  scenariosOf,
  sourceName,
  stepText,
  type SimulatedDelivery,
  type SimulatorCatalog,
  type SimulatorRun,
} from '../simulator';
import { badge, errorState, field, loadingState, notice, select, table, tableRow, type Column } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

export const simulatorScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  const area = h('div', { class: 'results-area' }, loadingState());
  const results = h('div', { class: 'simulator-results', 'aria-live': 'polite' });

  const deliveriesTable = (run: SimulatorRun): HTMLElement => {
    const columns: Column<SimulatedDelivery>[] = [
      { label: 'Cliente', cell: (d) => (run.count > 1 ? `#${d.sequence + 1} ` : '') + (d.customer ?? '—') },
      { label: 'Entrega', cell: (d) => stepText(d.step, run.scenario) },
      { label: 'Status HTTP', cell: (d) => (d.status === null ? '—' : String(d.status)) },
      { label: 'Resposta', cell: (d) => badge(answerLabel(d)) },
      {
        label: 'Esperada',
        cell: (d) => (d.as_expected ? 'Sim' : 'Não'),
      },
    ];
    const { table: el, body } = table('Entregas enviadas pelo Simulador', columns);
    for (const d of run.deliveries) body.append(tableRow(columns, d, { 'data-step': d.step }));
    return el;
  };

  const showRun = (run: SimulatorRun): void => {
    const customer = customerToOpen(run);
    const link = customer
      ? h(
          'a',
          {
            class: 'btn',
            href: routeUrl('customer', { id: String(customer.id) }),
            'data-simulated-customer': customer.email,
          },
          `Abrir a linha do tempo de ${customer.email}`,
        )
      : null;
    mount(results, notice(runSummary(run), run.unexpected === 0 ? 'ok' : 'bad'), link, deliveriesTable(run));
  };

  const form = (catalog: SimulatorCatalog): HTMLElement => {
    const sources = enabledSources(catalog);
    if (sources.length === 0) {
      return notice(
        'Nenhuma plataforma está habilitada neste servidor: defina o segredo de uma delas (veja o README).',
      );
    }
    const first = sources[0]?.source ?? '';
    const source = select(
      'plataforma',
      sources.map((s): [string, string] => [s.source, sourceName(s.source)]),
      first,
    );
    const scenario = select('cenario', [], '');
    const description = h('p', { class: 'muted small', 'data-scenario-description': '' });
    const fillScenarios = (): void => {
      const list = scenariosOf(sources.find((s) => s.source === source.value));
      const keep = list.includes(scenario.value) ? scenario.value : (list[0] ?? '');
      scenario.replaceChildren(...list.map((code) => h('option', { value: code }, scenarioName(code))));
      scenario.value = keep;
      description.textContent = scenarioDescription(keep);
    };
    source.addEventListener('change', fillScenarios);
    scenario.addEventListener('change', () => {
      description.textContent = scenarioDescription(scenario.value);
    });
    fillScenarios();
    const email = h('input', {
      type: 'email',
      name: 'email',
      autocomplete: 'off',
      placeholder: 'cliente@exemplo.com.br',
    });
    const emailField = field('E-mail do cliente', email, 'Opcional: vazio, o Simulador inventa uma pessoa.');
    const count = h('input', { type: 'number', name: 'quantidade', min: '1', max: String(catalog.max_count) });
    count.value = '1';
    const countField = field('Quantidade de clientes', count, `De 1 a ${catalog.max_count}.`);
    const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Enviar');
    const el = h(
      'form',
      { class: 'simulator-form', 'aria-label': 'Simular webhooks', novalidate: '' },
      field('Plataforma', source).wrapper,
      h('div', null, field('Cenário', scenario).wrapper, description),
      emailField.wrapper,
      countField.wrapper,
      h('div', { class: 'form-actions' }, send),
    );
    el.addEventListener('submit', (event) => {
      event.preventDefault();
      emailField.error.textContent = '';
      countField.error.textContent = '';
      send.setAttribute('disabled', '');
      send.textContent = 'Enviando…';
      mount(results, loadingState('Enviando as entregas…'));
      const n = Number.parseInt(count.value, 10);
      ctx.api
        .runSimulator({
          source: source.value,
          scenario: scenario.value,
          ...(email.value.trim() ? { email: email.value.trim() } : {}),
          ...(Number.isFinite(n) ? { count: n } : {}),
        })
        .then(
          (run) => {
            if (life.alive) showRun(run);
          },
          (err: unknown) => {
            if (!life.alive) return;
            const fields = fieldErrors(err);
            if (fields.email) emailField.error.textContent = fields.email;
            if (fields.count) countField.error.textContent = fields.count;
            mount(results, notice(errorMessage(err), 'bad'));
          },
        )
        .finally(() => {
          send.removeAttribute('disabled');
          send.textContent = 'Enviar';
        });
    });
    return el;
  };

  const load = (): void => {
    mount(area, loadingState());
    ctx.api.simulatorCatalog().then(
      (catalog) => {
        if (life.alive) mount(area, form(catalog), results);
      },
      (err: unknown) => {
        if (life.alive) mount(area, errorState(err, load));
      },
    );
  };
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, 'Simulador')),
    h(
      'p',
      { class: 'muted' },
      'Envia a este servidor webhooks de teste assinados como a plataforma assina, pelo caminho real ',
      '(autenticação, limite de requisições, processamento). Os clientes e tratativas criados são reais: ',
      'use e-mails de teste.',
    ),
    area,
  );
  return { title: 'Simulador', el, dispose: life.dispose };
};
