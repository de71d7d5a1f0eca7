//! Manual access (issue 10, DESIGN.md section 8): a staff member grants, extends or revokes one
//! customer's access, resends the welcome message, extends or revokes a whole cohort, or imports
//! customers with access from CSV. Every change is written like a webhook's (enrollment + treatments
//! through the outbox), with who did it and why, and audited in the same transaction.
//!
//! `rules` and `import` are pure (unit-tested); `queries` holds the transactions; `handlers` the routes.

pub mod handlers;
pub mod import;
pub mod queries;
pub mod rules;
