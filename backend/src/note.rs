//! Why less than usual happened: the stable codes stored in `webhook_events.note` and returned as
//! `note`. The staff app maps each code to Brazilian-Portuguese text.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Note {
    /// An approval of an order already refunded or charged back: nothing granted.
    ApprovalAfterReversal,
    /// The order was already approved: nothing repeated.
    OrderAlreadyApproved,
    /// Access already active for life: nothing to change.
    AccessAlreadyActive,
    /// A new approval while access was active or scheduled to end: access renewed per the course's duration.
    AccessRenewed,
    /// A renewal of a refunded or charged-back order: ignored.
    RenewalAfterReversal,
    /// A subscription cancellation with no active access to end.
    NoActiveAccessToEnd,
    /// Recognised, not acted upon.
    NotActedUpon,
    /// The order was already refunded or charged back.
    OrderAlreadyReversed,
    /// A refund or chargeback of an order that never granted access (recorded so a late approval grants nothing).
    RefundBeforeApproval,
    /// A refund of an approved order whose access was no longer active.
    AccessNotActive,
    /// A refund or chargeback from a source without order ids: the customer had no active access to revoke.
    NoAccessToRevoke,
    /// A refusal, pending, expiry or cancellation of an order already paid: ignored.
    OrderAlreadyPaid,
    /// The order was already in this state.
    OrderAlreadyInState,
    /// A repeat of an event already received.
    AlreadyReceived,
    /// Purchase complete (the guarantee period is over): nothing to do.
    PurchaseComplete,
    /// A buyer dispute was flagged: access unchanged until a refund or chargeback arrives.
    DisputeOpened,
    /// A late-payment notice: access is kept until the subscription is canceled.
    PaymentLate,
    /// Cart abandonment is not acted upon.
    CartAbandoned,
    /// A plan or billing-day change does not affect access.
    SubscriptionChanged,
    /// Members-area activity is not acted upon.
    MembersAreaActivity,
    /// Physical-product shipping is not acted upon.
    ShippingEvent,
}

impl Note {
    pub const ALL: [Note; 21] = [
        Note::ApprovalAfterReversal,
        Note::OrderAlreadyApproved,
        Note::AccessAlreadyActive,
        Note::AccessRenewed,
        Note::RenewalAfterReversal,
        Note::NoActiveAccessToEnd,
        Note::NotActedUpon,
        Note::OrderAlreadyReversed,
        Note::RefundBeforeApproval,
        Note::AccessNotActive,
        Note::NoAccessToRevoke,
        Note::OrderAlreadyPaid,
        Note::OrderAlreadyInState,
        Note::AlreadyReceived,
        Note::PurchaseComplete,
        Note::DisputeOpened,
        Note::PaymentLate,
        Note::CartAbandoned,
        Note::SubscriptionChanged,
        Note::MembersAreaActivity,
        Note::ShippingEvent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Note::ApprovalAfterReversal => "approval_after_reversal",
            Note::OrderAlreadyApproved => "order_already_approved",
            Note::AccessAlreadyActive => "access_already_active",
            Note::AccessRenewed => "access_renewed",
            Note::RenewalAfterReversal => "renewal_after_reversal",
            Note::NoActiveAccessToEnd => "no_active_access_to_end",
            Note::NotActedUpon => "not_acted_upon",
            Note::OrderAlreadyReversed => "order_already_reversed",
            Note::RefundBeforeApproval => "refund_before_approval",
            Note::AccessNotActive => "access_not_active",
            Note::NoAccessToRevoke => "no_access_to_revoke",
            Note::OrderAlreadyPaid => "order_already_paid",
            Note::OrderAlreadyInState => "order_already_in_state",
            Note::AlreadyReceived => "already_received",
            Note::PurchaseComplete => "purchase_complete",
            Note::DisputeOpened => "dispute_opened",
            Note::PaymentLate => "payment_late",
            Note::CartAbandoned => "cart_abandoned",
            Note::SubscriptionChanged => "subscription_changed",
            Note::MembersAreaActivity => "members_area_activity",
            Note::ShippingEvent => "shipping_event",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Note;

    #[test]
    fn codes_match_their_serde_names_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for note in Note::ALL {
            assert_eq!(serde_json::to_value(note).unwrap(), note.as_str());
            assert!(seen.insert(note.as_str()));
        }
    }
}
