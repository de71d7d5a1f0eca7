//! The CSV import of customers with access (`nome;email;curso;expira_em`): reading the file, checking
//! each line against the catalog, and planning what each good line does. Pure functions; the
//! transaction that applies a plan is in `queries`.

use super::rules::{self, end_of_day, parse_date, ImportResult};
use crate::auth::validation::normalize_email;
use crate::treatments::rules::EnrollmentState;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// The largest file accepted, in bytes (413 beyond).
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// The most data lines (not counting the header) a file may have (413 beyond).
pub const MAX_IMPORT_LINES: usize = 50_000;
/// The header's columns, in the documented order.
pub const COLUMNS: [&str; 4] = ["nome", "email", "curso", "expira_em"];

crate::vocabulary! {
    /// Why a line of an imported file cannot be imported (the header is line 1).
    pub enum LineProblem {
        /// The file is empty: no header.
        MissingHeader = "missing_header",
        /// The header is not `nome;email;curso;expira_em` (any order; `;` or `,`).
        InvalidHeader = "invalid_header",
        /// The file is not UTF-8 (reported at the first line with a byte that is not).
        InvalidEncoding = "invalid_encoding",
        /// The line has more or fewer columns than the header.
        WrongColumnCount = "wrong_column_count",
        /// `email` is missing or not an e-mail address.
        InvalidEmail = "invalid_email",
        /// `nome` is over 200 characters or has control characters.
        InvalidName = "invalid_name",
        /// `curso` is empty.
        MissingCourse = "missing_course",
        /// `curso` is no course's id, slug or name.
        UnknownCourse = "unknown_course",
        /// `curso` is the name of more than one course: use its slug or id.
        AmbiguousCourse = "ambiguous_course",
        /// `expira_em` is not a date (`AAAA-MM-DD` or `DD/MM/AAAA`).
        InvalidDate = "invalid_date",
        /// `expira_em` is a day already over.
        PastDate = "past_date",
        /// The same e-mail and course on an earlier line.
        DuplicateLine = "duplicate_line",
    }
}

/// One bad line of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineError {
    /// The line number in the file; the header is line 1.
    pub line: u64,
    pub code: LineProblem,
    /// The value at fault (the e-mail, the course, the date, the earlier line number, ...), when there is one.
    pub value: Option<String>,
}

impl LineError {
    fn new(line: u64, code: LineProblem, value: impl Into<String>) -> LineError {
        let value: String = value.into();
        LineError { line, code, value: (!value.is_empty()).then_some(value) }
    }
}

/// A data line as read (fields trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    pub line: u64,
    pub name: String,
    pub email: String,
    pub course: String,
    pub expires: String,
}

/// More data lines than [`MAX_IMPORT_LINES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyLines;

/// Reads a CSV file: UTF-8 with or without BOM, CRLF or LF, `;` or `,` (whichever the header line
/// uses), quoted fields. Blank lines are skipped. Problems of the file itself (no header, a wrong
/// header, not UTF-8) are reported on their line and end the reading.
pub fn read_csv(bytes: &[u8]) -> Result<(Vec<RawLine>, Vec<LineError>), TooManyLines> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64;
        return Ok((vec![], vec![LineError::new(line, LineProblem::InvalidEncoding, "")]));
    }
    // Line numbers from byte offsets: the csv crate's own count misses CRLF line ends, and a record's
    // position is where the previous one ended (before the rest of its line end and any blank lines).
    let newlines: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
    let line_at = |pos: Option<&csv::Position>| -> u64 {
        let Some(start) = pos.map(|p| p.byte() as usize) else { return 1 };
        let start = start + bytes[start.min(bytes.len())..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        1 + newlines.partition_point(|n| *n < start) as u64
    };
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = loop {
        match records.next() {
            None => return Ok((vec![], vec![LineError::new(1, LineProblem::MissingHeader, "")])),
            Some(Ok(r)) if r.iter().all(str::is_empty) => continue,
            Some(Ok(r)) => break r,
            Some(Err(e)) => {
                return Ok((vec![], vec![LineError::new(line_at(e.position()), LineProblem::InvalidHeader, "")]));
            }
        }
    };
    let header_line = line_at(header.position());
    let names: Vec<String> = header.iter().map(|h| h.to_lowercase().replace("e-mail", "email")).collect();
    let index: Option<Vec<usize>> =
        COLUMNS.iter().map(|c| names.iter().position(|n| n == c)).collect::<Option<Vec<usize>>>();
    let index = match index {
        Some(index) if names.len() == COLUMNS.len() => index,
        _ => {
            let found = header.iter().collect::<Vec<_>>().join(char::from(delimiter).to_string().as_str());
            return Ok((vec![], vec![LineError::new(header_line, LineProblem::InvalidHeader, found)]));
        }
    };
    let mut lines = vec![];
    let mut errors = vec![];
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(LineError::new(line_at(e.position()), LineProblem::WrongColumnCount, ""));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if lines.len() + errors.len() >= MAX_IMPORT_LINES {
            return Err(TooManyLines);
        }
        let line = line_at(record.position());
        if record.len() != COLUMNS.len() {
            errors.push(LineError::new(line, LineProblem::WrongColumnCount, record.len().to_string()));
            continue;
        }
        let field = |i: usize| record.get(index[i]).unwrap_or_default().to_string();
        lines.push(RawLine { line, name: field(0), email: field(1), course: field(2), expires: field(3) });
    }
    Ok((lines, errors))
}

