//! The scenarios: per customer, the steps a platform sends and, for each, what Portaria must answer
//! and which treatments it must queue for a customer new to the server, buying a product that is
//! not mapped yet (its automatic course gives lifetime access). DESIGN.md section 2 is the rule book.

use super::data::{Faker, Method, Person, Purchase};
use super::payloads::{self, can_send, Event, Step, Subscription};
use super::{Draft, Expect, Scenario};
use crate::ingest::event::Source;
use crate::ingest::process::Outcome;
use crate::treatments::rules::TreatmentKind;
use chrono::{DateTime, Duration, Utc};

use TreatmentKind as T;

const GRANT: &[T] = &[T::GrantAccess, T::WelcomeMessage];

/// Whether `source` can play `scenario` (it has the events the scenario needs).
pub fn supports(source: Source, scenario: Scenario) -> bool {
    let needs: &[Step] = match scenario {
        Scenario::Random | Scenario::Lifecycle | Scenario::OutOfOrder | Scenario::Duplicates | Scenario::Hostile => {
            &[Step::Approved, Step::Refused, Step::Refunded]
        }
        // Kiwify never says a pix expired: only the pending step is sent (the sweep expires it).
        Scenario::PixExpiry => &[Step::Pending],
        Scenario::Boleto => &[Step::Pending, Step::Approved],
        Scenario::Chargeback => &[Step::Approved, Step::Chargeback],
        Scenario::Subscription => &[Step::Approved, Step::Renewed, Step::SubscriptionCanceled],
    };
    needs.iter().all(|step| can_send(source, *step))
}

/// One step to send, with what it must yield.
struct Send<'a> {
    step: Step,
    purchase: &'a Purchase,
    subscription: Option<&'a Subscription>,
    at: DateTime<Utc>,
    expect: &'static [T],
    outcome: Outcome,
}

impl<'a> Send<'a> {
    fn new(step: Step, purchase: &'a Purchase, at: DateTime<Utc>, expect: &'static [T]) -> Send<'a> {
        Send { step, purchase, subscription: None, at, expect, outcome: Outcome::Processed }
    }
}

