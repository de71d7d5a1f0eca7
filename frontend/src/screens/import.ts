// /importar (admins): import customers with access from a CSV file — "Validar" (a dry run: every bad line by
// its line number, and what each good line would do), then "Importar", enabled only for the validated content
// without errors — and "Ações em massa": extend or revoke every active access of a course, previewed first.

import { bulkRequest, describeBulk, describeImport } from '../access';
import { ApiError } from '../api';
import { h, mount, uid } from '../dom';
import { errorMessage } from '../errors';
import { formatDate } from '../format';
import { importProblemText, importResultText } from '../labels';
import { importReport, type ImportLineError, type ImportPreviewLine, type ImportReport } from '../types';
import { decode } from '../json';
import { badge, field, notice, setFieldError, table, tableRow, withBusy, type Column } from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

/** Rows of the preview table shown at most (the counts cover every line). */
const PREVIEW_ROWS = 1000;

const ERROR_COLUMNS: Column<ImportLineError>[] = [
  { label: 'Linha', cell: (e) => String(e.line), className: 'num' },
  { label: 'Problema', cell: (e) => importProblemText(e.code, e.value) },
];

const PREVIEW_COLUMNS: Column<ImportPreviewLine>[] = [
  { label: 'Linha', cell: (p) => String(p.line), className: 'num' },
  {
    label: 'E-mail',
    cell: (p) => [
      h('span', { class: 'break' }, p.email),
      p.new_customer ? h('span', { class: 'muted small block' }, 'cliente novo') : null,
    ],
  },
  { label: 'Curso', cell: (p) => p.course_name },
  { label: 'Expira em', cell: (p) => (p.expires_at ? formatDate(p.expires_at) : 'Vitalício') },
  {
    label: 'Resultado',
    cell: (p) =>
      badge({
        text: importResultText(p.result),
        tone: p.result === 'new_access' ? 'ok' : p.result === 'extend' ? 'info' : 'muted',
      }),
  },
];

