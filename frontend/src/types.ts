// The shapes of the staff API as the app sees them, derived from the types generated from openapi.yaml
// (api-types.gen.ts), and their runtime decoders. Enumerations are typed as plain strings: a value the app
// does not know yet is shown as-is instead of breaking a whole screen (labels live in format.ts).

import {
  array,
  bool,
  DecodeError,
  extend,
  nullable,
  num,
  numberMap,
  object,
  str,
  stringMap,
  unknownValue,
  type Decoder,
} from './json';
import type { components } from './api-types.gen';

/** Outcomes of recorded events (the filter); `rate_limited` exists only in the aggregate counters. */
export const OUTCOMES = [
  'processed',
  'duplicate',
  'ignored',
  'invalid_json',
  'unauthorized',
  'payload_too_large',
  'unprocessable',
  'unknown_source',
  'request_timeout',
  'error',
] as const;
export const SOURCES = ['hashtag', 'hotmart', 'kiwify', 'generic', 'eduzz', 'monetizze'] as const satisfies readonly Schemas['Source'][];
// …and every source of the contract is listed (a source added to openapi.yaml fails `tsc` here).
const allSources: Exclude<Schemas['Source'], (typeof SOURCES)[number]> extends never ? true : never = true;
void allSources;
export const TREATMENT_KINDS = [
  'grant_access',
  'welcome_message',
  'refused_message',
  'payment_pending_message',
  'payment_expired_message',
  'revoke_access',
  'refund_message',
  'extend_access',
  'canceled_message',
  'access_reminder_message',
] as const;
/** Statuses accepted by the treatments filter; "failed" = pending with a last_error. */
export const TREATMENT_FILTER_STATUSES = ['pending', 'running', 'done', 'failed', 'dead'] as const;

/** The API's schemas, generated from openapi.yaml (`npm run gen:types`). */
type Schemas = components['schemas'];

/** Fields holding an id: int64 in the contract, strings in the app (the decoders convert them). */
type IdKey = 'id' | 'course_id' | 'customer_id' | 'event_id' | 'order_id' | 'duplicate_of' | 'replay_of';

type Field<K, V> = V extends null
  ? null
  : K extends IdKey
    ? string
    : V extends string
      ? string
      : V extends readonly (infer E)[]
        ? Decoded<E>[]
        : V extends object
          ? Decoded<V>
          : V;

/**
 * What a decoder makes of an API schema: every field present (optional → `null`), ids as strings, and
 * enumerations widened to `string` (a value the app does not know yet is shown as-is). The types below are
 * derived from the generated ones, so a field added, removed or retyped in openapi.yaml fails `tsc`.
 */
export type Decoded<T> = { -readonly [K in keyof T]-?: Field<K, Exclude<T[K], undefined>> };

export type UserView = Decoded<Schemas['UserView']>;
export type LoginResult = Decoded<Schemas['TokenResponse']>;
export type EnrollmentSummary = Decoded<Schemas['AccessBadge']>;
export type CustomerSummary = Decoded<Schemas['CustomerSummary']>;
export type Customer = Decoded<Schemas['CustomerView']>;
export type Enrollment = Decoded<Schemas['EnrollmentView']>;
export type Order = Decoded<Schemas['OrderView']>;
export type CustomerDetail = Decoded<Schemas['CustomerDetail']>;
export type EventSummary = Decoded<Schemas['EventSummary']>;
export type Treatment = Decoded<Schemas['TreatmentView']>;
/** The kept headers are a free-form object in the contract; the app shows them as strings. */
export type EventDetail = Omit<Decoded<Schemas['EventDetail']>, 'headers'> & { headers: Record<string, string> };
export type ProcessResult = Decoded<Schemas['WebhookAnswer']>;
export type Actor = Decoded<Schemas['ActorView']>;
export type AccessAnswer = Decoded<Schemas['AccessAnswer']>;
export type BulkAnswer = Decoded<Schemas['BulkAnswer']>;
export type ImportReport = Decoded<Schemas['ImportReport']>;
export type ImportLineError = Decoded<Schemas['LineError']>;
export type ImportPreviewLine = Decoded<Schemas['PreviewLine']>;
export type DailyStat = Decoded<Schemas['Day']>;
export type Stats = Decoded<Schemas['Stats']>;
export type UserList = Decoded<Schemas['UserList']>;
export type AuditActor = Decoded<Schemas['AuditActor']>;
export type AuditTarget = Decoded<Schemas['AuditTargetView']>;
/** before / after / details are free-form objects in the contract; the app reads them as JSON values. */
export type AuditEntry = Omit<Decoded<Schemas['AuditEntryView']>, 'before' | 'after' | 'details'> & {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  details: Record<string, unknown>;
};
export type Role = Schemas['Role'];
export type AuditActionCode = Schemas['AuditAction'];
export type AuditTargetCode = Schemas['AuditTarget'];
/** The roles, in the order the app offers them. */
export const ROLES = ['admin', 'suporte'] as const satisfies readonly Role[];

