//! The staff API's reads, one module per area (the shape of Lemmy's `db_views`): a query struct with
//! its filters and `list(conn)`, and lookups by id that return the views of `staff::views`. They
//! return diesel's `QueryResult`; validating the request and answering 404 stay with the handlers.

pub mod customers;
pub mod events;
pub mod orders;
pub mod treatments;