/// A course as the import sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub access_days: Option<i32>,
    pub access_url: Option<String>,
}

/// The catalog, looked up by id, slug or name (case-insensitive).
pub struct Catalog {
    courses: Vec<CourseRef>,
    by_id: HashMap<i64, usize>,
    by_slug: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Catalog {
    pub fn new(courses: Vec<CourseRef>) -> Catalog {
        let mut by_id = HashMap::new();
        let mut by_slug = HashMap::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in courses.iter().enumerate() {
            by_id.insert(c.id, i);
            by_slug.insert(c.slug.to_lowercase(), i);
            by_name.entry(fold(&c.name)).or_default().push(i);
        }
        Catalog { courses, by_id, by_slug, by_name }
    }

    /// The course a line names: by name first (what a seller writes), then by slug, then by id.
    pub fn find(&self, text: &str) -> Result<&CourseRef, LineProblem> {
        match self.by_name.get(&fold(text)).map(Vec::as_slice) {
            Some([one]) => return Ok(&self.courses[*one]),
            Some([_, _, ..]) => return Err(LineProblem::AmbiguousCourse),
            _ => {}
        }
        if let Some(i) = self.by_slug.get(&text.trim().to_lowercase()) {
            return Ok(&self.courses[*i]);
        }
        text.trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| self.by_id.get(&id))
            .map(|i| &self.courses[*i])
            .ok_or(LineProblem::UnknownCourse)
    }
}

/// A line that can be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodLine {
    pub line: u64,
    pub email: String,
    pub name: Option<String>,
    pub course: CourseRef,
    /// The access end the line asks for: its date's end (America/Sao_Paulo), or the course's
    /// duration from now when empty; `None`: lifetime.
    pub expires_at: Option<DateTime<Utc>>,
    /// The line has no date: `expires_at` is the course's duration from now.
    pub by_duration: bool,
}

