// The paged list of Eventos, Tratativas and Clientes: first page, "Carregar mais" (keyset cursor), live
// items at the top, newer versions of shown items, and a sequence guard so that only the latest request
// renders. `pagedList` holds the state and talks to a `PagedView`; `domView` is the view the screens use
// (results area, status line, "Carregar mais" button, empty/error states).

import { mount } from '../dom';
import { errorMessage } from '../errors';
import type { Page } from '../types';
import { errorState, loadingState, notice } from './common';

/** What the list shows; every method gets the item's key too. */
export interface PagedView<T> {
  /** A fresh load starts. */
  loading(): void;
  /** The first page arrived: what was shown goes away. */
  reset(): void;
  append(item: T, key: string): void;
  /** A live item, at the top. */
  prepend(item: T, key: string): void;
  /** A newer version of a shown item, in place. */
  replace(item: T, key: string): void;
  /** A page was rendered: `count` items shown, `more` whether there is a next page. */
  settled(count: number, more: boolean): void;
  /** A request failed; `retry` reloads from the first page. */
  failed(error: unknown, append: boolean, retry: () => void): void;
}

export interface PagedListOptions<T> {
  /** One page: the first with `cursor` null, the next ones with the previous page's `next_cursor`. */
  fetch: (cursor: string | null) => Promise<Page<T>>;
  key: (item: T) => string;
  view: PagedView<T>;
  /** False once the screen is gone: late answers are then dropped. */
  alive: () => boolean;
  /** Wraps the "Carregar mais" request (e.g. `withBusy` on the button). */
  wrapMore?: (request: () => Promise<Page<T>>) => Promise<Page<T>>;
}

export interface PagedList<T> {
  /** Loads the first page again (new filters, retry). */
  reload(): void;
  /** Loads the next page; nothing when there is none. */
  loadMore(): void;
  /** Shows a live item at the top; false when it is already shown. */
  prepend(item: T): boolean;
  /** Puts a newer version of a shown item in place; false when it is not shown. */
  replace(item: T): boolean;
  has(key: string): boolean;
  readonly size: number;
}

export function pagedList<T>(o: PagedListOptions<T>): PagedList<T> {
  const shown = new Set<string>();
  let cursor: string | null = null;
  let seq = 0;

  const load = (append: boolean): void => {
    const mine = ++seq;
    if (!append) {
      cursor = null;
      o.view.loading();
    }
    const request = (): Promise<Page<T>> => o.fetch(append ? cursor : null);
    const run = append && o.wrapMore ? o.wrapMore(request) : request();
    run.then(
      (page) => {
        if (!o.alive() || mine !== seq) return;
        if (!append) {
          o.view.reset();
          shown.clear();
        }
        for (const item of page.items) {
          const key = o.key(item);
          if (shown.has(key)) continue;
          shown.add(key);
          o.view.append(item, key);
        }
        cursor = page.next_cursor;
        o.view.settled(shown.size, cursor !== null);
      },
      (error: unknown) => {
        if (!o.alive() || mine !== seq) return;
        o.view.failed(error, append, () => load(false));
      },
    );
  };

  return {
    reload: () => load(false),
    loadMore: () => {
      if (cursor !== null) load(true);
    },
    prepend(item) {
      const key = o.key(item);
      if (shown.has(key)) return false;
      shown.add(key);
      o.view.prepend(item, key);
      return true;
    },
    replace(item) {
      const key = o.key(item);
      if (!shown.has(key)) return false;
      o.view.replace(item, key);
      return true;
    },
    has: (key) => shown.has(key),
    get size() {
      return shown.size;
    },
  };
}

export interface DomViewOptions<T> {
  /** Where the list, the loading, empty and error states go. */
  area: HTMLElement;
  /** The polite live region under the filters. */
  status: HTMLElement;
  more: HTMLButtonElement;
  /** Mounted in `area` while there are items (a table, a list). */
  list: HTMLElement;
  /** Where the items' elements go (the table's body, the list itself). */
  items: HTMLElement;
  element: (item: T) => HTMLElement;
  empty: () => Node;
  emptyText: string;
  summary: (count: number, more: boolean) => string;
  /** 'Carregando…' unless told. */
  loadingText?: string;
}

/** The view of a paged list in the DOM; a fresh load keeps the shown items (marked busy) until it answers. */
export function domView<T>(o: DomViewOptions<T>): PagedView<T> {
  const elements = new Map<string, HTMLElement>();
  const loadingText = o.loadingText ?? 'Carregando…';
  const idle = (): void => o.list.removeAttribute('aria-busy');
  return {
    loading() {
      if (o.list.isConnected) o.list.setAttribute('aria-busy', 'true');
      else mount(o.area, loadingState(loadingText));
      o.status.textContent = loadingText;
    },
    reset() {
      o.items.replaceChildren();
      elements.clear();
    },
    append(item, key) {
      const el = o.element(item);
      elements.set(key, el);
      o.items.append(el);
    },
    prepend(item, key) {
      const el = o.element(item);
      el.classList.add('is-new');
      elements.set(key, el);
      o.items.prepend(el);
      if (!o.list.isConnected) mount(o.area, o.list);
    },
    replace(item, key) {
      const old = elements.get(key);
      if (!old) return;
      const fresh = o.element(item);
      old.replaceWith(fresh);
      elements.set(key, fresh);
    },
    settled(count, more) {
      idle();
      o.more.hidden = !more;
      if (count === 0) {
        mount(o.area, o.empty());
        o.status.textContent = o.emptyText;
      } else {
        mount(o.area, o.list);
        o.status.textContent = o.summary(count, more);
      }
    },
    failed(error, append, retry) {
      idle();
      o.status.textContent = '';
      if (append) o.area.append(notice(errorMessage(error), 'bad'));
      else mount(o.area, errorState(error, retry));
    },
  };
}
