// The shapes of the staff API (see API.md) and their runtime decoders.
// Enumerations are typed as plain strings: a value the app does not know yet is shown as-is
// instead of breaking a whole screen (labels live in format.ts).

import {
  array, bool, extend, nullable, num, numberMap, object, str, stringMap, unknownValue, type Decoder,
} from './json';

/** Outcomes of recorded events (the filter); `rate_limited` exists only in the aggregate counters. */
export const OUTCOMES = [
  'processed', 'duplicate', 'ignored', 'invalid_json', 'unauthorized', 'payload_too_large', 'unprocessable',
  'unknown_source', 'request_timeout', 'error',
] as const;
export const SOURCES = ['hashtag', 'hotmart', 'kiwify', 'generic'] as const;
export const TREATMENT_KINDS = [
  'grant_access', 'welcome_message', 'refused_message', 'payment_pending_message', 'payment_expired_message',
  'revoke_access', 'refund_message', 'extend_access', 'canceled_message',
] as const;
/** Statuses accepted by the treatments filter; "failed" = pending with a last_error. */
export const TREATMENT_FILTER_STATUSES = ['pending', 'running', 'done', 'failed', 'dead'] as const;

export interface UserView {
  id: string;
  email: string;
  name: string;
  created_at: string;
  last_login_at: string | null;
}

export interface LoginResult {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: UserView;
}

export interface EnrollmentSummary {
  course_id: string;
  course_name: string;
  status: string;
  expires_at: string | null;
}

export interface CustomerSummary {
  id: string;
  email: string;
  name: string | null;
  document: string | null;
  phone: string | null;
  created_at: string;
  last_activity_at: string | null;
  access: string;
  enrollments: EnrollmentSummary[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  document: string | null;
  phone: string | null;
  created_at: string;
  updated_at: string;
  last_activity_at: string | null;
}

export interface Enrollment {
  id: string;
  course_id: string;
  course_name: string;
  status: string;
  granted_at: string | null;
  revoked_at: string | null;
  expires_at: string | null;
  order_id: string | null;
}

export interface Order {
  id: string;
  source: string;
  external_id: string;
  status: string;
  amount_cents: number | null;
  currency: string | null;
  payment_method: string | null;
  installments: number | null;
  course_name: string | null;
  created_at: string;
  updated_at: string;
}

export interface CustomerDetail {
  customer: Customer;
  enrollments: Enrollment[];
  orders: Order[];
}

export interface EventSummary {
  id: string;
  source: string;
  received_at: string;
  outcome: string;
  error: string | null;
  /** Why less than usual happened (e.g. an approval after a refund); optional in the contract. */
  note: string | null;
  event_type: string | null;
  kind: string | null;
  dedup_key: string | null;
  duplicate_of: string | null;
  replay_of: string | null;
  customer_id: string | null;
  customer_email: string | null;
  order_id: string | null;
  latency_ms: number | null;
}

export interface Treatment {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  run_at: string;
  output: string | null;
  last_error: string | null;
  reason: string | null;
  event_id: string | null;
  customer_id: string;
  customer_email: string;
  course_id: string | null;
  course_name: string | null;
  created_at: string;
  updated_at: string;
  done_at: string | null;
}

export interface EventDetail extends EventSummary {
  headers: Record<string, string>;
  raw_body: string;
  body_json: unknown;
  truncated: boolean;
  body_size: number;
  remote_addr: string | null;
  /** When the retention policy removed the raw body; null while it is kept. */
  raw_body_purged_at: string | null;
  treatments: Treatment[];
}

export type TimelineItem =
  | { type: 'event'; at: string; event: EventSummary }
  | { type: 'treatment'; at: string; treatment: Treatment };

export interface ProcessResult {
  event_id: string;
  outcome: string;
  customer_id: string | null;
  treatments: { id: string; kind: string; status: string }[];
}

export interface DailyStat {
  day: string;
  events: number;
  processed: number;
  rejected: number;
  treatments: number;
}

export interface Stats {
  today: {
    events: number;
    processed: number;
    rejected: number;
    treatments_done: number;
    treatments_pending: number;
    treatments_dead: number;
    new_customers: number;
  };
  totals: { customers: number; active_enrollments: number; events: number; treatments: number };
  events_by_outcome: Record<string, number>;
  treatments_by_kind: Record<string, number>;
  treatments_by_status: Record<string, number>;
  daily: DailyStat[];
}

// --- decoders -------------------------------------------------------------------------------

/** An id is a string in the contract; numeric ids are accepted and turned into strings. */
const id: Decoder<string> = (v, path) => (typeof v === 'number' ? String(v) : str(v, path));
const optStr = nullable(str);
const optId = nullable(id);
const optNum = nullable(num);

export const userView = object<UserView>({
  id, email: str, name: str, created_at: str, last_login_at: optStr,
});

export const loginResult = object<LoginResult>({
  access_token: str, token_type: str, expires_in: num, user: userView,
});

const enrollmentSummary = object<EnrollmentSummary>({
  course_id: id, course_name: str, status: str, expires_at: optStr,
});

export const customerSummary = object<CustomerSummary>({
  id, email: str, name: optStr, document: optStr, phone: optStr, created_at: str,
  last_activity_at: optStr, access: str, enrollments: array(enrollmentSummary),
});

export function page<T>(item: Decoder<T>): Decoder<Page<T>> {
  return object<Page<T>>({ items: array(item), next_cursor: optStr });
}

const customer = object<Customer>({
  id, email: str, name: optStr, document: optStr, phone: optStr, created_at: str, updated_at: str,
  last_activity_at: optStr,
});

const enrollment = object<Enrollment>({
  id, course_id: id, course_name: str, status: str, granted_at: optStr, revoked_at: optStr,
  expires_at: optStr, order_id: optId,
});

const order = object<Order>({
  id, source: str, external_id: str, status: str, amount_cents: optNum, currency: optStr,
  payment_method: optStr, installments: optNum, course_name: optStr, created_at: str, updated_at: str,
});

export const customerDetail = object<CustomerDetail>({
  customer, enrollments: array(enrollment), orders: array(order),
});

export const eventSummary = object<EventSummary>({
  id, source: str, received_at: str, outcome: str, error: optStr, note: optStr, event_type: optStr, kind: optStr,
  dedup_key: optStr, duplicate_of: optId, replay_of: optId, customer_id: optId, customer_email: optStr,
  order_id: optId, latency_ms: optNum,
});

export const treatment = object<Treatment>({
  id, kind: str, status: str, attempts: num, run_at: str, output: optStr, last_error: optStr,
  reason: optStr, event_id: optId, customer_id: id, customer_email: str, course_id: optId,
  course_name: optStr, created_at: str, updated_at: str, done_at: optStr,
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
  event_id: id, outcome: str, customer_id: optId,
  treatments: array(object({ id, kind: str, status: str })),
});

const dailyStat = object<DailyStat>({ day: str, events: num, processed: num, rejected: num, treatments: num });

export const stats = object<Stats>({
  today: object({
    events: num, processed: num, rejected: num, treatments_done: num, treatments_pending: num,
    treatments_dead: num, new_customers: num,
  }),
  totals: object({ customers: num, active_enrollments: num, events: num, treatments: num }),
  events_by_outcome: numberMap(),
  treatments_by_kind: numberMap(),
  treatments_by_status: numberMap(),
  daily: array(dailyStat),
});
