//! Alerts through templated HTTP calls (`ALERT_HTTP_CONFIG`): for a destination that is not an incoming
//! webhook — a WhatsApp gateway, an SMS or a ticketing API — a TOML (or `.json`) file with the sequence of
//! calls that delivers one alert, `[[alert]]` steps in the format of the course platform's templated mode
//! (`crate::channels::templated`: method, URL template, headers with secrets from the environment as
//! `{{ env.NAME }}`, a JSON body template, `when`, `capture`, `ok_status`). The templates see `alert.text`
//! (the pt-BR message, with its link to the app), `alert.condition` (`dead`, `dead_many`, `outbox_age`,
//! `rejections`, `test`), `alert.key` (the condition's key, e.g. `dead:42`), `alert.public_url`, `env` and
//! `vars`. docs/CHANNELS.md has a worked WhatsApp example.

use crate::channels::http::Client;
use crate::channels::templated::{check_steps, run_steps, Step};
use crate::channels::Failure;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    alert: Vec<Step>,
}

/// The loaded, checked sequence with the environment values its templates name.
#[derive(Clone)]
pub struct AlertPlan {
    pub steps: Vec<Step>,
    env: BTreeMap<String, String>,
}

impl std::fmt::Debug for AlertPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The values of `env` are secrets: only their names.
        f.debug_struct("AlertPlan")
            .field("steps", &self.steps.len())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One alert, as the templates see it (`alert.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCall<'a> {
    pub condition: &'a str,
    pub key: &'a str,
    pub text: &'a str,
    pub public_url: &'a str,
}

impl AlertPlan {
    /// Reads and checks `path` (`.json` as JSON, anything else as TOML); every `env.NAME` used must be set.
    pub fn load(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<AlertPlan, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        AlertPlan::parse(&text, is_json, lookup).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str, is_json: bool, lookup: &dyn Fn(&str) -> Option<String>) -> Result<AlertPlan, String> {
        let file: File = if is_json {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| e.to_string())?
        };
        if file.alert.is_empty() {
            return Err("no [[alert]] step: the file must hold at least one call".into());
        }
        let env = check_steps(&[("alert", &file.alert)], lookup)?;
        Ok(AlertPlan { steps: file.alert, env })
    }

    /// Runs the sequence for one alert (each call within `timeout`); the note lists each step's status.
    /// Errors never carry a URL or a header (they may hold tokens).
    pub fn send(&self, alert: &AlertCall, timeout: Duration) -> Result<String, Failure> {
        let context = json!({"alert": {
            "condition": alert.condition,
            "key": alert.key,
            "text": alert.text,
            "public_url": alert.public_url,
        }});
        run_steps(&self.steps, &self.env, &Client::new(timeout), &context)
    }

    /// What Configurações shows: each step's name, method and host (never a path, a query or a header,
    /// which may carry credentials; a host that comes from a template shows as such).
    pub fn targets(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| format!("{}: {} {}", s.name, s.method.to_ascii_uppercase(), template_host(&s.url)))
            .collect()
    }
}

/// The host of a URL template when it is written out, else `(modelo)`.
fn template_host(url: &str) -> String {
    let host = crate::alerts::send::host(url.trim());
    if host.is_empty() || host.contains("{{") || host.contains("{%") || url.trim().starts_with("{{") {
        "(endereço em modelo)".into()
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHATSAPP: &str = r#"
[[alert]]
name = "whatsapp"
url = "https://zap.example.com/message/sendText/{{ env.ZAP_INSTANCE }}"
headers = { apikey = "{{ env.ZAP_API_KEY }}" }
body = '{"number": {{ env.ALERT_WHATSAPP_NUMBER|tojson }}, "text": {{ alert.text|tojson }}}'
"#;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "ZAP_INSTANCE" => Some("portaria".into()),
            "ZAP_API_KEY" => Some("chave-secreta".into()),
            "ALERT_WHATSAPP_NUMBER" => Some("5511999990000".into()),
            _ => None,
        }
    }

    #[test]
    fn a_file_is_checked_names_its_secrets_and_shows_hosts_only() {
        let plan = AlertPlan::parse(WHATSAPP, false, &lookup).unwrap();
        assert_eq!(plan.steps.len(), 1);
        let shown = format!("{plan:?}");
        assert!(shown.contains("ZAP_API_KEY") && !shown.contains("chave-secreta"), "{shown}");
        assert_eq!(plan.targets(), ["whatsapp: POST zap.example.com"]);
        let err = AlertPlan::parse(WHATSAPP, false, &|_| None).unwrap_err();
        assert!(err.contains("env.ALERT_WHATSAPP_NUMBER") || err.contains("env.ZAP_"), "{err}");
        assert!(AlertPlan::parse("", false, &lookup).is_err(), "no step");
        assert!(AlertPlan::parse("[[grant]]\nname='x'\nurl='u'\n", false, &lookup).is_err(), "not an alert file");
        let err = AlertPlan::parse("[[alert]]\nname='x'\nurl='{{ oops'\n", false, &lookup).unwrap_err();
        assert!(err.starts_with("alert step `x`: url:"), "{err}");
        let templated = "[[alert]]\nname='x'\nurl='{{ env.ZAP_INSTANCE }}/send'\n";
        assert_eq!(AlertPlan::parse(templated, false, &lookup).unwrap().targets(), ["x: POST (endereço em modelo)"]);
    }
}
