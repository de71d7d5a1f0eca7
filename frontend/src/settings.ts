// Configurações (administrators): the server's settings as read-only cards — what is on, how, secrets
// masked by the API (only "set or not"). Types and decoders of `GET /api/settings` and of the test send,
// and the pure card model the screen renders (tested).

import type { components } from './api-types.gen';
import { array, bool, nullable, num, object, str, type Decoder } from './json';
import { sourceLabel } from './format';
import type { Decoded } from './types';

type Schemas = components['schemas'];
export type Settings = Decoded<Schemas['Settings']>;
export type TestResult = Decoded<Schemas['TestResult']>;
export type TestChannel = Schemas['TestChannel'];

const optStr = nullable(str);
const optNum = nullable(num);

export const settingsDecoder: Decoder<Settings> = object<Settings>({
  sources: array(object({ source: str, secret_set: bool })),
  email: object({
    enabled: bool,
    host: optStr,
    port: optNum,
    username: optStr,
    password_set: bool,
    from: optStr,
    reply_to: optStr,
  }),
  platform: object({ enabled: bool, host: optStr, secret_set: bool, mode: optStr }),
  alerts: object({
    enabled: bool,
    host: optStr,
    http_calls: array(str),
    outbox_age_seconds: num,
    rejections: num,
    rejections_span_seconds: num,
    window_seconds: num,
  }),
  worker: object({ concurrency: num, max_attempts: num, poll_ms: num, lease_seconds: num }),
  retention: object({ rejected_days: optNum, raw_days: optNum }),
  rate_limit: object({ per_second: num }),
  public_url: str,
  dev: bool,
});

export const testResultDecoder: Decoder<TestResult> = object<TestResult>({
  channel: str,
  ok: bool,
  status: optNum,
  detail: str,
});

/** The mask shown for a secret that is set (the API never sends one). */
export const MASK = '••••';
const NOT_SET = 'não definido';

export interface Card {
  /** Stable id (`data-card` in the page). */
  id: 'sources' | 'email' | 'platform' | 'alerts' | 'worker' | 'retention';
  title: string;
  /** Ligado/Desligado; `null` for cards that are settings, not channels. */
  on: boolean | null;
  rows: [string, string][];
  /** The channel the "Enviar teste" button tests, when on. */
  test: TestChannel | null;
  /** Where to read how to turn it on, when off. */
  hint: string | null;
}

/** `45 s`, `15 min`, `2 h`, `1 h 30 min`. */
export function spanText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (h === 0 && m === 0) return `${seconds} s`;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function days(n: number | null): string {
  return n === null ? 'para sempre' : n === 1 ? '1 dia' : `${n} dias`;
}

const orNotSet = (v: string | null): string => v ?? NOT_SET;

export function settingsCards(s: Settings): Card[] {
  const e = s.email;
  const p = s.platform;
  const a = s.alerts;
  return [
    {
      id: 'sources',
      title: 'Fontes de webhook',
      on: null,
      rows: s.sources.map((src) => [
        sourceLabel(src.source).text,
        src.secret_set ? `Ligada (segredo ${MASK})` : 'Desligada (sem segredo)',
      ]),
      test: null,
      hint: s.dev ? 'Modo de desenvolvimento: segredos de teste em uso. Nunca use em produção.' : null,
    },
    {
      id: 'email',
      title: 'E-mail',
      on: e.enabled,
      rows: e.enabled
        ? [
            ['Servidor SMTP', e.host ? (e.port ? `${e.host}:${e.port}` : e.host) : NOT_SET],
            ['Usuário', orNotSet(e.username)],
            ['Senha', e.password_set ? MASK : NOT_SET],
            ['Remetente', orNotSet(e.from)],
            ['Responder para', orNotSet(e.reply_to)],
          ]
        : [],
      test: e.enabled ? 'email' : null,
      hint: e.enabled ? null : 'Defina SMTP_URL e MAIL_FROM para enviar e-mails aos compradores.',
    },
    {
      id: 'platform',
      title: 'Plataforma do curso',
      on: p.enabled,
      rows: p.enabled
        ? [
            ['Endereço', orNotSet(p.host)],
            ['Modo', p.mode === 'templated' ? 'Chamadas configuradas (API da plataforma)' : 'Webhook assinado'],
            ['Segredo de assinatura', p.secret_set ? MASK : NOT_SET],
          ]
        : [],
      test: p.enabled ? 'platform' : null,
      hint: p.enabled
        ? null
        : 'Defina ACCESS_WEBHOOK_URL e ACCESS_WEBHOOK_SECRET para liberar e remover acessos na plataforma.',
    },
    {
      id: 'alerts',
      title: 'Alertas',
      on: a.enabled,
      rows: [
        ...(a.host ? ([['Destino', `${a.host} (endereço completo ${MASK})`]] as [string, string][]) : []),
        ...a.http_calls.map((call): [string, string] => ['Chamada configurada', `${call} (caminho e chaves ${MASK})`]),
        ['Fila parada', `tratativa esperando há mais de ${spanText(a.outbox_age_seconds)}`],
        ['Recusas', `${a.rejections} respostas 401 de uma fonte em ${spanText(a.rejections_span_seconds)}`],
        ['Tratativa falhou de vez', 'sempre'],
        ['Repetição', `no máximo um aviso por condição a cada ${spanText(a.window_seconds)}`],
        ['Link para', s.public_url],
      ],
      test: a.enabled ? 'alert' : null,
      hint: a.enabled
        ? null
        : 'Defina ALERT_WEBHOOK_URL (Slack, Discord ou Teams) ou ALERT_HTTP_CONFIG (WhatsApp e outras APIs) para receber os alertas.',
    },
    {
      id: 'worker',
      title: 'Worker',
      on: s.worker.concurrency > 0,
      rows: [
        ['Execuções em paralelo', String(s.worker.concurrency)],
        ['Tentativas antes de desistir', String(s.worker.max_attempts)],
        ['Reserva de cada tratativa', spanText(s.worker.lease_seconds)],
        ['Verificação de reserva', spanText(Math.round(s.worker.poll_ms / 1000))],
      ],
      test: null,
      hint: s.worker.concurrency > 0 ? null : 'Este processo não executa tratativas (WORKER_CONCURRENCY=0).',
    },
    {
      id: 'retention',
      title: 'Retenção e limites',
      on: null,
      rows: [
        ['Corpo de webhooks recusados', days(s.retention.rejected_days)],
        ['Corpo de webhooks aceitos', days(s.retention.raw_days)],
        [
          'Limite de webhooks',
          s.rate_limit.per_second === 0 ? 'sem limite' : `${s.rate_limit.per_second} por segundo por origem`,
        ],
      ],
      test: null,
      hint: null,
    },
  ];
}

/** The line shown under a card after "Enviar teste". */
export function testResultText(r: TestResult): string {
  if (r.ok) return `Enviado: o destino respondeu ${r.status ?? 'OK'}.`;
  if (r.status !== null) return `O destino recusou (HTTP ${r.status}). ${r.detail}`.trim();
  return `Não foi possível enviar: ${r.detail}`;
}
