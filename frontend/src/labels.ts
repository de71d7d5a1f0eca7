// Brazilian Portuguese for the stable codes the API sends instead of sentences: an event's `note` (the decision
// taken, or why an event was ignored), a treatment's `reason`, and what each rejected outcome means. A code this
// version of the app does not know yet gets a generic pt-BR text (never the raw code); the raw value stays
// reachable in the "Detalhe técnico" section of the detail views.

import type { components } from './api-types.gen';
import type { AuditActionCode, AuditTargetCode, Role } from './types';

/** Decision notes of the rules and of ingest (`webhook_events.note`). */
export const DECISION_NOTES: Readonly<Record<string, string>> = {
  approval_after_reversal: 'Aprovação de um pedido já reembolsado ou com chargeback: nenhum acesso liberado.',
  order_already_approved: 'O pedido já estava aprovado: nada foi repetido.',
  access_already_active: 'O acesso já estava ativo (vitalício): nada a mudar.',
  access_renewed: 'Nova aprovação com o acesso ativo ou com fim agendado: acesso renovado conforme a duração do curso.',
  renewal_after_reversal: 'Renovação de um pedido reembolsado ou com chargeback: ignorada.',
  no_active_access_to_end: 'Assinatura cancelada sem acesso ativo.',
  not_acted_upon: 'Evento reconhecido, sem ação.',
  order_already_reversed: 'O pedido já estava reembolsado ou com chargeback.',
  refund_before_approval:
    'Reembolso ou chargeback de um pedido que nunca liberou acesso: registrado para que uma aprovação tardia não libere nada.',
  access_not_active: 'Reembolso de um pedido aprovado cujo acesso já não estava ativo.',
  no_access_to_revoke:
    'Reembolso ou chargeback de uma origem sem número de pedido (simulador): o cliente não tinha acesso ativo ao curso para revogar.',
  order_already_paid: 'Recusa, pendência, expiração ou cancelamento de um pedido já pago: ignorado.',
  order_already_in_state: 'O pedido já estava nesta situação.',
  already_received: 'Duplicata de um evento já recebido.',
};

/** Why an event was ignored (outcome `ignored`; stored in the same `note`). */
export const IGNORED_REASONS: Readonly<Record<string, string>> = {
  purchase_complete: 'Compra concluída (fim do prazo de garantia): nada a fazer.',
  dispute_opened: 'Disputa aberta pelo comprador: o acesso não muda até um reembolso ou chargeback.',
  payment_late: 'Aviso de pagamento atrasado: o acesso continua até o cancelamento da assinatura.',
  cart_abandoned: 'Abandono de carrinho não gera ação.',
  subscription_changed: 'Troca de plano ou de dia de cobrança não afeta o acesso.',
  members_area_activity: 'Atividade na área de membros não gera ação.',
  shipping_event: 'Envio de produto físico não gera ação.',
  connection_test: 'Teste de conexão da plataforma (ping): nada a fazer.',
  refund_requested: 'Pedido de reembolso do comprador: o acesso não muda até o reembolso ser confirmado.',
};

/** Why a treatment exists (`treatments.reason`); every code of the contract (`tsc` checks it). */
export const TREATMENT_REASONS: Readonly<Record<string, string>> = {
  payment_approved: 'Pagamento aprovado',
  repurchase: 'Acesso renovado por uma nova compra aprovada',
  subscription_renewed: 'Assinatura renovada',
  payment_refunded: 'Pagamento reembolsado',
  chargeback: 'Chargeback',
  payment_refused: 'Pagamento recusado',
  awaiting_payment: 'Aguardando pagamento (boleto ou Pix gerado)',
  payment_expired: 'Pagamento expirado',
  purchase_canceled: 'Compra cancelada',
  subscription_canceled_end_of_period: 'Assinatura cancelada: o acesso termina com o período pago',
  subscription_canceled: 'Assinatura cancelada',
  expired: 'Fim do período de acesso',
  manual: 'Ação da equipe',
  import: 'Importação de planilha (CSV)',
  bulk: 'Ação em lote no curso',
} satisfies Record<components['schemas']['TreatmentReason'], string>;

/** What an outcome means, for the line under its badge. Successful outcomes need no explanation. */
export const OUTCOME_DESCRIPTIONS: Readonly<Record<string, string>> = {
  invalid_json: 'O corpo recebido não é um JSON válido.',
  unauthorized: 'Token ou assinatura do webhook ausente ou inválido.',
  payload_too_large: 'O corpo passou do tamanho máximo aceito.',
  unprocessable: 'JSON válido, mas sem os dados necessários ou com valores inválidos.',
  unknown_source: 'Origem desconhecida ou desativada.',
  request_timeout: 'O corpo da requisição não chegou a tempo.',
  rate_limited: 'Requisições demais desta origem e endereço: recusadas (429).',
  error: 'Falha interna ao processar: a plataforma deve reenviar.',
};

