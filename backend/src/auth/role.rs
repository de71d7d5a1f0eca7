//! Staff roles: `admin` does everything; `suporte` searches, reads timelines, replays, retries and
//! changes a customer's access. The catalog, the team, the import and the audit are the admin's.

crate::vocabulary! {
    /// A staff user's role (`users.role`).
    pub enum Role {
        Admin = "admin",
        Suporte = "suporte",
    }
}