/** A keyset page; `Page_*` in the contract. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** One timeline entry (`TimelineItem` in the contract), kept with its literal `type` to narrow on. */
export type TimelineItem =
  | { type: 'event'; at: string; event: EventSummary }
  | { type: 'treatment'; at: string; treatment: Treatment };

// --- decoders -------------------------------------------------------------------------------

/** An id is a string in the contract; numeric ids are accepted and turned into strings. */
const id: Decoder<string> = (v, path) => (typeof v === 'number' ? String(v) : str(v, path));
const optStr = nullable(str);
const optId = nullable(id);
const optNum = nullable(num);

export const userView = object<UserView>({
  id,
  email: str,
  name: str,
  role: str,
  active: bool,
  created_at: str,
  last_login_at: optStr,
});

export const loginResult = object<LoginResult>({
  access_token: str,
  token_type: str,
  expires_in: num,
  user: userView,
});

const enrollmentSummary = object<EnrollmentSummary>({
  course_id: id,
  course_name: str,
  status: str,
  expires_at: optStr,
});

export const customerSummary = object<CustomerSummary>({
  id,
  email: str,
  name: optStr,
  document: optStr,
  phone: optStr,
  created_at: str,
  last_activity_at: str,
  access: str,
  enrollments: array(enrollmentSummary),
});

export function page<T>(item: Decoder<T>): Decoder<Page<T>> {
  return object<Page<T>>({ items: array(item), next_cursor: optStr });
}

const customer = object<Customer>({
  id,
  email: str,
  name: optStr,
  document: optStr,
  phone: optStr,
  created_at: str,
  updated_at: str,
  last_activity_at: str,
});

export const enrollment = object<Enrollment>({
  id,
  course_id: id,
  course_name: str,
  status: str,
  granted_at: optStr,
  revoked_at: optStr,
  expires_at: optStr,
  order_id: optId,
});

const order = object<Order>({
  id,
  source: str,
  external_id: str,
  status: str,
  amount_cents: optNum,
  currency: optStr,
  payment_method: optStr,
  installments: optNum,
  course_name: optStr,
  created_at: str,
  updated_at: str,
  approved_at: optStr,
  coupon: optStr,
  offer_code: optStr,
  access_until: optStr,
});

export const customerDetail = object<CustomerDetail>({
  customer,
  enrollments: array(enrollment),
  orders: array(order),
});

export const eventSummary = object<EventSummary>({
  id,
  source: str,
  received_at: str,
  outcome: str,
  error: optStr,
  note: optStr,
  event_type: optStr,
  kind: optStr,
  dedup_key: optStr,
  duplicate_of: optId,
  replay_of: optId,
  customer_id: optId,
  customer_email: optStr,
  order_id: optId,
  latency_ms: optNum,
});

