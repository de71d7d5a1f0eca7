//! One typed list per vocabulary, from the database to the API. Each vocabulary is a Rust enum
//! declared once with [`vocabulary!`]: its variants and their text, which is at once the value stored
//! in a TEXT column (guarded by a CHECK constraint listing the same values, see the migrations
//! `2026-12-02-000002_vocabulary_checks`, `..._000003_catalog_access_staff` and
//! `..._000013_treatment_reason_check`), the serde name and the `enum:` list of openapi.yaml.

use serde::{Deserialize, Deserializer};

/// What every vocabulary enum offers (implemented by [`vocabulary!`]).
pub trait Vocabulary: Copy + Eq + 'static {
    /// The Rust name of the vocabulary, for messages.
    const NAME: &'static str;
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    /// The stored (and serialised) text of the value.
    fn as_str(self) -> &'static str;
    /// The value of a stored text, if it is one.
    fn parse(s: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.as_str() == s)
    }
}

/// Declares a vocabulary enum: `Variant = "text"`, each text (the variant's name in snake_case) stored
/// in the database, used as the serde name and listed in the OpenAPI schema. Generates `ALL`, `as_str`, `parse`, `Display`, and the diesel
/// `ToSql`/`FromSql` for a TEXT column (an unknown stored text is a deserialisation error, which the
/// CHECK constraint makes impossible).
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // Every text is its variant's name in snake_case (a unit test holds serde to the texts).
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The stored (and serialised) text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value of a stored text, if it is one.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::vocabulary::Vocabulary for $name {
            const NAME: &'static str = stringify!($name);
            fn all() -> &'static [Self] {
                &$name::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        /// Compares with a stored text (as tests and logs read it).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(
                    bytes,
                )?;
                $name::parse(&text).ok_or_else(|| format!("{:?} is not a {}", text, stringify!($name)).into())
            }
        }
    };
}

/// For optional query filters: an absent parameter is no filter; a present one (empty included, as
/// the OpenAPI `enum` says) must be one of the vocabulary's values, else serde fails, which the staff API
/// answers with 400 `invalid_query`.
pub fn known_value<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Vocabulary,
{
    let Some(s) = Option::<String>::deserialize(deserializer)? else { return Ok(None) };
    T::parse(&s).map(Some).ok_or_else(|| {
        let expected: Vec<&str> = T::all().iter().map(|v| v.as_str()).collect();
        serde::de::Error::custom(format!("unknown value {s:?}, expected one of: {}", expected.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::Vocabulary;
    use crate::auth::Role;
    use crate::error::ErrorCode;
    use crate::ingest::event::{EventKind, Source};
    use crate::ingest::process::Outcome;
    use crate::note::Note;
    use crate::staff::audit::{AuditAction, AuditTarget};
    use crate::staff::views::CustomerAccess;
    use crate::treatments::rules::{EnrollmentStatus, OrderStatus, TreatmentKind, TreatmentReason};
    use crate::treatments::store::TreatmentStatus;

    const CHECKS: &str = concat!(
        include_str!("../migrations/2026-12-02-000002_vocabulary_checks/up.sql"),
        include_str!("../migrations/2026-12-02-000003_catalog_access_staff/up.sql"),
        include_str!("../migrations/2026-12-02-000013_treatment_reason_check/up.sql"),
        include_str!("../migrations/2026-12-02-000020_mail_reminders/up.sql"),
        include_str!("../migrations/2026-12-02-000030_sources_eduzz_monetizze/up.sql"),
        include_str!("../migrations/2026-12-02-000031_notes_eduzz_monetizze/up.sql"),
        include_str!("../migrations/2026-12-02-000032_note_unknown_status/up.sql"),
        include_str!("../migrations/2026-12-02-000080_simulator_audit/up.sql"),
        include_str!("../migrations/2026-12-02-000090_product_aliases/up.sql"),
    );

    /// The values of one vocabulary: stored text, serde name, `parse` and `Display` agree, and the
    /// CHECK constraint of each column that holds it lists exactly these values, in this order.
    fn agree<T: Vocabulary + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Display>(columns: &[&str]) {
        let mut seen = std::collections::HashSet::new();
        for &value in T::all() {
            let text = value.as_str();
            assert!(seen.insert(text), "{} repeats {text}", T::NAME);
            assert_eq!(serde_json::to_value(value).unwrap(), text, "{}", T::NAME);
            assert!(serde_json::from_value::<T>(text.into()).unwrap() == value, "{}", T::NAME);
            assert!(T::parse(text) == Some(value), "{}", T::NAME);
            assert_eq!(value.to_string(), text);
        }
        assert!(T::parse("").is_none() && T::parse("no_such_value").is_none());
        let list: Vec<String> = T::all().iter().map(|v| format!("'{}'", v.as_str())).collect();
        for column in columns {
            let (table, column) = column.split_once('.').unwrap();
            let check = format!(
                "ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_check CHECK ({column} IN ({}));",
                list.join(", ")
            );
            assert!(CHECKS.contains(&check), "{} and the CHECK of {table}.{column} differ", T::NAME);
        }
    }

    #[test]
    fn every_vocabulary_agrees_with_its_serde_names_and_check_constraints() {
        agree::<Outcome>(&["webhook_events.outcome"]);
        agree::<EventKind>(&["webhook_events.kind"]);
        agree::<Note>(&["webhook_events.note"]);
        agree::<Source>(&[
            "orders.source",
            "product_courses.source",
            "product_mappings.source",
            "product_aliases.source",
        ]);
        agree::<OrderStatus>(&["orders.status"]);
        agree::<EnrollmentStatus>(&["enrollments.status"]);
        agree::<TreatmentKind>(&["treatments.kind"]);
        agree::<TreatmentStatus>(&["treatments.status"]);
        agree::<TreatmentReason>(&["treatments.reason"]);
        agree::<Role>(&["users.role"]);
        agree::<AuditAction>(&["audit_log.action"]);
        agree::<AuditTarget>(&["audit_log.target_type"]);
        agree::<ErrorCode>(&[]);
        agree::<CustomerAccess>(&[]);
        assert_eq!(CHECKS.matches("ADD CONSTRAINT").count(), 22, "a constrained column no test covers");
    }

    #[test]
    fn outcomes_are_accepted_or_rejected() {
        for outcome in Outcome::ALL {
            assert_ne!(Outcome::ACCEPTED.contains(&outcome), Outcome::REJECTED.contains(&outcome), "{outcome}");
        }
    }

    #[derive(serde::Deserialize)]
    struct Filter {
        #[serde(default, deserialize_with = "super::known_value")]
        outcome: Option<Outcome>,
    }

    #[test]
    fn filters_take_an_absent_value_as_none_and_refuse_empty_or_unknown_ones() {
        let parse = |q: &str| actix_web::web::Query::<Filter>::from_query(q).map(|f| f.into_inner().outcome);
        assert_eq!(parse("").unwrap(), None);
        assert!(parse("outcome=").is_err());
        assert_eq!(parse("outcome=duplicate").unwrap(), Some(Outcome::Duplicate));
        let e = parse("outcome=rejected").unwrap_err().to_string();
        assert!(e.contains("rejected") && e.contains("request_timeout"), "{e}");
    }
}
