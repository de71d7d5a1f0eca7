// /catalogo: the courses (name, duration or lifetime, access URL, on sale), the product mappings (a
// platform's product, optionally one offer or plan of it → one or more courses) and the products seen in
// webhooks without a mapping, each with "Mapear". Creating and editing happen in an in-page <dialog>.

import { courseBody, mappingBody, type FormResult } from '../catalog-form';
import { durationText, type Course, type Mapping, type UnmappedProduct } from '../catalog-types';
import { h, mount, uid, type Child } from '../dom';
import { errorMessage, fieldErrors } from '../errors';
import { formatDateTime, formatNumber, sourceLabel } from '../format';
import { SOURCES } from '../types';
import {
  badge,
  emptyState,
  errorState,
  field,
  loadingState,
  notice,
  select,
  setFieldError,
  table,
  tableRow,
  withBusy,
  type Column,
  type FieldParts,
} from '../ui/common';
import { Lifecycle, type ScreenFactory } from './screen';

interface Catalog {
  courses: Course[];
  mappings: Mapping[];
  unmapped: UnmappedProduct[];
  /** Only admins change the catalog: the others see it without the buttons. */
  admin: boolean;
}

/** One labelled control of a dialog form and the field-error slot the API's `details.fields` fill. */
interface FormField {
  control: HTMLInputElement | HTMLSelectElement | HTMLFieldSetElement;
  parts: FieldParts;
}

/** A modal <dialog> with a form: the title, the fields, "Salvar" / "Cancelar", and a message line. */
function formDialog(
  title: string,
  fields: Child,
  submitText: string,
  onSubmit: (dialog: HTMLDialogElement, message: HTMLElement, submit: HTMLButtonElement) => void,
): HTMLDialogElement {
  const titleId = uid('dlg');
  const message = h('div', { class: 'form-messages', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitText);
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Cancelar');
  const form = h(
    'form',
    { novalidate: true },
    h('h2', { id: titleId }, title),
    message,
    fields,
    h('div', { class: 'actions' }, submit, cancel),
  );
  const dialog = h('dialog', { class: 'modal', 'aria-labelledby': titleId }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit(dialog, message, submit);
  });
  return dialog;
}

/** Shows the pt-BR message of each field at fault (client check or the API's 422) and focuses the first. */
function showErrors(fields: Record<string, FormField>, errors: Record<string, string>): void {
  let first: HTMLElement | null = null;
  for (const [name, f] of Object.entries(fields)) {
    const message = errors[name] ?? null;
    setFieldError(f.parts, f.control, message);
    if (message && !first)
      first = f.control instanceof HTMLFieldSetElement ? f.control.querySelector('input') : f.control;
  }
  first?.focus();
}

/** Sends a checked form: the field errors of a 422 go next to their fields, anything else above. */
function send<T>(
  result: FormResult<T>,
  fields: Record<string, FormField>,
  message: HTMLElement,
  submit: HTMLButtonElement,
  request: (body: T) => Promise<unknown>,
  done: () => void,
): void {
  mount(message);
  if (!result.ok) {
    showErrors(fields, result.errors);
    return;
  }
  showErrors(fields, {});
  withBusy(submit, 'Salvando…', () => request(result.body)).then(done, (err: unknown) => {
    const byField = fieldErrors(err);
    if (Object.keys(byField).length) showErrors(fields, byField);
    mount(message, notice(errorMessage(err), 'bad'));
  });
}

function input(name: string, attrs: Record<string, string | boolean> = {}): HTMLInputElement {
  return h('input', { name, type: 'text', autocomplete: 'off', ...attrs });
}

function textField(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): FormField {
  return { control, parts: field(label, control, hint) };
}

function checkbox(label: string, checked: boolean): { wrapper: HTMLElement; box: HTMLInputElement } {
  const box = h('input', { type: 'checkbox', class: 'check' });
  box.checked = checked;
  return { box, wrapper: h('label', { class: 'check-label' }, box, label) };
}

// --- courses --------------------------------------------------------------------------------

const DURATION_HINT =
  'Mudar a duração vale para os próximos acessos liberados: quem já tem acesso mantém a data de término atual.';

