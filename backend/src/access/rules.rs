//! The pure rules of manual access (DESIGN.md section 8): what a staff member's grant, extension or
//! revocation does to one enrollment, how a bulk action treats one enrollment of a cohort, and what
//! an imported line does. No I/O here.

use crate::treatments::rules::{EnrollmentChange, EnrollmentState, TreatmentKind};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde_json::{json, Map, Value};

/// The longest access granted or added at once, in days (about a hundred years).
pub const MAX_DAYS: i64 = 36_500;
/// The longest reason a staff member may give, in characters.
pub const MAX_REASON_CHARS: usize = 500;

crate::vocabulary! {
    /// What a staff member does to a customer's access to one course.
    pub enum AccessAction {
        /// Access on, now: `days`, `until`, `lifetime` or (none of them) the course's duration.
        Grant = "grant",
        /// An active access ends later: `days` more, `until` a later date, or `lifetime`.
        Extend = "extend",
        /// Access off, now.
        Revoke = "revoke",
    }
}

crate::vocabulary! {
    /// What a bulk action does to every active enrollment of a course.
    pub enum BulkAction {
        /// `days` more, or `until` a date (access that already ends later, or never, is left alone).
        Extend = "extend",
        /// Access off, now (ends a cohort).
        Revoke = "revoke",
    }
}

/// How long an access granted or extended by hand lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// Nothing said (grant only): the course's duration from now, lifetime when it has none.
    CourseDefault,
    /// This many days: from now for a grant, from the current end for an extension.
    Days(i64),
    /// Until the end of this day in America/Sao_Paulo.
    Until(NaiveDate),
    /// No end.
    Lifetime,
}

/// America/Sao_Paulo: UTC-03:00 all year since daylight saving time was abolished in 2019.
fn sao_paulo() -> FixedOffset {
    FixedOffset::west_opt(3 * 3600).expect("a valid offset")
}

/// The last second of a day in America/Sao_Paulo (Brazil's business day), as a UTC instant.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    let local = date.and_hms_opt(23, 59, 59).expect("a valid time");
    sao_paulo().from_local_datetime(&local).single().expect("a fixed offset is unambiguous").with_timezone(&Utc)
}

/// The calendar day of an instant in America/Sao_Paulo, `AAAA-MM-DD` (for messages).
pub fn local_day(t: DateTime<Utc>) -> String {
    t.with_timezone(&sao_paulo()).format("%Y-%m-%d").to_string()
}

/// A date written `AAAA-MM-DD` or `DD/MM/AAAA` (leading zeros optional in the second form), with a
/// four-digit year between 2000 and 2999.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let (y, m, d) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y, m, d)
    } else {
        let (d, rest) = s.split_once('/')?;
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    };
    let digits = |p: &str, max: usize| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit());
    if y.len() != 4 || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    if !(2000..=2999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)
}

/// A staff member's reason: trimmed, 1 to 500 characters, no control character but line breaks and tabs.
pub fn valid_reason(reason: Option<&str>) -> Result<String, &'static str> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        return Err("is required: say why");
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err("must have at most 500 characters");
    }
    if reason.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("must not contain control characters");
    }
    Ok(reason.to_string())
}

/// The body of a manual action as received (every field optional, so each fault is named).
#[derive(Debug, Clone, Default)]
pub struct TermInput {
    pub days: Option<i64>,
    pub until: Option<String>,
    pub lifetime: Option<bool>,
}

/// Field name → English message, for a 422 `validation_failed`.
pub type FieldErrors = Map<String, Value>;

