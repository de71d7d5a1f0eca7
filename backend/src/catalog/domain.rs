//! The catalog's rules as plain functions: what a course or a mapping may be, course slugs, and which
//! mapping a webhook's product resolves to.

use super::views::{CourseCreate, CoursePatch, MappingCreate, MappingPatch};
use crate::error::{ApiError, ErrorCode};
use crate::ingest::event::Source;
use crate::ingest::process::slugify;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ACCESS_DAYS: i32 = 36_500;
pub const MAX_URL_CHARS: usize = 2_000;
pub const MAX_ID_CHARS: usize = 200;
pub const MAX_COURSES_PER_MAPPING: usize = 50;
/// Slugs are at most this long, a `-N` suffix included.
const MAX_SLUG_CHARS: usize = 64;

/// Field errors, answered together as one 422 `validation_failed` (`details.fields`).
#[derive(Debug, Default)]
pub struct FieldErrors(Map<String, Value>);

impl FieldErrors {
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.0.insert(field.into(), json!(message))).ok()
    }

    /// The value when no field is at fault.
    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.0.is_empty() {
            return Ok(value());
        }
        Err(ApiError::unprocessable(ErrorCode::ValidationFailed, "Some fields are invalid.")
            .with_details(json!({ "fields": self.0 })))
    }
}

// The rules below are exactly those the OpenAPI schema states (length, pattern), so that what the
// contract accepts is accepted and what it refuses is refused.

/// A space or a control character: what the schema's `[^\u0000-\u0020...]` class leaves out.
fn blank(c: char) -> bool {
    c.is_control() || c.is_whitespace()
}

const TEXT_ERROR: &str = "must have 1 to 200 characters, at least one of them not a space";

/// A name: 1 to 200 characters as sent, one of them not blank. Control characters become spaces, runs of
/// spaces one space, and the ends are trimmed.
pub fn name(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_NAME_CHARS || !raw.chars().any(|c| !blank(c)) {
        return Err(TEXT_ERROR.into());
    }
    let spaced: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    Ok(spaced.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// An id as a platform sends it: control characters dropped (no webhook carries one), the ends trimmed.
fn id_text(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string()
}

/// A product id: 1 to 200 characters as sent, one of them not blank.
pub fn product_id(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_ID_CHARS || !raw.chars().any(|c| !blank(c)) {
        return Err(TEXT_ERROR.into());
    }
    Ok(id_text(raw))
}

/// An offer code: at most 200 characters; blank means every offer.
pub fn offer_code(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.chars().count() > MAX_ID_CHARS {
        return Err(format!("must have at most {MAX_ID_CHARS} characters"));
    }
    Ok(Some(id_text(raw)).filter(|code| !code.is_empty()))
}

pub fn access_days(days: Option<i32>) -> Result<Option<i32>, String> {
    match days {
        Some(d) if !(1..=MAX_ACCESS_DAYS).contains(&d) => {
            Err(format!("must be 1 to {MAX_ACCESS_DAYS} days, or null for lifetime access"))
        }
        other => Ok(other),
    }
}

/// An http(s) URL with a host (no `@` in it), without spaces or control characters, at most 2000
/// characters; empty means none. (A regular expression's `$` also matches before a final line break,
/// so one final `\n` is dropped.)
pub fn access_url(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let error = || format!("must be an http:// or https:// address of at most {MAX_URL_CHARS} characters");
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(error());
    }
    let url = raw.strip_suffix('\n').unwrap_or(raw);
    if url.is_empty() {
        return Ok(None);
    }
    let scheme = |prefix: &str| url.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    let rest = if scheme("https://") {
        &url[8..]
    } else if scheme("http://") {
        &url[7..]
    } else {
        return Err(error());
    };
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if host.is_empty() || host.contains('@') || url.chars().any(blank) {
        return Err(error());
    }
    Ok(Some(url.to_string()))
}

/// 1 to 50 ids as sent; without repeats, in ascending order.
pub fn course_ids(ids: &[i64]) -> Result<Vec<i64>, String> {
    if ids.is_empty() || ids.len() > MAX_COURSES_PER_MAPPING {
        return Err(format!("must list 1 to {MAX_COURSES_PER_MAPPING} course ids"));
    }
    Ok(ids.iter().copied().collect::<BTreeSet<i64>>().into_iter().collect())
}

/// A course ready to insert (its slug is chosen against the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCourse {
    pub name: String,
    pub access_days: Option<i32>,
    pub access_url: Option<String>,
    pub active: bool,
}

