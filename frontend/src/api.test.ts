import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, ApiError, filenameFromDisposition, parseRetryAfter, queryString, type FetchLike } from './api';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(respond: (url: string, init?: RequestInit) => Response): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, init });
      return respond(url, init);
    },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

const header = (init: RequestInit | undefined, name: string): string | undefined =>
  (init?.headers as Record<string, string> | undefined)?.[name];

const treatmentJson = {
  id: 't1',
  kind: 'grant_access',
  status: 'done',
  attempts: 1,
  run_at: '2026-11-23T10:00:00Z',
  output: 'Liberar acesso do e-mail: fulano@email.com',
  last_error: null,
  reason: null,
  event_id: 'e1',
  customer_id: 'c1',
  customer_email: 'fulano@email.com',
  course_id: null,
  course_name: null,
  created_at: '2026-11-23T10:00:00Z',
  updated_at: '2026-11-23T10:00:01Z',
  done_at: '2026-11-23T10:00:01Z',
};

const eventJson = {
  id: 'e1',
  source: 'hashtag',
  received_at: '2026-11-23T10:00:00Z',
  outcome: 'processed',
  error: null,
  event_type: 'aprovado',
  kind: null,
  dedup_key: 'k',
  duplicate_of: null,
  replay_of: null,
  customer_id: 'c1',
  customer_email: 'fulano@email.com',
  order_id: 'o1',
  latency_ms: 12,
};

test('sends the bearer token and decodes a page of customers', async () => {
  const { fetch, calls } = fakeFetch(() =>
    json(200, {
      items: [
        {
          id: 'c1',
          email: 'joao@x.com',
          name: 'João Ávila',
          document: null,
          phone: null,
          created_at: '2026-11-23T10:00:00Z',
          last_activity_at: '2026-11-23T10:00:00Z',
          access: 'revoked',
          enrollments: [{ course_id: 3, course_name: 'Curso', status: 'revoked', expires_at: null }],
        },
      ],
      next_cursor: 'abc',
    }),
  );
  const api = new ApiClient({ fetch, getToken: () => 'T0K' });
  const page = await api.customers({ q: 'joao avi', limit: 20, cursor: null });
  assert.equal(calls[0]?.url, '/api/customers?q=joao+avi&limit=20');
  assert.equal(header(calls[0]?.init, 'Authorization'), 'Bearer T0K');
  assert.equal(page.items[0]?.name, 'João Ávila');
  assert.equal(page.items[0]?.enrollments[0]?.course_id, '3', 'numeric ids become strings');
  assert.equal(page.next_cursor, 'abc');
});

test('login posts JSON without a token, and its 401 is not a session expiry', async () => {
  let expired = 0;
  const { fetch, calls } = fakeFetch(() =>
    json(401, { error: { code: 'invalid_credentials', message: 'Wrong e-mail or password.', details: null } }),
  );
  const api = new ApiClient({ fetch, getToken: () => 'old', onUnauthorized: () => expired++ });
  await assert.rejects(
    api.login('a@b.c', 'x'),
    (e: unknown) => e instanceof ApiError && e.status === 401 && e.code === 'invalid_credentials',
  );
  assert.equal(header(calls[0]?.init, 'Authorization'), undefined);
  assert.equal(header(calls[0]?.init, 'Content-Type'), 'application/json');
  assert.equal(calls[0]?.init?.body, JSON.stringify({ email: 'a@b.c', password: 'x' }));
  assert.equal(expired, 0);
});

test('a 401 on an authenticated call reports the lost session', async () => {
  let expired: ApiError | null = null;
  const { fetch } = fakeFetch(() => json(401, { error: { code: 'token_expired', message: 'expired', details: null } }));
  const api = new ApiClient({ fetch, getToken: () => 'old', onUnauthorized: (e) => (expired = e) });
  await assert.rejects(api.stats(), ApiError);
  assert.equal((expired as ApiError | null)?.code, 'token_expired');
});

