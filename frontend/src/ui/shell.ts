// The frame around the signed-in screens: skip link, header with navigation (the administrators' screens
// only for administrators), the customer search (`/` focuses it), "Alterar senha" and "Sair", <main>.
// Public screens (Entrar, Cadastro) get a simpler frame.

import { h } from '../dom';
import { routeUrl, type RouteName } from '../router';
import { focusesSearch } from './hotkeys';

const NAV: [RouteName & ('dashboard' | 'customers' | 'events' | 'treatments' | 'catalog'), string][] = [
  ['dashboard', 'Painel'],
  ['customers', 'Clientes'],
  ['events', 'Eventos'],
  ['treatments', 'Tratativas'],
  ['catalog', 'Catálogo'],
];

/** Administrators only: hidden for support (and their routes answer "apenas administradores"). */
const ADMIN_NAV: [Exclude<RouteName, 'notFound'>, string][] = [
  ['import', 'Importar'],
  ['team', 'Equipe'],
  ['audit', 'Auditoria'],
  ['settings', 'Configurações'],
  ['mail', 'Modelos de e-mail'],
];

/** Which nav item a route belongs to (the customer page is under Clientes). */
function section(route: RouteName): RouteName {
  return route === 'customer' ? 'customers' : route;
}

export interface Shell {
  root: HTMLElement;
  main: HTMLElement;
  setActive(route: RouteName): void;
  setUser(name: string, email: string): void;
  /** Shows the administrators' screens in the navigation for `admin` only. */
  setRole(role: string): void;
  dispose(): void;
}

export interface ShellOptions {
  onLogout: () => void;
  /** The header search was submitted (a trimmed, non-empty term). */
  onSearch: (term: string) => void;
}

export function appShell(opts: ShellOptions): Shell {
  const links = NAV.map(([name, text]) => h('a', { href: routeUrl(name), 'data-route': name }, text));
  const adminLinks = ADMIN_NAV.map(([name, text]) =>
    h('a', { href: routeUrl(name), 'data-route': name, hidden: true }, text),
  );
  const user = h('span', { class: 'user' });
  const password = h(
    'a',
    { class: 'btn btn-small btn-ghost account', href: routeUrl('password'), 'data-route': 'password' },
    'Alterar senha',
  );
  const logout = h('button', { type: 'button', class: 'btn btn-small btn-ghost logout' }, 'Sair');
  logout.addEventListener('click', opts.onLogout);
  const searchInput = h('input', {
    type: 'search',
    name: 'q',
    autocomplete: 'off',
    spellcheck: 'false',
    enterkeyhint: 'search',
    placeholder: 'Buscar cliente…',
    'aria-label': 'Busca rápida de clientes',
    'aria-keyshortcuts': '/',
    title: 'Atalho: tecla /',
  });
  const search = h(
    'form',
    { class: 'header-search', role: 'search', 'aria-label': 'Busca rápida' },
    searchInput,
    h('kbd', { class: 'hint', 'aria-hidden': 'true' }, '/'),
  );
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    const term = searchInput.value.trim();
    if (!term) return;
    searchInput.value = '';
    searchInput.blur();
    opts.onSearch(term);
  });
  const onKey = (e: KeyboardEvent): void => {
    if (document.querySelector('dialog[open]')) return;
    const target = e.target instanceof HTMLElement ? e.target : null;
    if (!focusesSearch(e, target)) return;
    e.preventDefault();
    searchInput.focus();
  };
  document.addEventListener('keydown', onKey);
  const main = h('main', { id: 'conteudo', tabindex: '-1' });
  const root = h(
    'div',
    { class: 'app' },
    h('a', { class: 'skip-link', href: '#conteudo' }, 'Pular para o conteúdo'),
    h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', href: routeUrl('dashboard') },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'),
        'Portaria',
      ),
      h('nav', { 'aria-label': 'Principal', class: 'nav' }, links, adminLinks),
      search,
      h('div', { class: 'user-box' }, user, password, logout),
    ),
    main,
  );
  return {
    root,
    main,
    setActive(route) {
      for (const a of [...links, ...adminLinks, password]) {
        if (a.getAttribute('data-route') === section(route)) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
    setUser(name, email) {
      user.textContent = name;
      user.title = email;
    },
    setRole(role) {
      for (const a of adminLinks) a.hidden = role !== 'admin';
    },
    dispose() {
      document.removeEventListener('keydown', onKey);
    },
  };
}

export function publicShell(): { root: HTMLElement; main: HTMLElement } {
  const main = h('main', { id: 'conteudo', tabindex: '-1', class: 'public-main' });
  const root = h(
    'div',
    { class: 'public' },
    h('a', { class: 'skip-link', href: '#conteudo' }, 'Pular para o conteúdo'),
    h(
      'header',
      { class: 'public-brand' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'P'),
      h('span', null, 'Portaria'),
    ),
    main,
  );
  return { root, main };
}