/// The drafts of one customer's sequence (`index` numbers the customer in the plan).
pub(super) fn sequence(
    faker: &mut Faker,
    source: Source,
    scenario: Scenario,
    person: &Person,
    sequence: usize,
    at: DateTime<Utc>,
) -> Vec<Draft> {
    // The customer's story starts between 2 and 72 hours ago, steps 5 to 90 minutes apart.
    let start = at - Duration::minutes(faker.between(120, 72 * 60));
    let gap = Duration::minutes(faker.between(5, 90));
    let step_at = |k: i32| start + gap * k;
    let mut drafts: Vec<Draft> = vec![];
    let make = |faker: &mut Faker, send: Send, created: DateTime<Utc>, label: String| -> Draft {
        let envelope = faker.uuid();
        let event = Event {
            step: send.step,
            person,
            purchase: send.purchase,
            at: send.at,
            created,
            envelope,
            subscription: send.subscription,
        };
        let body = payloads::encode(source, &payloads::build(source, &event));
        Draft {
            sequence,
            customer: Some(person.key()),
            label,
            body,
            message_id: format!("msg_{}", faker.hex(24)),
            auth: super::Auth::Valid,
            expect: Expect { status: 200, outcome: send.outcome, treatments: send.expect.to_vec() },
        }
    };
    let label = |step: &str| format!("{} #{sequence}: {step}", scenario.as_str());
    match scenario {
        Scenario::Random => {
            let product = faker.product(false);
            let roll = faker.between(0, 9);
            let (step, expect): (Step, &'static [T]) = match roll {
                0..=5 => (Step::Approved, GRANT),
                6 | 7 => (Step::Refused, &[T::RefusedMessage]),
                // A refund of a purchase Portaria never saw approved: recorded, nothing to revoke.
                _ => (Step::Refunded, &[]),
            };
            let purchase = if step == Step::Refused && source != Source::Hashtag {
                faker.purchase_by(product, Method::Card)
            } else {
                faker.purchase(product)
            };
            drafts.push(make(faker, Send::new(step, &purchase, step_at(0), expect), start, label(step_name(step))));
        }
        Scenario::Lifecycle => {
            let product = faker.product(false);
            let purchase = faker.purchase(product);
            drafts.push(make(faker, Send::new(Step::Approved, &purchase, step_at(1), GRANT), start, label("approved")));
            let revoke = &[T::RevokeAccess, T::RefundMessage];
            drafts.push(make(
                faker,
                Send::new(Step::Refunded, &purchase, step_at(2), revoke),
                start,
                label("refunded"),
            ));
        }
        Scenario::OutOfOrder => {
            let product = faker.product(false);
            let purchase = faker.purchase(product);
            // The refund arrives first: recorded, so that the late approval grants nothing.
            drafts.push(make(
                faker,
                Send::new(Step::Refunded, &purchase, step_at(2), &[]),
                start,
                label("refunded (first)"),
            ));
            drafts.push(make(
                faker,
                Send::new(Step::Approved, &purchase, step_at(1), &[]),
                start,
                label("approved (late)"),
            ));
        }
        Scenario::Duplicates => {
            let product = faker.product(false);
            let purchase = faker.purchase(product);
            drafts.push(make(faker, Send::new(Step::Approved, &purchase, step_at(1), GRANT), start, label("approved")));
            let original = drafts.last().expect("just pushed").clone();
            // A retry of the same delivery: the same bytes (and Standard Webhooks message id).
            drafts.push(Draft {
                label: label("approved (redelivered)"),
                expect: Expect { outcome: Outcome::Duplicate, treatments: vec![], ..original.expect.clone() },
                ..original
            });
            // A second delivery of the same event under a new envelope id (Hotmart's `id` is not
            // known to be stable; the business key decides). Other sources: the same bytes again.
            let mut again = Send::new(Step::Approved, &purchase, step_at(1), &[]);
            again.outcome = Outcome::Duplicate;
            if source == Source::Hotmart {
                drafts.push(make(faker, again, start, label("approved (new envelope id)")));
            } else {
                let original = drafts[drafts.len() - 2].clone();
                drafts.push(Draft {
                    label: label("approved (redelivered again)"),
                    expect: Expect { outcome: Outcome::Duplicate, treatments: vec![], ..original.expect.clone() },
                    ..original
                });
            }
        }
        Scenario::PixExpiry => {
            let product = faker.product(false);
            let purchase = faker.purchase_by(product, Method::Pix);
            let pending = &[T::PaymentPendingMessage];
            drafts.push(make(
                faker,
                Send::new(Step::Pending, &purchase, step_at(0), pending),
                start,
                label("pix generated"),
            ));
            if can_send(source, Step::Expired) {
                // The pix lives 30 minutes.
                let expired = start + Duration::minutes(31);
                let kinds = &[T::PaymentExpiredMessage];
                drafts.push(make(
                    faker,
                    Send::new(Step::Expired, &purchase, expired, kinds),
                    start,
                    label("pix expired"),
                ));
            }
        }
        Scenario::Boleto => {
            let product = faker.product(false);
            let purchase = faker.purchase_by(product, Method::Boleto);
            let pending = &[T::PaymentPendingMessage];
            drafts.push(make(
                faker,
                Send::new(Step::Pending, &purchase, step_at(0), pending),
                start,
                label("boleto generated"),
            ));
            drafts.push(make(
                faker,
                Send::new(Step::Approved, &purchase, step_at(1), GRANT),
                start,
                label("boleto paid"),
            ));
        }
        Scenario::Chargeback => {
            let product = faker.product(false);
            let purchase = faker.purchase_by(product, Method::Card);
            drafts.push(make(faker, Send::new(Step::Approved, &purchase, step_at(1), GRANT), start, label("approved")));
            let revoke = &[T::RevokeAccess];
            drafts.push(make(
                faker,
                Send::new(Step::Chargeback, &purchase, step_at(2), revoke),
                start,
                label("chargeback"),
            ));
        }
        Scenario::Subscription => {
            let product = faker.product(true);
            let first = faker.purchase_by(product, Method::Card);
            let renewal = Purchase { ids: faker.ids(), ..first.clone() };
            // Subscribed 35 days ago; the second month was paid 5 days ago; canceled a moment ago,
            // with access until the end of the paid period (25 days from now).
            let started = at - Duration::days(35) + Duration::minutes(faker.between(0, 600));
            let renewed = started + Duration::days(30);
            let canceled = at - Duration::minutes(faker.between(1, 120));
            let uuid = faker.uuid();
            let code = format!("SUB{}", faker.alphanumeric(8).to_uppercase());
            let month = |charge: u32| Subscription {
                uuid: uuid.clone(),
                code: code.clone(),
                started,
                charge,
                paid_until: started + Duration::days(30 * i64::from(charge)),
            };
            let (one, two) = (month(1), month(2));
            // The simulated course grants access for life, and a renewal never shortens access (its
            // paid-period end is earlier than "for life"), so a renewal that carries its paid-period end
            // extends nothing. Monetizze's renewal carries none: it extends by the course's duration.
            let renewal_kinds: &'static [T] = if source == Source::Monetizze { &[T::ExtendAccess] } else { &[] };
            drafts.push(make(
                faker,
                Send { subscription: Some(&one), ..Send::new(Step::Approved, &first, started, GRANT) },
                started,
                label("subscribed"),
            ));
            if source == Source::Kiwify {
                // Kiwify announces a paid renewal twice: the new order's purchase event (access is
                // already on for life: nothing to do) and `subscription_renewed`.
                drafts.push(make(
                    faker,
                    Send { subscription: Some(&two), ..Send::new(Step::Approved, &renewal, renewed, &[]) },
                    renewed,
                    label("renewal order approved"),
                ));
            }
            drafts.push(make(
                faker,
                Send { subscription: Some(&two), ..Send::new(Step::Renewed, &renewal, renewed, renewal_kinds) },
                renewed,
                label("renewed"),
            ));
            drafts.push(make(
                faker,
                Send {
                    subscription: Some(&two),
                    ..Send::new(Step::SubscriptionCanceled, &renewal, canceled, &[T::RevokeAccess])
                },
                renewed,
                label("subscription canceled"),
            ));
        }
        Scenario::Hostile => return super::hostile::corpus(faker, source, person, sequence, at),
    }
    drafts
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Approved => "approved",
        Step::Refused => "refused",
        Step::Refunded => "refunded",
        Step::Chargeback => "chargeback",
        Step::Pending => "pending",
        Step::Expired => "expired",
        Step::Renewed => "renewed",
        Step::SubscriptionCanceled => "subscription canceled",
    }
}
