//! The templated HTTP mode of the course-platform channel (`PLATFORM_HTTP_CONFIG`): for platforms
//! with a fixed REST API, each action (grant, extend, revoke) is a sequence of calls read from a
//! TOML or JSON file. Every step has a method, a URL template, header templates (secrets named from
//! the environment as `{{ env.NAME }}`), an optional JSON body template, a `when` condition to skip
//! it, and values captured from its answer (JSON pointers) into `vars` for the next steps.
//! Templates are minijinja over `customer`, `course`, `expires_at`, `reason`, `type`,
//! `treatment_id`, `webhook_id`, `env` and `vars`. docs/CHANNELS.md has a worked example.

use super::http::{classify, Answer, Client};
use super::Failure;
use chrono::Utc;
use minijinja::Environment;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use ureq::http;

/// One call of a sequence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Shown in notes and errors (`find`, `create`, `enrol`).
    pub name: String,
    #[serde(default = "post")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A template that must render to JSON (use `|tojson` for values); sent as application/json.
    #[serde(default)]
    pub body: Option<String>,
    /// A minijinja expression; the step runs only when it is true (e.g. `not vars.user_id`).
    #[serde(default)]
    pub when: Option<String>,
    /// `name = "/json/pointer"` into the answer's JSON body; a missing value is captured as null.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Statuses besides 2xx that are not failures (e.g. 404 from a search that found nobody).
    #[serde(default)]
    pub ok_status: Vec<u16>,
}

fn post() -> String {
    "POST".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    grant: Vec<Step>,
    #[serde(default)]
    extend: Option<Vec<Step>>,
    #[serde(default)]
    revoke: Vec<Step>,
}

/// Which sequence to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Grant,
    Extend,
    Revoke,
}

/// The loaded file, checked, with the environment values its templates name.
#[derive(Clone)]
pub struct HttpPlan {
    pub grant: Vec<Step>,
    /// `extend` as written, or the `grant` sequence when the file has none.
    pub extend: Vec<Step>,
    pub revoke: Vec<Step>,
    env: BTreeMap<String, String>,
}

impl std::fmt::Debug for HttpPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The values of `env` are secrets: only their names.
        f.debug_struct("HttpPlan")
            .field("grant", &self.grant.len())
            .field("extend", &self.extend.len())
            .field("revoke", &self.revoke.len())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

impl HttpPlan {
    /// Reads and checks `path` (`.json` as JSON, anything else as TOML); `lookup` gives the values of
    /// the `env.NAME`s the templates use — each must be set.
    pub fn load(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<HttpPlan, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        HttpPlan::parse(&text, is_json, lookup).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str, is_json: bool, lookup: &dyn Fn(&str) -> Option<String>) -> Result<HttpPlan, String> {
        let file: File = if is_json {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| e.to_string())?
        };
        let extend = file.extend.unwrap_or_else(|| file.grant.clone());
        let values = check_steps(&[("grant", &file.grant), ("extend", &extend), ("revoke", &file.revoke)], lookup)?;
        Ok(HttpPlan { grant: file.grant, extend, revoke: file.revoke, env: values })
    }

    pub fn steps(&self, action: Action) -> &[Step] {
        match action {
            Action::Grant => &self.grant,
            Action::Extend => &self.extend,
            Action::Revoke => &self.revoke,
        }
    }

    /// The longest sequence, for the lease check (each call may take the whole timeout).
    pub fn max_steps(&self) -> usize {
        self.grant.len().max(self.extend.len()).max(self.revoke.len())
    }

    /// Runs `action`'s sequence with `context` (customer, course, ...); the note lists each step's
    /// status. A failing step stops the sequence (a retry starts it again from the first step, so
    /// sequences should look before they create).
    pub fn run(&self, client: &Client, action: Action, context: &Value) -> Result<String, Failure> {
        run_steps(self.steps(action), &self.env, client, context)
    }
}

