//! `portaria fake-platform`: a stand-in course platform for `make demo`, receiving the access
//! webhooks (`ACCESS_WEBHOOK_URL`) so that the demo shows every fate of a treatment. Decided by the
//! treatment's stable `webhook-id` (`trt_<id>`):
//! - id ≡ 0 (mod 10): 422 every time: the treatment is dead at once;
//! - id ≡ 3 (mod 10): 500 on the first attempt, then 200: retried, then done;
//! - id ≡ 7 (mod 20): 503 every time: retried until `WORKER_MAX_ATTEMPTS`, then dead;
//! - anything else: 200.
//!
//! A plain blocking HTTP/1.1 server (one thread per connection, `Connection: close`): a demo tool,
//! not a production component.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const USAGE: &str = "usage: portaria fake-platform [--bind HOST:PORT]

A stand-in course platform for `make demo` (default 127.0.0.1:8089): answers the access webhooks
200, 422 for treatments whose id ends in 0 (dead at once), 500 then 200 for ids ending in 3
(retried, then done), 503 for ids ≡ 7 mod 20 (retried until WORKER_MAX_ATTEMPTS, then dead).";

/// The answer for a delivery of treatment `id`, given whether it was seen before.
pub fn answer(webhook_id: Option<&str>, seen_before: bool) -> u16 {
    let Some(id) = webhook_id.and_then(|w| w.strip_prefix("trt_")).and_then(|n| n.parse::<u64>().ok()) else {
        return 200;
    };
    match (id % 10, id % 20) {
        (0, _) => 422,
        (3, _) if !seen_before => 500,
        (_, 7) => 503,
        _ => 200,
    }
}

/// Serves until the process ends.
pub fn serve(listener: TcpListener) {
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    for stream in listener.incoming().flatten() {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &seen);
        });
    }
}

fn handle(mut stream: TcpStream, seen: &Mutex<HashSet<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    let mut webhook_id = None;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "webhook-id" => webhook_id = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; length.min(1024 * 1024)];
    reader.read_exact(&mut body)?;
    let seen_before = match &webhook_id {
        Some(id) => !seen.lock().expect("seen lock").insert(id.clone()),
        None => false,
    };
    let status = answer(webhook_id.as_deref(), seen_before);
    let (reason, text) = match status {
        200 => ("OK", r#"{"ok":true}"#),
        422 => ("Unprocessable Entity", r#"{"error":"aluno não encontrado na plataforma"}"#),
        500 => ("Internal Server Error", r#"{"error":"instabilidade momentânea"}"#),
        _ => ("Service Unavailable", r#"{"error":"plataforma em manutenção"}"#),
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()
}

/// Runs `portaria fake-platform` with the arguments after the command name.
pub fn run(args: &[String]) -> ExitCode {
    let mut bind = "127.0.0.1:8089".to_string();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--bind" => match rest.next() {
                Some(value) => bind = value.clone(),
                None => {
                    eprintln!("error: --bind needs HOST:PORT");
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("error: unexpected argument {other:?} (see portaria fake-platform --help)");
                return ExitCode::from(2);
            }
        }
    }
    match TcpListener::bind(&bind) {
        Ok(listener) => {
            println!("fake course platform on http://{bind}");
            serve(listener);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot listen on {bind}: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::http::Client;

    #[test]
    fn answers_by_treatment_id() {
        assert_eq!(answer(Some("trt_10"), false), 422);
        assert_eq!(answer(Some("trt_10"), true), 422);
        assert_eq!(answer(Some("trt_13"), false), 500);
        assert_eq!(answer(Some("trt_13"), true), 200);
        assert_eq!(answer(Some("trt_27"), false), 503);
        assert_eq!(answer(Some("trt_27"), true), 503);
        assert_eq!(answer(Some("trt_17"), true), 200);
        assert_eq!(answer(Some("trt_1"), false), 200);
        assert_eq!(answer(None, false), 200);
        assert_eq!(answer(Some("test"), false), 200);
    }

    #[test]
    fn serves_over_loopback_and_remembers_attempts() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/access", listener.local_addr().unwrap());
        std::thread::spawn(move || serve(listener));
        let client = Client::new(Duration::from_secs(5));
        let post = |id: &str| {
            let request = ureq::http::Request::post(&url)
                .header("webhook-id", id)
                .header("Content-Type", "application/json")
                .body(br#"{"type":"access.granted"}"#.to_vec())
                .unwrap();
            client.send(request).unwrap().status
        };
        assert_eq!([post("trt_3"), post("trt_3"), post("trt_3")], [500, 200, 200]);
        assert_eq!([post("trt_20"), post("trt_20")], [422, 422]);
        assert_eq!(post("trt_4"), 200);
    }
}
