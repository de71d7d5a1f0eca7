// An administrators' screen opened by a support user (a link, a bookmark, a typed URL): say so, no crash.

import { h } from '../dom';
import { routeUrl } from '../router';
import type { ScreenFactory } from './screen';

export const forbiddenScreen: ScreenFactory = () => ({
  title: 'Apenas administradores',
  el: h(
    'section',
    { class: 'screen' },
    h('h1', { tabindex: '-1' }, 'Apenas administradores'),
    h(
      'div',
      { class: 'state state-empty', role: 'status' },
      h('p', { class: 'state-title' }, 'Esta tela é apenas para administradores.'),
      h(
        'p',
        null,
        'Sua conta é de suporte: você busca clientes, vê linhas do tempo, reprocessa eventos e tenta de novo tratativas. ',
        'Se precisar desta tela, peça a uma pessoa administradora.',
      ),
    ),
    h('p', null, h('a', { href: routeUrl('customers') }, 'Ir para Clientes')),
  ),
});