function textArea(
  label: string,
  control: HTMLTextAreaElement,
  hint?: string,
): { wrapper: HTMLElement; error: HTMLElement } {
  const id = uid('f');
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-erro`, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', `${id}-erro`);
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'field-hint' }, hint) : null,
    control,
    error,
  );
  return { wrapper, error };
}

function reportView(r: ImportReport): HTMLElement {
  const errors = table('Linhas com erro', ERROR_COLUMNS);
  errors.body.append(...r.errors.map((e) => tableRow(ERROR_COLUMNS, e, { 'data-line': String(e.line) })));
  const preview = table('Pré-visualização', PREVIEW_COLUMNS);
  preview.body.append(
    ...r.preview.slice(0, PREVIEW_ROWS).map((p) => tableRow(PREVIEW_COLUMNS, p, { 'data-line': String(p.line) })),
  );
  const ok = r.errors.length === 0;
  return h(
    'div',
    { class: 'import-report' },
    notice(
      ok
        ? `${describeImport(r)}${r.imported ? '' : ' Nenhum erro: pode importar.'}`
        : `${describeImport(r)} Corrija as linhas abaixo e valide de novo: nada é importado enquanto houver erro.`,
      ok ? 'ok' : 'bad',
    ),
    r.errors.length
      ? h(
          'section',
          { class: 'import-errors', 'aria-labelledby': 'sec-erros' },
          h('h3', { id: 'sec-erros' }, `Linhas com erro (${r.errors.length})`),
          errors.table,
        )
      : null,
    r.preview.length
      ? h(
          'section',
          { class: 'import-preview', 'aria-labelledby': 'sec-previa' },
          h('h3', { id: 'sec-previa' }, r.imported ? 'Linhas importadas' : 'Pré-visualização'),
          r.preview.length > PREVIEW_ROWS
            ? h('p', { class: 'muted small' }, `Mostrando as primeiras ${PREVIEW_ROWS} de ${r.preview.length} linhas.`)
            : null,
          h('div', { class: 'scroll-box', tabindex: '0', 'aria-label': 'Pré-visualização das linhas' }, preview.table),
        )
      : null,
  );
}

function csvSection(ctx: Parameters<ScreenFactory>[0], life: Lifecycle): HTMLElement {
  const file = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', name: 'arquivo' });
  const fileField = field('Arquivo CSV', file);
  const text = h('textarea', { rows: '8', spellcheck: 'false', name: 'csv', class: 'mono' });
  const textField = textArea('Ou cole o conteúdo do CSV', text);
  const validate = h('button', { type: 'button', class: 'btn' }, 'Validar');
  const run = h('button', { type: 'button', class: 'btn btn-primary', disabled: true }, 'Importar');
  const status = h('p', { class: 'muted small', role: 'status' });
  const result = h('div', { 'aria-live': 'polite' });
  let validated: string | Blob | null = null;

  const source = (): string | Blob | null => file.files?.[0] ?? (text.value.trim() ? text.value : null);
  const invalidate = (): void => {
    validated = null;
    run.disabled = true;
  };
  file.addEventListener('change', () => {
    if (file.files?.length) text.value = '';
    invalidate();
  });
  text.addEventListener('input', () => {
    if (text.value) file.value = '';
    invalidate();
  });

  validate.addEventListener('click', () => {
    const csv = source();
    setFieldError(textField, text, csv ? null : 'Escolha um arquivo ou cole o conteúdo do CSV.');
    if (!csv) return;
    invalidate();
    status.textContent = '';
    withBusy(validate, 'Validando…', () => ctx.api.importAccess(csv, true)).then(
      (report) => {
        if (!life.alive) return;
        mount(result, reportView(report));
        if (report.errors.length === 0 && report.lines > 0 && source() === csv) {
          validated = csv;
          run.disabled = false;
        }
      },
      (err: unknown) => {
        if (!life.alive) return;
        if (err instanceof ApiError && err.code === 'import_has_errors') {
          try {
            mount(result, reportView(decode(importReport, err.details)));
            return;
          } catch {
            // fall through to the plain message
          }
        }
        mount(result, notice(errorMessage(err), 'bad'));
      },
    );
  });

  run.addEventListener('click', () => {
    const csv = validated;
    if (!csv) return;
    withBusy(run, 'Importando…', () => ctx.api.importAccess(csv, false)).then(
      (report) => {
        if (!life.alive) return;
        invalidate();
        mount(result, reportView(report));
      },
      (err: unknown) => {
        if (!life.alive) return;
        invalidate();
        if (err instanceof ApiError && err.code === 'import_has_errors') {
          try {
            mount(result, notice(errorMessage(err), 'bad'), reportView(decode(importReport, err.details)));
            return;
          } catch {
            // fall through to the plain message
          }
        }
        mount(result, notice(errorMessage(err), 'bad'));
      },
    );
  });

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sec-csv' },
    h('h2', { id: 'sec-csv' }, 'Importar clientes com acesso (CSV)'),
    h(
      'p',
      { class: 'muted small' },
      'Cabeçalho nome;email;curso;expira_em (separado por ; ou ,; UTF-8, com ou sem BOM). “curso” é o nome, o identificador ou o número do curso; “expira_em” vazio usa a duração do curso, ou uma data AAAA-MM-DD ou DD/MM/AAAA. Um acesso já ativo não recebe boas-vindas de novo.',
    ),
    fileField.wrapper,
    textField.wrapper,
    h('div', { class: 'toolbar' }, validate, run, status),
    h('p', { class: 'muted small' }, '“Importar” só fica disponível depois de validar, sem nenhuma linha com erro.'),
    result,
  );
}

function bulkSection(ctx: Parameters<ScreenFactory>[0], life: Lifecycle): HTMLElement {
  const course = h('select', { name: 'curso' }, h('option', { value: '' }, 'Carregando cursos…'));
  const courseField = field('Curso', course);
  const actionName = uid('acao');
  const extendRadio = h('input', { type: 'radio', name: actionName, value: 'extend', checked: true });
  const revokeRadio = h('input', { type: 'radio', name: actionName, value: 'revoke' });
  const days = h('input', {
    type: 'number',
    name: 'dias',
    min: '1',
    max: '36500',
    step: '1',
    value: '30',
    inputmode: 'numeric',
  });
  const daysField = field('Quantidade de dias', days, 'Somados ao fim de cada acesso ativo.');
  const reason = h('textarea', { name: 'motivo', rows: '2', maxlength: '500' });
  const reasonField = textArea('Motivo', reason);
  const preview = h('button', { type: 'button', class: 'btn' }, 'Pré-visualizar');
  const confirm = h('button', { type: 'button', class: 'btn btn-primary', disabled: true }, 'Confirmar');
  const result = h('div', { 'aria-live': 'polite' });
  ctx.api.courses().then(
    (list) => {
      if (!life.alive) return;
      course.replaceChildren(
        h('option', { value: '' }, 'Escolha o curso'),
        ...list.map((c) => h('option', { value: c.id }, c.name)),
      );
    },
    (err: unknown) => {
      if (!life.alive) return;
      course.replaceChildren(h('option', { value: '' }, 'Cursos indisponíveis'));
      setFieldError(courseField, course, `Não foi possível carregar os cursos: ${errorMessage(err)}`);
    },
  );

  const action = (): 'extend' | 'revoke' => (revokeRadio.checked ? 'revoke' : 'extend');
  const sync = (): void => {
    daysField.wrapper.hidden = action() === 'revoke';
    confirm.disabled = true;
  };
  for (const el of [extendRadio, revokeRadio, course, days, reason]) {
    el.addEventListener('input', sync);
    el.addEventListener('change', sync);
  }
  const checked = () => {
    const c = bulkRequest({ action: action(), term: 'days', days: days.value, until: '', reason: reason.value });
    setFieldError(courseField, course, course.value ? null : 'Escolha o curso.');
    setFieldError(daysField, days, !c.ok ? (c.errors['days'] ?? null) : null);
    setFieldError(reasonField, reason, !c.ok ? (c.errors['reason'] ?? null) : null);
    return c.ok && course.value ? { courseId: course.value, body: c.body } : null;
  };
  const ask = (dryRun: boolean, button: HTMLButtonElement): void => {
    const req = checked();
    if (!req) return;
    withBusy(button, dryRun ? 'Calculando…' : 'Aplicando…', () =>
      ctx.api.bulkEnrollments(req.courseId, req.body, dryRun),
    ).then(
      (answer) => {
        if (!life.alive) return;
        mount(result, notice(describeBulk(answer), dryRun ? 'info' : 'ok'));
        confirm.disabled = !dryRun || answer.changed === 0;
      },
      (err: unknown) => {
        if (!life.alive) return;
        confirm.disabled = true;
        mount(result, notice(errorMessage(err), 'bad'));
      },
    );
  };
  preview.addEventListener('click', () => ask(true, preview));
  confirm.addEventListener('click', () => ask(false, confirm));

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sec-massa' },
    h('h2', { id: 'sec-massa' }, 'Ações em massa'),
    h(
      'p',
      { class: 'muted small' },
      'Estende ou revoga todos os acessos ativos de um curso (por exemplo, para encerrar uma turma). Pré-visualize para ver quantos serão afetados, depois confirme.',
    ),
    courseField.wrapper,
    h(
      'fieldset',
      { class: 'radios' },
      h('legend', null, 'Ação'),
      h('label', { class: 'radio' }, extendRadio, 'Estender'),
      h('label', { class: 'radio' }, revokeRadio, 'Revogar'),
    ),
    daysField.wrapper,
    reasonField.wrapper,
    h('div', { class: 'toolbar' }, preview, confirm),
    result,
  );
}

export const importScreen: ScreenFactory = (ctx) => {
  const life = new Lifecycle();
  const title = h('h1', { tabindex: '-1' }, 'Importar');
  const role = h('div');
  ctx.api.me().then(
    (me) => {
      if (life.alive && me.role !== 'admin')
        mount(
          role,
          notice('Apenas administradores podem importar ou fazer ações em massa: o servidor vai recusar.', 'info'),
        );
    },
    () => undefined,
  );
  const el = h(
    'section',
    { class: 'screen' },
    h('div', { class: 'screen-head' }, title),
    role,
    csvSection(ctx, life),
    bulkSection(ctx, life),
  );
  return { title: 'Importar', el, dispose: life.dispose };
};
