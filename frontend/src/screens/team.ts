// /equipe (administrators): the staff users with their role, status and last sign-in; make someone an
// administrator or support, deactivate (their sessions end at once) or reactivate — each confirmed in a <dialog>.

import type { ApiClient, UserChange } from '../api';
import { h, mount } from '../dom';
import { formatDateTime, formatRelative } from '../format';
import { roleText } from '../labels';
import type { UserView } from '../types';
import { closeConfirmDialogs, confirmDialog } from '../ui/confirm-dialog';
import { badge, emptyState, errorState, loadingState, notice, table, tableRow, type Column } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

interface Change {
  button: string;
  title: (u: UserView) => string;
  body: (u: UserView) => string;
  done: (u: UserView) => string;
  change: UserChange;
  danger?: boolean;
}

const PROMOTE: Change = {
  button: 'Tornar administrador',
  title: (u) => `Tornar ${u.name} administrador?`,
  body: () => 'Administradores fazem tudo: catálogo, equipe, importação e auditoria, além do que o suporte faz.',
  done: (u) => `${u.name} agora é administrador.`,
  change: { role: 'admin' },
};
const DEMOTE: Change = {
  button: 'Tornar suporte',
  title: (u) => `Tornar ${u.name} suporte?`,
  body: (u) =>
    `${u.name} continua buscando clientes, vendo linhas do tempo e tratando acessos, mas deixa de ver as telas de administração (equipe, auditoria, catálogo, importação).`,
  done: (u) => `${u.name} agora é suporte.`,
  change: { role: 'suporte' },
};
const DEACTIVATE: Change = {
  button: 'Desativar',
  title: (u) => `Desativar ${u.name}?`,
  body: (u) =>
    `${u.name} sai da Portaria agora: as sessões abertas são encerradas na próxima ação e não será possível entrar até a conta ser reativada. O histórico e a auditoria continuam.`,
  done: (u) => `${u.name} foi desativado(a).`,
  change: { active: false },
  danger: true,
};
const REACTIVATE: Change = {
  button: 'Reativar',
  title: (u) => `Reativar ${u.name}?`,
  body: (u) => `${u.name} poderá entrar de novo com a senha que já tinha.`,
  done: (u) => `${u.name} foi reativado(a).`,
  change: { active: true },
};

export function statusLabel(u: { active: boolean }): { text: string; tone: 'ok' | 'muted' } {
  return u.active ? { text: 'Ativo', tone: 'ok' } : { text: 'Desativado', tone: 'muted' };
}

export const teamScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  life.add(closeConfirmDialogs);
  const me = ctx.session.current()?.user.id ?? '';
  const status = h('div', { class: 'results-status', role: 'status', 'aria-live': 'polite' });
  const area = h('div', { class: 'results-area' }, loadingState());

  const act = (api: ApiClient, u: UserView, c: Change): void => {
    status.replaceChildren();
    confirmDialog({
      title: c.title(u),
      body: h('p', null, c.body(u)),
      confirmLabel: c.button,
      busyLabel: 'Salvando…',
      danger: c.danger ?? false,
      action: () => api.updateUser(u.id, c.change),
    }).then((updated) => {
      if (!updated || !life.alive) return;
      status.replaceChildren(notice(c.done(updated), 'ok'));
      rows.get(updated.id)?.replaceWith(row(updated));
    });
  };

  const actions = (u: UserView): HTMLElement | string => {
    if (u.id === me) return h('span', { class: 'muted small' }, 'Sua conta');
    const changes = [u.role === 'admin' ? DEMOTE : PROMOTE, u.active ? DEACTIVATE : REACTIVATE];
    return h(
      'span',
      { class: 'action-buttons' },
      changes.map((c) =>
        h(
          'button',
          {
            type: 'button',
            class: `btn btn-small${c.danger ? ' btn-danger-outline' : ''}`,
            on: { click: () => act(ctx.api, u, c) },
          },
          c.button,
        ),
      ),
    );
  };

  const cols: Column<UserView>[] = [
    {
      label: 'Nome',
      cell: (u) => [u.name, u.id === me ? h('span', { class: 'muted small' }, ' (você)') : null],
    },
    { label: 'E-mail', cell: (u) => h('span', { class: 'break' }, u.email) },
    { label: 'Papel', cell: (u) => badge({ text: roleText(u.role), tone: u.role === 'admin' ? 'info' : 'muted' }) },
    { label: 'Situação', cell: (u) => badge(statusLabel(u)) },
    {
      label: 'Último acesso',
      cell: (u) =>
        u.last_login_at
          ? h(
              'span',
              null,
              h('time', { datetime: u.last_login_at }, formatDateTime(u.last_login_at)),
              h('span', { class: 'muted small block' }, formatRelative(u.last_login_at)),
            )
          : h('span', { class: 'muted' }, 'Nunca entrou'),
    },
    { label: 'Ações', cell: actions },
  ];
  const rows = new Map<string, HTMLTableRowElement>();
  const row = (u: UserView): HTMLTableRowElement => {
    const tr = tableRow(cols, u, {
      'data-user-id': u.id,
      'data-email': u.email,
      'data-role': u.role,
      'data-active': String(u.active),
    });
    rows.set(u.id, tr);
    return tr;
  };

  const load = (): void => {
    mount(area, loadingState());
    ctx.api.users().then(
      (list) => {
        if (!life.alive) return;
        rows.clear();
        if (!list.items.length) {
          mount(area, emptyState('Ninguém na equipe ainda.'));
          return;
        }
        const { table: tableEl, body } = table('Pessoas da equipe', cols);
        body.append(...list.items.map(row));
        mount(area, tableEl);
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
    h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, 'Equipe')),
    h(
      'p',
      { class: 'muted' },
      'Administradores fazem tudo; o suporte busca clientes, vê linhas do tempo, reprocessa, tenta de novo e trata acessos. ',
      'Novas pessoas entram pelo cadastro com o token de convite, como suporte. ',
      'Sempre fica ao menos uma pessoa administradora ativa.',
    ),
    status,
    area,
  );
  return { title: 'Equipe', el, dispose: life.dispose };
};
