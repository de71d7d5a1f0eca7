use portaria::config::{self, Config};
use portaria::telemetry::{self, LogFormat};
use std::process::ExitCode;

/// mimalloc, set up to give memory back (src/allocator.rs).
#[global_allocator]
static ALLOCATOR: portaria::allocator::Allocator = portaria::allocator::Allocator;

const USAGE: &str = "usage: portaria <command>

commands:
  serve     apply pending migrations, then serve the API, the webhooks and the staff app
  migrate   apply pending migrations and exit (needs only DATABASE_URL)
  healthcheck
            GET /healthz on PORTARIA_BIND; exit 0 when it answers 200, 1 otherwise (for container HEALTHCHECKs)
  openapi   print the OpenAPI document (YAML)
  simulate  send realistic, signed webhooks of one platform to a server (portaria simulate --help)
  fake-platform
            a stand-in course platform answering the access webhooks, for `make demo` (--help)
  help      this text

configuration comes from the environment: see README.md";

/// What ends a command with exit code 2; printed as one line.
type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let logging = LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref())
        .map_err(Failure::from)
        .and_then(|format| Ok(telemetry::init(format)?));
    if let Err(e) = logging {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let result: Result<(), Failure> = match command.as_str() {
        "serve" => serve(),
        "migrate" => migrate(),
        "healthcheck" => {
            return match portaria::healthcheck::run_from_env() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("unhealthy: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        "simulate" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return portaria::simulate::cli::run(&args);
        }
        "fake-platform" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return portaria::simulate::platform::run(&args);
        }
        "openapi" => {
            print!("{}", portaria::openapi::yaml());
            Ok(())
        }
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> Result<(), Failure> {
    let config = Config::from_env()?;
    Ok(actix_web::rt::System::new().block_on(portaria::server::serve(config))?)
}

fn migrate() -> Result<(), Failure> {
    let database_url = config::database_url_from_env()?;
    let pool = portaria::db::connect(&database_url, 1)?;
    let mut conn = pool.get()?;
    let applied = portaria::db::migrate(&mut conn)?;
    println!("applied {} migration(s)", applied.len());
    Ok(())
}