function courseDialog(
  course: Course | null,
  save: (body: ReturnType<typeof courseBody>, webhookUrl: string | null) => Promise<void>,
): HTMLDialogElement {
  const name = input('name', { maxlength: '200', required: true });
  const webhook = input('access_webhook_url', { type: 'url', inputmode: 'url', placeholder: 'https://' });
  webhook.value = course?.access_webhook_url ?? '';
  const days = input('access_days', { type: 'number', min: '1', max: '36500', step: '1', inputmode: 'numeric' });
  const lifetime = checkbox('Acesso vitalício (sem data de término)', course ? course.access_days === null : false);
  const url = input('access_url', { type: 'url', inputmode: 'url', placeholder: 'https://' });
  const active = checkbox('Ativo (à venda)', course?.active ?? true);
  name.value = course?.name ?? '';
  days.value = course?.access_days !== null && course?.access_days !== undefined ? String(course.access_days) : '';
  url.value = course?.access_url ?? '';
  const fields: Record<string, FormField> = {
    name: textField('Nome', name),
    access_days: textField('Duração (dias)', days, DURATION_HINT),
    access_url: textField('URL de acesso', url, 'O endereço da área de membros, enviado na mensagem de boas-vindas.'),
    access_webhook_url: textField(
      'Webhook da plataforma do curso (opcional)',
      webhook,
      'Recebe os avisos assinados de acesso liberado, estendido e removido deste curso. Vazio: o endereço padrão do servidor.',
    ),
  };
  const syncDays = (): void => {
    days.disabled = lifetime.box.checked;
    if (lifetime.box.checked) days.value = '';
  };
  lifetime.box.addEventListener('change', syncDays);
  syncDays();
  return formDialog(
    course ? `Editar curso: ${course.name}` : 'Novo curso',
    [
      fields['name']?.parts.wrapper,
      fields['access_days']?.parts.wrapper,
      lifetime.wrapper,
      fields['access_url']?.parts.wrapper,
      // set on an existing course (PATCH), not at creation
      course ? fields['access_webhook_url']?.parts.wrapper : undefined,
      active.wrapper,
    ],
    'Salvar curso',
    (dialog, message, submit) => {
      const result = courseBody({
        name: name.value,
        days: days.value,
        lifetime: lifetime.box.checked,
        url: url.value,
        active: active.box.checked,
      });
      send(
        result,
        fields,
        message,
        submit,
        () => save(result, webhook.value.trim() || null),
        () => dialog.close(),
      );
    },
  );
}

function courseColumns(edit: (c: Course) => void): Column<Course>[] {
  return [
    {
      label: 'Curso',
      cell: (c) => [h('strong', null, c.name), h('span', { class: 'muted small block' }, c.slug)],
    },
    { label: 'Duração', cell: (c) => durationText(c.access_days) },
    {
      label: 'URL de acesso',
      cell: (c) =>
        c.access_url
          ? h('a', { href: c.access_url, target: '_blank', rel: 'noopener noreferrer', class: 'break' }, c.access_url)
          : '—',
    },
    {
      label: 'Situação',
      cell: (c) => badge(c.active ? { text: 'Ativo', tone: 'ok' } : { text: 'Inativo', tone: 'muted' }),
    },
    { label: 'Acessos ativos', cell: (c) => formatNumber(c.active_enrollments), className: 'num' },
    { label: 'Mapeamentos', cell: (c) => formatNumber(c.mappings), className: 'num' },
    {
      label: 'Ações',
      cell: (c) =>
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small',
            'aria-label': `Editar curso ${c.name}`,
            on: { click: () => edit(c) },
          },
          'Editar',
        ),
    },
  ];
}

// --- mappings -------------------------------------------------------------------------------

interface MappingPrefill {
  source: string;
  product: string;
  offer: string;
  courseIds: string[];
}