/// Reads `days` / `until` / `lifetime` for an action: a grant takes at most one of them, an extension
/// exactly one, a revocation none. `until` must be today or later.
pub fn valid_term(action: AccessAction, t: &TermInput, now: DateTime<Utc>, fields: &mut FieldErrors) -> Option<Term> {
    let mut given = vec![];
    if let Some(days) = t.days {
        if (1..=MAX_DAYS).contains(&days) {
            given.push(Term::Days(days));
        } else {
            fields.insert("days".into(), json!(format!("must be a whole number from 1 to {MAX_DAYS}")));
        }
    }
    if let Some(until) = t.until.as_deref() {
        match parse_date(until) {
            Some(date) if end_of_day(date) > now => given.push(Term::Until(date)),
            Some(_) => {
                fields.insert("until".into(), json!("must be today or a later date"));
            }
            None => {
                fields.insert("until".into(), json!("must be a date, AAAA-MM-DD"));
            }
        }
    }
    if t.lifetime == Some(true) {
        given.push(Term::Lifetime);
    }
    let count = given.len() + usize::from(fields.contains_key("days")) + usize::from(fields.contains_key("until"));
    match action {
        AccessAction::Revoke if count > 0 => {
            fields.insert("action".into(), json!("a revocation takes no days, until or lifetime"));
            None
        }
        AccessAction::Revoke => None,
        _ if count > 1 => {
            fields.insert("days".into(), json!("give only one of days, until or lifetime"));
            None
        }
        AccessAction::Extend if count == 0 => {
            fields.insert("days".into(), json!("an extension needs days, until or lifetime"));
            None
        }
        AccessAction::Grant if count == 0 => Some(Term::CourseDefault),
        _ => given.pop(),
    }
}

/// What a manual action does: the enrollment change and the treatments to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualChange {
    pub enrollment: EnrollmentChange,
    pub treatments: Vec<TreatmentKind>,
}

/// Why a manual action cannot be done on the access as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A grant while access is on (extend it instead).
    AlreadyActive { expires_at: Option<DateTime<Utc>> },
    /// An extension, revocation or welcome without access on (grant it instead).
    NotActive,
    /// An extension of an access that never ends.
    Lifetime,
    /// An extension `until` a date that is not after the current end.
    NotLater { current_end: DateTime<Utc> },
}

fn add_days(t: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    t + Duration::days(days)
}

/// Decides a manual grant, extension or revocation. `term` comes from [`valid_term`] (`None` for a
/// revocation); `course_days` is the course's duration (`None`: lifetime).
pub fn decide(
    action: AccessAction,
    term: Option<Term>,
    current: Option<EnrollmentState>,
    course_days: Option<i32>,
    now: DateTime<Utc>,
) -> Result<ManualChange, Refusal> {
    let active = current.filter(|c| c.is_active(now));
    match action {
        AccessAction::Grant => {
            if let Some(c) = active {
                return Err(Refusal::AlreadyActive { expires_at: c.expires_at });
            }
            let expires_at = match term.unwrap_or(Term::CourseDefault) {
                Term::CourseDefault => course_days.map(|d| add_days(now, i64::from(d))),
                Term::Days(d) => Some(add_days(now, d)),
                Term::Until(date) => Some(end_of_day(date)),
                Term::Lifetime => None,
            };
            Ok(ManualChange {
                enrollment: EnrollmentChange::Activate { expires_at },
                treatments: vec![TreatmentKind::GrantAccess, TreatmentKind::WelcomeMessage],
            })
        }
        AccessAction::Extend => {
            let current = active.ok_or(Refusal::NotActive)?;
            let end = current.expires_at.ok_or(Refusal::Lifetime)?;
            let expires_at = match term {
                Some(Term::Days(d)) => Some(add_days(end, d)),
                Some(Term::Until(date)) if end_of_day(date) > end => Some(end_of_day(date)),
                Some(Term::Until(_)) => return Err(Refusal::NotLater { current_end: end }),
                Some(Term::Lifetime) => None,
                // valid_term gives an extension a term; course default is not one
                Some(Term::CourseDefault) | None => course_days.map(|d| add_days(end, i64::from(d))),
            };
            Ok(ManualChange {
                enrollment: EnrollmentChange::Extend { expires_at },
                treatments: vec![TreatmentKind::ExtendAccess],
            })
        }
        AccessAction::Revoke => {
            active.ok_or(Refusal::NotActive)?;
            Ok(ManualChange { enrollment: EnrollmentChange::Revoke, treatments: vec![TreatmentKind::RevokeAccess] })
        }
    }
}

/// Whether the welcome message may be sent again: only while access is on.
pub fn can_resend_welcome(current: Option<EnrollmentState>, now: DateTime<Utc>) -> Result<(), Refusal> {
    current.filter(|c| c.is_active(now)).map(|_| ()).ok_or(Refusal::NotActive)
}

