import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the test runner runs TypeScript tests', () => {
  assert.equal(typeof globalThis, 'object');
});