function mappingDialog(
  mapping: Mapping | null,
  prefill: MappingPrefill | null,
  courses: Course[],
  save: (result: ReturnType<typeof mappingBody>) => Promise<void>,
): HTMLDialogElement {
  const start: MappingPrefill = mapping
    ? {
        source: mapping.source,
        product: mapping.external_product_id,
        offer: mapping.offer_code ?? '',
        courseIds: mapping.courses.map((c) => c.id),
      }
    : (prefill ?? { source: 'kiwify', product: '', offer: '', courseIds: [] });
  const source = select(
    'source',
    SOURCES.map((s) => [s, sourceLabel(s).text]),
    start.source,
  );
  const product = input('external_product_id', { maxlength: '200' });
  product.value = start.product;
  const offer = input('offer_code', { maxlength: '200' });
  offer.value = start.offer;
  if (mapping) {
    // a mapping's platform and product are its identity: to move it, delete it and map again
    source.disabled = true;
    product.readOnly = true;
  }
  const boxes = courses.map((c) => {
    const box = h('input', { type: 'checkbox', class: 'check', value: c.id });
    box.checked = start.courseIds.includes(c.id);
    const extra = `${durationText(c.access_days)}${c.active ? '' : ' · inativo'}`;
    return {
      box,
      label: h('label', { class: 'check-label' }, box, c.name, h('span', { class: 'muted small' }, ` — ${extra}`)),
    };
  });
  const legendId = uid('lg');
  const coursesError = h('p', { class: 'field-error', id: `${legendId}-erro`, 'aria-live': 'polite' });
  const coursesSet = h(
    'fieldset',
    { class: 'field checks', 'aria-describedby': coursesError.id },
    h('legend', { id: legendId }, 'Cursos liberados'),
    boxes.length
      ? boxes.map((b) => b.label)
      : h('p', { class: 'muted' }, 'Nenhum curso ainda: crie um curso primeiro.'),
    coursesError,
  );
  const fields: Record<string, FormField> = {
    source: textField('Plataforma', source),
    external_product_id: textField('ID do produto', product, 'Exatamente como a plataforma o envia no webhook.'),
    offer_code: textField(
      'Oferta ou plano (opcional)',
      offer,
      'Vazio: vale para todas as ofertas do produto que não tenham mapeamento próprio.',
    ),
    course_ids: { control: coursesSet, parts: { wrapper: coursesSet, error: coursesError } },
  };
  return formDialog(
    mapping ? 'Editar mapeamento' : 'Novo mapeamento',
    [
      fields['source']?.parts.wrapper,
      fields['external_product_id']?.parts.wrapper,
      fields['offer_code']?.parts.wrapper,
      coursesSet,
    ],
    'Salvar mapeamento',
    (dialog, message, submit) => {
      const result = mappingBody({
        source: source.value,
        product: product.value,
        offer: offer.value,
        courseIds: boxes.filter((b) => b.box.checked).map((b) => b.box.value),
      });
      send(
        result,
        fields,
        message,
        submit,
        () => save(result),
        () => dialog.close(),
      );
    },
  );
}

function confirmDialog(text: string, action: string, run: () => Promise<void>): HTMLDialogElement {
  return formDialog(action, h('p', null, text), action, (dialog, message, submit) => {
    mount(message);
    withBusy(submit, 'Excluindo…', run).then(
      () => dialog.close(),
      (err: unknown) => mount(message, notice(errorMessage(err), 'bad')),
    );
  });
}

function productCell(source: string, id: string, name: string | null): Child {
  return [
    name ? h('strong', null, name) : null,
    h('span', { class: `output small${name ? ' block' : ''}` }, id),
    h('span', { class: 'visually-hidden' }, ` (${sourceLabel(source).text})`),
  ];
}

// --- the screen -----------------------------------------------------------------------------

