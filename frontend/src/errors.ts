// Portuguese messages for API errors: the codes are stable, the API's English text is not shown
// unless there is nothing better.

import { ApiError } from './api';
import type { components } from './api-types.gen';
import { formatWait } from './format';

/** Every code of the API's `ErrorCode` (tsc fails when one has no message), and the app's own ones. */
const BY_CODE: Record<components['schemas']['ErrorCode'], string> & Record<string, string> = {
  invalid_credentials: 'E-mail ou senha incorretos.',
  invalid_invite_token: 'Token de convite inválido. Confira o token com quem administra a Portaria.',
  email_taken: 'Já existe uma conta com este e-mail. Entre com ela ou use outro e-mail.',
  validation_failed: 'Alguns campos estão inválidos. Corrija e tente de novo.',
  missing_token: 'Sua sessão expirou. Entre novamente.',
  invalid_token: 'Sua sessão expirou. Entre novamente.',
  token_expired: 'Sua sessão expirou. Entre novamente.',
  session_revoked: 'Sua sessão foi encerrada (conta desativada ou senha alterada). Entre novamente.',
  account_deactivated: 'Esta conta foi desativada. Fale com um administrador.',
  forbidden: 'Apenas administradores podem fazer isto.',
  not_found: 'Não encontrado.',
  access_already_active: 'Este cliente já tem acesso ativo a este curso. Use “Estender” para mudar o fim.',
  access_not_active:
    'Este cliente não tem acesso ativo a este curso (nunca liberado, revogado ou expirado). Use “Conceder acesso”.',
  access_lifetime: 'Este acesso é vitalício: não há o que estender.',
  import_has_errors: 'O arquivo tem linhas com erro: nada foi importado. Corrija as linhas indicadas e valide de novo.',
  not_retryable: 'Esta tratativa não está com falha, então não pode ser tentada de novo.',
  not_replayable:
    'Este evento não pode ser reprocessado: nunca foi autenticado, chegou cortado ou o corpo já foi apagado pela política de retenção.',
  replay_rejected: 'O reprocessamento foi recusado de novo; o novo registro está em Eventos.',
  invalid_query: 'Os filtros têm um valor inválido. Corrija e tente de novo.',
  method_not_allowed: 'Operação não permitida.',
  course_not_found: 'Um dos cursos escolhidos não existe mais. Recarregue a página e escolha de novo.',
  channel_off: 'Este canal não está configurado neste servidor (veja as variáveis de ambiente na documentação).',
  simulator_off: 'O Simulador está desligado neste servidor (SIMULATOR_ENABLED=false).',
  source_off: 'Esta plataforma não está habilitada neste servidor (falta o segredo dela nas variáveis de ambiente).',
  unknown_scenario: 'Cenário desconhecido. Recarregue a página e escolha de novo.',
  scenario_unsupported: 'Esta plataforma não envia os eventos deste cenário. Escolha outro cenário.',
  mapping_exists:
    'Já existe um mapeamento para este produto e esta oferta na mesma plataforma. Edite o mapeamento existente.',
  invalid_cursor: 'A lista mudou desde a última página. Recarregue e tente de novo.',
  invalid_json: 'O servidor não entendeu os dados enviados. Recarregue a página e tente de novo.',
  invalid_body: 'O servidor não conseguiu ler os dados enviados. Tente de novo.',
  unsupported_media_type: 'O servidor não entendeu os dados enviados. Recarregue a página e tente de novo.',
  payload_too_large: 'Os dados enviados são grandes demais.',
  internal_error: 'Erro no servidor. Tente de novo em instantes.',
  database_unavailable: 'O banco de dados está indisponível no momento. Tente de novo em instantes.',
  network_error: 'Sem conexão com o servidor. Verifique a rede e tente de novo.',
  invalid_response: 'O servidor deu uma resposta inesperada.',
  too_many_requests: 'Muitas tentativas. Aguarde um pouco e tente de novo.',
  unauthorized: 'Sua sessão expirou. Entre novamente.',
  unknown_source: 'Origem de webhook desconhecida.',
  unprocessable: 'Os dados enviados não puderam ser processados.',
  request_timeout: 'Os dados demoraram demais para chegar ao servidor. Tente de novo.',
  migrations_pending: 'O servidor está sendo atualizado. Tente de novo em instantes.',
  last_admin:
    'Esta é a última pessoa administradora ativa. Torne outra pessoa administradora antes de desativá-la ou mudar o papel dela.',
  cannot_change_self:
    'Você não pode desativar a própria conta nem deixar de ser administrador. Peça a outra pessoa administradora.',
};