export const UNKNOWN_NOTE = 'Observação do sistema sem tradução nesta versão (veja o detalhe técnico).';
export const UNKNOWN_REASON = 'Motivo sem tradução nesta versão (veja o detalhe técnico).';
export const UNKNOWN_REJECTION = 'Requisição recusada (veja o detalhe técnico).';

const NOTES: Readonly<Record<string, string>> = { ...DECISION_NOTES, ...IGNORED_REASONS };

function known(table: Readonly<Record<string, string>>, code: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code] : undefined;
}

/** The pt-BR text of an event's note; null when there is none. */
export function noteText(code: string | null | undefined): string | null {
  if (!code) return null;
  return known(NOTES, code.trim()) ?? UNKNOWN_NOTE;
}

/** The pt-BR text of a treatment's reason; null when there is none. */
export function reasonText(code: string | null | undefined): string | null {
  if (!code) return null;
  return known(TREATMENT_REASONS, code.trim()) ?? UNKNOWN_REASON;
}

/**
 * The pt-BR line shown for a rejected event instead of its (English, technical) `error`: what the outcome
 * means. Null when the event has no error.
 */
export function rejectionText(outcome: string, error: string | null | undefined): string | null {
  if (!error) return null;
  return known(OUTCOME_DESCRIPTIONS, outcome) ?? UNKNOWN_REJECTION;
}

/** Whether a note or reason is one of the codes above (the raw value is then not worth showing). */
export function isKnownNote(code: string | null | undefined): boolean {
  return !!code && known(NOTES, code.trim()) !== undefined;
}

export function isKnownReason(code: string | null | undefined): boolean {
  return !!code && known(TREATMENT_REASONS, code.trim()) !== undefined;
}

// --- staff roles and the audit --------------------------------------------------------------------

/** A staff user's role (`UserView.role`). */
export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  admin: 'Administrador',
  suporte: 'Suporte',
};

/** What each audited action was (`AuditEntryView.action`). */
export const AUDIT_ACTION_LABELS: Readonly<Record<AuditActionCode, string>> = {
  replay_event: 'Reprocessou um evento',
  retry_treatment: 'Tentou de novo uma tratativa',
  grant_access: 'Liberou acesso',
  extend_access: 'Estendeu acesso',
  revoke_access: 'Revogou acesso',
  resend_welcome: 'Reenviou a mensagem de boas-vindas',
  import_access: 'Importou acessos',
  bulk_extend: 'Estendeu acessos em massa',
  bulk_revoke: 'Revogou acessos em massa',
  create_course: 'Criou um curso',
  update_course: 'Alterou um curso',
  create_product_mapping: 'Criou um mapeamento de produto',
  update_product_mapping: 'Alterou um mapeamento de produto',
  delete_product_mapping: 'Removeu um mapeamento de produto',
  update_user: 'Alterou uma pessoa da equipe',
  change_password: 'Alterou a própria senha',
};

/** What an audited action was done to (`AuditEntryView.target.type`). */
export const AUDIT_TARGET_LABELS: Readonly<Record<AuditTargetCode, string>> = {
  webhook_event: 'Evento',
  treatment: 'Tratativa',
  customer: 'Cliente',
  course: 'Curso',
  product_mapping: 'Mapeamento de produto',
  user: 'Pessoa da equipe',
  import: 'Importação',
};

/** The fields the audit records before and after an action, and in its details. */
export const AUDIT_FIELD_LABELS: Readonly<Record<string, string>> = {
  role: 'Papel',
  active: 'Situação',
  status: 'Situação',
  attempts: 'Tentativas',
  last_error: 'Último erro',
  outcome: 'Resultado',
  name: 'Nome',
  email: 'E-mail',
  access_days: 'Duração do acesso',
  access_url: 'Link de acesso',
  access_webhook_url: 'Webhook da plataforma do curso',
  course_id: 'Nº do curso',
  course_ids: 'Cursos',
  course_name: 'Curso',
  expires_at: 'Fim do acesso',
  until: 'Até',
  days: 'Dias',
  source: 'Origem',
  external_product_id: 'Produto',
  offer_code: 'Oferta ou plano',
  count: 'Quantidade',
  lines: 'Linhas',
  filename: 'Arquivo',
  id: 'Número',
  slug: 'Identificador',
  granted_at: 'Liberada em',
  revoked_at: 'Revogada em',
  treatments: 'Tratativas',
  term: 'Prazo',
  changed: 'Alteradas',
  skipped: 'Mantidas',
  counts: 'Contagem',
  new_customers: 'Clientes novos',
  new_accesses: 'Acessos novos',
  extended: 'Acessos estendidos',
  already_active: 'Já ativos',
  errors: 'Linhas com erro',
};

export const UNKNOWN_AUDIT = 'Ação sem tradução nesta versão';

function has(table: Readonly<Record<string, string>>, code: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code] : undefined;
}

export function roleText(code: string | null | undefined): string {
  return (code && has(ROLE_LABELS, code)) ?? 'Sem papel definido';
}