/// Checks every step of the named sections (methods, templates, `when`, captures, `ok_status`) and reads
/// the environment values their templates name as `env.NAME` through `lookup`: each must be set. Shared by
/// the course platform's sequences and the alerts' (`crate::alerts::templated`).
pub fn check_steps(
    sections: &[(&str, &Vec<Step>)],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut names = BTreeSet::new();
    let env = environment();
    for (action, steps) in sections {
        for step in steps.iter() {
            let at = format!("{action} step `{}`", step.name);
            http::Method::from_bytes(step.method.to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("{at}: unknown method `{}`", step.method))?;
            let mut templates = vec![("url", step.url.as_str())];
            templates.extend(step.headers.values().map(|v| ("header", v.as_str())));
            templates.extend(step.body.as_deref().map(|b| ("body", b)));
            for (what, source) in templates {
                let template = env.template_from_str(source).map_err(|e| format!("{at}: {what}: {e}"))?;
                names.extend(env_names(template.undeclared_variables(true)));
            }
            if let Some(when) = &step.when {
                let expr = env.compile_expression(when).map_err(|e| format!("{at}: when: {e}"))?;
                names.extend(env_names(expr.undeclared_variables(true)));
            }
            for (name, pointer) in &step.capture {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(format!("{at}: capture `{name}`: a JSON pointer starts with `/`"));
                }
            }
            if step.ok_status.iter().any(|s| !(100..=599).contains(s)) {
                return Err(format!("{at}: ok_status holds a number that is not an HTTP status"));
            }
        }
    }
    let mut values = BTreeMap::new();
    for name in names {
        let value = lookup(&name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("the templates use env.{name}, which is not set: set {name}"))?;
        values.insert(name, value);
    }
    Ok(values)
}

/// Runs `steps` in order with `context` plus `env` (the checked environment values) and `vars` (the
/// captures); the note lists each step's status. A failing step stops the sequence.
pub fn run_steps(
    steps: &[Step],
    env_values: &BTreeMap<String, String>,
    client: &Client,
    context: &Value,
) -> Result<String, Failure> {
    let env = environment();
    let mut ctx = context.as_object().cloned().unwrap_or_default();
    ctx.insert("env".into(), json!(env_values));
    ctx.insert("vars".into(), Value::Object(Map::new()));
    let mut notes = Vec::new();
    for step in steps {
        let at = format!("step `{}`", step.name);
        let broken = |e: minijinja::Error| Failure::Permanent { error: format!("{at}: template: {e}") };
        if let Some(when) = &step.when {
            let go = env
                .compile_expression(when)
                .and_then(|x| x.eval(minijinja::Value::from(minijinja::value::Serde(&ctx))))
                .map_err(broken)?;
            if !go.is_true() {
                notes.push(format!("{} pulado", step.name));
                continue;
            }
        }
        let request = build(&env, step, &ctx).map_err(|e| Failure::Permanent { error: format!("{at}: {e}") })?;
        let answer = client.send(request).map_err(|f| prefix(&at, f))?;
        if !step.ok_status.contains(&answer.status) {
            classify(&format!("{at} ({})", step.method.to_ascii_uppercase()), &answer, Utc::now())?;
        }
        capture(step, &answer, &mut ctx);
        notes.push(format!("{} HTTP {}", step.name, answer.status));
    }
    Ok(notes.join(", "))
}

fn env_names(variables: std::collections::HashSet<String>) -> impl Iterator<Item = String> {
    variables.into_iter().filter_map(|v| v.strip_prefix("env.").map(str::to_string))
}

fn prefix(at: &str, failure: Failure) -> Failure {
    match failure {
        Failure::Retry { error, after } => Failure::Retry { error: format!("{at}: {error}"), after },
        Failure::Permanent { error } => Failure::Permanent { error: format!("{at}: {error}") },
    }
}

fn build(env: &Environment, step: &Step, ctx: &Map<String, Value>) -> Result<http::Request<Vec<u8>>, String> {
    let ctx = minijinja::Value::from(minijinja::value::Serde(ctx));
    let render = |what: &str, source: &str| env.render_str(source, &ctx).map_err(|e| format!("{what}: {e}"));
    let method = http::Method::from_bytes(step.method.to_ascii_uppercase().as_bytes()).map_err(|e| e.to_string())?;
    let url = render("url", &step.url)?;
    let mut request = http::Request::builder().method(method).uri(url.trim()).header("accept", "application/json");
    for (name, value) in &step.headers {
        request = request.header(name.as_str(), render(&format!("header {name}"), value)?.trim());
    }
    let body = match &step.body {
        Some(source) => {
            let text = render("body", source)?;
            let parsed: Value =
                serde_json::from_str(&text).map_err(|e| format!("the body template did not give JSON ({e})"))?;
            request = request.header("content-type", "application/json");
            serde_json::to_vec(&parsed).unwrap_or_default()
        }
        None => Vec::new(),
    };
    // The URL and headers may carry secrets: the error names neither.
    request.body(body).map_err(|_| "the rendered URL or a header is not valid HTTP".to_string())
}

