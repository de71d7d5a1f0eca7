// /modelos-de-email (administrators): every e-mail the channel sends, rendered with sample data — the list of
// kinds (pt-BR names), and for the chosen one its subject, the HTML part and the plain-text part.
//
// The HTML part keeps the templates' inline styles, which this app's CSP refuses; an srcdoc or blob frame would
// inherit that policy. So the frame loads the server's `frame_url` (a short-lived ticket in the URL, as a frame
// cannot send the Bearer header), served with its own narrow policy (inline styles, no script, sandbox), and the
// <iframe> is sandboxed too (no scripts, an opaque origin). See docs/CHANNELS.md.

import { h, mount } from '../dom';
import { mailTemplateName } from '../labels';
import { frameSrc, mailStatusText, type MailPreview, type MailTemplateList } from '../mail';
import { routeUrl } from '../router';
import { errorState, loadingState, notice } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

export const mailScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const status = h('p', { class: 'muted' });
  const kinds = h('nav', { class: 'mail-kinds', 'aria-label': 'Modelos' });
  const preview = h('div', { class: 'mail-preview', 'aria-live': 'polite' });
  const area = h('div', { class: 'results-area' }, loadingState());
  let links: HTMLAnchorElement[] = [];

  const showPreview = (p: MailPreview): void => {
    const name = mailTemplateName(p.kind);
    const src = frameSrc(p);
    mount(
      preview,
      h('h2', null, name),
      h('dl', { class: 'mail-subject' }, h('dt', null, 'Assunto'), h('dd', { 'data-mail': 'subject' }, p.subject)),
      h('h3', null, 'Versão HTML'),
      src
        ? h('iframe', {
            class: 'mail-frame',
            src,
            sandbox: true,
            referrerpolicy: 'no-referrer',
            title: `Prévia do e-mail: ${name}`,
          })
        : notice('A prévia em HTML não pôde ser aberta.', 'bad'),
      h('h3', null, 'Versão em texto'),
      h('pre', { class: 'mail-text', 'data-mail': 'text' }, p.text),
    );
  };

  const choose = (kind: string): void => {
    for (const a of links) {
      if (a.dataset.kind === kind) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    }
    mount(preview, loadingState('Montando a prévia…'));
    ctx.api.mailPreview(kind).then(
      (p) => {
        if (life.alive) showPreview(p);
      },
      (err: unknown) => {
        if (life.alive)
          mount(
            preview,
            errorState(err, () => choose(kind)),
          );
      },
    );
  };

  const show = (list: MailTemplateList): void => {
    status.textContent = mailStatusText(list);
    links = list.items.map((item) => {
      const a = h(
        'a',
        { href: routeUrl('mail', {}, { modelo: item.kind }), 'data-kind': item.kind },
        mailTemplateName(item.kind),
      );
      a.addEventListener('click', (e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault(); // the app's router leaves a prevented click alone: only the query changes
        ctx.router.replaceQuery({ modelo: item.kind });
        choose(item.kind);
      });
      return a;
    });
    mount(
      kinds,
      h(
        'ul',
        null,
        links.map((a) => h('li', null, a)),
      ),
    );
    mount(area, h('div', { class: 'mail-layout' }, kinds, preview));
    const wanted = route.query.get('modelo');
    const first = list.items.find((i) => i.kind === wanted) ?? list.items[0];
    if (first) choose(first.kind);
  };

  const load = (): void => {
    mount(area, loadingState());
    ctx.api.mailTemplates().then(
      (list) => {
        if (life.alive) show(list);
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
    h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, 'Modelos de e-mail')),
    h(
      'p',
      { class: 'muted' },
      'Cada mensagem que o comprador recebe, com dados de exemplo. Só leitura: para mudar um texto, ',
      'coloque o arquivo do modelo em MAIL_TEMPLATES_DIR (veja docs/CHANNELS.md).',
    ),
    status,
    area,
  );
  return { title: 'Modelos de e-mail', el, dispose: life.dispose };
};
