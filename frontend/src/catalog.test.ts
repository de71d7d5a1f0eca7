import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, ApiError, type FetchLike } from './api';
import { courseBody, mappingBody } from './catalog-form';
import { durationText } from './catalog-types';
import { errorMessage, fieldErrors } from './errors';
import { matchRoute, routeUrl } from './router';

const course = (over: Partial<Parameters<typeof courseBody>[0]> = {}) =>
  courseBody({ name: 'Confeitaria', days: '30', lifetime: false, url: '', active: true, ...over });

test('a course form becomes the API body', () => {
  assert.deepEqual(course({ name: '  Confeitaria ', url: ' https://membros.example.com/c ' }), {
    ok: true,
    body: { name: 'Confeitaria', access_days: 30, access_url: 'https://membros.example.com/c', active: true },
  });
  // lifetime: no days, whatever was typed
  assert.deepEqual(course({ lifetime: true, days: 'x', active: false }), {
    ok: true,
    body: { name: 'Confeitaria', access_days: null, access_url: null, active: false },
  });
});

test('a course form names every field at fault, in Portuguese', () => {
  const r = course({ name: ' ', days: '0', url: 'membros.example.com' });
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(Object.keys(r.errors).sort(), ['access_days', 'access_url', 'name']);
  for (const days of ['', '1.5', '-3', '36501', 'trinta']) assert.equal(course({ days }).ok, false, days);
  for (const days of ['1', '36500', ' 365 ']) assert.equal(course({ days }).ok, true, days);
});

test('a mapping form becomes the API body', () => {
  assert.deepEqual(mappingBody({ source: 'kiwify', product: ' p-1 ', offer: ' ', courseIds: ['2', '5'] }), {
    ok: true,
    body: { source: 'kiwify', external_product_id: 'p-1', offer_code: null, course_ids: [2, 5] },
  });
  const r = mappingBody({ source: 'kiwify', product: '', offer: 'vip', courseIds: [] });
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(Object.keys(r.errors).sort(), ['course_ids', 'external_product_id']);
});

test('durations read as Brazilians say them', () => {
  assert.equal(durationText(null), 'Vitalício');
  assert.equal(durationText(1), '1 dia');
  assert.equal(durationText(30), '30 dias');
  assert.equal(durationText(36500), '36.500 dias');
});

test('the catalog route and its messages', () => {
  assert.equal(matchRoute('/catalogo?ver=sem-mapeamento').name, 'catalog');
  assert.equal(routeUrl('catalog', {}, { ver: 'sem-mapeamento' }), '/catalogo?ver=sem-mapeamento');
  assert.match(errorMessage(new ApiError(409, 'mapping_exists', 'x')), /Já existe um mapeamento/);
  assert.match(errorMessage(new ApiError(404, 'course_not_found', 'x')), /não existe mais/);
  const fields = fieldErrors(
    new ApiError(422, 'validation_failed', 'x', {
      fields: { access_days: 'must be 1 to 36500 days', course_ids: 'must list 1 to 50 course ids', access_url: 'x' },
    }),
  );
  assert.match(fields['access_days'] ?? '', /vitalício/);
  assert.match(fields['course_ids'] ?? '', /de 1 a 50 cursos/);
  for (const text of Object.values(fields)) assert.doesNotMatch(text, /must|course/);
});

test('the catalog client: lists, PATCH bodies and a 204 delete', async () => {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    if (init?.method === 'DELETE') return new Response(null, { status: 204 });
    if (url.includes('unmapped=true')) {
      return Response.json({
        kind: 'unmapped',
        items: [
          {
            source: 'kiwify',
            external_product_id: 'p',
            product_name: null,
            first_seen: '2026-12-01T10:00:00Z',
            orders: 2,
            course_id: 7,
            course_name: 'Produto p',
          },
        ],
      });
    }
    return Response.json({
      id: 3,
      source: 'kiwify',
      external_product_id: 'p',
      offer_code: null,
      product_name: null,
      courses: [{ id: 7, name: 'A', access_days: null, active: true }],
      created_at: '2026-12-01T10:00:00Z',
      updated_at: '2026-12-01T10:00:00Z',
    });
  };
  const api = new ApiClient({ fetch, getToken: () => 'tok' });
  const [unmapped] = await api.unmappedProducts();
  assert.equal(unmapped?.course_id, '7', 'ids are strings in the app');
  const updated = await api.updateMapping('3', { offer_code: null, course_ids: [7] });
  assert.equal(updated.courses[0]?.id, '7');
  assert.equal(calls[1]?.init?.method, 'PATCH');
  assert.equal(calls[1]?.init?.body, JSON.stringify({ offer_code: null, course_ids: [7] }));
  assert.equal(await api.deleteMapping('3'), undefined);
  assert.equal(calls[2]?.url, '/api/products/3');
});
