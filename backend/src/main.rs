use portaria::config::{self, Config};
use portaria::telemetry::{self, LogFormat};
use std::process::ExitCode;

const USAGE: &str = "usage: portaria <command>

commands:
  serve     apply pending migrations, then serve the API, the webhooks and the staff app
  migrate   apply pending migrations and exit (needs only DATABASE_URL)
  healthcheck
            GET /healthz on PORTARIA_BIND; exit 0 when it answers 200, 1 otherwise (for container HEALTHCHECKs)
  openapi   print the OpenAPI document (YAML)
  help      this text

configuration comes from the environment: see README.md";

fn main() -> ExitCode {
    if let Err(message) = LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref()).and_then(telemetry::init) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    let result = match command.as_str() {
        "serve" => Config::from_env()
            .map_err(|e| e.0)
            .and_then(|config| actix_web::rt::System::new().block_on(portaria::server::serve(config))),
        "migrate" => migrate(),
        "healthcheck" => {
            return match portaria::healthcheck::run_from_env() {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("unhealthy: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        "openapi" => {
            print!("{}", portaria::openapi::yaml());
            Ok(())
        }
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn migrate() -> Result<(), String> {
    let database_url = config::database_url_from_env().map_err(|e| e.0)?;
    let pool = portaria::db::connect(&database_url, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let applied = portaria::db::migrate(&mut conn)?;
    println!("applied {} migration(s)", applied.len());
    Ok(())
}
