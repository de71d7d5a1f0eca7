import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceScale, otherEvents } from './chart';

test('nice axis scales', () => {
  assert.deepEqual(niceScale(0), { max: 4, step: 1 });
  assert.deepEqual(niceScale(3), { max: 3, step: 1 });
  assert.deepEqual(niceScale(37), { max: 40, step: 10 });
  assert.deepEqual(niceScale(1000), { max: 1000, step: 250 });
  assert.deepEqual(niceScale(1234), { max: 1500, step: 500 });
});

test('events that are neither processed nor rejected', () => {
  assert.equal(otherEvents({ day: '2026-11-01', events: 10, processed: 6, rejected: 1, treatments: 0 }), 3);
  assert.equal(otherEvents({ day: '2026-11-01', events: 1, processed: 2, rejected: 0, treatments: 0 }), 0);
});
