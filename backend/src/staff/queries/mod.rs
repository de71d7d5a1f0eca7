//! The staff API's reads, one module per area (the shape of Lemmy's `db_views`): a query struct with
//! its filters and `list(conn)`, and lookups by id that return the views of `staff::views`. They
//! return diesel's `QueryResult`; validating the request and answering 404 stay with the handlers.

use chrono::{DateTime, Utc};

/// What every list shares: a period, the keyset position and the page size (newest first).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// From (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Only rows with a smaller id: the page after the one that ended there.
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Window {
    /// The newest `limit` rows of any time.
    pub fn newest(limit: i64) -> Window {
        Window { limit, ..Window::default() }
    }

    /// The same window, continued before `before_id`.
    pub fn before(self, before_id: Option<i64>) -> Window {
        Window { before_id, ..self }
    }
}

/// Narrows a boxed query to a `Window` on its time and id columns, newest first.
macro_rules! within {
    ($query:expr, $window:expr, $time:expr, $id:expr) => {{
        let (mut query, window) = ($query, $window);
        if let Some(from) = window.from {
            query = query.filter($time.ge(from));
        }
        if let Some(to) = window.to {
            query = query.filter($time.lt(to));
        }
        if let Some(id) = window.before_id {
            query = query.filter($id.lt(id));
        }
        query.order($id.desc()).limit(window.limit)
    }};
}

pub mod customers;
pub mod events;
pub mod orders;
pub mod treatments;
