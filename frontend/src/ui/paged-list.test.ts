import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from '../types';
import { pagedList, type PagedView } from './paged-list';

interface Item {
  id: string;
  v: number;
}

/** A view that writes down what it was told, and the items it shows in order. */
function recordingView(): { view: PagedView<Item>; log: string[]; shown: Item[]; retry: (() => void) | null } {
  const rec = { log: [] as string[], shown: [] as Item[], retry: null as (() => void) | null };
  const view: PagedView<Item> = {
    loading: () => rec.log.push('loading'),
    reset: () => {
      rec.log.push('reset');
      rec.shown.length = 0;
    },
    append: (item, key) => {
      rec.log.push(`append ${key}`);
      rec.shown.push(item);
    },
    prepend: (item, key) => {
      rec.log.push(`prepend ${key}`);
      rec.shown.unshift(item);
    },
    replace: (item, key) => {
      rec.log.push(`replace ${key}`);
      rec.shown = rec.shown.map((s) => (s.id === key ? item : s));
    },
    settled: (count, more) => rec.log.push(`settled ${count} ${more ? 'more' : 'end'}`),
    failed: (error, append, retry) => {
      rec.log.push(`failed ${append ? 'append' : 'first'} ${String(error)}`);
      rec.retry = retry;
    },
  };
  return Object.assign(rec, { view });
}

/** A fetch whose answers the test hands out, in any order. */
function controlledFetch() {
  const calls: { cursor: string | null; resolve: (p: Page<Item>) => void; reject: (e: unknown) => void }[] = [];
  const fetch = (cursor: string | null): Promise<Page<Item>> =>
    new Promise((resolve, reject) => calls.push({ cursor, resolve, reject }));
  return { fetch, calls };
}

const item = (id: string, v = 1): Item => ({ id, v });
const settle = () => new Promise((r) => setImmediate(r));

test('first page, then "Carregar mais" with the cursor; items repeated across pages are shown once', async () => {
  const { fetch, calls } = controlledFetch();
  const rec = recordingView();
  const list = pagedList({ fetch, key: (i) => i.id, view: rec.view, alive: () => true });
  list.reload();
  assert.equal(calls[0]?.cursor, null);
  calls[0]?.resolve({ items: [item('3'), item('2')], next_cursor: 'c1' });
  await settle();
  list.loadMore();
  assert.equal(calls[1]?.cursor, 'c1');
  calls[1]?.resolve({ items: [item('2'), item('1')], next_cursor: null });
  await settle();
  assert.deepEqual(rec.log, [
    'loading',
    'reset',
    'append 3',
    'append 2',
    'settled 2 more',
    'append 1',
    'settled 3 end',
  ]);
  assert.deepEqual(
    rec.shown.map((i) => i.id),
    ['3', '2', '1'],
  );
  assert.equal(list.size, 3);
  list.loadMore();
  assert.equal(calls.length, 2, 'no request past the last page');
});

test('only the latest request renders: an older answer arriving late is dropped', async () => {
  const { fetch, calls } = controlledFetch();
  const rec = recordingView();
  const list = pagedList({ fetch, key: (i) => i.id, view: rec.view, alive: () => true });
  list.reload();
  list.reload();
  calls[1]?.resolve({ items: [item('new')], next_cursor: null });
  await settle();
  calls[0]?.resolve({ items: [item('old')], next_cursor: 'stale' });
  calls[0]?.reject(new Error('ignored'));
  await settle();
  assert.deepEqual(
    rec.shown.map((i) => i.id),
    ['new'],
  );
  assert.ok(!rec.log.some((l) => l.startsWith('failed')));
  list.loadMore();
  assert.equal(calls.length, 2, 'the stale cursor was not kept');
});

test('a first-page failure offers a retry that reloads; a "Carregar mais" failure keeps the list', async () => {
  const { fetch, calls } = controlledFetch();
  const rec = recordingView();
  const list = pagedList({ fetch, key: (i) => i.id, view: rec.view, alive: () => true });
  list.reload();
  calls[0]?.reject('offline');
  await settle();
  assert.deepEqual(rec.log, ['loading', 'failed first offline']);
  rec.retry?.();
  assert.equal(calls[1]?.cursor, null);
  calls[1]?.resolve({ items: [item('a')], next_cursor: 'c' });
  await settle();
  list.loadMore();
  calls[2]?.reject('timeout');
  await settle();
  assert.equal(rec.log.at(-1), 'failed append timeout');
  assert.deepEqual(
    rec.shown.map((i) => i.id),
    ['a'],
  );
});

test('live items: prepended once, newer versions replace shown ones only', async () => {
  const { fetch, calls } = controlledFetch();
  const rec = recordingView();
  const list = pagedList({ fetch, key: (i) => i.id, view: rec.view, alive: () => true });
  list.reload();
  calls[0]?.resolve({ items: [item('1')], next_cursor: null });
  await settle();
  assert.equal(list.prepend(item('2')), true);
  assert.equal(list.prepend(item('2')), false);
  assert.equal(list.prepend(item('1')), false);
  assert.equal(list.replace(item('1', 7)), true);
  assert.equal(list.replace(item('9')), false);
  assert.deepEqual(rec.shown, [item('2'), item('1', 7)]);
  assert.ok(list.has('2') && !list.has('9'));
});

test('answers arriving after the screen is gone render nothing', async () => {
  const { fetch, calls } = controlledFetch();
  const rec = recordingView();
  let alive = true;
  const list = pagedList({ fetch, key: (i) => i.id, view: rec.view, alive: () => alive });
  list.reload();
  alive = false;
  calls[0]?.resolve({ items: [item('1')], next_cursor: null });
  await settle();
  assert.deepEqual(rec.log, ['loading']);
});

test('"Carregar mais" goes through wrapMore (the busy button)', async () => {
  const { fetch, calls } = controlledFetch();
  const rec = recordingView();
  const wrapped: string[] = [];
  const list = pagedList({
    fetch,
    key: (i) => i.id,
    view: rec.view,
    alive: () => true,
    wrapMore: (request) => {
      wrapped.push('more');
      return request();
    },
  });
  list.reload();
  calls[0]?.resolve({ items: [item('1')], next_cursor: 'c' });
  await settle();
  assert.deepEqual(wrapped, []);
  list.loadMore();
  assert.deepEqual(wrapped, ['more']);
  assert.equal(calls[1]?.cursor, 'c');
});
