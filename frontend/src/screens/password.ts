// /alterar-senha: every user changes their own password (the current one is required). The other sessions of
// the account end; this one goes on with the fresh token the API answers.

import { ApiError } from '../api';
import { h } from '../dom';
import { errorMessage, fieldErrors } from '../errors';
import { field, notice, setFieldError, type FieldParts } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

const MIN_LENGTH = 8;

type Name = 'current_password' | 'new_password' | 'confirm';

export const passwordScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  const input = (name: Name, autocomplete: string): HTMLInputElement =>
    h('input', { type: 'password', name, autocomplete, required: true });
  const inputs: Record<Name, HTMLInputElement> = {
    current_password: input('current_password', 'current-password'),
    new_password: input('new_password', 'new-password'),
    confirm: input('confirm', 'new-password'),
  };
  const fields: Record<Name, FieldParts> = {
    current_password: field('Senha atual', inputs.current_password),
    new_password: field('Nova senha', inputs.new_password, `Pelo menos ${MIN_LENGTH} caracteres.`),
    confirm: field('Repita a nova senha', inputs.confirm),
  };
  const names: Name[] = ['current_password', 'new_password', 'confirm'];
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Alterar senha');
  const messages = h('div', { class: 'form-messages' });

  const showErrors = (errors: Partial<Record<Name, string>>): void => {
    for (const n of names) setFieldError(fields[n], inputs[n], errors[n] ?? null);
    const first = names.find((n) => errors[n]);
    if (first) inputs[first].focus();
  };
  const localErrors = (): Partial<Record<Name, string>> => {
    const errors: Partial<Record<Name, string>> = {};
    if (!inputs.current_password.value) errors.current_password = 'Informe a senha atual.';
    if ([...inputs.new_password.value].length < MIN_LENGTH)
      errors.new_password = `A nova senha precisa ter pelo menos ${MIN_LENGTH} caracteres.`;
    else if (inputs.confirm.value !== inputs.new_password.value) errors.confirm = 'As duas senhas não são iguais.';
    return errors;
  };

  const form = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-labelledby': 'titulo-senha' },
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
    submit.textContent = 'Alterando…';
    ctx.api.changePassword(inputs.current_password.value, inputs.new_password.value).then(
      (login) => {
        if (!life.alive) return;
        ctx.sessionRenewed(login);
        submit.disabled = false;
        submit.textContent = 'Alterar senha';
        for (const n of names) inputs[n].value = '';
        messages.replaceChildren(
          notice('Senha alterada. As outras sessões abertas com a senha antiga foram encerradas.', 'ok'),
        );
      },
      (err: unknown) => {
        if (!life.alive) return;
        submit.disabled = false;
        submit.textContent = 'Alterar senha';
        const perField: Partial<Record<Name, string>> = fieldErrors(err);
        const onlyFields = err instanceof ApiError && err.code === 'validation_failed' && Object.keys(perField).length;
        messages.replaceChildren(notice(onlyFields ? 'Corrija o campo indicado.' : errorMessage(err), 'bad'));
        showErrors(perField);
      },
    );
  });

  const el = h(
    'section',
    { class: 'screen narrow' },
    h('h1', { id: 'titulo-senha', tabindex: '-1' }, 'Alterar senha'),
    h(
      'p',
      { class: 'muted' },
      'Ao alterar a senha, as outras sessões da sua conta (outro computador, o celular) são encerradas; esta continua aberta.',
    ),
    form,
  );
  return { title: 'Alterar senha', el, dispose: life.dispose };
};
