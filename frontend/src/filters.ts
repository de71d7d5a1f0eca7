// The filters of Eventos and Tratativas: read from / written to the URL (Portuguese keys),
// turned into API queries (local-day bounds as RFC 3339), and matched against live updates.

import type { EventFilters, Query, TreatmentFilters } from './api';
import type { EventSummary, Treatment } from './types';
import { treatmentState } from './format';

export interface EventFilterState {
  source: string;
  outcome: string;
  q: string;
  from: string; // YYYY-MM-DD (local day) or ''
  to: string;
}

export interface TreatmentFilterState {
  kind: string;
  status: string;
  q: string;
  from: string;
  to: string;
}

const get = (p: URLSearchParams, k: string): string => p.get(k)?.trim() ?? '';
const day = (p: URLSearchParams, k: string): string => {
  const v = get(p, k);
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : '';
};

export function eventFiltersFromQuery(p: URLSearchParams): EventFilterState {
  return {
    source: get(p, 'origem'),
    outcome: get(p, 'resultado'),
    q: get(p, 'q'),
    from: day(p, 'de'),
    to: day(p, 'ate'),
  };
}

export function eventFiltersToQuery(f: EventFilterState): Query {
  return { origem: f.source, resultado: f.outcome, de: f.from, ate: f.to, q: f.q };
}

export function treatmentFiltersFromQuery(p: URLSearchParams): TreatmentFilterState {
  return { kind: get(p, 'tipo'), status: get(p, 'status'), q: get(p, 'q'), from: day(p, 'de'), to: day(p, 'ate') };
}

export function treatmentFiltersToQuery(f: TreatmentFilterState): Query {
  return { tipo: f.kind, status: f.status, de: f.from, ate: f.to, q: f.q };
}

function localDay(d: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

/** The first instant of a local calendar day, as RFC 3339 UTC ('' for no day). */
export function startOfLocalDay(d: string): string {
  return localDay(d)?.toISOString() ?? '';
}

/**
 * The end of a local calendar day as an exclusive bound: the first instant of the next day,
 * RFC 3339 UTC ('' for no day). The API's `to` is exclusive when it is a time.
 */
export function endOfLocalDay(d: string): string {
  const start = localDay(d);
  if (!start) return '';
  return new Date(start.getFullYear(), start.getMonth(), start.getDate() + 1).toISOString();
}

export function eventApiFilters(f: EventFilterState): EventFilters {
  return { source: f.source, outcome: f.outcome, q: f.q, from: startOfLocalDay(f.from), to: endOfLocalDay(f.to) };
}

export function treatmentApiFilters(f: TreatmentFilterState): TreatmentFilters {
  return { kind: f.kind, status: f.status, q: f.q, from: startOfLocalDay(f.from), to: endOfLocalDay(f.to) };
}

function inPeriod(at: string, from: string, to: string): boolean {
  const t = Date.parse(at);
  if (from && t < Date.parse(startOfLocalDay(from))) return false;
  if (to && t >= Date.parse(endOfLocalDay(to))) return false;
  return true;
}

/**
 * Whether a live event belongs in the list under these filters. The text filter also searches
 * the raw body on the server; here only the e-mail can be checked, so a text filter that the
 * e-mail does not contain keeps the event out (the list can be reloaded to be sure).
 */
export function eventMatches(e: EventSummary, f: EventFilterState): boolean {
  if (f.source && e.source !== f.source) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.q && !(e.customer_email ?? '').toLowerCase().includes(f.q.toLowerCase())) return false;
  return inPeriod(e.received_at, f.from, f.to);
}

export function treatmentMatches(t: Treatment, f: TreatmentFilterState): boolean {
  if (f.kind && t.kind !== f.kind) return false;
  if (f.status && treatmentState(t) !== f.status && !(f.status === 'pending' && t.status === 'pending')) return false;
  if (f.q && !t.customer_email.toLowerCase().includes(f.q.toLowerCase())) return false;
  return inPeriod(t.created_at, f.from, f.to);
}
