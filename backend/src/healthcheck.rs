//! `portaria healthcheck`: `GET /healthz` on `PORTARIA_BIND` over a plain TCP connection, for a container's
//! HEALTHCHECK. The runtime image has neither curl nor wget, and its `/bin/sh` (dash) has no `/dev/tcp`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long the connection, the request and the answer may each take.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The address to probe for a bind address: a wildcard (`0.0.0.0`, `[::]`) is probed on loopback.
pub fn probe_addr(bind: &str) -> Result<SocketAddr, String> {
    let mut addr = bind
        .to_socket_addrs()
        .map_err(|e| format!("PORTARIA_BIND {bind:?} is not a host:port: {e}"))?
        .next()
        .ok_or_else(|| format!("PORTARIA_BIND {bind:?} resolves to no address"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(addr)
}

/// `Ok` when `GET /healthz` on `addr` answers 200; otherwise what went wrong.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: portaria-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("send to {addr}: {e}"))?;
    // The status line is all that matters; read until it is complete (or the peer closes).
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read from {addr}: {e}")),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default();
    match status_line.split_whitespace().collect::<Vec<_>>().as_slice() {
        [version, "200", ..] if version.starts_with("HTTP/1.") => Ok(()),
        [version, status, ..] if version.starts_with("HTTP/1.") => Err(format!("/healthz on {addr} answered {status}")),
        _ => Err(format!("/healthz on {addr} did not answer HTTP: {status_line:?}")),
    }
}

/// The subcommand: probes `PORTARIA_BIND` (default 127.0.0.1:8080).
pub fn run_from_env() -> Result<(), String> {
    let bind = std::env::var("PORTARIA_BIND")
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| crate::config::DEFAULT_BIND.into());
    check(probe_addr(&bind)?, TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_probed_on_loopback() {
        assert_eq!(probe_addr("0.0.0.0:8080").unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(probe_addr("[::]:9000").unwrap(), "[::1]:9000".parse().unwrap());
        assert_eq!(probe_addr("127.0.0.1:81").unwrap(), "127.0.0.1:81".parse().unwrap());
        assert!(probe_addr("no-port").unwrap_err().contains("PORTARIA_BIND"));
    }
}
