// Typed client for every endpoint of the staff API (API.md). `fetch` is injected so the client
// can be tested without a network; errors always become an ApiError.

import {
  course,
  courseList,
  mapping,
  mappingList,
  unmappedList,
  type Course,
  type CourseChanges,
  type CourseInput,
  type Mapping,
  type MappingChanges,
  type MappingInput,
  type UnmappedProduct,
} from './catalog-types';
import { decode, isRecord, type Decoder } from './json';
import { mailPreviewDecoder, mailTemplateListDecoder, type MailPreview, type MailTemplateList } from './mail';
import { settingsDecoder, testResultDecoder, type Settings, type TestChannel, type TestResult } from './settings';
import {
  auditEntry,
  accessAnswer,
  bulkAnswer,
  importReport,
  type AccessAnswer,
  type BulkAnswer,
  type ImportReport,
  customerDetail,
  customerSummary,
  eventDetail,
  eventSummary,
  loginResult,
  page,
  processResult,
  stats,
  timeline,
  treatment,
  userList,
  userView,
  type AuditEntry,
  type CustomerDetail,
  type CustomerSummary,
  type EventDetail,
  type EventSummary,
  type LoginResult,
  type Page,
  type ProcessResult,
  type Stats,
  type TimelineItem,
  type Treatment,
  type UserList,
  type UserView,
} from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    /** Seconds to wait before trying again (from Retry-After), when the server says so. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Per-field messages of a validation_failed answer (`details.fields`). */
  get fieldErrors(): Record<string, string> {
    const fields = isRecord(this.details) ? this.details['fields'] : null;
    const out: Record<string, string> = {};
    if (isRecord(fields)) {
      for (const [k, v] of Object.entries(fields)) if (typeof v === 'string') out[k] = v;
    }
    return out;
  }
}

export type QueryValue = string | number | null | undefined;
export type Query = Record<string, QueryValue>;

/** `?a=1&b=x` with the empty values left out ('' when nothing is left). */
export function queryString(params: Query): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    search.set(k, String(v));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