export function auditActionText(code: string): string {
  return has(AUDIT_ACTION_LABELS, code) ?? UNKNOWN_AUDIT;
}

export function auditTargetText(code: string): string {
  return has(AUDIT_TARGET_LABELS, code) ?? 'Outro alvo';
}

/** The label of a recorded field; unknown ones keep their name (shown as a technical name). */
export function auditFieldText(key: string): string | null {
  return has(AUDIT_FIELD_LABELS, key) ?? null;
}

// --- treatment errors -----------------------------------------------------------------------------

/** The errors the app knows in a treatment's `last_error` (free text from the executors). */
export const TREATMENT_ERRORS: Readonly<Record<string, string>> = {
  'canceled: access bought again': 'Cancelada: o acesso foi comprado de novo antes do fim.',
  'the treatment has no e-mail': 'A tratativa não tem o e-mail do cliente.',
};

/**
 * The pt-BR line for a treatment's last error: a known one translated, any other described by what happened
 * (the raw message stays in "Detalhe técnico"). Null without an error.
 */
export function treatmentErrorText(t: { status: string; last_error: string | null }): string | null {
  if (!t.last_error) return null;
  const known = has(TREATMENT_ERRORS, t.last_error.trim());
  if (known) return known;
  if (t.status === 'dead') return 'A execução falhou em todas as tentativas (veja o detalhe técnico).';
  if (t.status === 'canceled') return 'Cancelada (veja o detalhe técnico).';
  return 'A última tentativa falhou; uma nova tentativa foi agendada (veja o detalhe técnico).';
}

/** Why a line of an imported CSV was refused (`errors[].code` of the import report). */
export const IMPORT_PROBLEMS: Readonly<Record<string, string>> = {
  missing_header: 'Arquivo vazio: falta o cabeçalho nome;email;curso;expira_em.',
  invalid_header: 'Cabeçalho inválido: use nome;email;curso;expira_em (separados por ; ou ,).',
  invalid_encoding: 'O arquivo não está em UTF-8: salve como “CSV UTF-8” e envie de novo.',
  wrong_column_count: 'Quantidade de colunas diferente do cabeçalho (confira o separador e as aspas).',
  invalid_email: 'E-mail ausente ou inválido.',
  invalid_name: 'Nome longo demais (máximo de 200 caracteres) ou com caracteres inválidos.',
  missing_course: 'Curso não informado.',
  unknown_course: 'Curso não encontrado no catálogo (use o nome, o identificador ou o número do curso).',
  ambiguous_course: 'Há mais de um curso com este nome: use o identificador (slug) ou o número do curso.',
  invalid_date: 'Data de expiração inválida: use AAAA-MM-DD ou DD/MM/AAAA.',
  past_date: 'Data de expiração no passado.',
  duplicate_line: 'Mesmo e-mail e curso de uma linha anterior.',
};

/** What a good line of an import does (`preview[].result`). */
export const IMPORT_RESULTS: Readonly<Record<string, string>> = {
  new_access: 'Novo acesso (com boas-vindas)',
  extend: 'Estender acesso',
  already_active: 'Já ativo: nada a fazer',
};

/** The pt-BR text of a bad import line, with the value at fault when there is one. */
export function importProblemText(code: string, value: string | null): string {
  const text = known(IMPORT_PROBLEMS, code) ?? 'Linha inválida.';
  if (!value) return text;
  if (code === 'duplicate_line') return `${text.replace(/\.$/, '')} (linha ${value}).`;
  if (code === 'wrong_column_count') return `${text} Colunas encontradas: ${value}.`;
  return `${text} Valor: “${value}”.`;
}

/** The pt-BR text of an import line's result. */
export function importResultText(code: string): string {
  return known(IMPORT_RESULTS, code) ?? 'Resultado sem tradução nesta versão.';
}

// --- Modelos de e-mail (issue 11) ---------------------------------------------------------------

/** The name of each e-mail the channel sends (`GET /api/mail/templates`), in the seller's words. */
export const MAIL_TEMPLATE_NAMES: Readonly<Record<string, string>> = {
  welcome_message: 'Boas-vindas (acesso liberado)',
  payment_pending_message: 'Pagamento pendente (boleto ou Pix)',
  refused_message: 'Pagamento recusado',
  payment_expired_message: 'Pagamento expirado',
  refund_message: 'Reembolso confirmado',
  canceled_message: 'Assinatura cancelada',
  revoke_access: 'Acesso encerrado',
  access_reminder_message: 'Lembrete de fim de acesso',
} satisfies Partial<Record<components['schemas']['TreatmentKind'], string>>;

/** The pt-BR name of an e-mail kind; a kind this version does not know gets a generic name, never the code. */
export function mailTemplateName(kind: string): string {
  return known(MAIL_TEMPLATE_NAMES, kind) ?? 'Modelo de e-mail sem tradução nesta versão';
}
