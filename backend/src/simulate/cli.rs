//! `portaria simulate`: the command line over [`super::plan`] and [`super::send`].

use super::send::{self, Options};
use super::{plan, supports, Plan, Scenario, MAX_COUNT};
use crate::config::SourceSecrets;
use crate::ingest::event::Source;
use chrono::{DateTime, Utc};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

pub const USAGE: &str = "usage: portaria simulate --url URL --source SOURCE [options]

Sends realistic webhooks of one platform to a Portaria server, signed as the platform signs them,
with the secret the server reads from the same environment variable (PORTARIA_ENV=dev: the dev ones).

  --url URL            the server, e.g. http://127.0.0.1:8080
  --source SOURCE      SOURCES
  --scenario NAME      SCENARIOS (default random)
  --count N            customers playing the scenario (default 20)
  --concurrency C      sending threads (default 4); one customer's events go in order on one thread
  --rate R             at most R requests per second in all (default: no limit)
  --seed S             the same seed (and --at) sends the same bytes (default: a random seed, printed)
  --at TIME            RFC 3339 time the events are dated around (default: today 00:00 UTC)
  --email E            every customer of the run uses this e-mail

Prints a summary (answers by status and outcome, throughput, latency p50/p95/p99/max). Exit status:
0 when every request got an answer below 500, 1 on any 5xx or connection failure, 2 on a usage error.
docs/SIMULATOR.md describes the scenarios.";

/// The usage with the current lists of sources and scenarios.
pub fn usage() -> String {
    let sources: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
    let scenarios: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
    USAGE.replace("SOURCES", &sources.join(", ")).replace("SCENARIOS", &scenarios.join(", "))
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub url: String,
    pub source: Source,
    pub scenario: Scenario,
    pub count: usize,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub seed: Option<u64>,
    pub at: Option<DateTime<Utc>>,
    pub email: Option<String>,
}

/// What the command line asked for: a run, or the help text.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Run(Args),
    Help,
}