/** The message to show for any error thrown by the API client (or anything else). */
export function errorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return 'Algo deu errado. Tente de novo.';
  if (err.code === 'too_many_requests') {
    return err.retryAfter !== null
      ? `Muitas tentativas. Aguarde ${formatWait(err.retryAfter)} e tente de novo.`
      : 'Muitas tentativas. Aguarde um pouco e tente de novo.';
  }
  const known = BY_CODE[err.code];
  if (known) return known;
  if (err.status === 404) return 'Não encontrado.';
  if (err.status >= 500) return 'Erro no servidor. Tente de novo em instantes.';
  // An unknown code: never the API's English text.
  return err.status
    ? `Não foi possível concluir a operação (erro ${err.status}).`
    : 'Não foi possível concluir a operação.';
}

/** Portuguese text for one field of a validation_failed answer. */
export function fieldMessage(field: string, english: string): string {
  if (field === 'email') return 'Informe um e-mail válido.';
  if (field === 'name') return 'Informe um nome (de 1 a 200 caracteres).';
  if (field === 'password') {
    const min = /at least (\d+)/i.exec(english);
    if (min) return `A senha precisa ter pelo menos ${min[1]} caracteres.`;
    const max = /at most (\d+)/i.exec(english);
    if (max) return `A senha pode ter no máximo ${max[1]} caracteres.`;
    return 'Senha inválida.';
  }
  if (field === 'new_password') {
    const min = /at least (\d+)/i.exec(english);
    if (min) return `A nova senha precisa ter pelo menos ${min[1]} caracteres.`;
    const max = /at most (\d+)/i.exec(english);
    if (max) return `A nova senha pode ter no máximo ${max[1]} caracteres.`;
    return 'Nova senha inválida.';
  }
  if (field === 'current_password') return 'A senha atual está incorreta.';
  if (field === 'invite_token') return 'Informe o token de convite.';
  if (field === 'reason') return 'Informe o motivo (até 500 caracteres).';
  if (field === 'file') return 'Escolha um arquivo CSV ou cole o conteúdo.';
  if (field === 'days') {
    if (/only one/i.test(english)) return 'Escolha só uma opção: dias, data ou vitalício.';
    if (/needs/i.test(english)) return 'Informe quantos dias ou até que data.';
    return 'Informe um número de dias entre 1 e 36500.';
  }
  if (field === 'until') {
    const after = /after the current end of access \((\d{4})-(\d{2})-(\d{2})\)/.exec(english);
    if (after) return `A nova data precisa ser depois do fim atual do acesso (${after[3]}/${after[2]}/${after[1]}).`;
    if (/today or a later/i.test(english)) return 'Informe hoje ou uma data futura.';
    return 'Informe uma data válida.';
  }
  if (field === 'action') return 'A revogação não leva dias nem data.';
  if (field === 'access_days') return 'Informe a duração em dias (de 1 a 36.500) ou marque Acesso vitalício.';
  if (field === 'access_url' || field === 'access_webhook_url')
    return 'Informe um endereço que comece com https:// (até 2.000 caracteres) ou deixe vazio.';
  if (field === 'external_product_id') return 'Informe o ID do produto (até 200 caracteres).';
  if (field === 'offer_code') return 'O código da oferta ou plano pode ter até 200 caracteres.';
  if (field === 'course_ids') return 'Escolha de 1 a 50 cursos.';
  if (field === 'source') return 'Escolha a plataforma.';
  return 'Valor inválido.';
}

/** Field name → Portuguese message, for a validation_failed error (empty otherwise). */
export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  for (const [field, msg] of Object.entries(err.fieldErrors)) out[field] = fieldMessage(field, msg);
  return out;
}
