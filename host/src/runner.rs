//! Runs vector cases against a plug-in and reports `<plugin>/<case>/<lang>` results with readable diffs.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::types::{Error, Headers, LogLine, Message, Outcome, VmOptions};
use crate::vectors::{Case, ConfigureExpect, HeaderSpec, MessageExpect, VectorFile};
use crate::Plugin;

/// The result of one case.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseResult {
    pub plugin: String,
    pub case: String,
    pub lang: String,
    pub file: String,
    pub passed: bool,
    /// One line per mismatch, `what: expected X, got Y`.
    pub failures: Vec<String>,
    /// What the plug-in did (shown on failure).
    pub got: String,
    #[serde(serialize_with = "ser_duration")]
    pub duration: Duration,
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl CaseResult {
    /// `<plugin>/<case>/<lang>`
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.plugin, self.case, self.lang)
    }

    /// `PASS id` or `FAIL id` followed by the diff.
    pub fn render(&self) -> String {
        if self.passed {
            return format!("PASS {}", self.id());
        }
        let mut s = format!("FAIL {}  ({})\n", self.id(), self.file);
        for f in &self.failures {
            let _ = writeln!(s, "  - {f}");
        }
        if !self.got.is_empty() {
            let _ = writeln!(s, "  got:");
            for line in self.got.lines() {
                let _ = writeln!(s, "    {line}");
            }
        }
        s.trim_end().to_string()
    }
}

/// Runs every case of `files`, each in a fresh VM (so no state leaks between cases).
pub fn run_files(plugin: &Plugin, lang: &str, files: &[VectorFile]) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for f in files {
        for case in &f.cases {
            out.push(run_case(plugin, lang, &f.path, case));
        }
    }
    out
}

/// Runs one case.
pub fn run_case(plugin: &Plugin, lang: &str, file: &str, case: &Case) -> CaseResult {
    let start = Instant::now();
    let (failures, got) = evaluate(plugin, case);
    CaseResult {
        plugin: plugin.name().to_string(),
        case: case.name.clone(),
        lang: lang.to_string(),
        file: file.to_string(),
        passed: failures.is_empty(),
        failures,
        got,
        duration: start.elapsed(),
    }
}

fn evaluate(plugin: &Plugin, case: &Case) -> (Vec<String>, String) {
    let e = &case.expect;
    let options = VmOptions {
        plugin_config: case.config.clone(),
        ..VmOptions::default()
    };
    let mut vm = match plugin.start_with(options) {
        Err(Error::ConfigRejected { detail, logs, .. }) => {
            let got = format!("configure: rejected{detail}\n{}", render_logs(&logs));
            if e.configure == ConfigureExpect::Rejected {
                let failures = check_logs(&e.logs, &logs);
                return (failures, got);
            }
            return (
                vec![format!("configure: expected ok, got rejected{detail}")],
                got,
            );
        }
        Err(err) => return (vec![format!("{err}")], String::new()),
        Ok(vm) => vm,
    };
    if e.configure == ConfigureExpect::Rejected {
        let logs = vm.logs().to_vec();
        return (
            vec!["configure: expected rejected, got ok (proxy_on_configure returned true)".into()],
            render_logs(&logs),
        );
    }
    let start_logs = vm.logs().to_vec();
    let mut exchange = vm
        .request(case.to_request())
        .upstream(case.upstream_response.to_response());
    for a in &case.http_calls {
        exchange = exchange.http_call_answer(a.to_response());
    }
    let outcome = match exchange.run() {
        Ok(o) => o,
        Err(err) => {
            let notes = vm.notes().join("\n");
            return (vec![err.to_string()], notes);
        }
    };
    let mut logs = start_logs;
    logs.extend(outcome.logs.iter().cloned());
    let mut failures = Vec::new();
    if let Some(p) = &outcome.paused {
        failures.push(p.clone());
    }
    match (&e.local_response, &outcome.local_response) {
        (Some(want), Some(got)) => {
            let mut h = Headers::default();
            h.add(":status", got.status.to_string());
            h.0.extend(got.headers.0.iter().cloned());
            let msg = Message {
                headers: h,
                body: got.body.clone(),
                trailers: Headers::default(),
            };
            check_message("local_response", want, &msg, &mut failures);
        }
        (Some(_), None) => failures.push(format!(
            "local_response: expected a local response, got none ({})",
            if outcome.upstream_request.is_some() {
                "the request reached the backend"
            } else {
                "the stream stalled"
            }
        )),
        (None, Some(got)) => failures.push(format!(
            "local_response: expected none, got {} {:?} (sent in {})",
            got.status,
            got.body_text(),
            got.sent_in
        )),
        (None, None) => {}
    }
    if let Some(want) = &e.upstream_request {
        match &outcome.upstream_request {
            Some(got) => check_message("upstream_request", want, got, &mut failures),
            None => failures.push(
                "upstream_request: expected the request to reach the backend, it did not".into(),
            ),
        }
    }
    if let Some(want) = &e.downstream_response {
        match &outcome.downstream_response {
            Some(got) => check_message("downstream_response", want, got, &mut failures),
            None => failures
                .push("downstream_response: expected a response, the client got none".into()),
        }
    }
    failures.extend(check_logs(&e.logs, &logs));
    let got = if failures.is_empty() {
        String::new()
    } else {
        render_outcome(&outcome, &logs, vm.notes())
    };
    (failures, got)
}