/// Checks every line: e-mail, name, course, date; a line repeating an earlier (e-mail, course) is bad.
/// One problem per line (the first, in column order).
pub fn validate(raw: Vec<RawLine>, catalog: &Catalog, now: DateTime<Utc>) -> (Vec<GoodLine>, Vec<LineError>) {
    let mut good = vec![];
    let mut errors = vec![];
    let mut seen: HashMap<(String, i64), u64> = HashMap::new();
    for l in raw {
        let bad = |code, value: &str| LineError::new(l.line, code, value);
        let Some(email) = normalize_email(&l.email) else {
            errors.push(bad(LineProblem::InvalidEmail, &l.email));
            continue;
        };
        if l.name.chars().count() > 200 || l.name.chars().any(char::is_control) {
            errors.push(bad(LineProblem::InvalidName, ""));
            continue;
        }
        if l.course.is_empty() {
            errors.push(bad(LineProblem::MissingCourse, ""));
            continue;
        }
        let course = match catalog.find(&l.course) {
            Ok(c) => c.clone(),
            Err(code) => {
                errors.push(bad(code, &l.course));
                continue;
            }
        };
        let expires_at = if l.expires.is_empty() {
            course.access_days.map(|d| now + Duration::days(i64::from(d)))
        } else {
            match parse_date(&l.expires) {
                Some(date) if end_of_day(date) > now => Some(end_of_day(date)),
                Some(_) => {
                    errors.push(bad(LineProblem::PastDate, &l.expires));
                    continue;
                }
                None => {
                    errors.push(bad(LineProblem::InvalidDate, &l.expires));
                    continue;
                }
            }
        };
        if let Some(first) = seen.get(&(email.clone(), course.id)) {
            errors.push(bad(LineProblem::DuplicateLine, &first.to_string()));
            continue;
        }
        seen.insert((email.clone(), course.id), l.line);
        let name = Some(l.name).filter(|n| !n.is_empty());
        let by_duration = l.expires.is_empty();
        good.push(GoodLine { line: l.line, email, name, course, expires_at, by_duration });
    }
    (good, errors)
}

/// A good line with what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    pub line: GoodLine,
    /// The e-mail is no customer's yet (true on its first line only).
    pub new_customer: bool,
    pub result: ImportResult,
}

/// Plans every good line against the customers (e-mail → id) and their enrollments ((customer id,
/// course id) → state) as they are now.
pub fn plan(
    lines: Vec<GoodLine>,
    customers: &HashMap<String, i64>,
    enrollments: &HashMap<(i64, i64), EnrollmentState>,
    now: DateTime<Utc>,
) -> Vec<PlannedLine> {
    let mut new_emails = HashSet::new();
    lines
        .into_iter()
        .map(|line| {
            let customer = customers.get(&line.email);
            let new_customer = customer.is_none() && new_emails.insert(line.email.clone());
            let current = customer.and_then(|id| enrollments.get(&(*id, line.course.id))).copied();
            let result = rules::import_line(line.expires_at, line.by_duration, current, now);
            PlannedLine { line, new_customer, result }
        })
        .collect()
}

/// What an import did, or would do (dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportCounts {
    /// Customers created (e-mails not seen before).
    pub new_customers: usize,
    /// Accesses granted, each with a welcome message.
    pub new_accesses: usize,
    /// Active accesses extended to a later end (no new welcome).
    pub extended: usize,
    /// Lines whose access was already on until their end or later: nothing done.
    pub already_active: usize,
    /// Bad lines.
    pub errors: usize,
}

/// One good line of the preview.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewLine {
    /// The line number in the file (the header is line 1).
    pub line: u64,
    pub email: String,
    pub name: Option<String>,
    pub course_id: i64,
    pub course_name: String,
    /// The end the line asks for; `null`: lifetime.
    pub expires_at: Option<DateTime<Utc>>,
    pub new_customer: bool,
    pub result: ImportResult,
}

/// The answer to an import: every bad line, and what each good line does.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Whether anything was written (a real run of a file without bad lines).
    pub imported: bool,
    /// Data lines read (the header and blank lines not counted).
    pub lines: usize,
    pub counts: ImportCounts,
    /// Every bad line, in file order.
    pub errors: Vec<LineError>,
    /// Every good line, in file order.
    pub preview: Vec<PreviewLine>,
}