/** Seconds from a Retry-After header: either a number of seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The file name of a Content-Disposition header (RFC 6266 `filename*` preferred). */
export function filenameFromDisposition(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (star?.[2]) {
    try {
      return sanitizeFilename(decodeURIComponent(star[2].trim().replace(/^"|"$/g, '')), fallback);
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header);
  const value = plain?.[2] ?? plain?.[1];
  return value ? sanitizeFilename(value.replace(/\\(.)/g, '$1').trim(), fallback) : fallback;
}

function sanitizeFilename(name: string, fallback: string): string {
  const base = name.split(/[\\/]/).pop()?.trim() ?? '';
  return base && base !== '.' && base !== '..' ? base : fallback;
}

export interface CustomerQuery {
  q?: string;
  limit?: number;
  cursor?: string | null;
}

export interface EventFilters {
  source?: string;
  outcome?: string;
  q?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string | null;
}

export interface TreatmentFilters {
  q?: string;
  kind?: string;
  status?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string | null;
}

/** The body of POST /api/customers/{id}/access. */
export interface AccessRequest {
  action: 'grant' | 'extend' | 'revoke';
  course_id: number;
  days?: number;
  until?: string;
  lifetime?: boolean;
  reason: string;
}

/** The body of POST /api/courses/{id}/enrollments/bulk. */
export interface BulkRequest {
  action: 'extend' | 'revoke';
  days?: number;
  until?: string;
  reason: string;
}

export interface SignupInput {
  email: string;
  password: string;
  name: string;
  invite_token: string;
}

export interface Download {
  blob: Blob;
  filename: string;
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string | null;
}

export interface UserChange {
  role?: string;
  active?: boolean;
}

interface RequestOptions<T> {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  /** A raw body (a CSV file, as typed or as the file's bytes), sent as text/csv instead of JSON. */
  text?: string | Blob;
  decoder: Decoder<T>;
  /** Sign-up and login go without a token, and their 401 is not a session expiry. */
  anonymous?: boolean;
}

export interface ApiClientOptions {
  fetch: FetchLike;
  getToken: () => string | null;
  /** Called when an authenticated request answers 401 (missing, invalid or expired token). */
  onUnauthorized?: (error: ApiError) => void;
  baseUrl?: string;
}

const path = (strings: TemplateStringsArray, ...ids: string[]): string =>
  strings.reduce((acc, s, i) => acc + s + (i < ids.length ? encodeURIComponent(ids[i] ?? '') : ''), '');

export class ApiClient {
  private readonly base: string;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = opts.baseUrl ?? '';
  }

  // --- auth -----------------------------------------------------------------------------------

  signup(input: SignupInput): Promise<UserView> {
    return this.request('/api/auth/signup', { method: 'POST', body: input, decoder: userView, anonymous: true });
  }

  login(email: string, password: string): Promise<LoginResult> {
    return this.request('/api/auth/login', {
      method: 'POST',
      body: { email, password },
      decoder: loginResult,
      anonymous: true,
    });
  }

  me(): Promise<UserView> {
    return this.request('/api/auth/me', { decoder: userView });
  }

  /** The signed-in user's new password; the answer is a fresh session (every other one ends). */
  changePassword(current_password: string, new_password: string): Promise<LoginResult> {
    return this.request('/api/auth/password', {
      method: 'POST',
      body: { current_password, new_password },
      decoder: loginResult,
    });
  }

  // --- team and audit (administrators) --------------------------------------------------------

  users(): Promise<UserList> {
    return this.request('/api/users', { decoder: userList });
  }

  updateUser(id: string, change: UserChange): Promise<UserView> {
    return this.request(path`/api/users/${id}`, { method: 'PATCH', body: change, decoder: userView });
  }

  /** What is on and how (secrets masked by the server). */
  settings(): Promise<Settings> {
    return this.request('/api/settings', { decoder: settingsDecoder });
  }

  /** Sends a test through a channel now; a failed send is an answer (`ok: false`), not an error. */
  testChannel(channel: TestChannel): Promise<TestResult> {
    return this.request(path`/api/settings/test/${channel}`, { method: 'POST', decoder: testResultDecoder });
  }

  /** The e-mail kinds and whether e-mail is on (administrators). */
  mailTemplates(): Promise<MailTemplateList> {
    return this.request('/api/mail/templates', { decoder: mailTemplateListDecoder });
  }

  /** One kind rendered with sample data, with the address of its sandboxed frame. */
  mailPreview(kind: string): Promise<MailPreview> {
    return this.request(path`/api/mail/templates/${kind}/preview`, { decoder: mailPreviewDecoder });
  }

  audit(filters: AuditFilters): Promise<Page<AuditEntry>> {
    return this.request('/api/audit', { query: { ...filters }, decoder: page(auditEntry) });
  }

  // --- customers ------------------------------------------------------------------------------

  customers(query: CustomerQuery): Promise<Page<CustomerSummary>> {
    return this.request('/api/customers', { query: { ...query }, decoder: page(customerSummary) });
  }

  customer(id: string): Promise<CustomerDetail> {
    return this.request(path`/api/customers/${id}`, { decoder: customerDetail });
  }

  async timeline(id: string): Promise<TimelineItem[]> {
    const answer = await this.request(path`/api/customers/${id}/timeline`, { decoder: timeline });
    return answer.items;
  }

  // --- events ---------------------------------------------------------------------------------

  events(filters: EventFilters): Promise<Page<EventSummary>> {
    return this.request('/api/events', { query: { ...filters }, decoder: page(eventSummary) });
  }

  event(id: string): Promise<EventDetail> {
    return this.request(path`/api/events/${id}`, { decoder: eventDetail });
  }

  replayEvent(id: string): Promise<ProcessResult> {
    return this.request(path`/api/events/${id}/replay`, { method: 'POST', decoder: processResult });
  }

  // --- treatments -----------------------------------------------------------------------------

  treatments(filters: TreatmentFilters): Promise<Page<Treatment>> {
    return this.request('/api/treatments', { query: { ...filters }, decoder: page(treatment) });
  }

  retryTreatment(id: string): Promise<Treatment> {
    return this.request(path`/api/treatments/${id}/retry`, { method: 'POST', decoder: treatment });
  }

  // --- manual access ----------------------------------------------------------------------------

  /** Grant, extend or revoke a customer's access to a course (POST /api/customers/{id}/access). */
  changeAccess(customerId: string, body: AccessRequest): Promise<AccessAnswer> {
    return this.request(path`/api/customers/${customerId}/access`, { method: 'POST', body, decoder: accessAnswer });
  }

  resendWelcome(customerId: string, courseId: string, reason: string | null): Promise<AccessAnswer> {
    const body: Record<string, unknown> = { course_id: Number(courseId) };
    if (reason) body['reason'] = reason;
    return this.request(path`/api/customers/${customerId}/welcome`, { method: 'POST', body, decoder: accessAnswer });
  }

  bulkEnrollments(courseId: string, body: BulkRequest, dryRun: boolean): Promise<BulkAnswer> {
    return this.request(path`/api/courses/${courseId}/enrollments/bulk`, {
      method: 'POST',
      query: { dry_run: String(dryRun) },
      body,
      decoder: bulkAnswer,
    });
  }

  /** Sends a CSV file to the import; a real import with bad lines throws `import_has_errors` (details: the report). */
  importAccess(csv: string | Blob, dryRun: boolean): Promise<ImportReport> {
    return this.request('/api/imports/access', {
      method: 'POST',
      query: { dry_run: String(dryRun) },
      text: csv,
      decoder: importReport,
    });
  }

  // --- reports and stats ----------------------------------------------------------------------

  customersCsv(q: string): Promise<Download> {
    return this.download('/api/reports/customers.csv', { q }, 'clientes.csv');
  }

  treatmentsCsv(filters: TreatmentFilters): Promise<Download> {
    const { limit: _limit, cursor: _cursor, ...rest } = filters;
    return this.download('/api/reports/treatments.csv', { ...rest }, 'tratativas.csv');
  }

  ordersCsv(filters: { q?: string; source?: string; status?: string; from?: string; to?: string }): Promise<Download> {
    return this.download('/api/reports/orders.csv', { ...filters }, 'pedidos.csv');
  }

  stats(): Promise<Stats> {
    return this.request('/api/stats', { decoder: stats });
  }

  // --- catalog ----------------------------------------------------------------------------------

  async courses(): Promise<Course[]> {
    return (await this.request('/api/courses', { decoder: courseList })).items;
  }

  createCourse(input: CourseInput): Promise<Course> {
    return this.request('/api/courses', { method: 'POST', body: input, decoder: course });
  }

  updateCourse(id: string, changes: CourseChanges): Promise<Course> {
    return this.request(path`/api/courses/${id}`, { method: 'PATCH', body: changes, decoder: course });
  }

  async mappings(): Promise<Mapping[]> {
    return (await this.request('/api/products', { decoder: mappingList })).items;
  }

  async unmappedProducts(): Promise<UnmappedProduct[]> {
    return (await this.request('/api/products', { query: { unmapped: 'true' }, decoder: unmappedList })).items;
  }

  createMapping(input: MappingInput): Promise<Mapping> {
    return this.request('/api/products', { method: 'POST', body: input, decoder: mapping });
  }

  updateMapping(id: string, changes: MappingChanges): Promise<Mapping> {
    return this.request(path`/api/products/${id}`, { method: 'PATCH', body: changes, decoder: mapping });
  }

  deleteMapping(id: string): Promise<void> {
    return this.request(path`/api/products/${id}`, { method: 'DELETE', decoder: () => undefined });
  }

  /** Opens GET /api/stream; the caller reads the body (see stream.ts). */
  async openStream(signal: AbortSignal): Promise<Response> {
    const res = await this.send('/api/stream', { headers: this.headers(false, 'text/event-stream'), signal });
    if (!res.ok) throw await this.fail(res, false);
    if (!res.body) throw new ApiError(0, 'no_stream', 'O servidor não abriu o fluxo ao vivo.');
    return res;
  }

  // --- plumbing -------------------------------------------------------------------------------

  private async download(url: string, query: Query, fallback: string): Promise<Download> {
    const res = await this.send(url + queryString(query), { headers: this.headers(false, 'text/csv') });
    if (!res.ok) throw await this.fail(res, false);
    const blob = await res.blob();
    return { blob, filename: filenameFromDisposition(res.headers.get('Content-Disposition'), fallback) };
  }

  private async request<T>(url: string, opts: RequestOptions<T>): Promise<T> {
    const anonymous = opts.anonymous ?? false;
    const headers = this.headers(anonymous, 'application/json', opts.body !== undefined);
    if (opts.text !== undefined) headers['Content-Type'] = 'text/csv; charset=utf-8';
    const init: RequestInit = { method: opts.method ?? 'GET', headers };
    if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
    else if (opts.text !== undefined) init.body = opts.text;
    const res = await this.send(url + queryString(opts.query ?? {}), init);
    if (!res.ok) throw await this.fail(res, anonymous);
    if (res.status === 204) return decode(opts.decoder, null);
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new ApiError(res.status, 'invalid_response', 'O servidor respondeu algo que não é JSON.');
    }
    try {
      return decode(opts.decoder, json);
    } catch (e) {
      throw new ApiError(res.status, 'invalid_response', e instanceof Error ? e.message : String(e));
    }
  }

  private headers(anonymous: boolean, accept: string, json = false): Record<string, string> {
    const headers: Record<string, string> = { Accept: accept };
    if (json) headers['Content-Type'] = 'application/json';
    const token = anonymous ? null : this.opts.getToken();
    if (token) headers['Authorization'] = `Bearer ${token}`;
    return headers;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.opts.fetch(this.base + url, init);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network_error', 'Sem conexão com o servidor.');
    }
  }

  /** Turns an error answer into an ApiError (and reports a lost session). */
  private async fail(res: Response, anonymous: boolean): Promise<ApiError> {
    const error = await errorFromResponse(res);
    if (res.status === 401 && !anonymous) this.opts.onUnauthorized?.(error);
    return error;
  }
}

/** `{"error": {code, message, details}}` → ApiError; anything else gets a generic code. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: keep the generic error below
  }
  const err = isRecord(body) ? body['error'] : null;
  if (isRecord(err) && typeof err['code'] === 'string') {
    const message = typeof err['message'] === 'string' ? err['message'] : err['code'];
    return new ApiError(res.status, err['code'], message, err['details'] ?? null, retryAfter);
  }
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}`, null, retryAfter);
}
