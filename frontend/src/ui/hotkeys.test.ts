import { test } from 'node:test';
import assert from 'node:assert/strict';
import { focusesSearch, isTypingTarget } from './hotkeys';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  defaultPrevented: false,
  ...mods,
});

test('/ focuses the search from anywhere but a text field', () => {
  assert.ok(focusesSearch(key('/'), { tagName: 'BODY' }));
  assert.ok(focusesSearch(key('/'), { tagName: 'A' }));
  assert.ok(focusesSearch(key('/'), { tagName: 'BUTTON' }));
  assert.ok(focusesSearch(key('/'), { tagName: 'INPUT', type: 'checkbox' }));
  assert.ok(focusesSearch(key('/'), null));
  for (const target of [
    { tagName: 'INPUT', type: 'text' },
    { tagName: 'INPUT', type: 'search' },
    { tagName: 'INPUT', type: 'date' },
    { tagName: 'input' },
    { tagName: 'TEXTAREA' },
    { tagName: 'SELECT' },
    { tagName: 'DIV', isContentEditable: true },
  ]) {
    assert.ok(isTypingTarget(target), JSON.stringify(target));
    assert.ok(!focusesSearch(key('/'), target), JSON.stringify(target));
  }
  assert.ok(!focusesSearch(key('?'), { tagName: 'BODY' }));
  assert.ok(!focusesSearch(key('/', { ctrlKey: true }), { tagName: 'BODY' }));
  assert.ok(!focusesSearch(key('/', { metaKey: true }), { tagName: 'BODY' }));
  assert.ok(!focusesSearch({ ...key('/'), defaultPrevented: true }, { tagName: 'BODY' }));
});