pub fn new_course(input: &CourseCreate) -> Result<NewCourse, ApiError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", name(&input.name));
    let access_days = errors.check("access_days", access_days(input.access_days));
    let access_url = errors.check("access_url", access_url(input.access_url.as_deref()));
    errors.finish(|| NewCourse {
        name: name.unwrap_or_default(),
        access_days: access_days.flatten(),
        access_url: access_url.flatten(),
        active: input.active.unwrap_or(true),
    })
}

/// What a course update changes (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseChanges {
    pub name: Option<String>,
    pub access_days: Option<Option<i32>>,
    pub access_url: Option<Option<String>>,
    pub access_webhook_url: Option<Option<String>>,
    pub active: Option<bool>,
}

pub fn course_changes(input: &CoursePatch) -> Result<CourseChanges, ApiError> {
    let mut errors = FieldErrors::default();
    let name = input.name.as_deref().map(|n| errors.check("name", name(n)));
    let access_days = input.access_days.map(|d| errors.check("access_days", access_days(d)));
    let webhook_url =
        input.access_webhook_url.as_ref().map(|u| errors.check("access_webhook_url", access_url(u.as_deref())));
    let access_url = input.access_url.as_ref().map(|u| errors.check("access_url", access_url(u.as_deref())));
    errors.finish(|| CourseChanges {
        name: name.flatten(),
        access_days: access_days.flatten(),
        access_url: access_url.flatten(),
        access_webhook_url: webhook_url.flatten(),
        active: input.active,
    })
}

/// A mapping ready to insert (its courses still to be found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMapping {
    pub source: Source,
    pub external_product_id: String,
    pub offer_code: Option<String>,
    pub course_ids: Vec<i64>,
}

pub fn new_mapping(input: &MappingCreate) -> Result<NewMapping, ApiError> {
    let mut errors = FieldErrors::default();
    let product = errors.check("external_product_id", product_id(&input.external_product_id));
    let offer = errors.check("offer_code", offer_code(input.offer_code.as_deref()));
    let courses = errors.check("course_ids", course_ids(&input.course_ids));
    errors.finish(|| NewMapping {
        source: input.source,
        external_product_id: product.unwrap_or_default(),
        offer_code: offer.flatten(),
        course_ids: courses.unwrap_or_default(),
    })
}

/// What a mapping update changes (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingChanges {
    pub offer_code: Option<Option<String>>,
    pub course_ids: Option<Vec<i64>>,
}

pub fn mapping_changes(input: &MappingPatch) -> Result<MappingChanges, ApiError> {
    let mut errors = FieldErrors::default();
    let offer = input.offer_code.as_ref().map(|o| errors.check("offer_code", offer_code(o.as_deref())));
    let courses = input.course_ids.as_deref().map(|ids| errors.check("course_ids", course_ids(ids)));
    errors.finish(|| MappingChanges { offer_code: offer.flatten(), course_ids: courses.flatten() })
}

/// The slug a new course named `name` starts from: the name slugified ("curso" when nothing is left),
/// never one that the automatic courses use (`default`, `<source>-<product>`), which get "curso-" before.
pub fn base_slug(name: &str) -> String {
    let mut slug = slugify(&name.chars().map(unaccent).collect::<String>());
    if slug.is_empty() {
        slug = "curso".into();
    }
    let automatic = |s: &str| {
        s == "default"
            || Source::ALL.iter().any(|src| s == src.as_str() || s.starts_with(&format!("{}-", src.as_str())))
    };
    if automatic(&slug) {
        slug = format!("curso-{slug}");
    }
    // room for a "-N" suffix
    let mut slug: String = slug.chars().take(MAX_SLUG_CHARS - 5).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// The letter without its accent, for the accented letters of Portuguese (and a few neighbours).
fn unaccent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'Á' | 'À' | 'Â' | 'Ã' | 'Ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        'ñ' | 'Ñ' => 'n',
        other => other,
    }
}

