//! The customer search's query layer (`staff::queries::customers::search`) against a real PostgreSQL:
//! every page of every kind of term equals what one plain ranked query says, across the windows the
//! search reads (the newest 5,000 customers, the next ~50,000, the rest) and through both of its
//! access paths (an id-ordered walk, the trigram index); a whole e-mail or document found exactly is
//! answered from the btree indexes alone.

mod common;

use common::*;
use diesel::connection::InstrumentationEvent;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Integer, Text};
use portaria::staff::pagination::like_escape;
use portaria::staff::queries::customers::{names_one_customer, search, term, Term};
use std::ops::Not;
use std::sync::{Arc, Mutex};

/// 60,000 customers `c<g>@example.com` in id order (id = g), named so that each kind of term has
/// its matches where the search's windows fall: `Maria` every 100th (frequent), `Quitéria` every
/// 1,000th (5 in the newest 5,000: the second window is walked), `Ondina Rara` every 9,000th (none
/// in the newest 5,000: the trigram index for all older ids), `Conceição` every 2,500th, and `Teodora`
/// 5 times among the newest 5,000 and twice among the oldest ids (the two walks find 5, the trigram
/// index the rest).
fn seed(conn: &mut PgConnection) {
    sql_query(
        "INSERT INTO customers (id, email, name, document)
         SELECT g, 'c' || g || '@example.com',
                CASE WHEN g % 100 = 0 THEN 'Maria Souza ' || g
                     WHEN g % 1000 = 7 THEN 'Quitéria Lopes'
                     WHEN g % 9000 = 13 THEN 'Ondina Rara'
                     WHEN g % 2500 = 1 THEN 'Conceição Araújo'
                     WHEN (g > 55000 AND g % 1000 = 11) OR g IN (111, 222) THEN 'Teodora Viana'
                     ELSE 'Cliente ' || g END,
                CASE WHEN g % 10 = 3 THEN lpad((g * 7919)::text, 11, '0') END
         FROM generate_series(1, 60000) AS g",
    )
    .execute(conn)
    .unwrap();
    sql_query("SELECT setval('customers_id_seq', 60000)").execute(conn).unwrap();
    sql_query("ANALYZE customers").execute(conn).unwrap();
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Ranked {
    #[diesel(sql_type = Integer)]
    rank: i32,
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// What the search must answer for `t`, from one plain query that ranks every match (slow on a
/// big table, obviously right): exact e-mail or document, then e-mail prefix, then anywhere;
/// newest first within a rank; no rank 2 when the term names one customer who exists.
fn expected(conn: &mut PgConnection, t: &Term) -> Vec<(i32, i64)> {
    let (q, anywhere) = match t {
        Term::All => return vec![],
        Term::EmailPrefix(q) => (q.clone(), false),
        Term::Contains(q) => (q.clone(), true),
    };
    let exact_exists = sql_query("SELECT 0 AS rank, id FROM customers WHERE email = $1 OR document = $1")
        .bind::<Text, _>(&q)
        .load::<Ranked>(conn)
        .unwrap()
        .is_empty()
        .not();
    let anywhere = anywhere && !(names_one_customer(&q) && exact_exists);
    sql_query(
        "SELECT rank, id FROM (
             SELECT id, CASE WHEN email = $1 OR document = $1 THEN 0 WHEN email LIKE $2 THEN 1 ELSE 2 END AS rank
             FROM customers
             WHERE email = $1 OR document = $1 OR email LIKE $2 OR ($4 AND search_text LIKE portaria_fold($3))
         ) ranked ORDER BY rank, id DESC",
    )
    .bind::<Text, _>(&q)
    .bind::<Text, _>(format!("{}%", like_escape(&q)))
    .bind::<Text, _>(format!("%{}%", like_escape(&q)))
    .bind::<diesel::sql_types::Bool, _>(anywhere)
    .load::<Ranked>(conn)
    .unwrap()
    .into_iter()
    .map(|r| (r.rank, r.id))
    .collect()
}

/// Every page of the search for `q`, `limit` at a time, following the keyset cursor.
fn all_pages(conn: &mut PgConnection, q: &str, limit: i64) -> Vec<(i32, i64)> {
    let t = term(Some(q));
    let mut out: Vec<(i32, i64)> = vec![];
    let mut after = None;
    for _ in 0..10_000 {
        let page = search(conn, &t, limit, after).unwrap();
        assert!(page.len() as i64 <= limit);
        out.extend(page.iter().map(|(rank, c)| (*rank, c.id)));
        if (page.len() as i64) < limit {
            return out;
        }
        let (rank, c) = page.last().unwrap();
        after = Some((i64::from(*rank), c.id));
    }
    panic!("the search for {q:?} did not end");
}

/// The SQL statements `search()` sends for `q` (first page of 20).
fn statements(url: &str, q: &str) -> Vec<String> {
    let mut conn = PgConnection::establish(url).unwrap();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = log.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            sink.lock().unwrap().push(query.to_string());
        }
    });
    search(&mut conn, &term(Some(q)), 20, None).unwrap();
    let captured = log.lock().unwrap().clone();
    captured.into_iter().filter(|s| s.contains("\"customers\"")).collect()
}

