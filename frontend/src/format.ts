// Formatting for pt-BR: dates in the browser's local time (Intl), money from integer cents,
// relative times, and the Portuguese labels of every enumeration of the API.

export type Tone = 'ok' | 'info' | 'warn' | 'bad' | 'muted';

const LOCALE = 'pt-BR';
const dash = '—';

function tz(timeZone: string | undefined): { timeZone?: string } {
  return timeZone ? { timeZone } : {};
}

function parseInstant(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function dateAndTime(iso: string | null | undefined, timeZone: string | undefined, seconds: boolean): string {
  const d = parseInstant(iso);
  if (!d) return dash;
  const date = new Intl.DateTimeFormat(LOCALE, { day: '2-digit', month: '2-digit', year: 'numeric', ...tz(timeZone) });
  const time = new Intl.DateTimeFormat(LOCALE, {
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
    ...tz(timeZone),
  });
  // Date and time apart, so ICU versions that put a comma in between do not show through.
  return `${date.format(d)} ${time.format(d)}`;
}

/** "23/11/2026 14:05" in local time (or `timeZone`, for tests). */
export function formatDateTime(iso: string | null | undefined, timeZone?: string): string {
  return dateAndTime(iso, timeZone, false);
}

/** "23/11/2026 14:05:09", for logs where seconds matter. */
export function formatDateTimeSeconds(iso: string | null | undefined, timeZone?: string): string {
  return dateAndTime(iso, timeZone, true);
}

/** "23/11/2026" of an instant, in local time. */
export function formatDate(iso: string | null | undefined, timeZone?: string): string {
  const d = parseInstant(iso);
  if (!d) return dash;
  return new Intl.DateTimeFormat(LOCALE, { day: '2-digit', month: '2-digit', year: 'numeric', ...tz(timeZone) }).format(
    d,
  );
}

/** A calendar day "YYYY-MM-DD" (no time zone: it is shown as that day), e.g. "23/11". */
export function formatDay(day: string, withYear = false): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  return withYear ? `${m[3]}/${m[2]}/${m[1]}` : `${m[3]}/${m[2]}`;
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

/** "há 5 minutos", "em 2 horas", "agora mesmo". */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  const d = parseInstant(iso);
  if (!d) return dash;
  let value = (d.getTime() - now) / 1000;
  if (Math.abs(value) < 45) return 'agora mesmo';
  const rtf = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' });
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(value) < size) return rtf.format(Math.round(value), unit);
    value /= size;
  }
  return rtf.format(Math.round(value), 'year');
}

/** "R$ 1.234,56" from integer cents (other currencies by their own symbol). */
export function formatMoney(cents: number | null | undefined, currency: string | null = 'BRL'): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return dash;
  let code = (currency ?? 'BRL').toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) code = 'BRL';
  const text = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: code }).format(cents / 100);
  // Intl puts a no-break space after the symbol; the app shows a plain space and keeps the
  // amount on one line with CSS (white-space: nowrap).
  return text.replace(/\u00a0/g, ' ');
}

/** "1.234" */
export function formatNumber(n: number): string {
  return new Intl.NumberFormat(LOCALE).format(n);
}

/** CPF "123.456.789-01", CNPJ "12.345.678/0001-90"; anything else as given. */
export function formatDocument(doc: string | null | undefined): string {
  if (!doc) return dash;
  const digits = doc.replace(/\D/g, '');
  if (digits.length === 11) return digits.replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4');
  if (digits.length === 14) return digits.replace(/^(\d{2})(\d{3})(\d{3})(\d{4})(\d{2})$/, '$1.$2.$3/$4-$5');
  return doc;
}

/** "(11) 98765-4321" for Brazilian numbers (with or without +55); anything else as given. */
export function formatPhone(phone: string | null | undefined): string {
  if (!phone) return dash;
  let digits = phone.replace(/\D/g, '');
  if ((digits.length === 12 || digits.length === 13) && digits.startsWith('55')) digits = digits.slice(2);
  if (digits.length === 11) return digits.replace(/^(\d{2})(\d{5})(\d{4})$/, '($1) $2-$3');
  if (digits.length === 10) return digits.replace(/^(\d{2})(\d{4})(\d{4})$/, '($1) $2-$3');
  return phone;
}

