//! Cross-replica signals through PostgreSQL LISTEN/NOTIFY: a new webhook event (`e:<id>`), a
//! treatment queued for the worker (`q:<id>`: new, retried) or a treatment that changed (`t:<id>`). One listener thread per process feeds a broadcast channel
//! (the live stream) and wakes the worker.

use crate::db::DbError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, Notify};

pub const CHANNEL: &str = "portaria";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Event(i64),
    /// A treatment became due work: wakes the workers.
    Queued(i64),
    /// A treatment's state changed (done, failed, ...).
    Treatment(i64),
}

impl Signal {
    pub fn encode(self) -> String {
        match self {
            Signal::Event(id) => format!("e:{id}"),
            Signal::Queued(id) => format!("q:{id}"),
            Signal::Treatment(id) => format!("t:{id}"),
        }
    }
    pub fn decode(payload: &str) -> Option<Signal> {
        let (tag, id) = payload.split_once(':')?;
        let id = id.parse().ok()?;
        match tag {
            "e" => Some(Signal::Event(id)),
            "q" => Some(Signal::Queued(id)),
            "t" => Some(Signal::Treatment(id)),
            _ => None,
        }
    }
}

/// Sends `signal` to every replica when the current transaction commits.
pub fn send(conn: &mut PgConnection, signal: Signal) -> QueryResult<()> {
    send_all(conn, &[signal])
}

/// Sends several signals in one statement (one round trip), e.g. an event and its treatments, or a
/// whole group-committed batch: as few notifications as PostgreSQL's payload limit allows.
pub fn send_all(conn: &mut PgConnection, signals: &[Signal]) -> QueryResult<()> {
    let payloads = payloads(signals);
    match payloads.as_slice() {
        [] => Ok(()),
        [one] => diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(one)
            .execute(conn)
            .map(|_| ()),
        // Raw SQL: diesel's DSL has no set-returning `unnest` to select `pg_notify` over.
        many => diesel::sql_query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
            .bind::<Text, _>(CHANNEL)
            .bind::<Array<Text>, _>(many)
            .execute(conn)
            .map(|_| ()),
    }
}

/// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;

/// How many signals a statement that sends its own (`ingest::bulk`) joins into one payload: an
/// encoded signal is at most 22 bytes ("q:" and 19 digits, and the comma), so 300 fit in
/// `MAX_PAYLOAD`.
pub const SIGNALS_PER_PAYLOAD: i64 = 300;

/// The signals joined with commas into payloads under `MAX_PAYLOAD` bytes each.
fn payloads(signals: &[Signal]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut current = String::new();
    for s in signals {
        let encoded = s.encode();
        if !current.is_empty() && current.len() + 1 + encoded.len() > MAX_PAYLOAD {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(&encoded);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The signals of one notification's payload.
pub fn decode_all(payload: &str) -> impl Iterator<Item = Signal> + '_ {
    payload.split(',').filter_map(Signal::decode)
}

/// In-process fan-out of the signals.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Signal>,
    wake: Arc<Notify>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    pub fn new() -> Bus {
        let (tx, _) = broadcast::channel(1024);
        Bus { tx, wake: Arc::new(Notify::new()) }
    }
    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.tx.subscribe()
    }
    /// Woken whenever there may be new work for the worker.
    pub fn worker_wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }
    pub fn dispatch(&self, signal: Signal) {
        if matches!(signal, Signal::Queued(_)) {
            self.wake.notify_waiters();
        }
        let _ = self.tx.send(signal);
    }
}

/// Runs LISTEN on a dedicated connection in a thread, reconnecting on failure, until the process ends.
pub fn spawn_listener(database_url: String, bus: Bus) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("portaria-listen".into())
        .spawn(move || loop {
            if let Err(e) = listen(&database_url, &bus) {
                log::warn!("LISTEN connection lost ({e}); reconnecting in 1 s");
            }
            std::thread::sleep(Duration::from_secs(1));
        })
        .expect("spawn the listener thread")
}

fn listen(database_url: &str, bus: &Bus) -> Result<(), DbError> {
    let mut conn = PgConnection::establish(database_url).map_err(|e| DbError::connect(database_url, &e))?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    // Anything that happened while we were not listening: let the worker look.
    bus.wake.notify_waiters();
    let mut last_check = Instant::now();
    loop {
        let mut got = false;
        for n in conn.notifications_iter() {
            let n = n?;
            for signal in decode_all(&n.payload) {
                bus.dispatch(signal);
            }
            got = true;
        }
        if last_check.elapsed() > Duration::from_secs(30) {
            // notifications_iter only reads what has arrived; a query notices a dead connection.
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            last_check = Instant::now();
        }
        if !got {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_round_trip() {
        for s in [Signal::Event(1), Signal::Queued(7), Signal::Treatment(42)] {
            assert_eq!(Signal::decode(&s.encode()), Some(s));
        }
        assert_eq!(Signal::decode("x:1"), None);
        assert_eq!(Signal::decode("e:abc"), None);
        assert_eq!(Signal::decode(""), None);
        let all: Vec<Signal> = decode_all("e:1,q:2,q:3,junk").collect();
        assert_eq!(all, [Signal::Event(1), Signal::Queued(2), Signal::Queued(3)]);
    }

    #[test]
    fn a_payload_of_signals_per_payload_of_the_longest_signals_fits() {
        let longest = Signal::Queued(i64::MAX).encode().len().max(Signal::Event(i64::MAX).encode().len());
        let n = usize::try_from(SIGNALS_PER_PAYLOAD).expect("positive");
        assert!(n * (longest + 1) < MAX_PAYLOAD);
    }

    #[test]
    fn large_batches_are_split_under_the_payload_limit() {
        assert!(payloads(&[]).is_empty());
        assert_eq!(payloads(&[Signal::Event(1), Signal::Queued(2)]), ["e:1,q:2"]);
        let many: Vec<Signal> = (0..5000).map(|i| Signal::Queued(1_000_000_000 + i)).collect();
        let parts = payloads(&many);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<Signal> = parts.iter().flat_map(|p| decode_all(p)).collect();
        assert_eq!(back, many);
    }
}
