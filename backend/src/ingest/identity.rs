//! Customers a source identified by document only (a Kiwify `Customer` with a CPF and no e-mail):
//! matched to the one known customer with that document (digits) before anything is written. Portaria
//! identifies customers by e-mail, so an unknown document is refused (422) asking for one.

use super::event::{Parsed, PaymentEvent};
use crate::schema::customers;
use diesel::prelude::*;
use std::borrow::Cow;

/// Why the customer could not be identified (the 422 message).
pub const UNKNOWN_DOCUMENT: &str = "the customer has no e-mail (`Customer.email`) and no known customer has this \
     CPF/CNPJ: an e-mail is needed to identify a new customer";
pub const AMBIGUOUS_DOCUMENT: &str = "the customer has no e-mail (`Customer.email`) and several customers have this \
     CPF/CNPJ: an e-mail is needed to tell which one";

/// The parsed payload with its customer's e-mail filled in from the document when the source sent none;
/// `Err(message)` when no single customer has that document.
pub fn identify<'a>(conn: &mut PgConnection, parsed: &'a Parsed) -> QueryResult<Result<Cow<'a, Parsed>, String>> {
    let Parsed::Event(event) = parsed else { return Ok(Ok(Cow::Borrowed(parsed))) };
    if !event.customer.by_document_only() {
        return Ok(Ok(Cow::Borrowed(parsed)));
    }
    let document = event.customer.document.as_deref().unwrap_or_default();
    let emails = emails_with_document(conn, document)?;
    Ok(match_one(&emails).map(|email| {
        let mut event: PaymentEvent = (**event).clone();
        event.customer.email = email.to_string();
        Cow::Owned(Parsed::Event(Box::new(event)))
    }))
}

/// Up to two e-mails of customers with this document: enough to tell none, one and several apart.
fn emails_with_document(conn: &mut PgConnection, document: &str) -> QueryResult<Vec<String>> {
    customers::table
        .filter(customers::document.eq(document))
        .order(customers::id)
        .select(customers::email)
        .limit(2)
        .load(conn)
}

/// The one e-mail, or why there is none.
fn match_one(emails: &[String]) -> Result<&str, String> {
    match emails {
        [] => Err(UNKNOWN_DOCUMENT.to_string()),
        [only] => Ok(only),
        _ => Err(AMBIGUOUS_DOCUMENT.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_customer_or_a_reason() {
        assert_eq!(match_one(&["ana@example.com".into()]), Ok("ana@example.com"));
        let none = match_one(&[]).unwrap_err();
        assert!(none.contains("an e-mail is needed") && none.contains("Customer.email"), "{none}");
        let several = match_one(&["a@example.com".into(), "b@example.com".into()]).unwrap_err();
        assert!(several.contains("several customers"), "{several}");
    }
}