/** "42 ms", "1,2 s" */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return dash;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 }).format(ms / 1000)} s`;
}

/** "30 segundos", "1 minuto", "15 minutos", "2 horas": how long to wait. */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? '1 segundo' : `${s} segundos`;
  const m = Math.ceil(s / 60);
  if (m < 60) return m === 1 ? '1 minuto' : `${m} minutos`;
  const h = Math.ceil(m / 60);
  return h === 1 ? '1 hora' : `${h} horas`;
}

// --- labels -----------------------------------------------------------------------------------

interface Label {
  text: string;
  tone: Tone;
}

function lookup(table: Record<string, Label>, value: string | null | undefined): Label {
  if (!value) return { text: dash, tone: 'muted' };
  return table[value] ?? { text: value, tone: 'muted' };
}

const OUTCOME: Record<string, Label> = {
  processed: { text: 'Processado', tone: 'ok' },
  duplicate: { text: 'Duplicado', tone: 'muted' },
  ignored: { text: 'Ignorado', tone: 'muted' },
  invalid_json: { text: 'JSON inválido', tone: 'bad' },
  unauthorized: { text: 'Não autorizado', tone: 'bad' },
  payload_too_large: { text: 'Grande demais', tone: 'bad' },
  unprocessable: { text: 'Não processável', tone: 'bad' },
  unknown_source: { text: 'Origem desconhecida', tone: 'bad' },
  request_timeout: { text: 'Tempo esgotado', tone: 'bad' },
  rate_limited: { text: 'Limite de requisições', tone: 'warn' },
  error: { text: 'Erro interno', tone: 'bad' },
};

const SOURCE: Record<string, Label> = {
  hashtag: { text: 'Hashtag', tone: 'info' },
  hotmart: { text: 'Hotmart', tone: 'info' },
  kiwify: { text: 'Kiwify', tone: 'info' },
  generic: { text: 'Genérico', tone: 'info' },
  eduzz: { text: 'Eduzz', tone: 'info' },
  monetizze: { text: 'Monetizze', tone: 'info' },
};

const TREATMENT_KIND: Record<string, Label> = {
  grant_access: { text: 'Liberar acesso', tone: 'ok' },
  welcome_message: { text: 'Mensagem de boas-vindas', tone: 'info' },
  refused_message: { text: 'Mensagem de pagamento recusado', tone: 'info' },
  payment_pending_message: { text: 'Mensagem de pagamento pendente', tone: 'info' },
  payment_expired_message: { text: 'Mensagem de pagamento expirado', tone: 'info' },
  revoke_access: { text: 'Revogar acesso', tone: 'bad' },
  refund_message: { text: 'Mensagem de reembolso', tone: 'info' },
  extend_access: { text: 'Estender acesso', tone: 'ok' },
  canceled_message: { text: 'Mensagem de cancelamento', tone: 'info' },
  access_reminder_message: { text: 'Lembrete de fim de acesso', tone: 'info' },
};

const TREATMENT_STATE: Record<string, Label> = {
  pending: { text: 'Pendente', tone: 'info' },
  running: { text: 'Em execução', tone: 'info' },
  done: { text: 'Concluída', tone: 'ok' },
  failed: { text: 'Falhou (nova tentativa agendada)', tone: 'warn' },
  dead: { text: 'Falhou definitivamente', tone: 'bad' },
  canceled: { text: 'Cancelada', tone: 'muted' },
};

/** Short labels for the status filter. */
export const TREATMENT_STATUS_FILTER_LABEL: Record<string, string> = {
  pending: 'Pendente',
  running: 'Em execução',
  done: 'Concluída',
  failed: 'Falhou',
  dead: 'Falhou definitivamente',
};

const ACCESS: Record<string, Label> = {
  active: { text: 'Acesso ativo', tone: 'ok' },
  revoked: { text: 'Acesso revogado', tone: 'bad' },
  expired: { text: 'Expirado', tone: 'warn' },
  none: { text: 'Sem acesso', tone: 'muted' },
};

const ENROLLMENT: Record<string, Label> = {
  active: { text: 'Ativa', tone: 'ok' },
  revoked: { text: 'Revogada', tone: 'bad' },
  expired: { text: 'Expirada', tone: 'warn' },
};

// Order statuses are not enumerated by the contract: the usual names of the sources are mapped,
// anything else is shown as sent.
const ORDER_STATUS: Record<string, Label> = {
  approved: { text: 'Aprovado', tone: 'ok' },
  aprovado: { text: 'Aprovado', tone: 'ok' },
  paid: { text: 'Pago', tone: 'ok' },
  completed: { text: 'Concluído', tone: 'ok' },
  refused: { text: 'Recusado', tone: 'bad' },
  recusado: { text: 'Recusado', tone: 'bad' },
  refunded: { text: 'Reembolsado', tone: 'warn' },
  reembolsado: { text: 'Reembolsado', tone: 'warn' },
  chargeback: { text: 'Chargeback', tone: 'bad' },
  new: { text: 'Novo', tone: 'info' },
  pending: { text: 'Pendente', tone: 'info' },
  waiting_payment: { text: 'Aguardando pagamento', tone: 'info' },
  expired: { text: 'Expirado', tone: 'muted' },
  canceled: { text: 'Cancelado', tone: 'muted' },
  cancelled: { text: 'Cancelado', tone: 'muted' },
};

const PAYMENT_METHOD: Record<string, string> = {
  credit_card: 'Cartão de crédito',
  cartao: 'Cartão de crédito',
  cartao_credito: 'Cartão de crédito',
  cartão: 'Cartão de crédito',
  card: 'Cartão de crédito',
  pix: 'Pix',
  boleto: 'Boleto',
  billet: 'Boleto',
  debit_card: 'Cartão de débito',
  paypal: 'PayPal',
};

// Normalised event kinds (the backend's `kind`); anything else is shown as sent.
const EVENT_KIND: Record<string, string> = {
  approved: 'Aprovado',
  refused: 'Recusado',
  refunded: 'Reembolsado',
  chargeback: 'Chargeback',
  pending: 'Pagamento pendente',
  waiting_payment: 'Aguardando pagamento',
  expired: 'Pagamento expirado',
  canceled: 'Cancelado',
  cancelled: 'Cancelado',
  renewed: 'Renovado',
  extended: 'Acesso estendido',
  subscription_canceled: 'Assinatura cancelada',
  ignored: 'Ignorado',
};

/** "Aprovado", or "Aprovado · PURCHASE_APPROVED" when the source's own name says something else. */
export function eventKindText(e: { kind: string | null; event_type: string | null }): string | null {
  const label = e.kind ? (EVENT_KIND[e.kind.toLowerCase()] ?? e.kind) : null;
  if (!label) return e.event_type;
  if (!e.event_type || e.event_type.toLowerCase() === label.toLowerCase() || e.event_type === e.kind) return label;
  return `${label} · ${e.event_type}`;
}

export const outcomeLabel = (v: string | null | undefined): Label => lookup(OUTCOME, v);
export const sourceLabel = (v: string | null | undefined): Label => lookup(SOURCE, v);
export const treatmentKindLabel = (v: string | null | undefined): Label => lookup(TREATMENT_KIND, v);
export const accessLabel = (v: string | null | undefined): Label => lookup(ACCESS, v);
export const enrollmentLabel = (v: string | null | undefined): Label => lookup(ENROLLMENT, v);
export const orderStatusLabel = (v: string | null | undefined): Label => lookup(ORDER_STATUS, v?.toLowerCase());

/** The UI state of a treatment: "failed" is a pending one that already has an error. */
export function treatmentState(t: { status: string; last_error: string | null }): string {
  return t.status === 'pending' && t.last_error ? 'failed' : t.status;
}

export const treatmentStateLabel = (t: { status: string; last_error: string | null }): Label =>
  lookup(TREATMENT_STATE, treatmentState(t));

/** Whether staff may ask for a new attempt (failed or dead). */
export function isRetryable(t: { status: string; last_error: string | null }): boolean {
  const state = treatmentState(t);
  return state === 'failed' || state === 'dead';
}

export function paymentMethodLabel(v: string | null | undefined): string {
  if (!v) return dash;
  return PAYMENT_METHOD[v.toLowerCase()] ?? v;
}

/** "à vista" or "3x". */
export function installmentsLabel(n: number | null | undefined): string {
  if (n === null || n === undefined) return dash;
  return n <= 1 ? 'à vista' : `${n}x`;
}

/** The webhook body for reading: pretty-printed JSON when it is JSON, the raw text otherwise. */
export function prettyPayload(bodyJson: unknown, raw: string): string {
  if (bodyJson !== null && bodyJson !== undefined) return JSON.stringify(bodyJson, null, 2);
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

/** The access of a customer from their enrollments: active wins, then the latest change. */
export function accessOf(
  enrollments: { status: string; granted_at: string | null; revoked_at: string | null; expires_at: string | null }[],
): string {
  if (enrollments.some((e) => e.status === 'active')) return 'active';
  let best: { status: string; at: number } | null = null;
  for (const e of enrollments) {
    const at = Date.parse(e.revoked_at ?? e.expires_at ?? e.granted_at ?? '') || 0;
    if (!best || at > best.at) best = { status: e.status, at };
  }
  return best?.status ?? 'none';
}
