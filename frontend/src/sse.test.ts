import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, SseParser } from './sse';

test('parses event and data frames', () => {
  const p = new SseParser();
  const out = p.push('event: webhook_event\ndata: {"id":"1"}\n\nevent: treatment\ndata: {"id":"2"}\n\n');
  assert.deepEqual(out, [
    { event: 'webhook_event', data: '{"id":"1"}', id: null },
    { event: 'treatment', data: '{"id":"2"}', id: null },
  ]);
});

test('frames split anywhere across chunks, including CR LF', () => {
  const text = 'event: treatment\r\ndata: {"a":\r\ndata: 1}\r\n\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const p = new SseParser();
    const out = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
    assert.deepEqual(out, [{ event: 'treatment', data: '{"a":\n1}', id: null }], `cut at ${cut}`);
  }
});

test('one character at a time', () => {
  const p = new SseParser();
  const out = [];
  for (const ch of 'data: x\r\rdata:y\n\n') out.push(...p.push(ch));
  assert.deepEqual(
    out.map((m) => m.data),
    ['x', 'y'],
  );
});

test('comments (pings) and unknown fields are ignored; no data means no message', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': ping\n\n'), []);
  assert.deepEqual(p.push('event: x\n\n'), []);
  assert.deepEqual(p.push('foo: bar\ndata\n\n'), [{ event: 'message', data: '', id: null }]);
});

test('id and retry fields', () => {
  const p = new SseParser();
  const [m] = p.push('id: 42\nretry: 5000\ndata:  two spaces\n\n');
  assert.equal(m?.id, '42');
  assert.equal(m?.data, ' two spaces');
  assert.equal(p.retry, 5000);
  const [n] = p.push('data: next\n\n');
  assert.equal(n?.id, '42', 'the last id is kept');
});

test('backoff grows exponentially, is capped and jittered', () => {
  assert.equal(
    backoffDelay(0, 1000, 30000, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(0, 1000, 30000, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(3, 1000, 30000, () => 1),
    8000,
  );
  assert.equal(
    backoffDelay(10, 1000, 30000, () => 1),
    30000,
  );
  assert.equal(
    backoffDelay(10, 1000, 30000, () => 0),
    15000,
  );
});
