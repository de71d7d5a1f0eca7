//! What the catalog API takes and returns.

use crate::ingest::event::Source;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub use crate::object_body::ObjectBody;

/// For partial updates: a present field, `null` included (`Some(None)`), apart from an absent one
/// (`None`). Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A new course.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CourseCreate {
    /// 1 to 200 characters, at least one of them neither a space nor a control character (control
    /// characters become spaces, runs of spaces one, and the ends are trimmed).
    #[schema(
        example = "Confeitaria do Zero",
        min_length = 1,
        max_length = 200,
        pattern = "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    /// Days of access from each grant, 1 to 36500; `null` or absent: lifetime access.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500, example = 365)]
    pub access_days: Option<i32>,
    /// The course's members-area link, used in the welcome message: an http(s) URL with a host, without
    /// spaces or control characters, at most 2000 characters; `null`, absent or `""`: none.
    #[serde(default)]
    #[schema(
        example = "https://membros.escola.com.br/confeitaria",
        max_length = 2000,
        pattern = "^([Hh][Tt][Tt][Pp][Ss]?://[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000/?#@]+([/?#][^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?)?$"
    )]
    pub access_url: Option<String>,
    /// Whether the course is on sale (default `true`). An inactive course is still granted by the
    /// products mapped to it: the customer paid.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A partial update of a course: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CoursePatch {
    /// 1 to 200 characters, at least one of them neither a space nor a control character; `null`: unchanged.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: Option<String>,
    /// Days of access, 1 to 36500; `null` sets lifetime access. Applies to grants made from now on:
    /// the end of an access already granted does not move.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 36500)]
    pub access_days: Option<Option<i32>>,
    /// An http(s) URL with a host, without spaces or control characters, at most 2000 characters; `null`
    /// or `""` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "^([Hh][Tt][Tt][Pp][Ss]?://[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000/?#@]+([/?#][^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?)?$")]
    pub access_url: Option<Option<String>>,
    /// The course platform's endpoint for this course's access webhooks (`access.granted`,
    /// `access.extended`, `access.revoked`, signed with Standard Webhooks; docs/CHANNELS.md): an http(s)
    /// URL as for `access_url`; `null` or `""` removes it (then `ACCESS_WEBHOOK_URL` applies).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "^([Hh][Tt][Tt][Pp][Ss]?://[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000/?#@]+([/?#][^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*)?)?$")]
    pub access_webhook_url: Option<Option<String>>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// A course of the catalog, with its counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourseView {
    pub id: i64,
    /// Unique and stable (made from the name at creation; a rename keeps it).
    pub slug: String,
    pub name: String,
    /// Days of access from each grant; `null`: lifetime.
    pub access_days: Option<i32>,
    pub access_url: Option<String>,
    /// Where this course's access webhooks go; `null`: `ACCESS_WEBHOOK_URL`, when set.
    pub access_webhook_url: Option<String>,
    pub active: bool,
    /// Enrollments whose access is on right now.
    pub active_enrollments: i64,
    /// Product mappings that grant this course.
    pub mappings: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every course, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseList {
    pub items: Vec<CourseView>,
}

/// A new product mapping.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MappingCreate {
    pub source: Source,
    /// The platform's product id, exactly as its webhooks send it: at most 200 characters, at least one
    /// of them neither a space nor a control character (control characters are dropped, the ends trimmed).
    #[schema(
        example = "8d2c1b0a-2222-4e5f-8a9b-abcdefabcdef",
        min_length = 1,
        max_length = 200,
        pattern = "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub external_product_id: String,
    /// An offer or plan code (at most 200 characters): the mapping then applies to that offer only.
    /// `null`, absent or blank: every offer of the product without a mapping of its own.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub offer_code: Option<String>,
    /// The courses granted: 1 to 50 course ids (repeats are ignored). An id that is no course is 404
    /// `course_not_found`.
    #[schema(example = json!([1, 2]), min_items = 1, max_items = 50)]
    pub course_ids: Vec<i64>,
}

/// A partial update of a mapping: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MappingPatch {
    /// A new offer code (at most 200 characters); `null` or blank: every offer.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub offer_code: Option<Option<String>>,
    /// The new set of courses: 1 to 50 course ids; `null`: unchanged. An id that is no course is 404
    /// `course_not_found`.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 50)]
    pub course_ids: Option<Vec<i64>>,
}

/// A course as a mapping lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourseRef {
    pub id: i64,
    pub name: String,
    pub access_days: Option<i32>,
    pub active: bool,
}

/// A product mapping: (source, product, optional offer) → courses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MappingView {
    pub id: i64,
    pub source: Source,
    pub external_product_id: String,
    /// `null`: every offer of the product that has no mapping of its own.
    pub offer_code: Option<String>,
    /// The product's name as its webhooks last named it, when one was seen.
    pub product_name: Option<String>,
    /// By id.
    pub courses: Vec<CourseRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A product seen in webhooks that no mapping covers: it grants the course created for it
/// automatically.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnmappedProduct {
    pub source: Source,
    pub external_product_id: String,
    pub product_name: Option<String>,
    /// When its first webhook arrived.
    pub first_seen: DateTime<Utc>,
    /// Orders of the automatic course.
    pub orders: i64,
    /// The course created for it, which its webhooks grant today.
    pub course_id: i64,
    pub course_name: String,
}

/// `GET /api/products`: the mappings (`kind: mappings`), or with `unmapped=true` the products seen
/// without one (`kind: unmapped`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProductList {
    /// Every mapping, by source, product and offer.
    Mappings { items: Vec<MappingView> },
    /// Products seen without a mapping, the most recent first.
    Unmapped { items: Vec<UnmappedProduct> },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object_body::integral_numbers;
    use serde_json::json;

    #[test]
    fn integral_floats_are_integers() {
        let mut body = json!({"access_days": 30.0, "course_ids": [1.0, 2], "x": {"y": -4.0}, "z": 1.5, "big": 1e300});
        integral_numbers(&mut body);
        assert_eq!(body, json!({"access_days": 30, "course_ids": [1, 2], "x": {"y": -4}, "z": 1.5, "big": 1e300}));
        let patch: CoursePatch = serde_json::from_value(json!({"access_days": 30})).unwrap();
        assert_eq!(patch.access_days, Some(Some(30)));
    }
}
