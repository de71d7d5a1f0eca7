// The catalog's forms as plain functions: what the staff typed → the API body, or the pt-BR message of
// each field at fault (the server checks the same rules again).

import type { CourseInput, MappingInput } from './catalog-types';

export const MAX_ACCESS_DAYS = 36_500;

export interface CourseFormValues {
  name: string;
  /** The "Duração (dias)" field as typed. */
  days: string;
  lifetime: boolean;
  url: string;
  active: boolean;
}

export interface MappingFormValues {
  source: string;
  product: string;
  offer: string;
  courseIds: string[];
}

export type FormResult<T> = { ok: true; body: T } | { ok: false; errors: Record<string, string> };

function finish<T>(errors: Record<string, string>, body: () => T): FormResult<T> {
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body: body() };
}

/** A course's body; every field is sent (a PATCH with them all is an edit of the whole form). */
export function courseBody(v: CourseFormValues): FormResult<CourseInput> {
  const errors: Record<string, string> = {};
  const name = v.name.trim();
  if (!name || name.length > 200) errors['name'] = 'Informe um nome (de 1 a 200 caracteres).';
  let days: number | null = null;
  if (!v.lifetime) {
    const text = v.days.trim();
    days = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(days) || days < 1 || days > MAX_ACCESS_DAYS) {
      errors['access_days'] = 'Informe a duração em dias (de 1 a 36.500) ou marque Acesso vitalício.';
    }
  }
  const url = v.url.trim();
  if (url && !/^https?:\/\/[^\s/?#@]+/i.test(url)) {
    errors['access_url'] = 'Informe um endereço que comece com https:// (ou deixe vazio).';
  }
  return finish(errors, () => ({ name, access_days: days, access_url: url || null, active: v.active }));
}

export function mappingBody(v: MappingFormValues): FormResult<MappingInput> {
  const errors: Record<string, string> = {};
  const product = v.product.trim();
  if (!product) errors['external_product_id'] = 'Informe o ID do produto, como a plataforma o envia.';
  if (!v.source) errors['source'] = 'Escolha a plataforma.';
  if (v.courseIds.length === 0) errors['course_ids'] = 'Escolha pelo menos um curso.';
  const offer = v.offer.trim();
  return finish(errors, () => ({
    source: v.source as MappingInput['source'],
    external_product_id: product,
    offer_code: offer || null,
    course_ids: v.courseIds.map(Number),
  }));
}
