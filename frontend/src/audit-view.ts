// The audit for reading: its filters (URL ⇄ state ⇄ API query) and an entry's before/after as pt-BR lines.
// Pure functions (tested); the screen is screens/audit.ts.

import type { AuditFilters, Query } from './api';
import { endOfLocalDay, startOfLocalDay } from './filters';
import {
  enrollmentLabel,
  formatDateTime,
  formatNumber,
  outcomeLabel,
  sourceLabel,
  treatmentKindLabel,
  treatmentStateLabel,
} from './format';
import { auditFieldText, roleText, treatmentErrorText } from './labels';
import type { AuditEntry } from './types';

export interface AuditFilterState {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  from: string; // YYYY-MM-DD (local day) or ''
  to: string;
}

const get = (p: URLSearchParams, k: string): string => p.get(k)?.trim() ?? '';
const day = (p: URLSearchParams, k: string): string => {
  const v = get(p, k);
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '';
};
const id = (p: URLSearchParams, k: string): string => {
  const v = get(p, k);
  return /^[1-9]\d{0,17}$/.test(v) ? v : '';
};

/** `/auditoria?pessoa=&acao=&alvo_tipo=&alvo=&de=&ate=` */
export function auditFiltersFromQuery(p: URLSearchParams): AuditFilterState {
  return {
    actor: id(p, 'pessoa'),
    action: get(p, 'acao'),
    targetType: get(p, 'alvo_tipo'),
    targetId: id(p, 'alvo'),
    from: day(p, 'de'),
    to: day(p, 'ate'),
  };
}

export function auditFiltersToQuery(f: AuditFilterState): Query {
  return { pessoa: f.actor, acao: f.action, alvo_tipo: f.targetType, alvo: f.targetId, de: f.from, ate: f.to };
}

export function auditApiFilters(f: AuditFilterState): AuditFilters {
  return {
    actor: f.actor,
    action: f.action,
    target_type: f.targetType,
    target_id: f.targetId,
    from: startOfLocalDay(f.from),
    to: endOfLocalDay(f.to),
  };
}

/** One changed (or recorded) field, ready to show. */
export interface AuditLine {
  /** pt-BR label of the field, or null for a field this version does not know (its raw name is then `key`). */
  label: string | null;
  key: string;
  before: string | null;
  after: string;
}

const dash = '—';
/** Fields holding record numbers: "#1025", not a quantity like "1.025" (`treatments` only as a list of ids). */
const ID_KEYS = new Set(['id', 'course_id', 'course_ids']);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A recorded value in pt-BR, read with its field and target in mind. */
export function auditValue(key: string, value: unknown, targetType: string): string {
  if (value === null || value === undefined) return key === 'access_days' ? 'Vitalício' : dash;
  if (Array.isArray(value)) {
    const item = key === 'treatments' ? 'id' : key;
    return value.length ? value.map((v) => auditValue(item, v, targetType)).join(', ') : dash;
  }
  if (typeof value === 'boolean') {
    if (key === 'active') return targetType === 'user' ? (value ? 'Ativo' : 'Desativado') : value ? 'Ativo' : 'Inativo';
    return value ? 'Sim' : 'Não';
  }
  if (typeof value === 'number') {
    if (ID_KEYS.has(key) && Number.isInteger(value)) return `#${value}`;
    return key === 'access_days' || key === 'days' ? `${formatNumber(value)} dia(s)` : formatNumber(value);
  }
  if (typeof value === 'string') {
    switch (key) {
      case 'role':
        return roleText(value);
      case 'outcome':
        return outcomeLabel(value).text;
      case 'source':
        return sourceLabel(value).text;
      case 'kind':
        return treatmentKindLabel(value).text;
      case 'last_error':
        return treatmentErrorText({ status: 'pending', last_error: value }) ?? dash;
      case 'status':
        return targetType === 'treatment'
          ? treatmentStateLabel({ status: value, last_error: null }).text
          : enrollmentLabel(value).text;
    }
    return ISO_TIME.test(value) ? formatDateTime(value) : value;
  }
  if (typeof value === 'object') {
    // a group of fields (an import's counts, a bulk action's term): "Clientes novos: 3, Acessos novos: 3"
    const parts = Object.entries(value).map(([k, v]) => `${auditFieldText(k) ?? k}: ${auditValue(k, v, targetType)}`);
    return parts.length ? parts.join(', ') : dash;
  }
  return String(value);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * What an entry changed, field by field: every field of `after` (and of `before` that `after` lacks), with the
 * value before when there was one; fields whose value did not change are left out when something else changed.
 */
export function auditChanges(e: Pick<AuditEntry, 'before' | 'after' | 'target'>): AuditLine[] {
  const before = e.before ?? {};
  const after = e.after ?? {};
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  const lines = keys.map((key) => ({
    key,
    label: auditFieldText(key),
    before: e.before && key in before ? auditValue(key, before[key], e.target.type) : null,
    after: key in after ? auditValue(key, after[key], e.target.type) : dash,
    changed: !(key in before && key in after) || !same(before[key], after[key]),
  }));
  const changed = lines.filter((l) => l.changed);
  return (changed.length ? changed : lines).map(({ changed: _changed, ...line }) => line);
}

/** The details of an entry (counts, a file name, an outcome), as field: value lines. */
export function auditDetails(e: Pick<AuditEntry, 'details' | 'target'>): AuditLine[] {
  return Object.entries(e.details).map(([key, value]) => ({
    key,
    label: auditFieldText(key),
    before: null,
    after: auditValue(key, value, e.target.type),
  }));
}