test('errors: code, message, details, Retry-After; non-JSON; network', async () => {
  const validation = fakeFetch(() =>
    json(422, {
      error: {
        code: 'validation_failed',
        message: 'Some fields are invalid.',
        details: { fields: { password: 'must have at least 8 characters', email: 3 } },
      },
    }),
  );
  const err = await new ApiClient({ fetch: validation.fetch, getToken: () => null })
    .signup({ email: 'x', password: 'y', name: 'z', invite_token: 't' })
    .catch((e: unknown) => e);
  assert.ok(err instanceof ApiError);
  assert.deepEqual(err.fieldErrors, { password: 'must have at least 8 characters' });

  const limited = fakeFetch(() =>
    json(429, { error: { code: 'too_many_requests', message: 'Slow down', details: null } }, { 'Retry-After': '120' }),
  );
  const e429 = await new ApiClient({ fetch: limited.fetch, getToken: () => null })
    .login('a', 'b')
    .catch((e: unknown) => e);
  assert.ok(e429 instanceof ApiError);
  assert.equal(e429.retryAfter, 120);

  const html = fakeFetch(() => new Response('<h1>Bad gateway</h1>', { status: 502 }));
  const e502 = await new ApiClient({ fetch: html.fetch, getToken: () => null }).stats().catch((e: unknown) => e);
  assert.ok(e502 instanceof ApiError);
  assert.equal(e502.code, 'http_502');

  const offline: FetchLike = async () => {
    throw new TypeError('Failed to fetch');
  };
  const eNet = await new ApiClient({ fetch: offline, getToken: () => null }).stats().catch((e: unknown) => e);
  assert.ok(eNet instanceof ApiError);
  assert.equal(eNet.code, 'network_error');
  assert.equal(eNet.status, 0);
});

test('an answer that does not match the contract is an invalid_response error', async () => {
  const { fetch } = fakeFetch(() => json(200, { items: [{ id: 1 }], next_cursor: null }));
  const e = await new ApiClient({ fetch, getToken: () => 't' }).events({}).catch((x: unknown) => x);
  assert.ok(e instanceof ApiError);
  assert.equal(e.code, 'invalid_response');
  assert.match(e.message, /\$\.items\[0\]\.source/);
});

test('events, event detail, replay, treatments, retry, timeline: URLs and decoding', async () => {
  const { fetch, calls } = fakeFetch((url, init) => {
    if (url.startsWith('/api/events?')) return json(200, { items: [eventJson], next_cursor: null });
    if (url === '/api/events/e%2F1') {
      return json(200, {
        ...eventJson,
        headers: { 'x-webhook-token': '***' },
        raw_body: '{"nome":"x"}',
        body_json: { nome: 'x' },
        truncated: false,
        body_size: 12,
        remote_addr: '127.0.0.1',
        treatments: [treatmentJson],
      });
    }
    if (url === '/api/events/e1/replay' && init?.method === 'POST') {
      return json(200, { event_id: 'e2', outcome: 'duplicate', customer_id: 'c1', treatments: [] });
    }
    if (url.startsWith('/api/treatments?')) return json(200, { items: [treatmentJson], next_cursor: 'n' });
    if (url === '/api/treatments/t1/retry') return json(200, { ...treatmentJson, status: 'pending' });
    if (url === '/api/customers/c1/timeline') {
      return json(200, {
        items: [
          { type: 'event', at: eventJson.received_at, event: eventJson },
          { type: 'treatment', at: treatmentJson.created_at, treatment: treatmentJson },
          { type: 'note', at: 'x' },
        ],
      });
    }
    return json(404, { error: { code: 'not_found', message: 'nope', details: null } });
  });
  const api = new ApiClient({ fetch, getToken: () => 't' });
  const events = await api.events({
    source: 'hashtag',
    outcome: '',
    q: 'joao',
    from: '2026-11-01',
    limit: 50,
    cursor: null,
  });
  assert.equal(calls.at(-1)?.url, '/api/events?source=hashtag&q=joao&from=2026-11-01&limit=50');
  assert.equal(events.items[0]?.latency_ms, 12);
  const detail = await api.event('e/1');
  assert.deepEqual(detail.body_json, { nome: 'x' });
  assert.equal(detail.treatments[0]?.output, 'Liberar acesso do e-mail: fulano@email.com');
  const replay = await api.replayEvent('e1');
  assert.equal(replay.outcome, 'duplicate');
  const page = await api.treatments({ status: 'failed', kind: 'grant_access' });
  assert.equal(calls.at(-1)?.url, '/api/treatments?status=failed&kind=grant_access');
  assert.equal(page.next_cursor, 'n');
  assert.equal((await api.retryTreatment('t1')).status, 'pending');
  const timeline = await api.timeline('c1');
  assert.deepEqual(
    timeline.map((i) => i.type),
    ['event', 'treatment'],
    'unknown item types are skipped',
  );
  await assert.rejects(api.customer('zz'), (e: unknown) => e instanceof ApiError && e.code === 'not_found');
});

test('CSV download: Authorization header, Blob and file name', async () => {
  const { fetch, calls } = fakeFetch(
    () =>
      new Response('email,nome\r\na@b.c,Ana\r\n', {
        status: 200,
        headers: {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': 'attachment; filename="tratativas-2026-11-23.csv"',
        },
      }),
  );
  const api = new ApiClient({ fetch, getToken: () => 'T' });
  const file = await api.treatmentsCsv({ status: 'failed', q: '', limit: 50, cursor: 'x' });
  assert.equal(calls[0]?.url, '/api/reports/treatments.csv?status=failed');
  assert.equal(header(calls[0]?.init, 'Authorization'), 'Bearer T');
  assert.equal(file.filename, 'tratativas-2026-11-23.csv');
  assert.equal(await file.blob.text(), 'email,nome\r\na@b.c,Ana\r\n');
});

