// The customer page's access actions: per enrollment "Estender", "Revogar", "Reenviar boas-vindas" (active)
// or "Conceder de novo" (not active), and "Conceder acesso" for any course of the catalog. Each opens an
// in-page <dialog> with a required "Motivo" (optional for the welcome).

import { accessRequest, describeAccess, welcomeReason, type AccessForm, type TermChoice } from '../access';
import type { ApiClient } from '../api';
import { h, uid } from '../dom';
import { errorMessage } from '../errors';
import { formatDate } from '../format';
import type { Course } from '../catalog-types';
import type { AccessAnswer, Enrollment } from '../types';
import { field, notice, setFieldError, type Column, type FieldParts } from './common';
import { formDialog, InvalidForm, type FormDialog } from './dialog';

interface Ctx {
  api: ApiClient;
  customerId: string;
  customerLabel: () => string;
  /** Called after a change, with the sentence to announce. */
  done: (message: string) => void;
}

const TERMS: Record<TermChoice, string> = {
  course: 'Duração do curso',
  days: 'Por dias',
  until: 'Até uma data',
  lifetime: 'Vitalício',
};

/** The fields of a grant or an extension: how long (radio), days, date, reason. */
function termFields(choices: TermChoice[]) {
  const name = uid('prazo');
  const radios = choices.map((c) => {
    const input = h('input', { type: 'radio', name, value: c });
    return { c, input, label: h('label', { class: 'radio' }, input, TERMS[c]) };
  });
  const days = h('input', { type: 'number', name: 'days', min: '1', max: '36500', step: '1', inputmode: 'numeric' });
  const until = h('input', { type: 'date', name: 'until' });
  const reason = h('textarea', { name: 'reason', rows: '3', maxlength: '500', required: true });
  const daysField = field('Quantidade de dias', days);
  const untilField = field('Data final', until, 'O acesso vale até o fim deste dia (horário de Brasília).');
  const reasonField = textField('Motivo', reason, 'Obrigatório: fica registrado na linha do tempo e na auditoria.');
  const termError = h('p', { class: 'field-error', 'aria-live': 'polite' });
  const sync = (): void => {
    const chosen = radios.find((r) => r.input.checked)?.c;
    daysField.wrapper.hidden = chosen !== 'days';
    untilField.wrapper.hidden = chosen !== 'until';
  };
  for (const r of radios) r.input.addEventListener('change', sync);
  const group = h(
    'fieldset',
    { class: 'radios' },
    h('legend', null, 'Prazo'),
    radios.map((r) => r.label),
    termError,
  );
  return {
    el: [group, daysField.wrapper, untilField.wrapper, reasonField.wrapper],
    reset(choice: TermChoice, defaultDays = ''): void {
      for (const r of radios) r.input.checked = r.c === choice;
      days.value = defaultDays;
      until.value = '';
      reason.value = '';
      for (const [parts, control] of [
        [daysField, days],
        [untilField, until],
        [reasonField, reason],
      ] as const)
        setFieldError(parts, control, null);
      termError.textContent = '';
      sync();
    },
    values(): Pick<AccessForm, 'term' | 'days' | 'until' | 'reason'> {
      const term = radios.find((r) => r.input.checked)?.c ?? choices[0] ?? 'days';
      return { term, days: days.value, until: until.value, reason: reason.value };
    },
    showErrors(errors: Record<string, string>): boolean {
      const chosen = radios.find((r) => r.input.checked)?.c;
      setFieldError(daysField, days, errors['days'] && chosen === 'days' ? errors['days'] : null);
      setFieldError(untilField, until, errors['until'] ?? null);
      setFieldError(reasonField, reason, errors['reason'] ?? null);
      termError.textContent = errors['days'] && chosen !== 'days' ? errors['days'] : '';
      return Object.keys(errors).length > 0;
    },
    reasonOnly: { reason, reasonField },
  };
}

