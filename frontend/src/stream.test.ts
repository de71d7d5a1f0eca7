import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './api';
import { decodeLiveMessage, LiveStream, type LiveMessage, type LiveStatus } from './stream';

const eventJson = {
  id: 'e9',
  source: 'hashtag',
  received_at: '2026-11-23T10:00:00Z',
  outcome: 'processed',
  error: null,
  event_type: null,
  kind: null,
  dedup_key: null,
  duplicate_of: null,
  replay_of: null,
  customer_id: 'c1',
  customer_email: 'a@b.c',
  order_id: null,
  latency_ms: 3,
};

function sseResponse(chunks: string[], keepOpen = false): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      if (!keepOpen) controller.close();
    },
  });
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
}

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('decodes known messages and ignores the rest', () => {
  assert.equal(
    decodeLiveMessage({ event: 'webhook_event', data: JSON.stringify(eventJson), id: null })?.type,
    'webhook_event',
  );
  assert.equal(decodeLiveMessage({ event: 'webhook_event', data: '{"id":1}', id: null }), null);
  assert.equal(decodeLiveMessage({ event: 'webhook_event', data: 'not json', id: null }), null);
  assert.equal(decodeLiveMessage({ event: 'other', data: '{}', id: null }), null);
});

test('delivers messages split across chunks, and reconnects when the stream ends', async () => {
  const frame = `event: webhook_event\ndata: ${JSON.stringify(eventJson)}\n\n`;
  let opens = 0;
  const stream = new LiveStream({
    minBackoffMs: 1,
    maxBackoffMs: 2,
    open: async () => {
      opens += 1;
      return opens === 1
        ? sseResponse([': ping\n\n', frame.slice(0, 10), frame.slice(10)])
        : sseResponse([frame], true);
    },
  });
  const got: LiveMessage[] = [];
  const statuses: LiveStatus[] = [];
  stream.subscribe((m) => got.push(m));
  stream.onStatus((s) => statuses.push(s));
  stream.start();
  await waitFor(() => got.length === 2);
  stream.stop();
  assert.equal(opens, 2);
  assert.equal(got[0]?.type === 'webhook_event' && got[0].event.id, 'e9');
  assert.deepEqual(statuses, ['stopped', 'connecting', 'live', 'reconnecting', 'live', 'stopped']);
});

test('backs off after failures and stops for good on 401', async () => {
  let opens = 0;
  const stream = new LiveStream({
    minBackoffMs: 1,
    maxBackoffMs: 2,
    open: async () => {
      opens += 1;
      if (opens < 3) throw new ApiError(0, 'network_error', 'offline');
      throw new ApiError(401, 'token_expired', 'expired');
    },
  });
  stream.start();
  await waitFor(() => stream.status === 'stopped' && opens === 3);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(opens, 3);
});

test('a silent connection is dropped after the idle timeout', async () => {
  let opens = 0;
  const stream = new LiveStream({
    minBackoffMs: 1,
    maxBackoffMs: 2,
    idleTimeoutMs: 30,
    open: async (signal) => {
      opens += 1;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          signal.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(body);
    },
  });
  stream.start();
  await waitFor(() => opens >= 2);
  stream.stop();
});
