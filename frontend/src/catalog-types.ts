// The catalog's shapes (courses, product mappings, products seen without a mapping), derived from the
// generated contract types, and their runtime decoders.

import type { components } from './api-types.gen';
import { array, bool, nullable, num, object, str, type Decoder } from './json';
import type { Decoded } from './types';

type Schemas = components['schemas'];

export type Course = Decoded<Schemas['CourseView']>;
export type CourseRef = Decoded<Schemas['CourseRef']>;
export type Mapping = Decoded<Schemas['MappingView']>;
export type UnmappedProduct = Decoded<Schemas['UnmappedProduct']>;
/** Request bodies, as the contract has them (course ids as numbers). */
export type CourseInput = Schemas['CourseCreate'];
export type CourseChanges = Schemas['CoursePatch'];
export type MappingInput = Schemas['MappingCreate'];
export type MappingChanges = Schemas['MappingPatch'];

const id: Decoder<string> = (v, path) => (typeof v === 'number' ? String(v) : str(v, path));
const optStr = nullable(str);
const optNum = nullable(num);

export const course = object<Course>({
  id,
  slug: str,
  name: str,
  access_days: optNum,
  access_url: optStr,
  access_webhook_url: optStr,
  active: bool,
  active_enrollments: num,
  mappings: num,
  created_at: str,
  updated_at: str,
});

export const courseList = object<{ items: Course[] }>({ items: array(course) });

const courseRef = object<CourseRef>({ id, name: str, access_days: optNum, active: bool });

export const mapping = object<Mapping>({
  id,
  source: str,
  external_product_id: str,
  offer_code: optStr,
  product_name: optStr,
  courses: array(courseRef),
  created_at: str,
  updated_at: str,
});

export const mappingList = object<{ items: Mapping[] }>({ items: array(mapping) });

export const unmappedProduct = object<UnmappedProduct>({
  source: str,
  external_product_id: str,
  product_name: optStr,
  first_seen: str,
  orders: num,
  course_id: id,
  course_name: str,
});

export const unmappedList = object<{ items: UnmappedProduct[] }>({ items: array(unmappedProduct) });

/** "30 dias", "1 dia", "Vitalício". */
export function durationText(days: number | null): string {
  if (days === null) return 'Vitalício';
  return days === 1 ? '1 dia' : `${days.toLocaleString('pt-BR')} dias`;
}
