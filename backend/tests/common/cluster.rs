//! A private PostgreSQL cluster for fault tests: initialised from this machine's PostgreSQL binaries
//! into a temporary directory, listening on its own free port, restarted or stopped at will, and
//! removed when dropped. As root, the cluster runs as the `postgres` user (initdb refuses root).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct PrivateCluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port").local_addr().unwrap().port()
}

/// The newest `/usr/lib/postgresql/*/bin` with `initdb` and `pg_ctl` (or the ones on PATH).
fn postgres_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().split('.').next()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return bin;
    }
    let on_path = Command::new("sh").args(["-c", "command -v initdb"]).output().ok().filter(|o| o.status.success());
    match on_path {
        Some(o) => Path::new(String::from_utf8_lossy(&o.stdout).trim()).parent().unwrap().to_path_buf(),
        None => panic!(
            "fault tests need PostgreSQL's server binaries (initdb, pg_ctl): apt-get install postgresql \
             (looked in /usr/lib/postgresql/*/bin and on PATH)"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn check(what: &str, output: std::io::Result<Output>, log: &Path) {
    let output = output.unwrap_or_else(|e| panic!("{what}: {e}"));
    if !output.status.success() {
        let server_log = std::fs::read_to_string(log).unwrap_or_default();
        panic!(
            "{what} failed ({}):\n{}{}\n--- server log ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            server_log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
}

impl PrivateCluster {
    /// initdb + start. Panics with the reason when PostgreSQL cannot be set up.
    pub fn start() -> PrivateCluster {
        let bin = postgres_bin();
        let as_postgres = is_root();
        let dir =
            std::env::temp_dir().join(format!("portaria-pg-{}-{:08x}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        if as_postgres {
            let out = Command::new("chown").arg("postgres:").arg(&dir).output();
            check("chown the cluster directory to postgres", out, Path::new(""));
        }
        let cluster = PrivateCluster { port: free_port(), dir, bin, as_postgres };
        let out = cluster
            .tool("initdb")
            .arg("-D")
            .arg(cluster.data())
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
            .output();
        check("initdb", out, Path::new(""));
        cluster.pg_ctl_start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn options(&self) -> String {
        format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200", self.port, self.dir.display())
    }

    fn pg_ctl_start(&self) {
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.log())
            .args(["-w", "-t", "60", "-o", &self.options(), "start"])
            .output();
        check("pg_ctl start", out, &self.log());
    }

    /// postgres://postgres@127.0.0.1:PORT/`database`
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `name` and applies the migrations to it; returns its URL.
    pub fn migrated_database(&self, name: &str) -> String {
        use diesel::{Connection, RunQueryDsl};
        let mut admin = diesel::PgConnection::establish(&self.url("postgres")).expect("connect to the private cluster");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
        let url = self.url(name);
        let mut conn = diesel::PgConnection::establish(&url).expect("connect to the new database");
        portaria::db::migrate(&mut conn).expect("migrate");
        url
    }

    /// `pg_ctl restart -m fast`: every session is ended, the server stops and starts again. Returns
    /// when it accepts connections again.
    pub fn restart(&self) {
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.log())
            .args(["-w", "-t", "60", "-m", "fast", "-o", &self.options(), "restart"])
            .output();
        check("pg_ctl restart", out, &self.log());
    }

    pub fn stop(&self) {
        let out = self.tool("pg_ctl").arg("-D").arg(self.data()).args(["-w", "-m", "fast", "stop"]).output();
        check("pg_ctl stop", out, &self.log());
    }

    pub fn start_again(&self) {
        self.pg_ctl_start();
    }

    /// Waits until a connection succeeds (at most `limit`); whether it did.
    pub fn wait_accepting(&self, limit: Duration) -> bool {
        use diesel::Connection;
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if diesel::PgConnection::establish(&self.url("postgres")).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.tool("pg_ctl").arg("-D").arg(self.data()).args(["-w", "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