fn capture(step: &Step, answer: &Answer, ctx: &mut Map<String, Value>) {
    if step.capture.is_empty() {
        return;
    }
    let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    if let Some(Value::Object(vars)) = ctx.get_mut("vars") {
        for (name, pointer) in &step.capture {
            vars.insert(name.clone(), body.pointer(pointer).cloned().unwrap_or(Value::Null));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[grant]]
name = "find"
method = "GET"
url = "https://api.example.com/v1/students?cpf={{ customer.document|urlencode }}"
headers = { Authorization = "Bearer {{ env.PLATFORM_TOKEN }}" }
capture = { student_id = "/data/0/id" }

[[grant]]
name = "create"
when = "not vars.student_id"
url = "https://api.example.com/v1/students"
headers = { Authorization = "Bearer {{ env.PLATFORM_TOKEN }}" }
body = '{"name": {{ customer.name|tojson }}, "email": {{ customer.email|tojson }}}'
capture = { student_id = "/id" }

[[revoke]]
name = "delete"
method = "delete"
url = "https://api.example.com/v1/students/{{ vars.student_id }}"
ok_status = [404]
"#;

    #[test]
    fn a_file_is_checked_and_names_its_secrets() {
        let plan = HttpPlan::parse(EXAMPLE, false, &|k| (k == "PLATFORM_TOKEN").then(|| "s3cret".into())).unwrap();
        assert_eq!((plan.grant.len(), plan.extend.len(), plan.revoke.len()), (2, 2, 1), "extend defaults to grant");
        assert_eq!(plan.max_steps(), 2);
        let shown = format!("{plan:?}");
        assert!(shown.contains("PLATFORM_TOKEN") && !shown.contains("s3cret"), "{shown}");

        let err = HttpPlan::parse(EXAMPLE, false, &|_| None).unwrap_err();
        assert_eq!(err, "the templates use env.PLATFORM_TOKEN, which is not set: set PLATFORM_TOKEN");
        let err = HttpPlan::parse("[[grant]]\nname='x'\nurl='{{ oops'\n", false, &|_| None).unwrap_err();
        assert!(err.starts_with("grant step `x`: url:"), "{err}");
        let err = HttpPlan::parse("[[grant]]\nname='x'\nurl='u'\nmethod='G ET'\n", false, &|_| None).unwrap_err();
        assert!(err.contains("unknown method"), "{err}");
        let err = HttpPlan::parse("[[grant]]\nname='x'\nurl='u'\nsurprise=1\n", false, &|_| None).unwrap_err();
        assert!(err.contains("surprise"), "{err}");
        let json = r#"{"revoke": [{"name": "d", "method": "DELETE", "url": "https://a.co/{{ vars.id }}"}]}"#;
        assert_eq!(HttpPlan::parse(json, true, &|_| None).unwrap().revoke.len(), 1);
    }

    #[test]
    fn requests_render_from_the_context() {
        let plan = HttpPlan::parse(EXAMPLE, false, &|_| Some("tok".into())).unwrap();
        let mut ctx = json!({"customer": {"name": "Ana \"A\"", "email": "a@b.co", "document": "123.456"}})
            .as_object()
            .cloned()
            .unwrap();
        ctx.insert("env".into(), json!(plan.env));
        ctx.insert("vars".into(), json!({"student_id": 41}));
        let env = environment();
        let find = build(&env, &plan.grant[0], &ctx).unwrap();
        assert_eq!(find.uri().to_string(), "https://api.example.com/v1/students?cpf=123.456");
        assert_eq!(find.headers()["authorization"], "Bearer tok");
        let create = build(&env, &plan.grant[1], &ctx).unwrap();
        let body: Value = serde_json::from_slice(create.body()).unwrap();
        assert_eq!(body, json!({"name": "Ana \"A\"", "email": "a@b.co"}));
        assert_eq!(create.method(), "POST");
        let delete = build(&env, &plan.revoke[0], &ctx).unwrap();
        assert_eq!((delete.method().as_str(), delete.uri().path()), ("DELETE", "/v1/students/41"));
    }
}
