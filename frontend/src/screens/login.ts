// /entrar: e-mail + senha. Errors in Portuguese; a 429 keeps the button disabled for the wait.

import { ApiError } from '../api';
import { h } from '../dom';
import { errorMessage } from '../errors';
import { routeUrl } from '../router';
import { safeNext } from '../session';
import { field, notice } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

export const loginScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const next = safeNext(route.query.get('next'));
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  email.value = route.query.get('email') ?? '';
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Entrar');
  const messages = h('div', { class: 'form-messages' });
  const flash = ctx.takeFlash();
  if (flash) messages.append(notice(flash, 'info'));

  const form = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-labelledby': 'titulo-entrar' },
    messages,
    field('E-mail', email).wrapper,
    field('Senha', password).wrapper,
    submit,
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!email.value.trim() || !password.value) {
      messages.replaceChildren(notice('Informe e-mail e senha.', 'bad'));
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Entrando…';
    messages.replaceChildren();
    ctx.api.login(email.value.trim(), password.value).then(
      (login) => {
        if (life.alive) ctx.signedIn(login, next);
      },
      (err: unknown) => {
        if (!life.alive) return;
        submit.textContent = 'Entrar';
        messages.replaceChildren(notice(errorMessage(err), 'bad'));
        const wait = err instanceof ApiError && err.code === 'too_many_requests' ? (err.retryAfter ?? 30) : 0;
        if (wait > 0) {
          const timer = setTimeout(() => (submit.disabled = false), wait * 1000);
          life.add(() => clearTimeout(timer));
        } else {
          submit.disabled = false;
          password.select();
          password.focus();
        }
      },
    );
  });

  const el = h(
    'section',
    { class: 'auth-card' },
    h('h1', { id: 'titulo-entrar', tabindex: '-1' }, 'Entrar'),
    h('p', { class: 'muted' }, 'Área da equipe de suporte.'),
    form,
    h(
      'p',
      { class: 'auth-switch' },
      'Ainda não tem conta? ',
      h('a', { href: routeUrl('signup') }, 'Cadastre-se com o token de convite'),
    ),
  );
  return { title: 'Entrar', el, dispose: life.dispose };
};
