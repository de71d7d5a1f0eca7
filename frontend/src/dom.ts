// The only way the app builds DOM: createElement / createElementNS, setAttribute and text nodes.
// Data is never parsed as HTML (no innerHTML anywhere), so a customer called
// `<img src=x onerror=alert(1)>` is just text.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handlers = Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;

export interface Attrs {
  [name: string]: string | number | boolean | null | undefined | Handlers;
  /** Event listeners, e.g. `on: { click: () => … }`. */
  on?: Handlers;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'on' || value === null || value === undefined || value === false) continue;
    if (typeof value === 'object') continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  const on = attrs.on;
  if (on) {
    for (const [type, listener] of Object.entries(on)) {
      if (listener) el.addEventListener(type, listener as EventListener);
    }
  }
}

function appendChildren(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (typeof child === 'string' || typeof child === 'number') el.append(document.createTextNode(String(child)));
    else el.append(child);
  }
}

/** `h('a', {href: '/x', class: 'link'}, 'text', otherNode)` */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Same as h() for SVG elements (createElementNS). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | null | undefined> | null = null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined) el.setAttribute(name, String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

/** Replaces everything inside `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  appendChildren(el, children);
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = 'id'): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