export const treatment = object<Treatment>({
  id,
  kind: str,
  status: str,
  attempts: num,
  run_at: str,
  output: optStr,
  last_error: optStr,
  reason: optStr,
  event_id: optId,
  customer_id: id,
  customer_email: str,
  course_id: optId,
  course_name: optStr,
  created_at: str,
  updated_at: str,
  done_at: optStr,
  actor: nullable(object<Actor>({ id, name: str })),
  staff_reason: optStr,
});

export const eventDetail: Decoder<EventDetail> = extend(eventSummary, {
  headers: (v, p) => (v === null || v === undefined ? {} : stringMap()(v, p)),
  raw_body: (v, p) => (v === null || v === undefined ? '' : str(v, p)),
  body_json: unknownValue,
  truncated: (v, p) => (v === undefined ? false : bool(v, p)),
  body_size: (v, p) => (v === undefined ? 0 : num(v, p)),
  remote_addr: optStr,
  raw_body_purged_at: (v, p) => (v === undefined ? null : optStr(v, p)),
  treatments: (v, p) => (v === undefined ? [] : array(treatment)(v, p)),
});

/** One timeline entry, or `null` for an entry type this app does not know (it is skipped). */
export const timelineItem: Decoder<TimelineItem | null> = (v, path) => {
  const head = object({ type: str, at: str })(v, path);
  if (head.type === 'event') {
    return { type: 'event', at: head.at, event: object({ event: eventSummary })(v, path).event };
  }
  if (head.type === 'treatment') {
    return { type: 'treatment', at: head.at, treatment: object({ treatment })(v, path).treatment };
  }
  return null;
};

export const timeline: Decoder<{ items: TimelineItem[] }> = (v, path) => {
  const raw = object({ items: array(timelineItem) })(v, path);
  return { items: raw.items.filter((item): item is TimelineItem => item !== null) };
};

export const processResult = object<ProcessResult>({
  event_id: id,
  outcome: str,
  customer_id: optId,
  duplicate_of: optId,
  note: optStr,
  treatments: array(object({ id, kind: str, status: str })),
});

const dailyStat = object<DailyStat>({ day: str, events: num, processed: num, rejected: num, treatments: num });

export const stats = object<Stats>({
  today: object({
    events: num,
    processed: num,
    rejected: num,
    treatments_done: num,
    treatments_pending: num,
    treatments_dead: num,
    new_customers: num,
  }),
  totals: object({ customers: num, active_enrollments: num, events: num, treatments: num, unmapped_products: num }),
  events_by_outcome: numberMap(),
  treatments_by_kind: numberMap(),
  treatments_by_status: numberMap(),
  daily: array(dailyStat),
});

export const userList = object<UserList>({ items: array(userView) });

/** A JSON object (or null / absent → null). */
const optJsonObject: Decoder<Record<string, unknown> | null> = (v, path) => {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(path, 'object');
  return v as Record<string, unknown>;
};

export const auditEntry = object<AuditEntry>({
  id,
  actor: nullable(object<AuditActor>({ id, name: str, email: str })),
  action: str,
  target: object<AuditTarget>({ type: str, id: optId, label: optStr }),
  reason: optStr,
  before: optJsonObject,
  after: optJsonObject,
  details: (v, p) => optJsonObject(v, p) ?? {},
  created_at: str,
});

export const accessAnswer = object<AccessAnswer>({ enrollment, treatments: array(treatment) });

export const bulkAnswer = object<BulkAnswer>({
  dry_run: bool,
  action: str,
  course_id: id,
  course_name: str,
  active: num,
  changed: num,
  skipped: num,
});

const importLineError = object<ImportLineError>({ line: num, code: str, value: optStr });

export const importReport = object<ImportReport>({
  dry_run: bool,
  imported: bool,
  lines: num,
  counts: object({
    new_customers: num,
    new_accesses: num,
    extended: num,
    already_active: num,
    errors: num,
  }),
  errors: array(importLineError),
  preview: array(
    object<ImportPreviewLine>({
      line: num,
      email: str,
      name: optStr,
      course_id: id,
      course_name: str,
      expires_at: optStr,
      new_customer: bool,
      result: str,
    }),
  ),
});
