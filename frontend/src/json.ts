// Tiny runtime decoders for the JSON boundary: every API answer goes through one of these,
// so the rest of the app works with checked, typed values.

export class DecodeError extends Error {
  constructor(
    readonly path: string,
    expected: string,
  ) {
    super(`invalid API answer at ${path}: expected ${expected}`);
    this.name = 'DecodeError';
  }
}

export type Decoder<T> = (value: unknown, path: string) => T;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const str: Decoder<string> = (v, path) => {
  if (typeof v !== 'string') throw new DecodeError(path, 'string');
  return v;
};

export const num: Decoder<number> = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DecodeError(path, 'number');
  return v;
};

export const bool: Decoder<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw new DecodeError(path, 'boolean');
  return v;
};

/** Any JSON value, kept as `unknown` (e.g. a raw webhook body shown pretty-printed). */
export const unknownValue: Decoder<unknown> = (v) => v;

/** `null` or a missing field becomes `null`. */
export function nullable<T>(inner: Decoder<T>): Decoder<T | null> {
  return (v, path) => (v === null || v === undefined ? null : inner(v, path));
}

export function array<T>(inner: Decoder<T>): Decoder<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new DecodeError(path, 'array');
    return v.map((item, i) => inner(item, `${path}[${i}]`));
  };
}

/** A JSON object used as a map of counters, e.g. `{processed: 3, duplicate: 1}`. */
export function numberMap(): Decoder<Record<string, number>> {
  return (v, path) => {
    if (!isRecord(v)) throw new DecodeError(path, 'object');
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(v)) out[k] = num(n, `${path}.${k}`);
    return out;
  };
}

export function stringMap(): Decoder<Record<string, string>> {
  return (v, path) => {
    if (!isRecord(v)) throw new DecodeError(path, 'object');
    const out: Record<string, string> = {};
    for (const [k, s] of Object.entries(v)) out[k] = typeof s === 'string' ? s : JSON.stringify(s);
    return out;
  };
}

type Shape<T> = { [K in keyof T]: Decoder<T[K]> };

/** An object with exactly the listed fields decoded (extra fields are ignored). */
export function object<T>(shape: Shape<T>): Decoder<T> {
  return (v, path) => {
    if (!isRecord(v)) throw new DecodeError(path, 'object');
    const out = {} as T;
    for (const key of Object.keys(shape) as (keyof T & string)[]) {
      out[key] = shape[key](v[key], `${path}.${key}`);
    }
    return out;
  };
}

/** Like `object`, but keeps the decoded fields of `base` too. */
export function extend<A, B>(base: Decoder<A>, more: Shape<B>): Decoder<A & B> {
  const extra = object(more);
  return (v, path) => ({ ...base(v, path), ...extra(v, path) });
}

export function decode<T>(decoder: Decoder<T>, value: unknown): T {
  return decoder(value, '$');
}