/// A bulk extension of one active enrollment ending at `current_end` (`None`: lifetime): its new end,
/// or `None` when it is left alone (lifetime, or it already ends on or after `until`).
pub fn bulk_extend(current_end: Option<DateTime<Utc>>, term: Term) -> Option<DateTime<Utc>> {
    let end = current_end?;
    match term {
        Term::Days(d) => Some(add_days(end, d)),
        Term::Until(date) => Some(end_of_day(date)).filter(|new| *new > end),
        Term::CourseDefault | Term::Lifetime => None,
    }
}

crate::vocabulary! {
    /// What an imported line does (or would do, in a dry run).
    pub enum ImportResult {
        /// No access on: granted now, with the welcome message.
        NewAccess = "new_access",
        /// Access on, ending before the line's date (or the line gives lifetime): extended (no new welcome).
        Extend = "extend",
        /// Access on until the line's date or later, lifetime, or the line has no date: nothing to do, no message.
        AlreadyActive = "already_active",
    }
}

/// What an imported line asking for access until `requested` (`None`: lifetime) does to the current
/// enrollment. `by_duration`: the end is the course's duration from now (the line has no date), which
/// does not extend an active access (so importing the same file twice changes nothing). Access is
/// never shortened, and a welcome goes only with a new access.
pub fn import_line(
    requested: Option<DateTime<Utc>>,
    by_duration: bool,
    current: Option<EnrollmentState>,
    now: DateTime<Utc>,
) -> ImportResult {
    let Some(current) = current.filter(|c| c.is_active(now)) else { return ImportResult::NewAccess };
    match (current.expires_at, requested) {
        (None, _) => ImportResult::AlreadyActive,
        (Some(_), None) => ImportResult::Extend,
        (Some(end), Some(new)) if new > end && !by_duration => ImportResult::Extend,
        _ => ImportResult::AlreadyActive,
    }
}

