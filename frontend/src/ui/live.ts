// The small "ao vivo" badge that follows the state of the live stream.

import { h } from '../dom';
import type { LiveStatus, LiveStream } from '../stream';

const TEXT: Record<LiveStatus, string> = {
  connecting: 'conectando…',
  live: 'ao vivo',
  reconnecting: 'reconectando…',
  stopped: 'pausado',
};

export function liveIndicator(stream: LiveStream): { el: HTMLElement; dispose: () => void } {
  const text = h('span', { class: 'live-text' });
  const el = h(
    'span',
    { class: 'live', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
    text,
  );
  const dispose = stream.onStatus((status) => {
    el.setAttribute('data-status', status);
    text.textContent = TEXT[status];
    el.title =
      status === 'live' ? 'Novos eventos aparecem aqui sem recarregar a página' : 'Sem conexão ao vivo no momento';
  });
  return { el, dispose };
}