test('helpers: query strings, Retry-After, Content-Disposition', () => {
  assert.equal(queryString({ a: '', b: null, c: undefined, d: 0, e: 'x y' }), '?d=0&e=x+y');
  assert.equal(queryString({}), '');
  assert.equal(parseRetryAfter('30'), 30);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter(new Date(61_000).toUTCString(), 0), 61);
  assert.equal(parseRetryAfter('soon'), null);
  assert.equal(filenameFromDisposition('attachment; filename="a.csv"', 'x.csv'), 'a.csv');
  assert.equal(filenameFromDisposition('attachment; filename=b.csv', 'x.csv'), 'b.csv');
  assert.equal(
    filenameFromDisposition('attachment; filename*=UTF-8\'\'relat%C3%B3rio.csv; filename="r.csv"', 'x.csv'),
    'relatório.csv',
  );
  assert.equal(filenameFromDisposition('attachment; filename="../../etc/passwd"', 'x.csv'), 'passwd');
  assert.equal(filenameFromDisposition('attachment', 'x.csv'), 'x.csv');
  assert.equal(filenameFromDisposition(null, 'x.csv'), 'x.csv');
});

const userJson = {
  id: 2,
  email: 'bia@x.com',
  name: 'Bia',
  created_at: '2026-12-01T10:00:00Z',
  last_login_at: null,
  role: 'suporte',
  active: true,
};

test('team, audit and password: methods, bodies, queries and decoding', async () => {
  const { fetch, calls } = fakeFetch((url) => {
    if (url.startsWith('/api/users/')) return json(200, { ...userJson, active: false });
    if (url === '/api/users') return json(200, { items: [userJson] });
    if (url.startsWith('/api/audit'))
      return json(200, {
        items: [
          {
            id: 9,
            actor: { id: 1, name: 'Dona', email: 'dona@x.com' },
            action: 'update_user',
            target: { type: 'user', id: 2, label: 'Bia' },
            reason: null,
            before: { active: true },
            after: { active: false },
            details: {},
            created_at: '2026-12-02T10:00:00Z',
          },
        ],
        next_cursor: '9',
      });
    return json(200, { access_token: 'new', token_type: 'Bearer', expires_in: 60, user: userJson });
  });
  const api = new ApiClient({ fetch, getToken: () => 'tok' });

  const users = await api.users();
  assert.deepEqual(users.items[0], { ...userJson, id: '2' });
  const updated = await api.updateUser('2', { active: false });
  assert.equal(updated.active, false);
  assert.equal(calls[1]?.url, '/api/users/2');
  assert.equal(calls[1]?.init?.method, 'PATCH');
  assert.equal(calls[1]?.init?.body, '{"active":false}');
  assert.equal(header(calls[1]?.init, 'Content-Type'), 'application/json');

  const audit = await api.audit({ actor: '1', action: 'update_user', target_type: '', limit: 50, cursor: null });
  assert.equal(calls[2]?.url, '/api/audit?actor=1&action=update_user&limit=50');
  const entry = audit.items[0];
  assert.equal(entry?.actor?.id, '1');
  assert.deepEqual(entry?.target, { type: 'user', id: '2', label: 'Bia' });
  assert.deepEqual([entry?.before, entry?.after, entry?.details], [{ active: true }, { active: false }, {}]);
  assert.equal(audit.next_cursor, '9');

  const renewed = await api.changePassword('velha-123', 'nova-senha-1');
  assert.equal(renewed.access_token, 'new');
  assert.equal(calls[3]?.init?.method, 'POST');
  assert.equal(calls[3]?.init?.body, '{"current_password":"velha-123","new_password":"nova-senha-1"}');
  assert.equal(header(calls[3]?.init, 'Authorization'), 'Bearer tok');
});

test('a revoked session is reported with its code, so the app can say why it signs out', async () => {
  const seen: string[] = [];
  const { fetch } = fakeFetch(() =>
    json(401, { error: { code: 'session_revoked', message: 'This session was ended', details: null } }),
  );
  const api = new ApiClient({ fetch, getToken: () => 'tok', onUnauthorized: (e) => seen.push(e.code) });
  await assert.rejects(api.users(), (e: unknown) => e instanceof ApiError && e.code === 'session_revoked');
  assert.deepEqual(seen, ['session_revoked']);
});
