//! `portaria healthcheck`: `GET /healthz` on `PORTARIA_BIND` over a plain TCP connection, for a container's
//! HEALTHCHECK. The runtime image has neither curl nor wget, and its `/bin/sh` (dash) has no `/dev/tcp`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long the connection, the request and the answer may each take.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Why the probe failed (one line for the container's log).
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("PORTARIA_BIND {bind:?} is not a host:port: {source}")]
    NotAnAddress { bind: String, source: std::io::Error },
    #[error("PORTARIA_BIND {0:?} resolves to no address")]
    NoAddress(String),
    #[error("{what} {addr}: {source}")]
    Io { what: &'static str, addr: SocketAddr, source: std::io::Error },
    #[error("/healthz on {addr} answered {status}")]
    Status { addr: SocketAddr, status: String },
    #[error("/healthz on {addr} did not answer HTTP: {line:?}")]
    NotHttp { addr: SocketAddr, line: String },
}

/// The address to probe for a bind address: a wildcard (`0.0.0.0`, `[::]`) is probed on loopback.
pub fn probe_addr(bind: &str) -> Result<SocketAddr, Unhealthy> {
    let mut addr = bind
        .to_socket_addrs()
        .map_err(|source| Unhealthy::NotAnAddress { bind: bind.to_string(), source })?
        .next()
        .ok_or_else(|| Unhealthy::NoAddress(bind.to_string()))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(addr)
}

/// `Ok` when `GET /healthz` on `addr` answers 200; otherwise what went wrong.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<(), Unhealthy> {
    let io = |what| move |source| Unhealthy::Io { what, addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(io("connect to"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(io("set the timeouts of"))?;
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: portaria-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io("send to"))?;
    // The status line is all that matters; read until it is complete (or the peer closes).
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(io("read from")(e)),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default();
    match status_line.split_whitespace().collect::<Vec<_>>().as_slice() {
        [version, "200", ..] if version.starts_with("HTTP/1.") => Ok(()),
        [version, status, ..] if version.starts_with("HTTP/1.") => {
            Err(Unhealthy::Status { addr, status: status.to_string() })
        }
        _ => Err(Unhealthy::NotHttp { addr, line: status_line.to_string() }),
    }
}

/// The subcommand: probes `PORTARIA_BIND` (default 127.0.0.1:8080).
pub fn run_from_env() -> Result<(), Unhealthy> {
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
        assert!(probe_addr("no-port").unwrap_err().to_string().contains("PORTARIA_BIND"));
    }
}
