// What a platform told about an order (coupon, offer or plan, paid-period end), as pt-BR lines for the
// customer page. Only what was told: an order without a coupon shows no "Cupom".

import { formatDate, formatDateTime } from './format';
import type { Order } from './types';

/** "Aprovado em" of an order: when it was approved, or "—" while it never was. */
export function approvedAtText(o: Pick<Order, 'approved_at'>, timeZone?: string): string {
  return formatDateTime(o.approved_at, timeZone);
}

/** Label/value pairs of what the platform told about the order, in display order. */
export function orderDetails(
  o: Pick<Order, 'coupon' | 'offer_code' | 'access_until'>,
  timeZone?: string,
): [string, string][] {
  const details: [string, string][] = [];
  if (o.coupon) details.push(['Cupom', o.coupon]);
  if (o.offer_code) details.push(['Oferta/plano', o.offer_code]);
  if (o.access_until) details.push(['Acesso até', formatDate(o.access_until, timeZone)]);
  return details;
}
