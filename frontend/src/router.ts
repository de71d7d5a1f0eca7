// URL routing with the history API. Matching and URL building are pure (tested); the Router
// class wires them to the browser: link clicks, back/forward, query-only updates.

import { queryString, type Query } from './api';

export type RouteName =
  | 'login'
  | 'signup'
  | 'dashboard'
  | 'customers'
  | 'customer'
  | 'events'
  | 'treatments'
  | 'team'
  | 'audit'
  | 'password'
  | 'import'
  | 'catalog'
  | 'settings'
  | 'mail'
  | 'notFound';

export interface Route {
  name: RouteName;
  params: Record<string, string>;
  query: URLSearchParams;
  /** pathname + search, as in the address bar. */
  url: string;
}

interface RouteDef {
  name: Exclude<RouteName, 'notFound'>;
  pattern: string;
}

const ROUTES: RouteDef[] = [
  { name: 'login', pattern: '/entrar' },
  { name: 'signup', pattern: '/cadastro' },
  { name: 'dashboard', pattern: '/' },
  { name: 'customers', pattern: '/clientes' },
  { name: 'customer', pattern: '/clientes/:id' },
  { name: 'events', pattern: '/eventos' },
  { name: 'treatments', pattern: '/tratativas' },
  { name: 'team', pattern: '/equipe' },
  { name: 'audit', pattern: '/auditoria' },
  { name: 'password', pattern: '/alterar-senha' },
  { name: 'import', pattern: '/importar' },
  { name: 'catalog', pattern: '/catalogo' },
  { name: 'settings', pattern: '/configuracoes' },
  { name: 'mail', pattern: '/modelos-de-email' },
];

const PUBLIC_ROUTES: ReadonlySet<RouteName> = new Set(['login', 'signup']);

export function isPublicRoute(name: RouteName): boolean {
  return PUBLIC_ROUTES.has(name);
}

/** The screens of administrators (team, import, audit, settings, mail templates); support sees "apenas administradores". */
const ADMIN_ROUTES: ReadonlySet<RouteName> = new Set(['import', 'team', 'audit', 'settings', 'mail']);

export function isAdminRoute(name: RouteName): boolean {
  return ADMIN_ROUTES.has(name);
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchPattern(pattern: string, pathname: string): Record<string, string> | null {
  const want = segments(pattern);
  const got = segments(pathname);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) {
      return null;
    }
  }
  return params;
}

/** The route of a URL ("/clientes/42?x=1", or absolute). */
export function matchRoute(url: string): Route {
  const parsed = new URL(url, 'http://app.invalid');
  const display = parsed.pathname + parsed.search;
  for (const def of ROUTES) {
    const params = matchPattern(def.pattern, parsed.pathname);
    if (params) return { name: def.name, params, query: parsed.searchParams, url: display };
  }
  return { name: 'notFound', params: {}, query: parsed.searchParams, url: display };
}

/** The URL of a route, e.g. routeUrl('customer', {id: '42'}) → "/clientes/42". */
export function routeUrl(
  name: Exclude<RouteName, 'notFound'>,
  params: Record<string, string> = {},
  query: Query = {},
): string {
  const def = ROUTES.find((r) => r.name === name);
  if (!def) throw new Error(`unknown route ${name}`);
  const path = def.pattern.replace(/:(\w+)/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`route ${name} needs :${key}`);
    return encodeURIComponent(value);
  });
  return path + queryString(query);
}

/** Whether a click on a link should be handled by the app instead of the browser. */
export function isAppLinkClick(
  event: {
    button: number;
    metaKey: boolean;
    ctrlKey: boolean;
    shiftKey: boolean;
    altKey: boolean;
    defaultPrevented: boolean;
  },
  link: { target: string; hasDownload: boolean; href: string },
  origin: string,
): boolean {
  if (event.defaultPrevented || event.button !== 0) return false;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (link.hasDownload || (link.target && link.target !== '_self')) return false;
  let url: URL;
  try {
    url = new URL(link.href, origin);
  } catch {
    return false;
  }
  return url.origin === origin && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/webhooks/');
}

export interface NavigateOptions {
  replace?: boolean;
}

/** Browser side: calls `render` for each new route (first load, link, back/forward, navigate). */
export class Router {
  private route: Route;

  constructor(private readonly render: (route: Route, initial: boolean) => void) {
    this.route = matchRoute(location.pathname + location.search);
  }

  start(): void {
    window.addEventListener('popstate', () => this.update(false));
    document.addEventListener('click', (e) => this.onClick(e));
    this.update(true);
  }

  current(): Route {
    return this.route;
  }

  navigate(url: string, opts: NavigateOptions = {}): void {
    if (opts.replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.update(false);
  }

  /** Changes the query string of the current screen without re-rendering it (filters, search). */
  replaceQuery(query: Query): void {
    const url = location.pathname + queryString(query);
    if (url === location.pathname + location.search) return;
    history.replaceState(null, '', url);
    this.route = matchRoute(url);
  }

  private update(initial: boolean): void {
    this.route = matchRoute(location.pathname + location.search);
    this.render(this.route, initial);
  }

  private onClick(e: MouseEvent): void {
    const target = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!(target instanceof HTMLAnchorElement)) return;
    const link = { target: target.target, hasDownload: target.hasAttribute('download'), href: target.href };
    if (!isAppLinkClick(e, link, location.origin)) return;
    const url = new URL(target.href);
    const same = url.pathname + url.search === location.pathname + location.search;
    if (same && url.hash) return; // in-page anchor (the skip link): the browser's job
    e.preventDefault();
    if (!same) this.navigate(url.pathname + url.search);
  }
}
