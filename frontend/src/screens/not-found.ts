// Any path the app does not know.

import { h } from '../dom';
import { routeUrl } from '../router';
import type { ScreenFactory } from './screen';

export const notFoundScreen: ScreenFactory = (_ctx, route) => ({
  title: 'Página não encontrada',
  el: h(
    'section',
    { class: 'screen' },
    h('h1', { tabindex: '-1' }, 'Página não encontrada'),
    h('p', null, 'Não existe nada em ', h('code', null, route.url), '.'),
    h('p', null, h('a', { href: routeUrl('dashboard') }, 'Voltar ao painel')),
  ),
});
