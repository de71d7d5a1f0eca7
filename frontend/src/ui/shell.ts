// The frame around the signed-in screens: skip link, header with navigation and "Sair", <main>.
// Public screens (Entrar, Cadastro) get a simpler frame.

import { h } from '../dom';
import { routeUrl, type RouteName } from '../router';

const NAV: [RouteName & ('dashboard' | 'customers' | 'events' | 'treatments' | 'catalog'), string][] = [
  ['dashboard', 'Painel'],
  ['customers', 'Clientes'],
  ['events', 'Eventos'],
  ['treatments', 'Tratativas'],
  ['catalog', 'Catálogo'],
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
}

export function appShell(onLogout: () => void): Shell {
  const links = NAV.map(([name, text]) => h('a', { href: routeUrl(name), 'data-route': name }, text));
  const user = h('span', { class: 'user' });
  const logout = h('button', { type: 'button', class: 'btn btn-small btn-ghost logout' }, 'Sair');
  logout.addEventListener('click', onLogout);
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
      h('nav', { 'aria-label': 'Principal', class: 'nav' }, links),
      h('div', { class: 'user-box' }, user, logout),
    ),
    main,
  );
  return {
    root,
    main,
    setActive(route) {
      for (const a of links) {
        if (a.getAttribute('data-route') === section(route)) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
    setUser(name, email) {
      user.textContent = name;
      user.title = email;
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