export const catalogScreen: ScreenFactory = (ctx, route) => {
  const life = new Lifecycle();
  const api = ctx.api;
  const status = h('div', { class: 'alerts', 'aria-live': 'polite' });
  const area = h('div', { class: 'catalog' }, loadingState());
  let data: Catalog = { courses: [], mappings: [], unmapped: [], admin: false };
  let focusUnmapped = route.query.get('ver') === 'sem-mapeamento';

  const open = (dialog: HTMLDialogElement): void => {
    el.append(dialog);
    dialog.showModal();
    dialog.querySelector<HTMLElement>('input:not([disabled]):not([readonly]), select:not([disabled])')?.focus();
  };
  const saved = (text: string): void => {
    mount(status, notice(text, 'ok'));
    load();
  };

  const editCourse = (course: Course | null): void =>
    open(
      courseDialog(course, async (result, webhookUrl) => {
        if (!result.ok) return;
        if (course) await api.updateCourse(course.id, { ...result.body, access_webhook_url: webhookUrl });
        else await api.createCourse(result.body);
        saved(course ? `Curso “${result.body.name}” salvo.` : `Curso “${result.body.name}” criado.`);
      }),
    );

  const editMapping = (mapping: Mapping | null, prefill: MappingPrefill | null = null): void =>
    open(
      mappingDialog(mapping, prefill, data.courses, async (result) => {
        if (!result.ok) return;
        if (mapping) {
          await api.updateMapping(mapping.id, {
            offer_code: result.body.offer_code ?? null,
            course_ids: result.body.course_ids,
          });
        } else {
          await api.createMapping(result.body);
        }
        saved(mapping ? 'Mapeamento salvo.' : 'Mapeamento criado.');
      }),
    );

  const removeMapping = (m: Mapping): void =>
    open(
      confirmDialog(
        `O produto ${m.external_product_id}${m.offer_code ? ` (oferta ${m.offer_code})` : ''} volta a liberar o curso criado automaticamente para ele. Os acessos já liberados não mudam.`,
        'Excluir mapeamento',
        async () => {
          await api.deleteMapping(m.id);
          saved('Mapeamento excluído.');
        },
      ),
    );

  const allMappingColumns: Column<Mapping>[] = [
    { label: 'Plataforma', cell: (m) => badge(sourceLabel(m.source)) },
    { label: 'Produto', cell: (m) => productCell(m.source, m.external_product_id, m.product_name) },
    {
      label: 'Oferta ou plano',
      cell: (m) => (m.offer_code ? h('span', { class: 'output' }, m.offer_code) : 'Todas as ofertas'),
    },
    {
      label: 'Cursos',
      cell: (m) =>
        h(
          'ul',
          { class: 'plain compact' },
          m.courses.map((c) =>
            h(
              'li',
              null,
              c.name,
              h('span', { class: 'muted small' }, ` — ${durationText(c.access_days)}${c.active ? '' : ' · inativo'}`),
            ),
          ),
        ),
    },
    {
      label: 'Ações',
      cell: (m) =>
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              'aria-label': `Editar mapeamento ${m.external_product_id}`,
              on: { click: () => editMapping(m) },
            },
            'Editar',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-ghost',
              'aria-label': `Excluir mapeamento ${m.external_product_id}`,
              on: { click: () => removeMapping(m) },
            },
            'Excluir',
          ),
        ),
    },
  ];

  const allUnmappedColumns: Column<UnmappedProduct>[] = [
    { label: 'Plataforma', cell: (p) => badge(sourceLabel(p.source)) },
    { label: 'Produto', cell: (p) => productCell(p.source, p.external_product_id, p.product_name) },
    { label: 'Visto pela primeira vez', cell: (p) => formatDateTime(p.first_seen) },
    { label: 'Pedidos', cell: (p) => formatNumber(p.orders), className: 'num' },
    { label: 'Libera hoje', cell: (p) => p.course_name },
    {
      label: 'Ações',
      cell: (p) =>
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small btn-primary',
            'aria-label': `Mapear produto ${p.external_product_id}`,
            on: {
              click: () =>
                editMapping(null, {
                  source: p.source,
                  product: p.external_product_id,
                  offer: '',
                  courseIds: [p.course_id],
                }),
            },
          },
          'Mapear',
        ),
    },
  ];

  function section(id: string, title: string, actions: Child, intro: Child, body: Child): HTMLElement {
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': id },
      h('div', { class: 'panel-head' }, h('h2', { id, tabindex: '-1' }, title), actions),
      intro,
      body,
    );
  }

  /** The columns a staff member may use: no "Ações" for who cannot change the catalog. */
  const usable = <T>(columns: Column<T>[]): Column<T>[] =>
    data.admin ? columns : columns.filter((c) => c.label !== 'Ações');

  function view(): Child {
    const courseCols = usable(courseColumns((c) => editCourse(c)));
    const mappingColumns = usable(allMappingColumns);
    const unmappedColumns = usable(allUnmappedColumns);
    const courseTable = table('Cursos', courseCols);
    mount(
      courseTable.body,
      data.courses.map((c) => tableRow(courseCols, c, { 'data-course': c.id })),
    );
    const mappingTable = table('Mapeamentos de produtos', mappingColumns);
    mount(
      mappingTable.body,
      data.mappings.map((m) => tableRow(mappingColumns, m, { 'data-mapping': m.id })),
    );
    const unmappedTable = table('Produtos sem mapeamento', unmappedColumns);
    mount(
      unmappedTable.body,
      data.unmapped.map((p) => tableRow(unmappedColumns, p)),
    );
    const adminOnly = (button: HTMLElement): HTMLElement | null => (data.admin ? button : null);
    return [
      data.admin
        ? null
        : notice('Somente administradores podem alterar o catálogo; aqui você consulta cursos e mapeamentos.', 'info'),
      section(
        'sec-cursos',
        'Cursos',
        adminOnly(
          h(
            'button',
            { type: 'button', class: 'btn btn-primary', on: { click: () => editCourse(null) } },
            'Novo curso',
          ),
        ),
        notice(
          'A duração vale para os próximos acessos liberados: mudar a duração de um curso não altera a data de término de quem já tem acesso. Um curso inativo continua sendo liberado pelos produtos mapeados para ele.',
          'info',
        ),
        data.courses.length
          ? courseTable.table
          : emptyState(
              'Nenhum curso ainda.',
              'Crie um curso ou aguarde o primeiro webhook: cada produto novo ganha um curso automático.',
            ),
      ),
      section(
        'sec-mapeamentos',
        'Mapeamentos de produtos',
        adminOnly(
          h(
            'button',
            { type: 'button', class: 'btn btn-primary', on: { click: () => editMapping(null) } },
            'Novo mapeamento',
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          'Um produto (ou uma oferta ou plano dele) libera um ou mais cursos, cada um com a sua duração. Vale o mapeamento da oferta comprada; sem ele, o do produto (todas as ofertas); sem nenhum, o curso criado automaticamente para o produto.',
        ),
        data.mappings.length
          ? mappingTable.table
          : emptyState(
              'Nenhum mapeamento ainda.',
              'Sem mapeamento, cada produto libera o curso criado automaticamente para ele.',
            ),
      ),
      section(
        'sem-mapeamento',
        'Produtos sem mapeamento',
        null,
        h(
          'p',
          { class: 'muted' },
          'Produtos vistos nos webhooks que nenhum mapeamento cobre: hoje eles liberam o curso criado automaticamente.',
        ),
        data.unmapped.length ? unmappedTable.table : emptyState('Todos os produtos vistos têm mapeamento.'),
      ),
    ];
  }

  let loadedOnce = false;
  let adminCheck: Promise<boolean> | null = null;
  function load(): void {
    // who may change the catalog (asked once; the server decides anyway: 403 for a suporte)
    adminCheck ??= api.me().then(
      (me) => me.role === 'admin',
      () => true,
    );
    Promise.all([api.courses(), api.mappings(), api.unmappedProducts(), adminCheck]).then(
      ([courses, mappings, unmapped, isAdmin]) => {
        if (!life.alive) return;
        loadedOnce = true;
        data = { courses, mappings, unmapped, admin: isAdmin };
        mount(area, view());
        if (focusUnmapped) {
          focusUnmapped = false;
          const target = area.querySelector<HTMLElement>('#sem-mapeamento');
          target?.scrollIntoView();
          target?.focus();
        }
      },
      (err: unknown) => {
        if (!life.alive) return;
        if (loadedOnce) mount(status, notice(errorMessage(err), 'bad'));
        else mount(area, errorState(err, load));
      },
    );
  }
  load();

  const el = h(
    'section',
    { class: 'screen' },
    h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, 'Catálogo')),
    status,
    area,
  );
  return { title: 'Catálogo', el, dispose: life.dispose };
};
