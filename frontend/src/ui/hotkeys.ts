// The header's keyboard shortcut: `/` focuses the customer search, unless the user is typing somewhere.

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  defaultPrevented: boolean;
}

export interface TargetLike {
  tagName?: string;
  type?: string;
  isContentEditable?: boolean;
}

/** Input types that take no text: `/` on them is not typing. */
const NOT_TEXT = new Set(['button', 'submit', 'reset', 'checkbox', 'radio', 'file', 'image', 'range', 'color']);

/** Whether a key press lands in something that takes text (an input, a text area, a select, editable content). */
export function isTypingTarget(target: TargetLike | null): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = (target.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !NOT_TEXT.has((target.type ?? 'text').toLowerCase());
}

/** Whether this key press should focus the search: a bare `/` outside any text field. */
export function focusesSearch(event: KeyLike, target: TargetLike | null): boolean {
  if (event.key !== '/' || event.defaultPrevented) return false;
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  return !isTypingTarget(target);
}