#[test]
fn every_page_of_every_kind_of_term_is_right_across_the_windows() {
    let db = TestDb::new();
    let mut conn = db.conn();
    seed(&mut conn);
    let document = sql_query("SELECT 0 AS rank, id FROM customers WHERE id = 59993").load::<Ranked>(&mut conn).unwrap();
    assert_eq!(document.len(), 1);
    let cpf = format!("{:011}", 59993i64 * 7919);
    let formatted = format!("{}.{}.{}-{}", &cpf[0..3], &cpf[3..6], &cpf[6..9], &cpf[9..11]);
    let terms = [
        "maria",          // frequent: the newest 5,000 fill every page
        "quiteria",       // 5 in the newest 5,000: the second window walked in id order
        "QUITÉRIA LOPES", // the same, accented and upper case
        "ondina",         // none in the newest 5,000: trigram index for everything older
        "teodora",        // 5 in the newest 5,000, none in the next 45,000, 2 among the oldest
        "ondina rara",
        "conceicao", // accent-free for an accented name
        "araújo",
        "c5999",           // e-mail prefix (rank 1) and contains (rank 2)
        "9@example",       // contains only, thousands of matches in every window
        "c42@example.com", // a whole e-mail that exists: rank 0, then its prefixes (c42@example.com.br…)
        "c4@example.co",   // an e-mail that does not exist: prefix and contains
        &cpf,              // a whole CPF that exists
        &formatted,        // the same with punctuation
        "00000000000",     // a CPF that does not exist
        "ma",              // 2 letters: e-mail prefix only
        "zzqxj",           // nothing
        "%",               // a LIKE wildcard, searched literally
    ];
    for q in terms {
        let want = expected(&mut conn, &term(Some(q)));
        for limit in [7, 20, 100] {
            let got = all_pages(&mut conn, q, limit);
            assert_eq!(got, want, "q={q:?} limit={limit}");
        }
    }
    // the sample terms reach what they are meant to
    let ondina = expected(&mut conn, &term(Some("ondina")));
    assert_eq!(ondina.iter().map(|(_, id)| *id).collect::<Vec<_>>(), [54013, 45013, 36013, 27013, 18013, 9013, 13]);
    assert_eq!(expected(&mut conn, &term(Some("quiteria"))).len(), 60);
    assert_eq!(expected(&mut conn, &term(Some("teodora"))).len(), 7);
    assert_eq!(expected(&mut conn, &term(Some(&formatted))), [(0, 59993)]);
    // both access paths and every window were used
    let walked = |q: &str| statements(&db.url, q).iter().filter(|s| s.contains("strpos")).count();
    let indexed = |q: &str| statements(&db.url, q).iter().filter(|s| s.contains("\"search_text\" LIKE")).count();
    assert_eq!((walked("maria"), indexed("maria")), (1, 0), "maria: the newest 5,000 are enough");
    assert_eq!((walked("quiteria"), indexed("quiteria")), (2, 0), "quiteria: two windows walked");
    assert_eq!((walked("teodora"), indexed("teodora")), (2, 1), "teodora: two windows walked, then the index");
    assert_eq!((walked("ondina"), indexed("ondina")), (1, 1), "ondina: the index once for everything older");
}

#[test]
fn a_whole_email_or_document_found_exactly_is_answered_from_the_btrees() {
    let db = TestDb::new();
    let mut conn = db.conn();
    for (email, name, document) in [
        ("ana@example.com", "Ana", None),
        ("joana@example.com", "Joana", None),   // contains "ana@example.com"
        ("ana@example.com.br", "Ana Br", None), // starts with it
        ("titular@example.com", "Titular", Some("12345678909")),
        ("segunda@example.com", "Segunda", Some("12345678909")), // the same CPF twice
        ("x12345678909@example.com", "Contém o CPF", None),
        ("y98765432100@example.com", "Só contém", None),
    ] {
        sql_query("INSERT INTO customers (email, name, document) VALUES ($1, $2, $3)")
            .bind::<Text, _>(email)
            .bind::<Text, _>(name)
            .bind::<diesel::sql_types::Nullable<Text>, _>(document)
            .execute(&mut conn)
            .unwrap();
    }
    let mut emails = |q: &str, limit: i64| -> Vec<(i32, String)> {
        let t = term(Some(q));
        let mut out = vec![];
        let mut after = None;
        loop {
            let page = search(&mut conn, &t, limit, after).unwrap();
            out.extend(page.iter().map(|(r, c)| (*r, c.email.clone())));
            match page.last() {
                Some((r, c)) if page.len() as i64 == limit => after = Some((i64::from(*r), c.id)),
                _ => return out,
            }
        }
    };
    let e = |r: i32, s: &str| (r, s.to_string());
    assert_eq!(emails("Ana@Example.com", 20), [e(0, "ana@example.com"), e(1, "ana@example.com.br")]);
    assert_eq!(emails("ana@example.com", 1), [e(0, "ana@example.com"), e(1, "ana@example.com.br")], "paginated");
    assert_eq!(
        emails("na@example.com", 20),
        [e(2, "ana@example.com.br"), e(2, "joana@example.com"), e(2, "ana@example.com")],
        "no exact match: anywhere, newest first"
    );
    assert_eq!(emails("123.456.789-09", 20), [e(0, "segunda@example.com"), e(0, "titular@example.com")]);
    assert_eq!(emails("12345678909", 1), [e(0, "segunda@example.com"), e(0, "titular@example.com")], "paginated");
    assert_eq!(emails("98765432100", 20), [e(2, "y98765432100@example.com")], "no such CPF: anywhere");
    assert_eq!(emails("2345678909", 20).len(), 3, "a part of a CPF: anywhere");

    // no statement of the exact searches reads the search text (the trigram index or a walk)
    for q in ["ana@example.com", "12345678909"] {
        let sent = statements(&db.url, q);
        assert!(!sent.is_empty());
        assert!(sent.iter().all(|s| !s.contains("search_text")), "{q}: {sent:#?}");
    }
    assert!(statements(&db.url, "na@example.com").iter().any(|s| s.contains("search_text")));
}
