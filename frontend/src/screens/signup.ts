// /cadastro: e-mail, nome, senha and the invite token. Field errors go under each field.

import { ApiError } from '../api';
import { h } from '../dom';
import { errorMessage, fieldErrors } from '../errors';
import { routeUrl } from '../router';
import { field, notice, setFieldError, type FieldParts } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

const MIN_PASSWORD = 8;

export const signupScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  const inputs = {
    email: h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true, autofocus: true }),
    name: h('input', { type: 'text', name: 'name', autocomplete: 'name', required: true, maxlength: '200' }),
    password: h('input', {
      type: 'password',
      name: 'password',
      autocomplete: 'new-password',
      required: true,
      minlength: String(MIN_PASSWORD),
    }),
    invite_token: h('input', {
      type: 'text',
      name: 'invite_token',
      autocomplete: 'off',
      required: true,
      spellcheck: 'false',
    }),
  };
  type Name = keyof typeof inputs;
  const fields: Record<Name, FieldParts> = {
    email: field('E-mail', inputs.email),
    name: field('Nome', inputs.name),
    password: field('Senha', inputs.password, `Pelo menos ${MIN_PASSWORD} caracteres.`),
    invite_token: field('Token de convite', inputs.invite_token, 'Quem administra a Portaria passa este token.'),
  };
  const messages = h('div', { class: 'form-messages' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Criar conta');
  const names = Object.keys(inputs) as Name[];

  const showErrors = (errors: Partial<Record<Name, string>>): void => {
    for (const n of names) setFieldError(fields[n], inputs[n], errors[n] ?? null);
    const first = names.find((n) => errors[n]);
    if (first) inputs[first].focus();
  };

  const localErrors = (): Partial<Record<Name, string>> => {
    const errors: Partial<Record<Name, string>> = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(inputs.email.value.trim())) errors.email = 'Informe um e-mail válido.';
    if (!inputs.name.value.trim()) errors.name = 'Informe seu nome.';
    if (inputs.password.value.length < MIN_PASSWORD)
      errors.password = `A senha precisa ter pelo menos ${MIN_PASSWORD} caracteres.`;
    if (!inputs.invite_token.value.trim()) errors.invite_token = 'Informe o token de convite.';
    return errors;
  };

  const form = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-labelledby': 'titulo-cadastro' },
    messages,
    names.map((n) => fields[n].wrapper),
    submit,
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    messages.replaceChildren();
    const local = localErrors();
    showErrors(local);
    if (Object.keys(local).length) return;
    submit.disabled = true;
    submit.textContent = 'Criando conta…';
    const email = inputs.email.value.trim();
    ctx.api
      .signup({
        email,
        name: inputs.name.value.trim(),
        password: inputs.password.value,
        invite_token: inputs.invite_token.value.trim(),
      })
      .then(
        () => {
          if (!life.alive) return;
          ctx.setFlash('Conta criada. Entre com seu e-mail e senha.');
          ctx.router.navigate(routeUrl('login', {}, { email }));
        },
        (err: unknown) => {
          if (!life.alive) return;
          submit.disabled = false;
          submit.textContent = 'Criar conta';
          messages.replaceChildren(notice(errorMessage(err), 'bad'));
          const perField: Partial<Record<Name, string>> = fieldErrors(err);
          if (err instanceof ApiError && err.code === 'invalid_invite_token')
            perField.invite_token = 'Token de convite inválido.';
          if (err instanceof ApiError && err.code === 'email_taken') perField.email = 'Este e-mail já tem conta.';
          showErrors(perField);
        },
      );
  });

  const el = h(
    'section',
    { class: 'auth-card' },
    h('h1', { id: 'titulo-cadastro', tabindex: '-1' }, 'Cadastro'),
    h('p', { class: 'muted' }, 'Crie sua conta da equipe de suporte.'),
    form,
    h('p', { class: 'auth-switch' }, 'Já tem conta? ', h('a', { href: routeUrl('login') }, 'Entrar')),
  );
  return { title: 'Cadastro', el, dispose: life.dispose };
};