fn check_message(what: &str, want: &MessageExpect, got: &Message, failures: &mut Vec<String>) {
    if let Some(status) = want.status {
        match got.status() {
            Some(s) if s == status => {}
            Some(s) => failures.push(format!("{what}.status: expected {status}, got {s}")),
            None => failures.push(format!("{what}.status: expected {status}, got no :status")),
        }
    }
    if let Some(h) = &want.headers {
        check_headers(what, h, &got.headers, failures);
    }
    for name in &want.absent {
        if got.headers.contains(name) {
            failures.push(format!(
                "{what}.headers[{name}]: expected absent, got {:?}",
                got.headers.get(name).unwrap_or_default()
            ));
        }
    }
    if let Some(body) = &want.body {
        if got.body != body.as_bytes() {
            failures.push(format!(
                "{what}.body: expected {body:?}, got {:?}",
                got.body_text()
            ));
        }
    }
    if let Some(part) = &want.body_contains {
        if !got.body_text().contains(part.as_str()) {
            failures.push(format!(
                "{what}.body: expected to contain {part:?}, got {:?}",
                got.body_text()
            ));
        }
    }
}

fn check_headers(what: &str, want: &HeaderSpec, got: &Headers, failures: &mut Vec<String>) {
    for (name, values) in &want.0 {
        let actual: Vec<String> = got
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        if actual != *values {
            let show = |v: &[String]| match v.len() {
                0 => "(absent)".to_string(),
                1 => format!("{:?}", v[0]),
                _ => format!("{v:?}"),
            };
            failures.push(format!(
                "{what}.headers[{name}]: expected {}, got {}",
                show(values),
                show(&actual)
            ));
        }
    }
}

fn check_logs(want: &[crate::vectors::LogExpect], logs: &[LogLine]) -> Vec<String> {
    want.iter()
        .filter(|w| {
            !logs
                .iter()
                .any(|l| l.level == w.level && l.message.contains(&w.contains))
        })
        .map(|w| {
            format!(
                "logs: expected a line at level {} containing {:?}, found none",
                w.level, w.contains
            )
        })
        .collect()
}

fn render_logs(logs: &[LogLine]) -> String {
    if logs.is_empty() {
        return "logs: (none)".into();
    }
    let mut s = "logs:\n".to_string();
    for l in logs {
        let _ = writeln!(s, "  {l}");
    }
    s.trim_end().to_string()
}

fn render_message(m: &Message) -> String {
    let mut s = m.headers.to_string();
    if !m.body.is_empty() {
        let _ = write!(s, " body {:?}", m.body_text());
    }
    if !m.trailers.is_empty() {
        let _ = write!(s, " trailers {}", m.trailers);
    }
    s
}

fn render_outcome(o: &Outcome, logs: &[LogLine], notes: &[String]) -> String {
    let mut s = String::new();
    match &o.local_response {
        Some(l) => {
            let _ = writeln!(
                s,
                "local_response: {} {} body {:?} (sent in {})",
                l.status,
                l.headers,
                l.body_text(),
                l.sent_in
            );
        }
        None => s.push_str("local_response: none\n"),
    }
    match &o.upstream_request {
        Some(m) => {
            let _ = writeln!(s, "upstream_request: {}", render_message(m));
        }
        None => s.push_str("upstream_request: none (did not reach the backend)\n"),
    }
    match &o.downstream_response {
        Some(m) => {
            let _ = writeln!(s, "downstream_response: {}", render_message(m));
        }
        None => s.push_str("downstream_response: none\n"),
    }
    if !o.http_calls.is_empty() {
        for c in &o.http_calls {
            let _ = writeln!(
                s,
                "http_call: {} {} answered={}",
                c.upstream, c.headers, c.answered
            );
        }
    }
    let _ = writeln!(s, "callbacks: {}", o.callbacks.join(" → "));
    for n in notes {
        let _ = writeln!(s, "host note: {n}");
    }
    s.push_str(&render_logs(logs));
    s
}

/// JUnit XML for a set of results.
pub fn junit(results: &[CaseResult]) -> String {
    let failures = results.iter().filter(|r| !r.passed).count();
    let total: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"conformance\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">",
        results.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"conformance\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">",
        results.len()
    );
    for r in results {
        let _ = write!(
            s,
            "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&r.plugin),
            xml(&r.lang),
            xml(&r.case),
            r.duration.as_secs_f64()
        );
        if r.passed {
            s.push_str("/>\n");
        } else {
            let first = r.failures.first().cloned().unwrap_or_default();
            let _ = writeln!(
                s,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                xml(&first),
                xml(&r.render())
            );
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
