import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './api';
import { errorMessage, fieldErrors } from './errors';

test('Portuguese messages for the auth error codes', () => {
  assert.equal(errorMessage(new ApiError(401, 'invalid_credentials', 'Wrong')), 'E-mail ou senha incorretos.');
  assert.match(errorMessage(new ApiError(403, 'invalid_invite_token', 'x')), /Token de convite inválido/);
  assert.match(errorMessage(new ApiError(409, 'email_taken', 'x')), /Já existe uma conta com este e-mail/);
  assert.equal(
    errorMessage(new ApiError(429, 'too_many_requests', 'x', null, 900)),
    'Muitas tentativas. Aguarde 15 minutos e tente de novo.',
  );
  assert.equal(
    errorMessage(new ApiError(429, 'too_many_requests', 'x')),
    'Muitas tentativas. Aguarde um pouco e tente de novo.',
  );
  assert.match(errorMessage(new ApiError(401, 'token_expired', 'x')), /sessão expirou/);
  assert.match(errorMessage(new ApiError(500, 'internal', 'x')), /Erro no servidor/);
  assert.equal(
    errorMessage(new ApiError(400, 'bad_cursor', 'Bad cursor.')),
    'Não foi possível concluir a operação (erro 400).',
  );
  assert.equal(errorMessage(new Error('boom')), 'Algo deu errado. Tente de novo.');
});

test('Portuguese messages for the replay, filter and outage codes', () => {
  for (const [status, code] of [
    [409, 'not_replayable'],
    [409, 'replay_rejected'],
    [400, 'invalid_query'],
    [405, 'method_not_allowed'],
    [503, 'database_unavailable'],
  ] as const) {
    const text = errorMessage(new ApiError(status, code, 'English text'));
    assert.doesNotMatch(text, /English|_/, code);
    assert.ok(text.length > 10, code);
  }
  assert.match(errorMessage(new ApiError(503, 'database_unavailable', 'x')), /banco de dados está indisponível/);
});

test('validation_failed per field', () => {
  const err = new ApiError(422, 'validation_failed', 'Some fields are invalid.', {
    fields: {
      email: 'must be a valid e-mail address',
      name: 'must have 1 to 200 characters',
      password: 'must have at least 8 characters',
    },
  });
  assert.deepEqual(fieldErrors(err), {
    email: 'Informe um e-mail válido.',
    name: 'Informe um nome (de 1 a 200 caracteres).',
    password: 'A senha precisa ter pelo menos 8 caracteres.',
  });
  assert.deepEqual(
    fieldErrors(new ApiError(422, 'validation_failed', 'x', { fields: { password: 'must have at most 72 bytes' } })),
    {
      password: 'A senha pode ter no máximo 72 caracteres.',
    },
  );
  assert.deepEqual(fieldErrors(new Error('x')), {});
});

test('Portuguese messages for the team and password codes', () => {
  assert.match(errorMessage(new ApiError(409, 'last_admin', 'x')), /última pessoa administradora/);
  assert.match(errorMessage(new ApiError(409, 'cannot_change_self', 'x')), /própria conta/);
  assert.match(errorMessage(new ApiError(403, 'forbidden', 'x')), /Apenas administradores/);
  assert.match(errorMessage(new ApiError(401, 'session_revoked', 'x')), /sessão foi encerrada/);
  const err = new ApiError(422, 'validation_failed', 'x', {
    fields: { current_password: 'is not the current password', new_password: 'must have at least 8 characters' },
  });
  assert.deepEqual(fieldErrors(err), {
    current_password: 'A senha atual está incorreta.',
    new_password: 'A nova senha precisa ter pelo menos 8 caracteres.',
  });
});
