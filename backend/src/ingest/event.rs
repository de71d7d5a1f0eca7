//! The normalised payment event every source adapter produces, and the adapter contract.

use crate::note::Note;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

crate::vocabulary! {
    /// The webhook sources Portaria accepts (`POST /webhooks/{source}`).
    pub enum Source {
        /// The course-checkout simulator of the original spec (flat JSON, shared token).
        Hashtag = "hashtag",
        /// Hotmart webhook v2.0.0 (`X-HOTMART-HOTTOK`).
        Hotmart = "hotmart",
        /// Kiwify sales webhook (`?signature=` HMAC-SHA1 of the raw body).
        Kiwify = "kiwify",
        /// Portaria's own documented JSON, signed with Standard Webhooks.
        Generic = "generic",
        /// Eduzz webhook v3 (`x-signature` HMAC-SHA256 of the raw body).
        Eduzz = "eduzz",
        /// Monetizze postback (`chave_unica` in the body).
        Monetizze = "monetizze",
    }
}

impl Source {
    /// Whether the source identifies orders. The simulator does not: its refunds are customer-level.
    pub fn has_order_ids(self) -> bool {
        self != Source::Hashtag
    }
}

crate::vocabulary! {
    /// What happened to the payment, normalised across providers.
    pub enum EventKind {
        Approved = "approved",
        Refused = "refused",
        Refunded = "refunded",
        Chargeback = "chargeback",
        WaitingPayment = "waiting_payment",
        Expired = "expired",
        Canceled = "canceled",
        SubscriptionCanceled = "subscription_canceled",
        Renewed = "renewed",
        /// Deliberately not acted upon (cart abandonment, members-area events, "complete", ...).
        Ignored = "ignored",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerInfo {
    /// Trimmed and lower-cased. Empty when the source identified the customer by document only (a
    /// Kiwify `Customer` with a CPF and no e-mail): the ingest service resolves it from `document`
    /// before anything is written.
    pub email: String,
    pub name: Option<String>,
    /// CPF/CNPJ, digits only when it is one.
    pub document: Option<String>,
    pub phone: Option<String>,
}

impl CustomerInfo {
    /// The source gave a document (digits) but no e-mail.
    pub fn by_document_only(&self) -> bool {
        self.email.is_empty() && self.document.as_deref().is_some_and(|d| !d.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderInfo {
    /// The provider's order / transaction id. The simulator has none: its dedup key stands in.
    pub external_id: String,
    /// Integer cents.
    pub amount_cents: Option<i64>,
    /// ISO 4217, e.g. "BRL".
    pub currency: Option<String>,
    /// As the provider names it, lower-cased (e.g. "pix", "credit_card", "boleto").
    pub payment_method: Option<String>,
    pub installments: Option<i32>,
    /// The coupon (discount code) used, when the source says.
    #[serde(default)]
    pub coupon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProductInfo {
    pub external_id: String,
    pub name: Option<String>,
    /// The offer or plan the customer bought, when the source says (a product mapping may be specific
    /// to it: see `catalog`).
    #[serde(default)]
    pub offer_code: Option<String>,
    /// The product's other id, which some of the source's events carry alone (Hotmart: the numeric
    /// `id` beside the `ucode`); remembered so that those events find the same product.
    #[serde(default)]
    pub alias: Option<String>,
    /// `external_id` is such an other id (the event carries no more): the product is the one last
    /// seen with that alias, else the id itself.
    #[serde(default)]
    pub by_alias: bool,
}

/// Payment instructions and reasons that messages need.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentDetails {
    pub boleto_url: Option<String>,
    pub boleto_barcode: Option<String>,
    pub pix_code: Option<String>,
    pub pix_expires_at: Option<DateTime<Utc>>,
    pub refusal_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub source: Source,
    /// The business key: a redelivery of the same event has the same key.
    pub dedup_key: String,
    /// The provider's own event name, verbatim (e.g. `PURCHASE_APPROVED`, `order_approved`, `aprovado`).
    pub event_type: String,
    pub kind: EventKind,
    pub occurred_at: Option<DateTime<Utc>>,
    pub customer: CustomerInfo,
    pub order: Option<OrderInfo>,
    pub product: Option<ProductInfo>,
    pub payment: PaymentDetails,
    /// The end of the paid period the platform reports (a subscription's `access_until` / next charge
    /// date): a cancellation keeps access until then, a renewal extends access to it.
    pub access_until: Option<DateTime<Utc>>,
}

/// An event the adapter recognised but that Portaria deliberately does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredEvent {
    pub event_type: String,
    /// When the event can be recognised again (so that a redelivery is a `duplicate`).
    pub dedup_key: Option<String>,
    pub email: Option<String>,
    pub reason: Note,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Event(Box<PaymentEvent>),
    Ignored(IgnoredEvent),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The body is not JSON at all → 400 `invalid_json`.
    InvalidJson(String),
    /// Valid JSON without what we need (no e-mail, unknown status, ...) → 422 `unprocessable`.
    Unprocessable(String),
}

/// What an adapter may look at besides the body: lower-cased header names and the query string.
#[derive(Debug, Clone, Default)]
pub struct RequestParts {
    pub headers: HashMap<String, String>,
    pub query: HashMap<String, String>,
}

impl RequestParts {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No credential at all.
    Missing(String),
    /// A credential that does not match (wrong token, bad signature, stale timestamp).
    Invalid(String),
}