impl ImportReport {
    pub fn new(dry_run: bool, planned: &[PlannedLine], mut errors: Vec<LineError>) -> ImportReport {
        errors.sort_by_key(|e| e.line);
        let mut counts = ImportCounts { errors: errors.len(), ..Default::default() };
        for p in planned {
            counts.new_customers += usize::from(p.new_customer);
            match p.result {
                ImportResult::NewAccess => counts.new_accesses += 1,
                ImportResult::Extend => counts.extended += 1,
                ImportResult::AlreadyActive => counts.already_active += 1,
            }
        }
        ImportReport {
            dry_run,
            imported: false,
            lines: planned.len() + errors.len(),
            counts,
            errors,
            preview: planned
                .iter()
                .map(|p| PreviewLine {
                    line: p.line.line,
                    email: p.line.email.clone(),
                    name: p.line.name.clone(),
                    course_id: p.line.course.id,
                    course_name: p.line.course.name.clone(),
                    expires_at: p.line.expires_at,
                    new_customer: p.new_customer,
                    result: p.result,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::treatments::rules::EnrollmentStatus;

    fn now() -> DateTime<Utc> {
        "2026-12-10T15:00:00Z".parse().unwrap()
    }

    fn catalog() -> Catalog {
        Catalog::new(vec![
            CourseRef {
                id: 1,
                slug: "confeitaria".into(),
                name: "Confeitaria Pro".into(),
                access_days: Some(30),
                access_url: None,
            },
            CourseRef { id: 2, slug: "padaria".into(), name: "Padaria".into(), access_days: None, access_url: None },
            CourseRef { id: 3, slug: "padaria-2".into(), name: "Padaria".into(), access_days: None, access_url: None },
        ])
    }

    fn lines(csv: &str) -> Vec<RawLine> {
        let (lines, errors) = read_csv(csv.as_bytes()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        lines
    }

    #[test]
    fn reads_semicolons_commas_bom_crlf_and_quotes() {
        let expected = vec![
            RawLine {
                line: 2,
                name: "Ana; a Boa".into(),
                email: "ana@x.com".into(),
                course: "padaria".into(),
                expires: "".into(),
            },
            RawLine {
                line: 3,
                name: "Bia".into(),
                email: "bia@x.com".into(),
                course: "1".into(),
                expires: "31/12/2027".into(),
            },
        ];
        let semi = "nome;email;curso;expira_em\n\"Ana; a Boa\";ana@x.com;padaria;\nBia;bia@x.com;1;31/12/2027\n";
        assert_eq!(lines(semi), expected);
        let comma = "\u{FEFF}nome,email,curso,expira_em\r\n\"Ana; a Boa\", ana@x.com ,padaria,\r\n\r\nBia,bia@x.com,1,31/12/2027";
        let mut with_blank = expected.clone();
        with_blank[1].line = 4;
        assert_eq!(lines(comma), with_blank, "BOM, CRLF, spaces and a blank line");
        let reordered = "E-mail;Curso;Nome;Expira_em\nana@x.com;padaria;Ana; a Boa;\n";
        assert_eq!(read_csv(reordered.as_bytes()).unwrap().1[0].code, LineProblem::WrongColumnCount);
        let reordered = "E-mail;Curso;Nome;Expira_em\nana@x.com;padaria;\"Ana; a Boa\";\n";
        assert_eq!(lines(reordered)[0].name, "Ana; a Boa", "columns found by name");
    }

    #[test]
    fn problems_of_the_file_itself() {
        let read = |b: &[u8]| read_csv(b).unwrap();
        assert_eq!(read(b"").1, vec![LineError::new(1, LineProblem::MissingHeader, "")]);
        assert_eq!(read(b"\xEF\xBB\xBF\n\n").1[0].code, LineProblem::MissingHeader);
        assert_eq!(read(b"name;mail;course\n").1[0].code, LineProblem::InvalidHeader);
        assert_eq!(read(b"nome;email;curso;expira_em;extra\n").1[0].code, LineProblem::InvalidHeader);
        let latin1 = b"nome;email;curso;expira_em\nAna;ana@x.com;padaria;\nJo\xe3o;joao@x.com;padaria;\n";
        assert_eq!(read(latin1).1, vec![LineError::new(3, LineProblem::InvalidEncoding, "")]);
        let short = read(b"nome;email;curso;expira_em\nAna;ana@x.com\n");
        assert_eq!(short.1, vec![LineError::new(2, LineProblem::WrongColumnCount, "2")]);
    }

    #[test]
    fn too_many_lines() {
        let mut csv = String::from("nome;email;curso;expira_em\n");
        for i in 0..MAX_IMPORT_LINES {
            csv.push_str(&format!("A;a{i}@x.com;padaria;\n"));
        }
        assert!(read_csv(csv.as_bytes()).is_ok());
        csv.push_str("A;last@x.com;padaria;\n");
        assert_eq!(read_csv(csv.as_bytes()), Err(TooManyLines));
    }

    #[test]
    fn courses_by_name_slug_or_id() {
        let c = catalog();
        assert_eq!(c.find("confeitaria pro").unwrap().id, 1);
        assert_eq!(c.find("  Confeitaria   PRO ").unwrap().id, 1);
        assert_eq!(c.find("CONFEITARIA").unwrap().id, 1);
        assert_eq!(c.find("padaria-2").unwrap().id, 3);
        assert_eq!(c.find("Padaria"), Err(LineProblem::AmbiguousCourse));
        assert_eq!(c.find("2").unwrap().id, 2);
        assert_eq!(c.find("99"), Err(LineProblem::UnknownCourse));
        assert_eq!(c.find("culinária"), Err(LineProblem::UnknownCourse));
    }

    #[test]
    fn every_bad_line_with_its_number() {
        let csv = "nome;email;curso;expira_em\n\
                   Ana;ana@x.com;confeitaria;\n\
                   Bia;sem-arroba;confeitaria;\n\
                   Caio;caio@x.com;;\n\
                   Duda;duda@x.com;culinaria;\n\
                   Eva;eva@x.com;confeitaria;2027-02-30\n\
                   Fábio;fabio@x.com;confeitaria;01/01/2026\n\
                   Ana de novo;ANA@x.com;Confeitaria Pro;\n\
                   Gil;gil@x.com;padaria-2;31/01/2027\n\
                   Gil;gil@x.com;confeitaria;31/01/2027\n";
        let (good, errors) = validate(lines(csv), &catalog(), now());
        let codes: Vec<(u64, LineProblem)> = errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            codes,
            [
                (3, LineProblem::InvalidEmail),
                (4, LineProblem::MissingCourse),
                (5, LineProblem::UnknownCourse),
                (6, LineProblem::InvalidDate),
                (7, LineProblem::PastDate),
                (8, LineProblem::DuplicateLine),
            ]
        );
        assert_eq!(errors[5].value.as_deref(), Some("2"), "points at the first line");
        assert_eq!(good.iter().map(|g| g.line).collect::<Vec<_>>(), [2, 9, 10]);
        assert_eq!(good[0].expires_at, Some(now() + Duration::days(30)), "empty date: the course's duration");
        assert_eq!(good[0].name.as_deref(), Some("Ana"));
        assert_eq!(good[1].expires_at, Some(end_of_day(chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap())));
    }

    #[test]
    fn plans_and_counts() {
        let csv = "nome;email;curso;expira_em\n\
                   Ana;ana@x.com;confeitaria;\n\
                   Ana;ana@x.com;padaria-2;\n\
                   Bia;bia@x.com;confeitaria;31/12/2027\n\
                   Caio;caio@x.com;confeitaria;15/12/2026\n\
                   Duda;duda@x.com;confeitaria;\n";
        let (good, errors) = validate(lines(csv), &catalog(), now());
        let customers = HashMap::from([
            ("bia@x.com".to_string(), 10),
            ("caio@x.com".to_string(), 11),
            ("duda@x.com".to_string(), 12),
        ]);
        let state =
            |end: &str| EnrollmentState { status: EnrollmentStatus::Active, expires_at: Some(end.parse().unwrap()) };
        let enrollments = HashMap::from([
            ((10, 1), state("2027-01-01T00:00:00Z")),
            ((11, 1), state("2027-01-01T00:00:00Z")),
            ((12, 1), EnrollmentState { status: EnrollmentStatus::Revoked, expires_at: None }),
        ]);
        let planned = plan(good, &customers, &enrollments, now());
        let results: Vec<(u64, bool, ImportResult)> =
            planned.iter().map(|p| (p.line.line, p.new_customer, p.result)).collect();
        assert_eq!(
            results,
            [
                (2, true, ImportResult::NewAccess),
                (3, false, ImportResult::NewAccess),
                (4, false, ImportResult::Extend),
                (5, false, ImportResult::AlreadyActive),
                (6, false, ImportResult::NewAccess),
            ]
        );
        let report = ImportReport::new(true, &planned, errors);
        assert_eq!(
            report.counts,
            ImportCounts { new_customers: 1, new_accesses: 3, extended: 1, already_active: 1, errors: 0 }
        );
        assert_eq!(report.lines, 5);
        assert!(!report.imported);
    }
}
