//! The decision rules (DESIGN.md section 2): a pure function of the event and the current state of
//! the order and of the customer's enrollment in the course. No I/O here.

use crate::ingest::event::EventKind;
use crate::note::Note;
use chrono::{DateTime, Duration, Utc};

crate::vocabulary! {
    /// The state of one order (a provider's purchase / transaction).
    pub enum OrderStatus {
        /// Created by the event being ingested, before the rules decide (stays so when they change nothing).
        New = "new",
        WaitingPayment = "waiting_payment",
        Approved = "approved",
        Refused = "refused",
        Refunded = "refunded",
        Chargeback = "chargeback",
        Expired = "expired",
        Canceled = "canceled",
    }
}

impl OrderStatus {
    /// Money went back to the customer: nothing may grant access on this order again.
    pub fn is_reversed(self) -> bool {
        matches!(self, OrderStatus::Refunded | OrderStatus::Chargeback)
    }
}

crate::vocabulary! {
    pub enum EnrollmentStatus {
        Active = "active",
        Revoked = "revoked",
        Expired = "expired",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrollmentState {
    pub status: EnrollmentStatus,
    pub expires_at: Option<DateTime<Utc>>,
}

impl EnrollmentState {
    /// Access is on right now.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.status == EnrollmentStatus::Active && self.expires_at.is_none_or(|t| t > now)
    }
}

crate::vocabulary! {
    /// What Portaria does for a customer.
    pub enum TreatmentKind {
        GrantAccess = "grant_access",
        WelcomeMessage = "welcome_message",
        RefusedMessage = "refused_message",
        PaymentPendingMessage = "payment_pending_message",
        PaymentExpiredMessage = "payment_expired_message",
        RevokeAccess = "revoke_access",
        RefundMessage = "refund_message",
        ExtendAccess = "extend_access",
        CanceledMessage = "canceled_message",
        /// "Your access ends soon": queued by the sweep `ACCESS_REMINDER_DAYS` before `expires_at`.
        AccessReminderMessage = "access_reminder_message",
    }
}

crate::vocabulary! {
    /// Why a treatment exists (`treatments.reason`). The staff app maps each code to Brazilian-Portuguese
    /// text (frontend/src/labels.ts).
    pub enum TreatmentReason {
        /// A payment was approved.
        PaymentApproved = "payment_approved",
        /// A new approval while access was on: access renewed.
        Repurchase = "repurchase",
        /// A subscription was renewed.
        SubscriptionRenewed = "subscription_renewed",
        /// A payment was refunded.
        PaymentRefunded = "payment_refunded",
        /// A chargeback.
        Chargeback = "chargeback",
        /// A payment was refused.
        PaymentRefused = "payment_refused",
        /// A boleto or Pix is waiting to be paid.
        AwaitingPayment = "awaiting_payment",
        /// A payment expired unpaid.
        PaymentExpired = "payment_expired",
        /// A purchase was canceled.
        PurchaseCanceled = "purchase_canceled",
        /// A subscription was canceled: access ends with the paid period.
        SubscriptionCanceledEndOfPeriod = "subscription_canceled_end_of_period",
        /// A subscription was canceled: access ends now.
        SubscriptionCanceled = "subscription_canceled",
        /// The access period is over (the expiry sweep).
        Expired = "expired",
        /// A staff member's action.
        Manual = "manual",
        /// A CSV import.
        Import = "import",
        /// A bulk action on a course.
        Bulk = "bulk",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTreatment {
    pub kind: TreatmentKind,
    /// `None`: as soon as possible.
    pub run_at: Option<DateTime<Utc>>,
    pub reason: TreatmentReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentChange {
    Unchanged,
    /// Access on, from now, until `expires_at` (`None`: lifetime).
    Activate {
        expires_at: Option<DateTime<Utc>>,
    },
    /// Access stays on, with a new end.
    Extend {
        expires_at: Option<DateTime<Utc>>,
    },
    /// Access off now.
    Revoke,
    /// Access stays on until the given time (a cancelled subscription's paid period).
    EndAt(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The order's new status (`None`: unchanged).
    pub order_status: Option<OrderStatus>,
    pub enrollment: EnrollmentChange,
    pub treatments: Vec<PlannedTreatment>,
    /// Cancel revocations scheduled earlier for this customer and course (access was bought again).
    pub cancel_scheduled_revokes: bool,
    /// Why nothing (or less than usual) happened, for the record.
    pub note: Option<Note>,
}

impl Decision {
    fn nothing(note: Note) -> Decision {
        Decision {
            order_status: None,
            enrollment: EnrollmentChange::Unchanged,
            treatments: vec![],
            cancel_scheduled_revokes: false,
            note: Some(note),
        }
    }
}

/// Everything the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Situation {
    pub kind: EventKind,
    /// The order's status before this event (`None`: first event of this order).
    pub order: Option<OrderStatus>,
    /// The customer's enrollment in the course before this event.
    pub enrollment: Option<EnrollmentState>,
    /// The course's access duration (`None`: lifetime).
    pub access_days: Option<i32>,
    /// The end of the paid period the platform reports: a cancellation keeps access until then, a
    /// renewal (or a new approval while access is on) extends access to it.
    pub access_until: Option<DateTime<Utc>>,
    /// The source sends real order ids. Without them (the checkout simulator) a refund or chargeback
    /// cannot be tied to the approval it reverses, so it is about the customer's access to the course.
    pub has_order_ids: bool,
    /// The payment-expired message was already sent for this order (the sweep's pix/boleto timeout, or an
    /// earlier expiry): the customer hears it once per order, whichever comes first.
    pub expiry_announced: bool,
    pub now: DateTime<Utc>,
}

fn now_plan(kind: TreatmentKind, reason: TreatmentReason) -> PlannedTreatment {
    PlannedTreatment { kind, run_at: None, reason }
}

fn expiry_from(start: DateTime<Utc>, days: Option<i32>) -> Option<DateTime<Utc>> {
    days.map(|d| start + Duration::days(i64::from(d)))
}

pub fn decide(s: &Situation) -> Decision {
    let active = s.enrollment.is_some_and(|e| e.is_active(s.now));
    let reversed = s.order.is_some_and(OrderStatus::is_reversed);
    match s.kind {
        EventKind::Approved if reversed => Decision::nothing(Note::ApprovalAfterReversal),
        EventKind::Approved if s.order == Some(OrderStatus::Approved) => Decision::nothing(Note::OrderAlreadyApproved),
        EventKind::Approved if active => repurchase(s),
        EventKind::Approved => Decision {
            order_status: Some(OrderStatus::Approved),
            enrollment: EnrollmentChange::Activate { expires_at: expiry_from(s.now, s.access_days) },
            treatments: vec![
                now_plan(TreatmentKind::GrantAccess, TreatmentReason::PaymentApproved),
                now_plan(TreatmentKind::WelcomeMessage, TreatmentReason::PaymentApproved),
            ],
            cancel_scheduled_revokes: true,
            note: None,
        },
        EventKind::Renewed if reversed => Decision::nothing(Note::RenewalAfterReversal),
        EventKind::Renewed if active => match paid_until(s) {
            Some(paid) => extend_to_paid_period(s, paid, TreatmentReason::SubscriptionRenewed),
            None => {
                // The new period starts where the current one ends.
                let base = s.enrollment.and_then(|e| e.expires_at).filter(|t| *t > s.now).unwrap_or(s.now);
                Decision {
                    order_status: Some(OrderStatus::Approved),
                    enrollment: EnrollmentChange::Extend { expires_at: expiry_from(base, s.access_days) },
                    treatments: vec![now_plan(TreatmentKind::ExtendAccess, TreatmentReason::SubscriptionRenewed)],
                    cancel_scheduled_revokes: true,
                    note: None,
                }
            }
        },
        EventKind::Renewed => Decision {
            order_status: Some(OrderStatus::Approved),
            enrollment: EnrollmentChange::Activate {
                expires_at: paid_until(s).or_else(|| expiry_from(s.now, s.access_days)),
            },
            treatments: vec![now_plan(TreatmentKind::GrantAccess, TreatmentReason::SubscriptionRenewed)],
            cancel_scheduled_revokes: true,
            note: None,
        },
        EventKind::Refunded | EventKind::Chargeback => reverse(s, active),
        EventKind::Refused => {
            before_payment(s, OrderStatus::Refused, TreatmentKind::RefusedMessage, TreatmentReason::PaymentRefused)
        }
        EventKind::WaitingPayment => before_payment(
            s,
            OrderStatus::WaitingPayment,
            TreatmentKind::PaymentPendingMessage,
            TreatmentReason::AwaitingPayment,
        ),
        EventKind::Expired if s.expiry_announced => expiry_already_announced(s),
        EventKind::Expired => before_payment(
            s,
            OrderStatus::Expired,
            TreatmentKind::PaymentExpiredMessage,
            TreatmentReason::PaymentExpired,
        ),
        EventKind::Canceled => {
            before_payment(s, OrderStatus::Canceled, TreatmentKind::CanceledMessage, TreatmentReason::PurchaseCanceled)
        }
        EventKind::SubscriptionCanceled if !active => {
            Decision { order_status: Some(OrderStatus::Canceled), ..Decision::nothing(Note::NoActiveAccessToEnd) }
        }
        EventKind::SubscriptionCanceled => match s.access_until.filter(|t| *t > s.now) {
            Some(end) => Decision {
                order_status: Some(OrderStatus::Canceled),
                enrollment: EnrollmentChange::EndAt(end),
                treatments: vec![PlannedTreatment {
                    kind: TreatmentKind::RevokeAccess,
                    run_at: Some(end),
                    reason: TreatmentReason::SubscriptionCanceledEndOfPeriod,
                }],
                cancel_scheduled_revokes: true,
                note: None,
            },
            None => Decision {
                order_status: Some(OrderStatus::Canceled),
                enrollment: EnrollmentChange::Revoke,
                treatments: vec![now_plan(TreatmentKind::RevokeAccess, TreatmentReason::SubscriptionCanceled)],
                cancel_scheduled_revokes: true,
                note: None,
            },
        },
        EventKind::Ignored => Decision::nothing(Note::NotActedUpon),
    }
}

/// What the rules need to know about one course of the event's product.
#[derive(Debug, Clone, Copy)]
pub struct CourseFacts {
    /// The course's access duration (`None`: lifetime).
    pub access_days: Option<i32>,
    /// The customer's enrollment in the course before this event.
    pub enrollment: Option<EnrollmentState>,
}

/// The decisions for an event whose product unlocks several courses (a product mapping): the rules
/// decided once per course, from the same prior state of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoursePlan {
    /// The order's new status (`None`: unchanged). It depends on the event and the order only, never
    /// on a course, so every course's decision agrees on it.
    pub order_status: Option<OrderStatus>,
    /// One decision per course, in the order of the courses given. Access treatments (grant, welcome,
    /// extend, revoke) stay with their course; a message about the payment itself (refused, pending,
    /// expired, canceled, refunded) is planned once, with the first course that asked for it.
    pub courses: Vec<Decision>,
    /// The event's note: that of the first course whose decision did something, else of the first course.
    pub note: Option<Note>,
}

impl TreatmentKind {
    /// Treatments about one course's access (as opposed to messages about the payment).
    pub fn is_about_access(self) -> bool {
        matches!(
            self,
            TreatmentKind::GrantAccess
                | TreatmentKind::WelcomeMessage
                | TreatmentKind::RevokeAccess
                | TreatmentKind::ExtendAccess
        )
    }
}

impl Decision {
    /// Whether the decision changes access or plans a treatment.
    pub fn acts(&self) -> bool {
        !self.treatments.is_empty() || self.enrollment != EnrollmentChange::Unchanged
    }
}

/// Applies [`decide`] to each course of the event's product (`event` gives the event, the order and the
/// time; its course fields are replaced by each course's facts). With one course this is exactly
/// `decide`.
pub fn decide_for_courses(event: &Situation, courses: &[CourseFacts]) -> CoursePlan {
    let mut payment_messages: Vec<TreatmentKind> = vec![];
    let decisions: Vec<Decision> = courses
        .iter()
        .map(|c| {
            let mut d = decide(&Situation { access_days: c.access_days, enrollment: c.enrollment, ..*event });
            d.treatments.retain(|t| {
                if t.kind.is_about_access() || !payment_messages.contains(&t.kind) {
                    if !t.kind.is_about_access() {
                        payment_messages.push(t.kind);
                    }
                    true
                } else {
                    false
                }
            });
            d
        })
        .collect();
    let order_status = decisions.iter().find_map(|d| d.order_status);
    let note = decisions.iter().find(|d| d.acts()).or(decisions.first()).and_then(|d| d.note);
    CoursePlan { order_status, courses: decisions, note }
}

/// The platform's paid-period end, when it reports one still in the future.
fn paid_until(s: &Situation) -> Option<DateTime<Utc>> {
    s.access_until.filter(|t| *t > s.now)
}

/// Access that is on, extended to the platform's paid-period end `paid`: never shortened (an end
/// already later stays, lifetime access stays lifetime). Extending to where access already ends does
/// nothing (a Kiwify renewal arrives as `order_approved` and as `subscription_renewed`).
fn extend_to_paid_period(s: &Situation, paid: DateTime<Utc>, reason: TreatmentReason) -> Decision {
    let current_end = s.enrollment.and_then(|e| e.expires_at);
    let new_end = current_end.map(|current| current.max(paid));
    let base = Decision {
        order_status: Some(OrderStatus::Approved),
        cancel_scheduled_revokes: true,
        ..Decision::nothing(Note::AccessAlreadyActive)
    };
    if new_end == current_end {
        return base;
    }
    Decision {
        enrollment: EnrollmentChange::Extend { expires_at: new_end },
        treatments: vec![now_plan(TreatmentKind::ExtendAccess, reason)],
        note: (reason == TreatmentReason::Repurchase).then_some(Note::AccessRenewed),
        ..base
    }
}

/// When an order was approved, for the record: set by the event that approves it (not by a later
/// one about an order already approved), at the event's own time when the platform gives one, else now.
pub fn approval_time(
    prior: Option<OrderStatus>,
    new: Option<OrderStatus>,
    occurred_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    (new == Some(OrderStatus::Approved) && prior != Some(OrderStatus::Approved)).then(|| occurred_at.unwrap_or(now))
}

/// A new approval while access is on (another order of the same course, a subscription's renewal
/// charge, or buying again after a cancellation scheduled the end): access is renewed to the
/// platform's paid-period end when it reports one, else per the course's duration; never shortened.
fn repurchase(s: &Situation) -> Decision {
    if let Some(paid) = paid_until(s) {
        return extend_to_paid_period(s, paid, TreatmentReason::Repurchase);
    }
    let current_end = s.enrollment.and_then(|e| e.expires_at);
    let renewed_end = match (current_end, expiry_from(s.now, s.access_days)) {
        (Some(current), Some(new)) => Some(current.max(new)),
        (_, new) => new,
    };
    let base = Decision {
        order_status: Some(OrderStatus::Approved),
        cancel_scheduled_revokes: true,
        ..Decision::nothing(Note::AccessAlreadyActive)
    };
    if renewed_end == current_end {
        return base;
    }
    Decision {
        enrollment: EnrollmentChange::Extend { expires_at: renewed_end },
        treatments: vec![now_plan(TreatmentKind::ExtendAccess, TreatmentReason::Repurchase)],
        note: Some(Note::AccessRenewed),
        ..base
    }
}

/// Refund or chargeback: access off when this order granted it and access is still on. For a source
/// without order ids, access off whenever it is on (the original rule: refunded → remove access).
fn reverse(s: &Situation, active: bool) -> Decision {
    let (status, reason) = match s.kind {
        EventKind::Chargeback => (OrderStatus::Chargeback, TreatmentReason::Chargeback),
        _ => (OrderStatus::Refunded, TreatmentReason::PaymentRefunded),
    };
    if s.order.is_some_and(OrderStatus::is_reversed) {
        return Decision { order_status: Some(status), ..Decision::nothing(Note::OrderAlreadyReversed) };
    }
    if s.order != Some(OrderStatus::Approved) && s.has_order_ids {
        // Never granted (or not yet seen: an out-of-order delivery). Record the status so that a
        // late approval grants nothing.
        return Decision { order_status: Some(status), ..Decision::nothing(Note::RefundBeforeApproval) };
    }
    if s.order != Some(OrderStatus::Approved) && !active {
        // No order ids (the simulator): the rule is customer-level, and there is nothing to revoke.
        return Decision { order_status: Some(status), ..Decision::nothing(Note::NoAccessToRevoke) };
    }
    let mut treatments = vec![];
    if active {
        treatments.push(now_plan(TreatmentKind::RevokeAccess, reason));
    }
    if status == OrderStatus::Refunded {
        treatments.push(now_plan(TreatmentKind::RefundMessage, reason));
    }
    Decision {
        order_status: Some(status),
        enrollment: if active { EnrollmentChange::Revoke } else { EnrollmentChange::Unchanged },
        treatments,
        cancel_scheduled_revokes: active,
        note: (!active).then_some(Note::AccessNotActive),
    }
}

/// The platform's expiry after the timeout already told the customer: the order records the platform's
/// word, no second message (an order already paid stays as it is, as for any expiry).
fn expiry_already_announced(s: &Situation) -> Decision {
    match s.order {
        Some(OrderStatus::Approved | OrderStatus::Refunded | OrderStatus::Chargeback) => {
            Decision::nothing(Note::OrderAlreadyPaid)
        }
        prior => Decision {
            order_status: Some(OrderStatus::Expired).filter(|status| prior != Some(*status)),
            // The timeout treated the order as expired already; the platform now agrees.
            ..Decision::nothing(Note::OrderAlreadyInState)
        },
    }
}

/// Events about a payment that has not happened (refused, pending, expired, canceled): a message,
/// unless the order has already been paid (an out-of-order delivery).
fn before_payment(s: &Situation, status: OrderStatus, kind: TreatmentKind, reason: TreatmentReason) -> Decision {
    match s.order {
        Some(OrderStatus::Approved | OrderStatus::Refunded | OrderStatus::Chargeback) => {
            Decision::nothing(Note::OrderAlreadyPaid)
        }
        Some(prior) if prior == status => Decision::nothing(Note::OrderAlreadyInState),
        _ => Decision {
            order_status: Some(status),
            enrollment: EnrollmentChange::Unchanged,
            treatments: vec![now_plan(kind, reason)],
            cancel_scheduled_revokes: false,
            note: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventKind as E;
    use TreatmentKind as T;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z").unwrap().with_timezone(&Utc)
    }
    fn active() -> Option<EnrollmentState> {
        Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: None })
    }
    fn revoked() -> Option<EnrollmentState> {
        Some(EnrollmentState { status: EnrollmentStatus::Revoked, expires_at: None })
    }
    fn sit(kind: EventKind, order: Option<OrderStatus>, enrollment: Option<EnrollmentState>) -> Situation {
        Situation {
            kind,
            order,
            enrollment,
            access_days: None,
            access_until: None,
            has_order_ids: true,
            expiry_announced: false,
            now: now(),
        }
    }
    fn kinds(d: &Decision) -> Vec<TreatmentKind> {
        d.treatments.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn first_approval_grants_and_welcomes() {
        let d = decide(&sit(E::Approved, None, None));
        assert_eq!(kinds(&d), [T::GrantAccess, T::WelcomeMessage]);
        assert_eq!(d.order_status, Some(OrderStatus::Approved));
        assert_eq!(d.enrollment, EnrollmentChange::Activate { expires_at: None });
        // the same after a pending boleto, a refusal, or a lapsed enrollment
        for prior in [Some(OrderStatus::WaitingPayment), Some(OrderStatus::Refused), Some(OrderStatus::Expired)] {
            assert_eq!(kinds(&decide(&sit(E::Approved, prior, revoked()))), [T::GrantAccess, T::WelcomeMessage]);
        }
    }

    #[test]
    fn approval_with_access_days_sets_the_expiry() {
        let mut s = sit(E::Approved, None, None);
        s.access_days = Some(365);
        let d = decide(&s);
        assert_eq!(d.enrollment, EnrollmentChange::Activate { expires_at: Some(now() + Duration::days(365)) });
    }

    #[test]
    fn approval_after_refund_or_chargeback_grants_nothing() {
        for prior in [OrderStatus::Refunded, OrderStatus::Chargeback] {
            let d = decide(&sit(E::Approved, Some(prior), None));
            assert!(d.treatments.is_empty());
            assert_eq!(d.order_status, None, "the order stays {prior:?}");
            assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
            assert_eq!(d.note, Some(Note::ApprovalAfterReversal));
        }
    }

    #[test]
    fn second_approval_of_an_active_enrollment_grants_nothing() {
        // another order of the same course while access is on
        let d = decide(&sit(E::Approved, None, active()));
        assert!(d.treatments.is_empty());
        assert_eq!(d.order_status, Some(OrderStatus::Approved));
        assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
        assert_eq!(d.note, Some(Note::AccessAlreadyActive));
        // the same order approved twice (redelivered under another key)
        let d = decide(&sit(E::Approved, Some(OrderStatus::Approved), revoked()));
        assert!(d.treatments.is_empty());
    }

    #[test]
    fn repurchase_while_access_ends_renews_per_the_course_duration() {
        // a cancelled subscription scheduled the end in one hour; the customer buys again
        let soon = now() + Duration::hours(1);
        let ending = Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(soon) });
        let lifetime = decide(&sit(E::Approved, None, ending));
        assert_eq!(lifetime.enrollment, EnrollmentChange::Extend { expires_at: None }, "lifetime course: no end");
        assert_eq!(kinds(&lifetime), [T::ExtendAccess]);
        assert!(lifetime.cancel_scheduled_revokes);
        assert_eq!(lifetime.note, Some(Note::AccessRenewed));
        let mut s = sit(E::Approved, None, ending);
        s.access_days = Some(30);
        assert_eq!(decide(&s).enrollment, EnrollmentChange::Extend { expires_at: Some(now() + Duration::days(30)) });
        // never shortened: an end later than the new period stays
        let later = now() + Duration::days(90);
        s.enrollment = Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(later) });
        let d = decide(&s);
        assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
        assert_eq!(d.note, Some(Note::AccessAlreadyActive));
        assert!(d.cancel_scheduled_revokes);
    }

    #[test]
    fn simulator_refund_revokes_the_customers_access_whatever_the_amount() {
        // no order ids: the refund's amount/installments differ from the approval's, so its synthetic
        // order is new; the rule is customer-level
        let mut s = sit(E::Refunded, None, active());
        s.has_order_ids = false;
        let d = decide(&s);
        assert_eq!(kinds(&d), [T::RevokeAccess, T::RefundMessage]);
        assert_eq!(d.enrollment, EnrollmentChange::Revoke);
        assert_eq!(d.order_status, Some(OrderStatus::Refunded));
        s.kind = E::Chargeback;
        assert_eq!(kinds(&decide(&s)), [T::RevokeAccess]);
        // nothing to revoke: recorded with its reason
        for enrollment in [None, revoked()] {
            s.enrollment = enrollment;
            let d = decide(&s);
            assert!(d.treatments.is_empty());
            assert_eq!(d.note, Some(Note::NoAccessToRevoke));
            assert_eq!(d.order_status, Some(OrderStatus::Chargeback));
        }
    }

    #[test]
    fn expired_enrollment_counts_as_inactive() {
        let lapsed =
            Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(now() - Duration::days(1)) });
        assert_eq!(kinds(&decide(&sit(E::Approved, None, lapsed))), [T::GrantAccess, T::WelcomeMessage]);
    }

    #[test]
    fn refund_revokes_and_messages() {
        let d = decide(&sit(E::Refunded, Some(OrderStatus::Approved), active()));
        assert_eq!(kinds(&d), [T::RevokeAccess, T::RefundMessage]);
        assert_eq!(d.enrollment, EnrollmentChange::Revoke);
        assert_eq!(d.order_status, Some(OrderStatus::Refunded));
    }

    #[test]
    fn chargeback_revokes_without_a_message() {
        let d = decide(&sit(E::Chargeback, Some(OrderStatus::Approved), active()));
        assert_eq!(kinds(&d), [T::RevokeAccess]);
        assert_eq!(d.order_status, Some(OrderStatus::Chargeback));
    }

    #[test]
    fn refund_of_a_never_granted_order_revokes_nothing() {
        for prior in [None, Some(OrderStatus::WaitingPayment), Some(OrderStatus::Refused)] {
            let d = decide(&sit(E::Refunded, prior, active()));
            assert!(d.treatments.is_empty(), "{prior:?}");
            assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
            assert_eq!(d.order_status, Some(OrderStatus::Refunded), "recorded so a late approval grants nothing");
        }
    }

    #[test]
    fn refund_when_access_is_already_off_only_messages() {
        let d = decide(&sit(E::Refunded, Some(OrderStatus::Approved), revoked()));
        assert_eq!(kinds(&d), [T::RefundMessage]);
        assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
        // a chargeback after a refund changes nothing more
        let d = decide(&sit(E::Chargeback, Some(OrderStatus::Refunded), revoked()));
        assert!(d.treatments.is_empty());
    }

    #[test]
    fn out_of_order_refund_then_approval() {
        let first = decide(&sit(E::Refunded, None, None));
        let second = decide(&sit(E::Approved, first.order_status, None));
        assert!(second.treatments.is_empty());
    }

    #[test]
    fn messages_before_payment() {
        assert_eq!(kinds(&decide(&sit(E::Refused, None, None))), [T::RefusedMessage]);
        assert_eq!(kinds(&decide(&sit(E::WaitingPayment, None, None))), [T::PaymentPendingMessage]);
        assert_eq!(
            kinds(&decide(&sit(E::Expired, Some(OrderStatus::WaitingPayment), None))),
            [T::PaymentExpiredMessage]
        );
        assert_eq!(kinds(&decide(&sit(E::Canceled, None, None))), [T::CanceledMessage]);
        // none of them touches access
        for k in [E::Refused, E::WaitingPayment, E::Expired, E::Canceled] {
            assert_eq!(decide(&sit(k, None, active())).enrollment, EnrollmentChange::Unchanged);
        }
    }

    #[test]
    fn the_payment_expired_message_goes_out_once_per_order() {
        let announced = |order| Situation { expiry_announced: true, ..sit(E::Expired, order, None) };
        // the sweep's timeout told the customer: the platform's expiry records the status, no second message
        let d = decide(&announced(Some(OrderStatus::WaitingPayment)));
        assert!(d.treatments.is_empty());
        assert_eq!(d.order_status, Some(OrderStatus::Expired));
        assert_eq!(d.note, Some(Note::OrderAlreadyInState));
        // a repeated expiry, or one for an order that went back to waiting (a new boleto) after the message
        assert_eq!(decide(&announced(Some(OrderStatus::Expired))).order_status, None);
        assert!(decide(&announced(Some(OrderStatus::Expired))).treatments.is_empty());
        assert!(decide(&announced(None)).treatments.is_empty());
        // an order already paid stays as it is, as for any late expiry
        for prior in [OrderStatus::Approved, OrderStatus::Refunded, OrderStatus::Chargeback] {
            let d = decide(&announced(Some(prior)));
            assert!(d.treatments.is_empty() && d.order_status.is_none(), "{prior:?}");
            assert_eq!(d.note, Some(Note::OrderAlreadyPaid));
        }
        // not announced yet: the message, as before
        assert_eq!(
            kinds(&decide(&sit(E::Expired, Some(OrderStatus::WaitingPayment), None))),
            [T::PaymentExpiredMessage]
        );
        // the flag is about the expiry message only: an approval after the timeout still grants
        let late = Situation { expiry_announced: true, ..sit(E::Approved, Some(OrderStatus::WaitingPayment), None) };
        assert_eq!(kinds(&decide(&late)), [T::GrantAccess, T::WelcomeMessage]);
        // several courses: still no message
        let plan =
            decide_for_courses(&announced(Some(OrderStatus::WaitingPayment)), &[facts(None, None), facts(None, None)]);
        assert!(plan.courses.iter().all(|d| d.treatments.is_empty()));
        assert_eq!(plan.order_status, Some(OrderStatus::Expired));
    }

    #[test]
    fn late_pre_payment_events_after_payment_are_ignored() {
        for k in [E::Refused, E::WaitingPayment, E::Expired, E::Canceled] {
            for prior in [OrderStatus::Approved, OrderStatus::Refunded, OrderStatus::Chargeback] {
                let d = decide(&sit(k, Some(prior), active()));
                assert!(d.treatments.is_empty(), "{k:?} after {prior:?}");
                assert_eq!(d.order_status, None);
            }
        }
        // a repeated refusal (renewal retries) does not spam the customer
        assert!(decide(&sit(E::Refused, Some(OrderStatus::Refused), None)).treatments.is_empty());
    }

    #[test]
    fn renewal_extends_from_the_current_end() {
        let end = now() + Duration::days(3);
        let mut s =
            sit(E::Renewed, None, Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(end) }));
        s.access_days = Some(30);
        let d = decide(&s);
        assert_eq!(kinds(&d), [T::ExtendAccess]);
        assert_eq!(d.enrollment, EnrollmentChange::Extend { expires_at: Some(end + Duration::days(30)) });
        // a renewal of a lapsed enrollment grants again, without a second welcome
        s.enrollment = revoked();
        assert_eq!(kinds(&decide(&s)), [T::GrantAccess]);
        // never after a refund
        s.order = Some(OrderStatus::Refunded);
        assert!(decide(&s).treatments.is_empty());
    }

    #[test]
    fn renewal_extends_to_the_platforms_paid_period_end() {
        let end = now() + Duration::days(3);
        let paid = now() + Duration::days(33);
        let ending = Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(end) });
        let mut s = sit(E::Renewed, None, ending);
        s.access_days = Some(365);
        s.access_until = Some(paid);
        let d = decide(&s);
        assert_eq!(kinds(&d), [T::ExtendAccess]);
        assert_eq!(d.treatments[0].reason, TreatmentReason::SubscriptionRenewed);
        assert_eq!(
            d.enrollment,
            EnrollmentChange::Extend { expires_at: Some(paid) },
            "the platform's date, not +365 days"
        );
        assert_eq!((d.order_status, d.note), (Some(OrderStatus::Approved), None));
        assert!(d.cancel_scheduled_revokes);
        // the same period again (Kiwify sends order_approved and subscription_renewed): nothing more
        s.enrollment = Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(paid) });
        let d = decide(&s);
        assert!(d.treatments.is_empty());
        assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
        assert_eq!((d.order_status, d.note), (Some(OrderStatus::Approved), Some(Note::AccessAlreadyActive)));
        // never shortened: a later end stays, and lifetime access stays lifetime
        s.enrollment =
            Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(paid + Duration::days(1)) });
        assert_eq!(decide(&s).enrollment, EnrollmentChange::Unchanged);
        s.enrollment = active();
        assert_eq!(decide(&s).enrollment, EnrollmentChange::Unchanged);
        // lapsed: granted again until the paid period's end
        s.enrollment = revoked();
        let d = decide(&s);
        assert_eq!(kinds(&d), [T::GrantAccess]);
        assert_eq!(d.enrollment, EnrollmentChange::Activate { expires_at: Some(paid) });
        // a paid-period end already past is no end at all: the course's duration applies
        s.access_until = Some(now() - Duration::days(1));
        assert_eq!(decide(&s).enrollment, EnrollmentChange::Activate { expires_at: Some(now() + Duration::days(365)) });
        s.enrollment = ending;
        assert_eq!(decide(&s).enrollment, EnrollmentChange::Extend { expires_at: Some(end + Duration::days(365)) });
    }

    #[test]
    fn approval_while_access_is_on_extends_to_the_paid_period_end() {
        // a subscription's renewal charge is a new order approved while access is on
        let end = now() + Duration::hours(1);
        let paid = now() + Duration::days(30);
        let mut s =
            sit(E::Approved, None, Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(end) }));
        s.access_days = Some(7);
        s.access_until = Some(paid);
        let d = decide(&s);
        assert_eq!(kinds(&d), [T::ExtendAccess]);
        assert_eq!(d.treatments[0].reason, TreatmentReason::Repurchase);
        assert_eq!(d.enrollment, EnrollmentChange::Extend { expires_at: Some(paid) });
        assert_eq!(d.note, Some(Note::AccessRenewed));
        // lifetime access is never given an end
        s.enrollment = active();
        let d = decide(&s);
        assert_eq!((d.enrollment, d.note), (EnrollmentChange::Unchanged, Some(Note::AccessAlreadyActive)));
        // a first approval is per the course's duration, whatever the platform's period
        s.enrollment = None;
        assert_eq!(decide(&s).enrollment, EnrollmentChange::Activate { expires_at: Some(now() + Duration::days(7)) });
    }

    #[test]
    fn approval_time_is_kept_once_from_the_approving_event() {
        let at = now() - Duration::minutes(5);
        let approved = Some(OrderStatus::Approved);
        assert_eq!(approval_time(None, approved, Some(at), now()), Some(at), "the platform's time");
        assert_eq!(approval_time(Some(OrderStatus::WaitingPayment), approved, None, now()), Some(now()));
        assert_eq!(approval_time(approved, approved, Some(at), now()), None, "already approved: kept as it was");
        assert_eq!(approval_time(None, Some(OrderStatus::Refunded), Some(at), now()), None);
        assert_eq!(approval_time(None, None, Some(at), now()), None);
        // through the rules: the approval and the renewal of a new order approve it
        for kind in [E::Approved, E::Renewed] {
            let d = decide(&sit(kind, None, None));
            assert_eq!(approval_time(None, d.order_status, Some(at), now()), Some(at), "{kind:?}");
        }
    }

    #[test]
    fn subscription_cancel_schedules_the_revoke_at_the_period_end() {
        let end = now() + Duration::days(10);
        let mut s = sit(E::SubscriptionCanceled, Some(OrderStatus::Approved), active());
        s.access_until = Some(end);
        let d = decide(&s);
        assert_eq!(kinds(&d), [T::RevokeAccess]);
        assert_eq!(d.treatments[0].run_at, Some(end));
        assert_eq!(d.enrollment, EnrollmentChange::EndAt(end));
        // a period already over: revoke now
        s.access_until = Some(now() - Duration::days(1));
        let d = decide(&s);
        assert_eq!(d.treatments[0].run_at, None);
        assert_eq!(d.enrollment, EnrollmentChange::Revoke);
        // nothing to end
        s.enrollment = revoked();
        assert!(decide(&s).treatments.is_empty());
        assert_eq!(decide(&s).order_status, Some(OrderStatus::Canceled));
    }

    #[test]
    fn ignored_events_do_nothing() {
        let d = decide(&sit(E::Ignored, Some(OrderStatus::Approved), active()));
        assert!(d.treatments.is_empty());
        assert_eq!(d.order_status, None);
        assert_eq!(d.enrollment, EnrollmentChange::Unchanged);
    }

    fn facts(access_days: Option<i32>, enrollment: Option<EnrollmentState>) -> CourseFacts {
        CourseFacts { access_days, enrollment }
    }

    #[test]
    fn one_course_plans_exactly_what_decide_decides() {
        for kind in [E::Approved, E::Refunded, E::Refused, E::Renewed, E::SubscriptionCanceled] {
            for enrollment in [None, active(), revoked()] {
                let s = sit(kind, Some(OrderStatus::Approved), enrollment);
                let plan = decide_for_courses(&s, &[facts(None, enrollment)]);
                let single = decide(&s);
                assert_eq!(plan.courses, std::slice::from_ref(&single));
                assert_eq!((plan.order_status, plan.note), (single.order_status, single.note));
            }
        }
    }

    #[test]
    fn an_approval_grants_every_course_with_its_own_duration() {
        let plan = decide_for_courses(&sit(E::Approved, None, None), &[facts(Some(30), None), facts(None, None)]);
        assert_eq!(plan.order_status, Some(OrderStatus::Approved));
        assert_eq!(
            plan.courses[0].enrollment,
            EnrollmentChange::Activate { expires_at: Some(now() + Duration::days(30)) }
        );
        assert_eq!(plan.courses[1].enrollment, EnrollmentChange::Activate { expires_at: None });
        for d in &plan.courses {
            assert_eq!(kinds(d), [T::GrantAccess, T::WelcomeMessage], "each course is granted and welcomed");
        }
        assert_eq!(plan.note, None);
    }

    #[test]
    fn a_refund_revokes_every_course_and_messages_once() {
        let plan = decide_for_courses(
            &sit(E::Refunded, Some(OrderStatus::Approved), None),
            &[facts(Some(30), active()), facts(None, active())],
        );
        assert_eq!(kinds(&plan.courses[0]), [T::RevokeAccess, T::RefundMessage]);
        assert_eq!(kinds(&plan.courses[1]), [T::RevokeAccess], "one refund message per payment");
        assert!(plan.courses.iter().all(|d| d.enrollment == EnrollmentChange::Revoke));
        assert_eq!(plan.order_status, Some(OrderStatus::Refunded));
        // a pending payment: one message, whatever the number of courses
        let plan = decide_for_courses(&sit(E::WaitingPayment, None, None), &[facts(None, None), facts(None, None)]);
        assert_eq!((kinds(&plan.courses[0]), kinds(&plan.courses[1])), (vec![T::PaymentPendingMessage], vec![]));
    }

    #[test]
    fn the_note_is_that_of_the_first_course_that_acted() {
        // course 1 already active for life (nothing to do), course 2 new: granted, so no excuse is needed
        let plan = decide_for_courses(&sit(E::Approved, None, None), &[facts(None, active()), facts(None, None)]);
        assert_eq!(plan.courses[0].note, Some(Note::AccessAlreadyActive));
        assert_eq!(kinds(&plan.courses[1]), [T::GrantAccess, T::WelcomeMessage]);
        assert_eq!(plan.note, None);
        // nothing anywhere: the first course's reason
        let plan = decide_for_courses(&sit(E::Approved, None, None), &[facts(None, active()), facts(None, active())]);
        assert_eq!(plan.note, Some(Note::AccessAlreadyActive));
    }

    /// Every kind × every prior order state × every enrollment state: invariants that must always hold.
    #[test]
    fn exhaustive_invariants() {
        let kinds_all = [
            E::Approved,
            E::Refused,
            E::Refunded,
            E::Chargeback,
            E::WaitingPayment,
            E::Expired,
            E::Canceled,
            E::SubscriptionCanceled,
            E::Renewed,
            E::Ignored,
        ];
        let orders = [
            None,
            Some(OrderStatus::WaitingPayment),
            Some(OrderStatus::Approved),
            Some(OrderStatus::Refused),
            Some(OrderStatus::Refunded),
            Some(OrderStatus::Chargeback),
            Some(OrderStatus::Expired),
            Some(OrderStatus::Canceled),
        ];
        let enrollments =
            [None, active(), revoked(), Some(EnrollmentState { status: EnrollmentStatus::Expired, expires_at: None })];
        for (k, o, e, has_order_ids) in kinds_all.into_iter().flat_map(|k| {
            orders
                .into_iter()
                .flat_map(move |o| enrollments.into_iter().flat_map(move |e| [true, false].map(|ids| (k, o, e, ids))))
        }) {
            for expiry_announced in [false, true] {
                for access_until in [None, Some(now() + Duration::days(10)), Some(now() - Duration::days(1))] {
                    let s = Situation { has_order_ids, access_until, expiry_announced, ..sit(k, o, e) };
                    let d = decide(&s);
                    let ks = kinds(&d);
                    let is_active = e.is_some_and(|e| e.is_active(now()));
                    if ks.contains(&T::GrantAccess) {
                        assert!(!is_active, "no grant for an active enrollment: {s:?}");
                        assert!(!o.is_some_and(OrderStatus::is_reversed), "no grant on a reversed order: {s:?}");
                    }
                    if ks.contains(&T::RevokeAccess) {
                        assert!(is_active, "no revoke for an inactive enrollment: {s:?}");
                    }
                    if let (EnrollmentChange::Extend { expires_at }, Some(current)) =
                        (d.enrollment, e.and_then(|e| e.expires_at))
                    {
                        assert!(expires_at.is_none_or(|end| end >= current), "never shortened: {s:?}");
                    }
                    if ks.contains(&T::WelcomeMessage) {
                        assert!(ks.contains(&T::GrantAccess), "welcome only with a grant: {s:?}");
                    }
                    if expiry_announced {
                        assert!(!ks.contains(&T::PaymentExpiredMessage), "one expiry message per order: {s:?}");
                    }
                    if d.treatments.is_empty()
                        && d.enrollment == EnrollmentChange::Unchanged
                        && d.order_status.is_none()
                    {
                        assert!(d.note.is_some(), "a no-op says why: {s:?}");
                    }
                    if o.is_some_and(OrderStatus::is_reversed) {
                        assert!(!matches!(
                            d.enrollment,
                            EnrollmentChange::Activate { .. } | EnrollmentChange::Extend { .. }
                        ));
                    }
                }
            }
        }
    }
}
