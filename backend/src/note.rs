//! Why less than usual happened: the stable codes stored in `webhook_events.note` and returned as
//! `note`. The staff app maps each code to Brazilian-Portuguese text.

crate::vocabulary! {
    pub enum Note {
        /// An approval of an order already refunded or charged back: nothing granted.
        ApprovalAfterReversal = "approval_after_reversal",
        /// The order was already approved: nothing repeated.
        OrderAlreadyApproved = "order_already_approved",
        /// Access already active for life: nothing to change.
        AccessAlreadyActive = "access_already_active",
        /// A new approval while access was active or scheduled to end: access renewed per the course's duration.
        AccessRenewed = "access_renewed",
        /// A renewal of a refunded or charged-back order: ignored.
        RenewalAfterReversal = "renewal_after_reversal",
        /// A subscription cancellation with no active access to end.
        NoActiveAccessToEnd = "no_active_access_to_end",
        /// Recognised, not acted upon.
        NotActedUpon = "not_acted_upon",
        /// The order was already refunded or charged back.
        OrderAlreadyReversed = "order_already_reversed",
        /// A refund or chargeback of an order that never granted access (recorded so a late approval grants nothing).
        RefundBeforeApproval = "refund_before_approval",
        /// A refund of an approved order whose access was no longer active.
        AccessNotActive = "access_not_active",
        /// A refund or chargeback from a source without order ids: the customer had no active access to revoke.
        NoAccessToRevoke = "no_access_to_revoke",
        /// A refusal, pending, expiry or cancellation of an order already paid: ignored.
        OrderAlreadyPaid = "order_already_paid",
        /// The order was already in this state.
        OrderAlreadyInState = "order_already_in_state",
        /// A repeat of an event already received.
        AlreadyReceived = "already_received",
        /// Purchase complete (the guarantee period is over): nothing to do.
        PurchaseComplete = "purchase_complete",
        /// A buyer dispute was flagged: access unchanged until a refund or chargeback arrives.
        DisputeOpened = "dispute_opened",
        /// A late-payment notice: access is kept until the subscription is canceled.
        PaymentLate = "payment_late",
        /// Cart abandonment is not acted upon.
        CartAbandoned = "cart_abandoned",
        /// A plan or billing-day change does not affect access.
        SubscriptionChanged = "subscription_changed",
        /// Members-area activity is not acted upon.
        MembersAreaActivity = "members_area_activity",
        /// Physical-product shipping is not acted upon.
        ShippingEvent = "shipping_event",
        /// A platform's connection test (Eduzz's `ping` on activation): nothing to do.
        ConnectionTest = "connection_test",
        /// The buyer asked for a refund: access unchanged until the refund is confirmed.
        RefundRequested = "refund_requested",
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
