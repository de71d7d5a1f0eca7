//! Webhook bodies for one order's life (approved, refunded, chargeback), per source, built from the
//! fixtures with the order id, the buyer's e-mail and the product made consistent across events.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Approved,
    Refunded,
    Chargeback,
}

impl Step {
    pub fn reverses(self) -> bool {
        matches!(self, Step::Refunded | Step::Chargeback)
    }
}

fn json_fixture(path: &str) -> Value {
    serde_json::from_str(&super::fixture(path)).expect("fixture is JSON")
}

fn set(body: &mut Value, pointer: &str, value: Value) {
    *body.pointer_mut(pointer).unwrap_or_else(|| panic!("fixture has no {pointer}")) = value;
}

/// The body `source` sends for `step` of order `order_id` bought by `email`; `None` when the source
/// has no such event (the simulator knows no chargeback). The simulator has no order ids: its order
/// is the e-mail with a fixed amount, method and installments.
pub fn order_event(source: &str, step: Step, order_id: &str, email: &str) -> Option<String> {
    let (approved, this, order_ptr, email_ptr, product_ptr) = match (source, step) {
        ("hashtag", Step::Chargeback) => return None,
        ("hashtag", _) => {
            let status = if step == Step::Approved { "aprovado" } else { "reembolsado" };
            return Some(super::simulator("Cliente Carga", email, status, 297.0));
        }
        ("hotmart", _) => (
            "hotmart/purchase_approved.json",
            match step {
                Step::Approved => "hotmart/purchase_approved.json",
                Step::Refunded => "hotmart/purchase_refunded.json",
                Step::Chargeback => "hotmart/purchase_chargeback.json",
            },
            "/data/purchase/transaction",
            "/data/buyer/email",
            "/data/product",
        ),
        ("kiwify", _) => (
            "kiwify/order_approved.json",
            match step {
                Step::Approved => "kiwify/order_approved.json",
                Step::Refunded => "kiwify/order_refunded.json",
                Step::Chargeback => "kiwify/chargeback.json",
            },
            "/order_id",
            "/Customer/email",
            "/Product",
        ),
        ("generic", _) => (
            "generic/approved.json",
            match step {
                Step::Approved => "generic/approved.json",
                Step::Refunded => "generic/refunded.json",
                Step::Chargeback => "generic/chargeback.json",
            },
            "/order/id",
            "/customer/email",
            "/product",
        ),
        (other, _) => panic!("no payloads for source {other}"),
    };
    let product = json_fixture(approved).pointer(product_ptr).cloned().expect("approved fixture has a product");
    let mut body = json_fixture(this);
    set(&mut body, order_ptr, Value::String(order_id.into()));
    set(&mut body, email_ptr, Value::String(email.into()));
    set(&mut body, product_ptr, product);
    Some(body.to_string())
}