/** A label + textarea, like `field` for inputs. */
function textField(label: string, control: HTMLTextAreaElement, hint?: string): FieldParts {
  const id = uid('f');
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-erro`, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', hint ? `${id}-dica ${id}-erro` : `${id}-erro`);
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'field-hint', id: `${id}-dica` }, hint) : null,
    error,
  );
  return { wrapper, error };
}

function accessDialog(
  ctx: Ctx,
  action: 'grant' | 'extend',
  title: string,
  submitLabel: string,
  course: () => { id: string; name: string } | null,
  extraFields: HTMLElement | null,
  onOpen: (t: ReturnType<typeof termFields>) => void,
  courseError: (message: string | null) => void = () => undefined,
): FormDialog {
  const choices: TermChoice[] =
    action === 'grant' ? ['course', 'days', 'until', 'lifetime'] : ['days', 'until', 'lifetime'];
  const t = termFields(choices);
  return formDialog({
    title,
    fields: [extraFields, ...t.el],
    submitLabel,
    busyLabel: 'Salvando…',
    onOpen: () => onOpen(t),
    showFieldErrors: (errors) => t.showErrors(errors),
    submit: async () => {
      const c = course();
      const checked = accessRequest({ action, courseId: c?.id ?? '', ...t.values() });
      courseError(checked.ok ? null : (checked.errors['course_id'] ?? null));
      if (!checked.ok) {
        t.showErrors(checked.errors);
        throw new InvalidForm();
      }
      const answer: AccessAnswer = await ctx.api.changeAccess(ctx.customerId, checked.body);
      ctx.done(describeAccess(action, answer));
    },
  });
}

function revokeDialog(ctx: Ctx, e: Enrollment): FormDialog {
  const reason = h('textarea', { name: 'reason', rows: '3', maxlength: '500', required: true });
  const reasonField = textField('Motivo', reason, 'Obrigatório: fica registrado na linha do tempo e na auditoria.');
  return formDialog({
    title: `Revogar acesso — ${e.course_name}`,
    fields: [
      h('p', null, 'O acesso termina agora e a tratativa “Revogar acesso” vai para a fila.'),
      reasonField.wrapper,
    ],
    submitLabel: 'Revogar',
    busyLabel: 'Revogando…',
    onOpen: () => {
      reason.value = '';
      setFieldError(reasonField, reason, null);
    },
    showFieldErrors: (errors) => {
      setFieldError(reasonField, reason, errors['reason'] ?? null);
      return !!errors['reason'];
    },
    submit: async () => {
      const checked = accessRequest({
        action: 'revoke',
        courseId: e.course_id,
        term: 'days',
        days: '',
        until: '',
        reason: reason.value,
      });
      if (!checked.ok) {
        setFieldError(reasonField, reason, checked.errors['reason'] ?? null);
        throw new InvalidForm();
      }
      ctx.done(describeAccess('revoke', await ctx.api.changeAccess(ctx.customerId, checked.body)));
    },
  });
}

function welcomeDialog(ctx: Ctx, e: Enrollment): FormDialog {
  const reason = h('textarea', { name: 'reason', rows: '2', maxlength: '500' });
  const reasonField = textField('Motivo (opcional)', reason);
  return formDialog({
    title: `Reenviar boas-vindas — ${e.course_name}`,
    fields: [h('p', null, 'A mensagem de boas-vindas vai de novo para a fila.'), reasonField.wrapper],
    submitLabel: 'Reenviar',
    busyLabel: 'Enviando…',
    onOpen: () => {
      reason.value = '';
      setFieldError(reasonField, reason, null);
    },
    showFieldErrors: (errors) => {
      setFieldError(reasonField, reason, errors['reason'] ?? null);
      return !!errors['reason'];
    },
    submit: async () => {
      const checked = welcomeReason(reason.value);
      if (!checked.ok) {
        setFieldError(reasonField, reason, checked.errors['reason'] ?? null);
        throw new InvalidForm();
      }
      ctx.done(describeAccess('welcome', await ctx.api.resendWelcome(ctx.customerId, e.course_id, checked.body)));
    },
  });
}

function isOn(e: Enrollment): boolean {
  return e.status === 'active';
}

function small(text: string, onClick: () => void, extra = ''): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `btn btn-small ${extra}`.trim() }, text);
  b.addEventListener('click', onClick);
  return b;
}

/** The "Ações" column of the enrollments table. */
export function accessColumn(ctx: Ctx): Column<Enrollment> {
  return {
    label: 'Ações',
    cell: (e) => {
      if (!isOn(e)) {
        const grant = accessDialog(
          ctx,
          'grant',
          `Conceder acesso — ${e.course_name}`,
          'Conceder',
          () => ({ id: e.course_id, name: e.course_name }),
          null,
          (t) => t.reset('course'),
        );
        return h('div', { class: 'row-actions' }, small('Conceder de novo', grant.open));
      }
      const extend = accessDialog(
        ctx,
        'extend',
        `Estender acesso — ${e.course_name}`,
        'Estender',
        () => ({ id: e.course_id, name: e.course_name }),
        e.expires_at
          ? h('p', null, `O acesso termina em ${formatDate(e.expires_at)}; os dias contam a partir daí.`)
          : h('p', null, 'Este acesso é vitalício.'),
        (t) => t.reset('days', '30'),
      );
      const revoke = revokeDialog(ctx, e);
      const welcome = welcomeDialog(ctx, e);
      return h(
        'div',
        { class: 'row-actions' },
        e.expires_at ? small('Estender', extend.open) : null,
        small('Revogar', revoke.open, 'btn-danger'),
        small('Reenviar boas-vindas', welcome.open, 'btn-ghost'),
      );
    },
  };
}

/** "Conceder acesso": any course of the catalog (loaded when the dialog opens). */
export function grantButton(ctx: Ctx): HTMLElement {
  const courseSelect = h('select', { name: 'course_id', required: true });
  const courseField = field('Curso', courseSelect);
  const status = h('p', { class: 'muted small', role: 'status' });
  let courses: Course[] = [];
  const load = (): void => {
    status.textContent = 'Carregando cursos…';
    courseSelect.replaceChildren(h('option', { value: '' }, 'Escolha o curso'));
    ctx.api.courses().then(
      (list) => {
        courses = list.filter((c) => c.active);
        courseSelect.append(
          ...courses.map((c) =>
            h('option', { value: c.id }, c.access_days ? `${c.name} (${c.access_days} dias)` : `${c.name} (vitalício)`),
          ),
        );
        status.textContent = courses.length ? '' : 'Nenhum curso no catálogo.';
      },
      (err: unknown) => {
        status.textContent = `Não foi possível carregar os cursos: ${errorMessage(err)}`;
      },
    );
  };
  const dialog = accessDialog(
    ctx,
    'grant',
    'Conceder acesso',
    'Conceder',
    () => {
      const c = courses.find((x) => x.id === courseSelect.value);
      return c ? { id: c.id, name: c.name } : null;
    },
    h('div', null, courseField.wrapper, status),
    (t) => {
      setFieldError(courseField, courseSelect, null);
      t.reset('course');
      load();
    },
    (message) => setFieldError(courseField, courseSelect, message),
  );
  return small('Conceder acesso', dialog.open, 'btn-primary');
}

/** The line announcing the last change (kept across the page's refresh). */
export function accessNotice(message: string): HTMLElement {
  return notice(message, 'ok');
}