/// The treatments an imported line queues.
pub fn import_treatments(result: ImportResult) -> &'static [TreatmentKind] {
    match result {
        ImportResult::NewAccess => &[TreatmentKind::GrantAccess, TreatmentKind::WelcomeMessage],
        ImportResult::Extend => &[TreatmentKind::ExtendAccess],
        ImportResult::AlreadyActive => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treatments::rules::EnrollmentStatus;

    fn now() -> DateTime<Utc> {
        "2026-12-10T15:00:00Z".parse().unwrap()
    }
    fn active(end: Option<&str>) -> Option<EnrollmentState> {
        Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: end.map(|e| e.parse().unwrap()) })
    }
    fn term(
        action: AccessAction,
        days: Option<i64>,
        until: Option<&str>,
        lifetime: Option<bool>,
    ) -> Result<Option<Term>, FieldErrors> {
        let mut fields = FieldErrors::new();
        let t = valid_term(action, &TermInput { days, until: until.map(String::from), lifetime }, now(), &mut fields);
        if fields.is_empty() {
            Ok(t)
        } else {
            Err(fields)
        }
    }

    #[test]
    fn dates_in_both_forms() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        assert_eq!(parse_date("2027-01-31"), Some(d));
        assert_eq!(parse_date(" 31/01/2027 "), Some(d));
        assert_eq!(parse_date("31/1/2027"), Some(d));
        for bad in
            ["", "2027-02-30", "31/01/27", "2027/01/31", "01-31-2027", "abc", "1999-01-01", "+2027-01-31", "2027-1-31x"]
        {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_day_ends_at_midnight_in_sao_paulo() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
        assert_eq!(end_of_day(d).to_rfc3339(), "2027-02-01T02:59:59+00:00");
        assert_eq!(local_day(end_of_day(d)), "2027-01-31");
    }

    #[test]
    fn reasons() {
        assert_eq!(valid_reason(Some("  cortesia ")), Ok("cortesia".into()));
        assert!(valid_reason(None).is_err());
        assert!(valid_reason(Some("   ")).is_err());
        assert!(valid_reason(Some("a\0b")).is_err());
        assert!(valid_reason(Some("linha 1\nlinha 2")).is_ok());
        assert!(valid_reason(Some(&"x".repeat(501))).is_err());
        assert!(valid_reason(Some(&"ç".repeat(500))).is_ok());
    }

    #[test]
    fn terms_per_action() {
        use AccessAction::*;
        assert_eq!(term(Grant, None, None, None), Ok(Some(Term::CourseDefault)));
        assert_eq!(term(Grant, None, None, Some(false)), Ok(Some(Term::CourseDefault)));
        assert_eq!(term(Grant, Some(30), None, None), Ok(Some(Term::Days(30))));
        assert_eq!(
            term(Grant, None, Some("31/12/2026"), None),
            Ok(Some(Term::Until(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())))
        );
        assert_eq!(
            term(Grant, None, Some("2026-12-10"), None),
            Ok(Some(Term::Until(NaiveDate::from_ymd_opt(2026, 12, 10).unwrap()))),
            "today is fine"
        );
        assert_eq!(term(Grant, None, None, Some(true)), Ok(Some(Term::Lifetime)));
        assert!(term(Grant, Some(30), None, Some(true)).unwrap_err().contains_key("days"));
        assert!(term(Grant, Some(0), None, None).unwrap_err().contains_key("days"));
        assert!(term(Grant, Some(MAX_DAYS + 1), None, None).unwrap_err().contains_key("days"));
        assert!(term(Grant, None, Some("2026-12-09"), None).unwrap_err().contains_key("until"));
        assert!(term(Grant, None, Some("amanhã"), None).unwrap_err().contains_key("until"));
        assert_eq!(term(Extend, Some(10), None, None), Ok(Some(Term::Days(10))));
        assert!(term(Extend, None, None, None).unwrap_err().contains_key("days"));
        assert_eq!(term(Revoke, None, None, None), Ok(None));
        assert!(term(Revoke, Some(10), None, None).unwrap_err().contains_key("action"));
    }

    #[test]
    fn grants() {
        let grant = |t, current, days| decide(AccessAction::Grant, Some(t), current, days, now());
        let activate = |end: Option<DateTime<Utc>>| ManualChange {
            enrollment: EnrollmentChange::Activate { expires_at: end },
            treatments: vec![TreatmentKind::GrantAccess, TreatmentKind::WelcomeMessage],
        };
        assert_eq!(grant(Term::CourseDefault, None, Some(30)), Ok(activate(Some(now() + Duration::days(30)))));
        assert_eq!(grant(Term::CourseDefault, None, None), Ok(activate(None)), "a course without duration: lifetime");
        assert_eq!(grant(Term::Days(7), None, None), Ok(activate(Some(now() + Duration::days(7)))));
        assert_eq!(grant(Term::Lifetime, None, Some(30)), Ok(activate(None)));
        let until = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(grant(Term::Until(until), None, None), Ok(activate(Some(end_of_day(until)))));
        // an expired or revoked access is granted again
        let expired =
            Some(EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(now() - Duration::days(1)) });
        assert!(grant(Term::Days(7), expired, None).is_ok());
        let revoked = Some(EnrollmentState { status: EnrollmentStatus::Revoked, expires_at: None });
        assert!(grant(Term::Days(7), revoked, None).is_ok());
        assert_eq!(grant(Term::Days(7), active(None), None), Err(Refusal::AlreadyActive { expires_at: None }));
    }

    #[test]
    fn extensions() {
        let extend = |t, current| decide(AccessAction::Extend, Some(t), current, Some(30), now());
        let end: DateTime<Utc> = "2026-12-20T10:00:00Z".parse().unwrap();
        let extended = |e: Option<DateTime<Utc>>| ManualChange {
            enrollment: EnrollmentChange::Extend { expires_at: e },
            treatments: vec![TreatmentKind::ExtendAccess],
        };
        assert_eq!(
            extend(Term::Days(10), active(Some("2026-12-20T10:00:00Z"))),
            Ok(extended(Some(end + Duration::days(10))))
        );
        let later = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        assert_eq!(
            extend(Term::Until(later), active(Some("2026-12-20T10:00:00Z"))),
            Ok(extended(Some(end_of_day(later))))
        );
        let earlier = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        assert_eq!(
            extend(Term::Until(earlier), active(Some("2026-12-20T10:00:00Z"))),
            Err(Refusal::NotLater { current_end: end })
        );
        assert_eq!(extend(Term::Lifetime, active(Some("2026-12-20T10:00:00Z"))), Ok(extended(None)));
        assert_eq!(extend(Term::Days(10), active(None)), Err(Refusal::Lifetime));
        assert_eq!(extend(Term::Days(10), None), Err(Refusal::NotActive));
        assert_eq!(extend(Term::Days(10), active(Some("2026-12-01T00:00:00Z"))), Err(Refusal::NotActive), "expired");
    }

    #[test]
    fn revocations_and_welcomes() {
        let revoke = |current| decide(AccessAction::Revoke, None, current, None, now());
        assert_eq!(
            revoke(active(None)),
            Ok(ManualChange { enrollment: EnrollmentChange::Revoke, treatments: vec![TreatmentKind::RevokeAccess] })
        );
        assert_eq!(revoke(None), Err(Refusal::NotActive));
        assert_eq!(
            revoke(Some(EnrollmentState { status: EnrollmentStatus::Revoked, expires_at: None })),
            Err(Refusal::NotActive)
        );
        assert_eq!(can_resend_welcome(active(Some("2027-01-01T00:00:00Z")), now()), Ok(()));
        assert_eq!(can_resend_welcome(active(Some("2026-01-01T00:00:00Z")), now()), Err(Refusal::NotActive));
    }

    #[test]
    fn bulk_extensions_never_shorten() {
        let end: DateTime<Utc> = "2026-12-20T10:00:00Z".parse().unwrap();
        assert_eq!(bulk_extend(Some(end), Term::Days(10)), Some(end + Duration::days(10)));
        assert_eq!(bulk_extend(None, Term::Days(10)), None, "lifetime stays lifetime");
        let later = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        assert_eq!(bulk_extend(Some(end), Term::Until(later)), Some(end_of_day(later)));
        assert_eq!(bulk_extend(Some(end), Term::Until(NaiveDate::from_ymd_opt(2026, 12, 15).unwrap())), None);
    }

    #[test]
    fn imported_lines() {
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        assert_eq!(import_line(at("2027-01-01T00:00:00Z"), false, None, now()), ImportResult::NewAccess);
        assert_eq!(import_line(at("2027-01-01T00:00:00Z"), true, None, now()), ImportResult::NewAccess);
        let by_duration = import_line(at("2027-01-01T00:00:00Z"), true, active(Some("2026-12-20T00:00:00Z")), now());
        assert_eq!(by_duration, ImportResult::AlreadyActive, "no date: an active access stays as it is");
        assert_eq!(
            import_line(None, true, active(Some("2026-12-20T00:00:00Z")), now()),
            ImportResult::Extend,
            "lifetime course"
        );
        let expired =
            Some(EnrollmentState { status: EnrollmentStatus::Expired, expires_at: at("2026-01-01T00:00:00Z") });
        assert_eq!(import_line(None, false, expired, now()), ImportResult::NewAccess);
        assert_eq!(
            import_line(at("2027-01-01T00:00:00Z"), false, active(Some("2026-12-20T00:00:00Z")), now()),
            ImportResult::Extend
        );
        assert_eq!(import_line(None, false, active(Some("2026-12-20T00:00:00Z")), now()), ImportResult::Extend);
        assert_eq!(
            import_line(at("2026-12-15T00:00:00Z"), false, active(Some("2026-12-20T00:00:00Z")), now()),
            ImportResult::AlreadyActive
        );
        assert_eq!(
            import_line(at("2026-12-20T00:00:00Z"), false, active(Some("2026-12-20T00:00:00Z")), now()),
            ImportResult::AlreadyActive
        );
        assert_eq!(import_line(at("2030-01-01T00:00:00Z"), false, active(None), now()), ImportResult::AlreadyActive);
        assert!(import_treatments(ImportResult::AlreadyActive).is_empty());
        assert!(!import_treatments(ImportResult::Extend).contains(&TreatmentKind::WelcomeMessage));
        assert!(import_treatments(ImportResult::NewAccess).contains(&TreatmentKind::WelcomeMessage));
    }
}
