// Simulador (administrators): types and decoders of `GET /api/simulator` and `POST /api/simulator/runs`,
// and the pure parts the screen renders (tested): scenario names and descriptions, the steps and answers
// of a run in pt-BR, and which sources can be chosen.

import { array, bool, nullable, num, object, str, type Decoder } from './json';
import { outcomeLabel, sourceLabel, type Tone } from './format';

export interface SourceChoice {
  source: string;
  enabled: boolean;
  scenarios: string[];
}

export interface SimulatorCatalog {
  sources: SourceChoice[];
  max_count: number;
}

export interface SimulatedDelivery {
  sequence: number;
  step: string;
  customer: string | null;
  status: number | null;
  outcome: string;
  expected_status: number;
  expected_outcome: string;
  as_expected: boolean;
}

export interface SimulatedCustomer {
  email: string;
  id: number | null;
}

export interface SimulatorRun {
  source: string;
  scenario: string;
  seed: number;
  count: number;
  deliveries: SimulatedDelivery[];
  customers: SimulatedCustomer[];
  unexpected: number;
}

export interface RunRequest {
  source: string;
  scenario: string;
  email?: string;
  count?: number;
}

export const catalogDecoder: Decoder<SimulatorCatalog> = object<SimulatorCatalog>({
  sources: array(object<SourceChoice>({ source: str, enabled: bool, scenarios: array(str) })),
  max_count: num,
});

export const runDecoder: Decoder<SimulatorRun> = object<SimulatorRun>({
  source: str,
  scenario: str,
  seed: num,
  count: num,
  deliveries: array(
    object<SimulatedDelivery>({
      sequence: num,
      step: str,
      customer: nullable(str),
      status: nullable(num),
      outcome: str,
      expected_status: num,
      expected_outcome: str,
      as_expected: bool,
    }),
  ),
  customers: array(object<SimulatedCustomer>({ email: str, id: nullable(num) })),
  unexpected: num,
});

/** Each scenario's pt-BR name and a one-line description. */
export const SCENARIOS: Readonly<Record<string, { name: string; description: string }>> = {
  lifecycle: {
    name: 'Aprovação e reembolso',
    description: 'Compra aprovada e depois reembolsada: libera e revoga o acesso.',
  },
  random: { name: 'Compras variadas', description: 'Uma compra aprovada, recusada ou reembolsada, sorteada.' },
  'out-of-order': {
    name: 'Fora de ordem',
    description: 'O reembolso chega antes da aprovação: nenhum acesso é liberado.',
  },
  duplicates: { name: 'Duplicatas', description: 'A mesma aprovação entregue três vezes: só a primeira conta.' },
  'pix-expiry': { name: 'Pix expirado', description: 'Pix gerado e não pago até expirar.' },
  boleto: { name: 'Boleto pago', description: 'Boleto gerado e depois pago: libera o acesso.' },
  chargeback: { name: 'Chargeback', description: 'Compra aprovada e depois contestada no cartão: revoga o acesso.' },
  subscription: { name: 'Assinatura', description: 'Assinatura criada, renovada e cancelada.' },
  hostile: {
    name: 'Requisições inválidas',
    description: 'Corpos ilegíveis e credenciais ausentes ou erradas: todas recusadas.',
  },
};

/** The scenarios in the order the screen lists them (the lifecycle first). */
export const SCENARIO_ORDER: readonly string[] = Object.keys(SCENARIOS);

export function scenarioName(code: string): string {
  return SCENARIOS[code]?.name ?? 'Cenário sem tradução nesta versão';
}

export function scenarioDescription(code: string): string {
  return SCENARIOS[code]?.description ?? '';
}

/** The scenarios a source can play, in the screen's order. */
export function scenariosOf(choice: SourceChoice | undefined): string[] {
  if (!choice) return [];
  return SCENARIO_ORDER.filter((s) => choice.scenarios.includes(s));
}

/** The sources that can be chosen: those enabled on this server. */
export function enabledSources(catalog: SimulatorCatalog): SourceChoice[] {
  return catalog.sources.filter((s) => s.enabled);
}

export function sourceName(code: string): string {
  return sourceLabel(code).text;
}

const STEPS: Readonly<Record<string, string>> = {
  approved: 'Aprovação',
  refused: 'Recusa',
  refunded: 'Reembolso',
  chargeback: 'Chargeback',
  pending: 'Pagamento pendente',
  expired: 'Pagamento expirado',
  renewed: 'Renovação',
  'subscription canceled': 'Assinatura cancelada',
  'refunded (first)': 'Reembolso (chegou primeiro)',
  'approved (late)': 'Aprovação (atrasada)',
  'approved (redelivered)': 'Aprovação (reenviada)',
  'approved (redelivered again)': 'Aprovação (reenviada de novo)',
  'approved (new envelope id)': 'Aprovação (reenviada com outro id)',
  'pix generated': 'Pix gerado',
  'pix expired': 'Pix expirado',
  'boleto generated': 'Boleto gerado',
  'boleto paid': 'Boleto pago',
  subscribed: 'Assinatura criada',
  'renewal order approved': 'Pedido de renovação aprovado',
};

/** A delivery's step in pt-BR; the hostile bodies (and any step this version does not know) are generic. */
export function stepText(step: string, scenario: string): string {
  return STEPS[step] ?? (scenario === 'hostile' ? 'Requisição inválida' : 'Entrega de teste');
}

const ANSWERS: Readonly<Record<string, { text: string; tone: Tone }>> = {
  no_answer: { text: 'Sem resposta do servidor', tone: 'bad' },
  too_many_requests: { text: 'Limite de requisições', tone: 'warn' },
};

/** What the server answered to a delivery, in pt-BR. */
export function answerLabel(d: Pick<SimulatedDelivery, 'status' | 'outcome'>): { text: string; tone: Tone } {
  const known = ANSWERS[d.outcome];
  if (known) return known;
  const label = outcomeLabel(d.outcome);
  if (label.text !== d.outcome) return label;
  return { text: d.status !== null && d.status < 300 ? 'Aceito' : 'Recusado', tone: d.status === 200 ? 'ok' : 'bad' };
}

/** The summary line of a run. */
export function runSummary(run: SimulatorRun): string {
  const n = run.deliveries.length;
  const sent = n === 1 ? '1 entrega enviada' : `${n} entregas enviadas`;
  const expected =
    run.unexpected === 0
      ? 'todas com a resposta esperada'
      : run.unexpected === 1
        ? '1 com resposta diferente da esperada'
        : `${run.unexpected} com resposta diferente da esperada`;
  return `${scenarioName(run.scenario)} · ${sourceName(run.source)}: ${sent}, ${expected}.`;
}

/** The customer to open after a run: the first one the server has. */
export function customerToOpen(run: SimulatorRun): SimulatedCustomer | undefined {
  return run.customers.find((c) => c.id !== null);
}
