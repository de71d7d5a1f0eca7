// Manual access, bulk actions and the import: turning what staff typed into API requests (with pt-BR
// messages for what is missing) and the API's answers into pt-BR sentences. Pure; the dialogs and the
// Importar screen use these.

import type { AccessRequest, BulkRequest } from './api';
import { formatDate } from './format';
import type { AccessAnswer, BulkAnswer, ImportReport } from './types';

export const MAX_DAYS = 36500;
export const MAX_REASON = 500;

/** How long: the course's duration (grant only), a number of days, until a date, or forever. */
export type TermChoice = 'course' | 'days' | 'until' | 'lifetime';

export interface AccessForm {
  action: 'grant' | 'extend' | 'revoke';
  courseId: string;
  term: TermChoice;
  days: string;
  /** YYYY-MM-DD, as an <input type="date"> gives it. */
  until: string;
  reason: string;
}

export type Checked<T> = { ok: true; body: T } | { ok: false; errors: Record<string, string> };

function checkReason(reason: string, errors: Record<string, string>, required = true): string {
  const r = reason.trim();
  if (required && !r) errors['reason'] = 'Informe o motivo.';
  else if (r.length > MAX_REASON) errors['reason'] = `O motivo pode ter no máximo ${MAX_REASON} caracteres.`;
  return r;
}

function checkDays(days: string, errors: Record<string, string>): number {
  const n = Number(days.trim());
  if (!/^\d+$/.test(days.trim()) || n < 1 || n > MAX_DAYS) {
    errors['days'] = `Informe um número inteiro de dias, de 1 a ${MAX_DAYS}.`;
  }
  return n;
}

function checkUntil(until: string, errors: Record<string, string>): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(until.trim())) errors['until'] = 'Escolha a data final.';
  return until.trim();
}

/** The body of POST /api/customers/{id}/access, or pt-BR messages per field. */
export function accessRequest(f: AccessForm): Checked<AccessRequest> {
  const errors: Record<string, string> = {};
  if (!f.courseId) errors['course_id'] = 'Escolha o curso.';
  const body: AccessRequest = {
    action: f.action,
    course_id: Number(f.courseId),
    reason: checkReason(f.reason, errors),
  };
  if (f.action !== 'revoke') {
    if (f.term === 'days') body.days = checkDays(f.days, errors);
    else if (f.term === 'until') body.until = checkUntil(f.until, errors);
    else if (f.term === 'lifetime') body.lifetime = true;
    else if (f.action === 'extend') errors['days'] = 'Escolha por quantos dias ou até quando.';
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body };
}

export interface BulkForm {
  action: 'extend' | 'revoke';
  term: 'days' | 'until';
  days: string;
  until: string;
  reason: string;
}

/** The body of POST /api/courses/{id}/enrollments/bulk, or pt-BR messages per field. */
export function bulkRequest(f: BulkForm): Checked<BulkRequest> {
  const errors: Record<string, string> = {};
  const body: BulkRequest = { action: f.action, reason: checkReason(f.reason, errors) };
  if (f.action === 'extend') {
    if (f.term === 'days') body.days = checkDays(f.days, errors);
    else body.until = checkUntil(f.until, errors);
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body };
}

/** The optional reason of a resent welcome: null when blank. */
export function welcomeReason(reason: string): Checked<string | null> {
  const errors: Record<string, string> = {};
  const r = checkReason(reason, errors, false);
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body: r || null };
}

function until(expiresAt: string | null): string {
  return expiresAt ? `até ${formatDate(expiresAt)}` : 'sem data de término (vitalício)';
}

/** "Acesso liberado até 31/01/2027." and so on, after a manual action. */
export function describeAccess(action: AccessForm['action'] | 'welcome', a: AccessAnswer): string {
  const course = a.enrollment.course_name;
  switch (action) {
    case 'grant':
      return `Acesso a ${course} liberado ${until(a.enrollment.expires_at)}. Boas-vindas enviadas para a fila.`;
    case 'extend':
      return `Acesso a ${course} estendido ${until(a.enrollment.expires_at)}.`;
    case 'revoke':
      return `Acesso a ${course} revogado.`;
    default:
      return `Mensagem de boas-vindas de ${course} enviada para a fila.`;
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('pt-BR')} ${n === 1 ? one : many}`;
}

/** The preview (or the result) of a bulk action, in pt-BR. */
export function describeBulk(b: BulkAnswer): string {
  const active = plural(b.active, 'matrícula ativa', 'matrículas ativas');
  const word = b.action === 'revoke' ? 'revogada' : 'estendida';
  const changed = b.dry_run ? plural(b.changed, `será ${word}`, `serão ${word}s`) : plural(b.changed, word, `${word}s`);
  const skipped = b.skipped
    ? `; ${plural(b.skipped, 'fica como está', 'ficam como estão')} (vitalício ou já termina depois)`
    : '';
  return `${b.course_name}: ${active}; ${changed}${skipped}.`;
}

/** The counts of an import report, in pt-BR. */
export function describeImport(r: ImportReport): string {
  const c = r.counts;
  const parts = [
    plural(r.lines, 'linha lida', 'linhas lidas'),
    plural(c.new_customers, 'cliente novo', 'clientes novos'),
    plural(c.new_accesses, 'acesso novo', 'acessos novos'),
    plural(c.extended, 'acesso estendido', 'acessos estendidos'),
    plural(c.already_active, 'já ativo', 'já ativos'),
    plural(c.errors, 'linha com erro', 'linhas com erro'),
  ];
  const head = r.imported ? 'Importação concluída' : 'Validação';
  return `${head}: ${parts.join(', ')}.`;
}
