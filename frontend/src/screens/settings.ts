// /configuracoes (administrators): what this server has on and how — webhook sources, e-mail, course
// platform, alerts, worker, retention — read-only (the environment sets it; see README), secrets masked by
// the API. Each configured channel has "Enviar teste"; its result shows inline under the card.

import { h, mount } from '../dom';
import { settingsCards, testResultText, type Card, type Settings } from '../settings';
import { errorMessage } from '../errors';
import { badge, errorState, loadingState, notice } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

export const settingsScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  const area = h('div', { class: 'results-area' }, loadingState());

  const testButton = (card: Card): HTMLElement | null => {
    const channel = card.test;
    if (!channel) return null;
    const result = h('div', { class: 'settings-test-result', 'aria-live': 'polite' });
    const button = h(
      'button',
      { type: 'button', class: 'btn btn-small', 'data-test-channel': channel },
      'Enviar teste',
    );
    button.addEventListener('click', () => {
      button.setAttribute('disabled', '');
      button.textContent = 'Enviando…';
      mount(result, loadingState('Enviando teste…'));
      ctx.api
        .testChannel(channel)
        .then(
          (r) => {
            if (!life.alive) return;
            mount(result, notice(testResultText(r), r.ok ? 'ok' : 'bad'));
          },
          (err: unknown) => {
            if (life.alive) mount(result, notice(errorMessage(err), 'bad'));
          },
        )
        .finally(() => {
          button.removeAttribute('disabled');
          button.textContent = 'Enviar teste';
        });
    });
    return h('div', { class: 'settings-test' }, button, result);
  };

  const cardEl = (card: Card): HTMLElement =>
    h(
      'section',
      { class: 'settings-card', 'data-card': card.id, 'aria-labelledby': `cfg-${card.id}` },
      h(
        'div',
        { class: 'settings-card-head' },
        h('h2', { id: `cfg-${card.id}` }, card.title),
        card.on === null
          ? null
          : badge(card.on ? { text: 'Ligado', tone: 'ok' } : { text: 'Desligado', tone: 'muted' }),
      ),
      card.rows.length
        ? h(
            'dl',
            { class: 'settings-rows' },
            card.rows.flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value)]),
          )
        : null,
      card.hint ? h('p', { class: 'muted small' }, card.hint) : null,
      testButton(card),
    );

  const show = (s: Settings): void => {
    mount(area, h('div', { class: 'settings-grid' }, settingsCards(s).map(cardEl)));
  };
  const load = (): void => {
    mount(area, loadingState());
    ctx.api.settings().then(
      (s) => {
        if (life.alive) show(s);
      },
      (err: unknown) => {
        if (life.alive) mount(area, errorState(err, load));
      },
    );
  };
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, 'Configurações')),
    h(
      'p',
      { class: 'muted' },
      'O que está ligado neste servidor e como. Tudo vem das variáveis de ambiente (veja o README); ',
      'os segredos nunca aparecem aqui, só se estão definidos.',
    ),
    area,
  );
  return { title: 'Configurações', el, dispose: life.dispose };
};