/// Parses the arguments after `simulate` (`--name value` or `--name=value`). The error is one line.
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut url = None;
    let mut source = None;
    let mut scenario = Scenario::Random;
    let mut count = 20usize;
    let mut concurrency = 4usize;
    let mut rate = None;
    let mut seed = None;
    let mut at = None;
    let mut email = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "-h" || arg == "--help" || arg == "help" {
            return Ok(Command::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        if !name.starts_with("--") {
            return Err(format!("unexpected argument {arg:?} (see portaria simulate --help)"));
        }
        let value = match inline {
            Some(v) => v,
            None => rest.next().cloned().ok_or_else(|| format!("{name} needs a value"))?,
        };
        let number = |what: &str| -> Result<u64, String> {
            value.trim().parse::<u64>().map_err(|_| format!("{what} must be a whole number, got {value:?}"))
        };
        match name {
            "--url" => url = Some(value.trim().trim_end_matches('/').to_string()),
            "--source" => {
                source = Some(Source::parse(value.trim()).ok_or_else(|| {
                    format!("unknown source {value:?}: one of {}", list(Source::ALL.iter().map(|s| s.as_str())))
                })?)
            }
            "--scenario" => {
                scenario = Scenario::parse(value.trim()).ok_or_else(|| {
                    format!("unknown scenario {value:?}: one of {}", list(Scenario::ALL.iter().map(|s| s.as_str())))
                })?
            }
            "--count" => {
                count = usize::try_from(number("--count")?).unwrap_or(usize::MAX);
                if count == 0 || count > MAX_COUNT {
                    return Err(format!("--count must be between 1 and {MAX_COUNT}"));
                }
            }
            "--concurrency" => {
                concurrency = usize::try_from(number("--concurrency")?).unwrap_or(usize::MAX);
                if !(1..=256).contains(&concurrency) {
                    return Err("--concurrency must be between 1 and 256".into());
                }
            }
            "--rate" => {
                let r: f64 = value.trim().parse().map_err(|_| format!("--rate must be a number, got {value:?}"))?;
                if !(r.is_finite() && r >= 0.0) {
                    return Err(format!("--rate must be 0 (no limit) or more, got {value:?}"));
                }
                rate = (r > 0.0).then_some(r);
            }
            "--seed" => seed = Some(number("--seed")?),
            "--at" => {
                at = Some(
                    DateTime::parse_from_rfc3339(value.trim())
                        .map_err(|_| format!("--at must be an RFC 3339 time like 2026-12-02T12:00:00Z, got {value:?}"))?
                        .with_timezone(&Utc),
                )
            }
            "--email" => email = Some(value),
            other => return Err(format!("unknown option {other} (see portaria simulate --help)")),
        }
    }
    let url = url.ok_or("--url is required, e.g. --url http://127.0.0.1:8080")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("--url must start with http:// or https://, got {url:?}"));
    }
    let source = source
        .ok_or_else(|| format!("--source is required: one of {}", list(Source::ALL.iter().map(|s| s.as_str()))))?;
    if !supports(source, scenario) {
        let playable = Scenario::ALL.iter().filter(|s| supports(source, **s)).map(|s| s.as_str());
        return Err(format!("the {source} source cannot play {scenario}: it can play {}", list(playable)));
    }
    Ok(Command::Run(Args { url, source, scenario, count, concurrency, rate, seed, at, email }))
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Start of the current UTC day: the default `--at`, so that a seed sends the same bytes all day.
fn today() -> DateTime<Utc> {
    Utc::now().date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// Runs `portaria simulate` with the arguments after the command name.
pub fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(Command::Help) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(args)) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let secrets = SourceSecrets::from_env();
    let seed = args.seed.unwrap_or_else(rand::random);
    let the_plan = Plan {
        source: args.source,
        scenario: args.scenario,
        seed,
        count: args.count,
        email: args.email.clone(),
        at: args.at.unwrap_or_else(today),
    };
    let deliveries = match plan(&the_plan, &secrets) {
        Ok(deliveries) => deliveries,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "simulate: {} {} x{} (seed {seed}, at {}) → {}: {} requests",
        args.source,
        args.scenario,
        args.count,
        the_plan.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        args.url,
        deliveries.len()
    );
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(deliveries.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} {per_sec} eta {eta} {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let options = Options {
        url: args.url.clone(),
        concurrency: args.concurrency,
        rate: args.rate,
        timeout: Duration::from_secs(30),
        max_attempts_429: 10,
    };
    let report = send::send_all(deliveries, &secrets, &options, &|sent| {
        if sent.status.is_none_or(|s| s >= 500) {
            bar.set_message(format!(
                "last failure: {} {}",
                sent.status.map(|s| s.to_string()).unwrap_or_default(),
                sent.outcome
            ));
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    print!("{}", send::summary(&report));
    let (failures, errors) = (report.failures(), report.server_errors());
    if failures > 0 || errors > 0 {
        eprintln!("error: {errors} answer(s) 5xx and {failures} request(s) without an answer from {}", args.url);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Command, String> {
        parse_args(&line.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn a_full_command_line() {
        let Command::Run(a) = args(
            "--url http://127.0.0.1:8080/ --source kiwify --scenario out-of-order --count 50 --concurrency 8 --rate 25.5 --seed 42 --at 2026-12-02T12:00:00Z --email=Ana@Example.com",
        )
        .unwrap() else {
            panic!("a run")
        };
        assert_eq!(a.url, "http://127.0.0.1:8080");
        assert_eq!((a.source, a.scenario, a.count, a.concurrency), (Source::Kiwify, Scenario::OutOfOrder, 50, 8));
        assert_eq!((a.rate, a.seed, a.email.as_deref()), (Some(25.5), Some(42), Some("Ana@Example.com")));
        assert_eq!(a.at.unwrap().to_rfc3339(), "2026-12-02T12:00:00+00:00");
        let Command::Run(d) = args("--url http://x --source hashtag").unwrap() else { panic!("a run") };
        assert_eq!((d.scenario, d.count, d.concurrency, d.rate, d.seed), (Scenario::Random, 20, 4, None, None));
        assert_eq!(args("--help"), Ok(Command::Help));
    }

    #[test]
    fn mistakes_are_one_line_each() {
        for (line, needle) in [
            ("--source hashtag", "--url is required"),
            ("--url http://x", "--source is required: one of hashtag, hotmart, kiwify, generic"),
            ("--url ftp://x --source hashtag", "must start with http://"),
            ("--url http://x --source paypal", "unknown source \"paypal\""),
            ("--url http://x --source hotmart --scenario chaos", "unknown scenario \"chaos\""),
            ("--url http://x --source hashtag --scenario boleto", "cannot play boleto: it can play random,"),
            ("--url http://x --source hotmart --count 0", "--count must be between 1"),
            ("--url http://x --source hotmart --count lots", "--count must be a whole number"),
            ("--url http://x --source hotmart --rate -1", "--rate must be 0"),
            ("--url http://x --source hotmart --concurrency 0", "--concurrency must be between 1 and 256"),
            ("--url http://x --source hotmart --at yesterday", "--at must be an RFC 3339 time"),
            ("--url http://x --source hotmart --seed", "--seed needs a value"),
            ("--url http://x --source hotmart --verbose 1", "unknown option --verbose"),
            ("--url http://x --source hotmart extra", "unexpected argument \"extra\""),
        ] {
            let error = args(line).unwrap_err();
            assert!(error.contains(needle), "{line}: {error}");
            assert!(!error.contains('\n'), "{line}: {error}");
        }
    }

    #[test]
    fn the_usage_lists_every_source_and_scenario() {
        let text = usage();
        for s in Source::ALL {
            assert!(text.contains(s.as_str()));
        }
        for s in Scenario::ALL {
            assert!(text.contains(s.as_str()));
        }
    }
}
