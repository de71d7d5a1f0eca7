// Modelos de e-mail (administrators): the messages the e-mail channel sends, rendered with sample data.
// Types and decoders of `GET /api/mail/templates` and `GET /api/mail/templates/{kind}/preview`, and the check
// of the preview frame's address (tested).

import type { components } from './api-types.gen';
import { array, bool, object, str, type Decoder } from './json';
import type { Decoded } from './types';

type Schemas = components['schemas'];
export type MailTemplateList = Decoded<Schemas['MailTemplateList']>;
export type MailPreview = Decoded<Schemas['MailPreview']>;
export type MailKind = Schemas['TreatmentKind'];

const kind = str as Decoder<MailKind>;

export const mailTemplateListDecoder: Decoder<MailTemplateList> = object<MailTemplateList>({
  enabled: bool,
  templates_dir_set: bool,
  items: array(object({ kind, files: array(str) })),
});

export const mailPreviewDecoder: Decoder<MailPreview> = object<MailPreview>({
  kind,
  subject: str,
  text: str,
  html: str,
  frame_url: str,
});

/**
 * The address the preview frame may load: the server's own frame route for this kind (served with its own
 * narrow CSP), nothing else — so an odd answer can never point the frame somewhere else.
 */
export function frameSrc(preview: MailPreview): string | null {
  const prefix = `/api/mail/templates/${encodeURIComponent(preview.kind)}/frame?`;
  return preview.frame_url.startsWith(prefix) && !/[\s"'<>\\]/.test(preview.frame_url) ? preview.frame_url : null;
}

/** The line under the title: is e-mail on, and where the templates come from. */
export function mailStatusText(list: MailTemplateList): string {
  const on = list.enabled
    ? 'O envio de e-mails está ligado.'
    : 'O envio de e-mails está desligado (defina SMTP_URL e MAIL_FROM): hoje só a linha no console é registrada.';
  const from = list.templates_dir_set
    ? 'Modelos lidos de MAIL_TEMPLATES_DIR quando ela tem o arquivo; senão, os modelos de fábrica.'
    : 'Modelos de fábrica (MAIL_TEMPLATES_DIR não definida).';
  return `${on} ${from}`;
}