/// `base`, or `base-2`, `base-3`, ... whichever is not taken yet.
pub fn unique_slug(base: &str, taken: &BTreeSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..).map(|n| format!("{base}-{n}")).find(|s| !taken.contains(s)).expect("an unbounded range")
}

/// Which mapping a product resolves to, among the mappings of its (source, product): the one of the
/// offer bought, else the product-wide one (no offer code); `None`: no mapping applies, the product
/// keeps its automatic course.
pub fn choose_mapping(candidates: &[(i64, Option<String>)], offer: Option<&str>) -> Option<i64> {
    offer
        .and_then(|offer| candidates.iter().find(|(_, code)| code.as_deref() == Some(offer)))
        .or_else(|| candidates.iter().find(|(_, code)| code.is_none()))
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: ApiError) -> Value {
        assert_eq!(e.status.as_u16(), 422);
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        e.details.unwrap()["fields"].clone()
    }

    fn create(name: &str, access_days: Option<i32>, access_url: Option<&str>) -> CourseCreate {
        CourseCreate { name: name.into(), access_days, access_url: access_url.map(Into::into), active: None }
    }

    #[test]
    fn a_valid_course() {
        let c = new_course(&create("  Confeitaria  ", Some(30), Some("https://membros.example.com/c"))).unwrap();
        assert_eq!(
            c,
            NewCourse {
                name: "Confeitaria".into(),
                access_days: Some(30),
                access_url: Some("https://membros.example.com/c".into()),
                active: true
            }
        );
        let lifetime = new_course(&create("Vitalício", None, Some(""))).unwrap();
        assert_eq!((lifetime.access_days, lifetime.access_url), (None, None));
    }

    #[test]
    fn course_validation_names_every_field_at_fault() {
        let f = fields(new_course(&create(" ", Some(0), Some("ftp://x"))).unwrap_err());
        assert!(f["name"].is_string() && f["access_days"].is_string() && f["access_url"].is_string(), "{f}");
        for bad in ["", " ", "\u{0}\t\u{3000}", &"x".repeat(201)] {
            assert!(name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(name("  Bolo\u{0}de \n pote ").as_deref(), Ok("Bolo de pote"), "controls become spaces");
        assert!(name(&"ç".repeat(200)).is_ok(), "characters, not bytes");
        assert!(name(&format!("{}x", " ".repeat(199))).is_ok(), "the length is that of the text sent");
        for days in [0, -1, 36_501, i32::MAX] {
            assert!(access_days(Some(days)).is_err(), "{days}");
        }
        for days in [Some(1), Some(36_500), None] {
            assert_eq!(access_days(days), Ok(days));
        }
    }

    #[test]
    fn access_urls() {
        for good in ["https://a.co", "http://membros.example.com:8080/x?y=1#z", "HTTPS://Example.com/Caminho"] {
            assert_eq!(access_url(Some(good)), Ok(Some(good.to_string())), "{good}");
        }
        assert_eq!(access_url(Some("https://a.co\n")), Ok(Some("https://a.co".into())), "what `$` lets through");
        assert_eq!(access_url(Some("\n")), Ok(None));
        for bad in [
            "example.com",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://user:pw@evil.com",
            "https://a.co/with space",
            "https://a.co/\u{7}",
            "mailto:a@b.co",
            " https://a.co",
            "https://a.co ",
            "https://\u{e9}.com/\u{3000}",
        ] {
            assert!(access_url(Some(bad)).is_err(), "{bad}");
        }
        let long = format!("https://a.co/{}", "x".repeat(MAX_URL_CHARS));
        assert!(access_url(Some(&long)).is_err());
        assert!(access_url(Some("  ")).is_err(), "the form trims; the API takes the text as sent");
        assert_eq!(access_url(Some("")), Ok(None));
        assert_eq!(access_url(None), Ok(None));
    }

    #[test]
    fn a_partial_update_changes_only_what_is_sent() {
        let none = course_changes(&CoursePatch::default()).unwrap();
        assert_eq!(none, CourseChanges::default());
        let lifetime = CoursePatch { access_days: Some(None), access_url: Some(None), ..CoursePatch::default() };
        let c = course_changes(&lifetime).unwrap();
        assert_eq!((c.access_days, c.access_url, c.name), (Some(None), Some(None), None), "null sets lifetime");
        let f = fields(
            course_changes(&CoursePatch {
                name: Some("".into()),
                access_days: Some(Some(0)),
                ..CoursePatch::default()
            })
            .unwrap_err(),
        );
        assert!(f["name"].is_string() && f["access_days"].is_string());
    }

    #[test]
    fn patch_bodies_tell_absent_from_null() {
        let parse = |s: &str| serde_json::from_str::<CoursePatch>(s).unwrap();
        assert_eq!(parse("{}").access_days, None);
        assert_eq!(parse(r#"{"access_days": null}"#).access_days, Some(None));
        assert_eq!(parse(r#"{"access_days": 30}"#).access_days, Some(Some(30)));
        let m = serde_json::from_str::<MappingPatch>(r#"{"offer_code": null}"#).unwrap();
        assert_eq!((m.offer_code, m.course_ids), (Some(None), None));
    }

    #[test]
    fn mappings() {
        let input = MappingCreate {
            source: Source::Kiwify,
            external_product_id: " prod-1 ".into(),
            offer_code: Some("".into()),
            course_ids: vec![3, 1, 3],
        };
        assert_eq!(
            new_mapping(&input).unwrap(),
            NewMapping {
                source: Source::Kiwify,
                external_product_id: "prod-1".into(),
                offer_code: None,
                course_ids: vec![1, 3]
            }
        );
        let empty = MappingCreate { course_ids: vec![], external_product_id: "".into(), ..input };
        let f = fields(new_mapping(&empty).unwrap_err());
        assert!(f["course_ids"].is_string() && f["external_product_id"].is_string());
        assert!(course_ids(&(1..=51).collect::<Vec<_>>()).is_err());
        assert!(course_ids(&[1; 51]).is_err(), "counted as sent");
        assert_eq!(offer_code(Some(" anual\u{0} ")), Ok(Some("anual".into())));
        assert_eq!(offer_code(Some(" \t")), Ok(None));
        assert_eq!(product_id("\u{1}p-1\u{1}"), Ok("p-1".into()));
        let patch = MappingPatch { offer_code: Some(Some("x".repeat(201))), course_ids: Some(vec![]) };
        let f = fields(mapping_changes(&patch).unwrap_err());
        assert!(f["offer_code"].is_string() && f["course_ids"].is_string());
    }

    #[test]
    fn slugs_are_unique_and_never_those_of_automatic_courses() {
        assert_eq!(base_slug("Confeitaria do Zero"), "confeitaria-do-zero");
        assert_eq!(base_slug("!!!"), "curso");
        assert_eq!(base_slug("Vitalício: Ação & Coração"), "vitalicio-acao-coracao");
        assert_eq!(base_slug("Default"), "curso-default");
        assert_eq!(base_slug("Kiwify 8d2c"), "curso-kiwify-8d2c");
        assert_eq!(base_slug("Hotmart"), "curso-hotmart");
        assert_eq!(base_slug("Hotmartinho"), "hotmartinho");
        assert!(base_slug(&"a ".repeat(100)).chars().count() <= MAX_SLUG_CHARS - 5);
        let taken: BTreeSet<String> = ["curso".into(), "curso-2".into()].into();
        assert_eq!(unique_slug("curso", &taken), "curso-3");
        assert_eq!(unique_slug("outro", &taken), "outro");
    }

    #[test]
    fn resolution_order_offer_then_product_then_nothing() {
        let both = [(1, None), (2, Some("anual".to_string())), (3, Some("mensal".to_string()))];
        assert_eq!(choose_mapping(&both, Some("anual")), Some(2), "the offer's own mapping wins");
        assert_eq!(choose_mapping(&both, Some("vitalicio")), Some(1), "another offer: the product-wide one");
        assert_eq!(choose_mapping(&both, None), Some(1), "no offer in the event: the product-wide one");
        let offers_only = [(2, Some("anual".to_string()))];
        assert_eq!(choose_mapping(&offers_only, Some("anual")), Some(2));
        assert_eq!(choose_mapping(&offers_only, Some("mensal")), None, "the automatic course");
        assert_eq!(choose_mapping(&offers_only, None), None);
        assert_eq!(choose_mapping(&[], Some("anual")), None);
    }
}
