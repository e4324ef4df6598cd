//! Runs vector cases against a plug-in and reports `<plugin>/<case>/<lang>` results with readable diffs.
//!
//! A case runs in a fresh VM: a single request, a session of steps, or a TCP connection. With
//! [`RunOptions::rechunk`] every case is run again with each body split in halves, in thirds and into single
//! bytes; each run must meet the expectations and give the same outcome (messages, bodies, what a
//! connection passed on) as the run with the bodies as written.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::matching::check_body;
use crate::tcp::TcpEvent;
use crate::types::{
    Error, GrpcAnswer, GrpcCallRecord, Headers, HttpCallRecord, LogLine, Message, Outcome, Request,
    Response, TcpOutcome, VmOptions,
};
use crate::vectors::{
    parse_hex, Case, ConfigureExpect, Expect, GrpcAnswerSpec, HeaderSpec, MessageExpect,
    MetricExpect, ResponseSpec, Step, TcpEventSpec, VectorFile,
};
use crate::{Plugin, Vm};

/// How cases are run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Also run every case with its bodies split in halves, thirds and single bytes.
    pub rechunk: bool,
    /// Real clock and randomness instead of the fixed ones.
    pub realtime: bool,
}

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
    run_files_with(plugin, lang, files, RunOptions::default())
}

/// Like [`run_files`], with options.
pub fn run_files_with(
    plugin: &Plugin,
    lang: &str,
    files: &[VectorFile],
    opts: RunOptions,
) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for f in files {
        for case in &f.cases {
            out.push(run_case_with(plugin, lang, &f.path, case, opts));
        }
    }
    out
}

/// Runs one case.
pub fn run_case(plugin: &Plugin, lang: &str, file: &str, case: &Case) -> CaseResult {
    run_case_with(plugin, lang, file, case, RunOptions::default())
}

/// Runs one case with options.
pub fn run_case_with(
    plugin: &Plugin,
    lang: &str,
    file: &str,
    case: &Case,
    opts: RunOptions,
) -> CaseResult {
    let start = Instant::now();
    let base = evaluate(plugin, case, opts, Chunking::AsWritten);
    let mut failures = base.failures;
    let mut got = base.got;
    if opts.rechunk && has_bodies(case) {
        for chunking in [Chunking::Halves, Chunking::Thirds, Chunking::Bytes] {
            let run = evaluate(plugin, case, opts, chunking);
            let label = chunking.label();
            for f in run.failures {
                failures.push(format!("{label}: {f}"));
            }
            // a real clock may legitimately change bodies between runs; the expectations still hold
            if !opts.realtime && run.fingerprint != base.fingerprint {
                let diff = base
                    .fingerprint
                    .iter()
                    .zip(&run.fingerprint)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("{a} with the bodies as written, {b} {label}"))
                    .unwrap_or_else(|| "a different number of messages".into());
                failures.push(format!("{label}: the outcome changed: {diff}"));
            }
            if got.is_empty() && !run.got.is_empty() {
                got = format!("({label})\n{}", run.got);
            }
        }
    }
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

/// How bodies are split into chunks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Chunking {
    AsWritten,
    Halves,
    Thirds,
    Bytes,
}

impl Chunking {
    fn label(self) -> &'static str {
        match self {
            Chunking::AsWritten => "as written",
            Chunking::Halves => "rechunked in halves",
            Chunking::Thirds => "rechunked in thirds",
            Chunking::Bytes => "rechunked into single bytes",
        }
    }

    /// Chunk sizes for a body of `len` bytes (`None`: keep the body as written).
    fn sizes(self, len: usize) -> Option<Vec<usize>> {
        if len < 2 {
            return None;
        }
        match self {
            Chunking::AsWritten => None,
            Chunking::Halves => Some(vec![len.div_ceil(2)]),
            Chunking::Thirds => {
                let third = len.div_ceil(3);
                Some(vec![third, third])
            }
            Chunking::Bytes => Some(vec![1; len]),
        }
    }

    fn request(self, r: Request) -> Request {
        let len = r.body.as_ref().map_or(0, Vec::len);
        match self.sizes(len) {
            Some(sizes) => r.rechunked(sizes),
            None => r,
        }
    }

    fn response(self, r: Response) -> Response {
        match self.sizes(r.body.len()) {
            Some(sizes) => r.rechunked(sizes),
            None => r,
        }
    }

    /// TCP data events split into several events (end_of_stream on the last).
    fn events(self, events: Vec<TcpEvent>) -> Vec<TcpEvent> {
        let mut out = Vec::new();
        for e in events {
            let (data, eos, down) = match &e {
                TcpEvent::Downstream {
                    data,
                    end_of_stream,
                } => (data.clone(), *end_of_stream, true),
                TcpEvent::Upstream {
                    data,
                    end_of_stream,
                } => (data.clone(), *end_of_stream, false),
                _ => {
                    out.push(e);
                    continue;
                }
            };
            let Some(sizes) = self.sizes(data.len()) else {
                out.push(e);
                continue;
            };
            let pieces = crate::types::split_body(&data, &sizes);
            let n = pieces.len();
            for (i, p) in pieces.into_iter().enumerate() {
                let end_of_stream = eos && i + 1 == n;
                out.push(if down {
                    TcpEvent::Downstream {
                        data: p,
                        end_of_stream,
                    }
                } else {
                    TcpEvent::Upstream {
                        data: p,
                        end_of_stream,
                    }
                });
            }
        }
        out
    }
}

/// Whether re-chunking would change anything (some body or TCP data has 2 bytes or more).
fn has_bodies(case: &Case) -> bool {
    let req = |r: &crate::vectors::RequestSpec| {
        r.body.as_ref().is_some_and(|b| b.len() > 1)
            || r.body_chunks.as_ref().is_some_and(|c| c.concat().len() > 1)
    };
    let resp = |r: &ResponseSpec| {
        r.body.as_ref().is_some_and(|b| b.len() > 1)
            || r.body_chunks.as_ref().is_some_and(|c| c.concat().len() > 1)
    };
    let tcp = |events: &[TcpEventSpec]| {
        events.iter().any(|e| {
            e.downstream
                .as_ref()
                .or(e.upstream.as_ref())
                .is_some_and(|d| d.len() > 1)
        })
    };
    if let Some(events) = &case.connection {
        return tcp(events);
    }
    if case.steps.is_empty() {
        return req(&case.request) || resp(&case.upstream_response);
    }
    case.steps.iter().any(|s| match s {
        Step::Request {
            request,
            upstream_response,
            ..
        } => req(request) || resp(upstream_response),
        Step::Connection { events, .. } => tcp(events),
        _ => false,
    })
}

/// What one run of a case found.
#[derive(Default)]
struct Run {
    failures: Vec<String>,
    got: String,
    /// The observable outcome, one line per message (for re-chunked runs to compare against).
    fingerprint: Vec<String>,
}

impl Run {
    fn fail(&mut self, prefix: &str, lines: Vec<String>, got: impl FnOnce() -> String) {
        if lines.is_empty() {
            return;
        }
        for l in lines {
            self.failures.push(format!("{prefix}{l}"));
        }
        if !self.got.is_empty() {
            self.got.push('\n');
        }
        if !prefix.is_empty() {
            let _ = writeln!(self.got, "{}", prefix.trim_end_matches(": "));
        }
        self.got.push_str(&got());
    }
}

fn evaluate(plugin: &Plugin, case: &Case, opts: RunOptions, chunking: Chunking) -> Run {
    let mut run = Run::default();
    let e = &case.expect;
    let options = VmOptions {
        plugin_config: case.config.clone(),
        realtime: opts.realtime,
        properties: case
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect(),
        clusters: case.clusters.clone(),
        shared_data: case
            .shared_data
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect(),
        ..VmOptions::default()
    };
    let mut vm = match plugin.start_with(options) {
        Err(Error::ConfigRejected { detail, logs, .. }) => {
            let got = format!("configure: rejected{detail}\n{}", render_logs(&logs));
            if e.configure == ConfigureExpect::Rejected {
                run.fail("", check_logs(&e.logs, &logs), || got);
            } else {
                run.fail(
                    "",
                    vec![format!("configure: expected ok, got rejected{detail}")],
                    || got,
                );
            }
            run.fingerprint.push("configure: rejected".into());
            return run;
        }
        Err(err) => {
            run.failures.push(err.to_string());
            return run;
        }
        Ok(vm) => vm,
    };
    if e.configure == ConfigureExpect::Rejected {
        let logs = vm.logs().to_vec();
        run.fail(
            "",
            vec!["configure: expected rejected, got ok (proxy_on_configure returned true)".into()],
            || render_logs(&logs),
        );
        return run;
    }
    let start_logs = vm.logs().to_vec();

    if let Some(events) = &case.connection {
        let step = Step::Connection {
            events: events.clone(),
            http_calls: case.http_calls.clone(),
            grpc_calls: case.grpc_calls.clone(),
            expect: e.clone(),
        };
        run_step(&mut vm, &step, chunking, "", &start_logs, &mut run);
        return run;
    }
    if case.steps.is_empty() {
        let step = Step::Request {
            request: case.request.clone(),
            upstream_response: case.upstream_response.clone(),
            http_calls: case.http_calls.clone(),
            grpc_calls: case.grpc_calls.clone(),
            expect: e.clone(),
        };
        run_step(&mut vm, &step, chunking, "", &start_logs, &mut run);
        return run;
    }

    // a session: the steps in order through one VM, then the case's own expectations
    for (i, step) in case.steps.iter().enumerate() {
        let prefix = format!("steps[{i}] ({}): ", step_kind(step));
        if !run_step(&mut vm, step, chunking, &prefix, &[], &mut run) {
            return run;
        }
    }
    let logs = vm.logs().to_vec();
    let mut f = check_logs(&e.logs, &logs);
    f.extend(check_vm_state(&vm, e));
    run.fail("", f, || {
        let mut s = render_vm_state(&vm);
        s.push_str(&render_logs(&logs));
        s
    });
    run
}

fn step_kind(step: &Step) -> &'static str {
    match step {
        Step::Request { .. } => "request",
        Step::Advance(_) => "advance",
        Step::Ticks { .. } => "ticks",
        Step::Connection { .. } => "connection",
    }
}

fn queue_answers(vm: &mut Vm, http: &[ResponseSpec], grpc: &[GrpcAnswerSpec]) {
    vm.http_answers.clear();
    vm.grpc_answers.clear();
    for a in http {
        vm.answer_http_call(a.to_response());
    }
    for a in grpc {
        vm.answer_grpc_call(a.to_answer());
    }
}

/// Runs one step and checks its expectations; false when the VM cannot go on (a trap).
fn run_step(
    vm: &mut Vm,
    step: &Step,
    chunking: Chunking,
    prefix: &str,
    start_logs: &[LogLine],
    run: &mut Run,
) -> bool {
    match step {
        Step::Advance(d) => {
            vm.advance_clock(*d);
            true
        }
        Step::Ticks {
            count,
            http_calls,
            grpc_calls,
            expect,
        } => {
            if vm.tick_period().is_zero() && *count > 0 {
                run.fail(
                    prefix,
                    vec![format!(
                        "ticks: {count} would never fire: the plug-in set no tick period                          (proxy_set_tick_period_milliseconds)"
                    )],
                    String::new,
                );
                return true;
            }
            queue_answers(vm, http_calls, grpc_calls);
            let mut all = Outcome::default();
            for _ in 0..*count {
                match vm.tick() {
                    Ok(o) => {
                        all.logs.extend(o.logs);
                        all.http_calls.extend(o.http_calls);
                        all.grpc_calls.extend(o.grpc_calls);
                        all.callbacks.extend(o.callbacks);
                    }
                    Err(err) => {
                        run.fail(prefix, vec![err.to_string()], || vm.notes().join("\n"));
                        return false;
                    }
                }
            }
            let mut f = check_logs(&expect.logs, &all.logs);
            f.extend(check_callouts(expect, &all.http_calls, &all.grpc_calls));
            f.extend(check_vm_state(vm, expect));
            run.fail(prefix, f, || render_outcome(&all, &all.logs, vm.notes()));
            true
        }
        Step::Request {
            request,
            upstream_response,
            http_calls,
            grpc_calls,
            expect,
        } => {
            queue_answers(vm, http_calls, grpc_calls);
            // the case's properties are the VM's stream properties
            let req = chunking.request(request.to_request());
            let upstream = chunking.response(upstream_response.to_response());
            let outcome = match vm.request(req).upstream(upstream).run() {
                Ok(o) => o,
                Err(err) => {
                    run.fail(prefix, vec![err.to_string()], || vm.notes().join("\n"));
                    return false;
                }
            };
            let mut logs = start_logs.to_vec();
            logs.extend(outcome.logs.iter().cloned());
            run.fingerprint.extend(fingerprint_http(&outcome));
            let mut f = check_http(expect, &outcome);
            f.extend(check_logs(&expect.logs, &logs));
            f.extend(check_callouts(
                expect,
                &outcome.http_calls,
                &outcome.grpc_calls,
            ));
            f.extend(check_vm_state(vm, expect));
            run.fail(prefix, f, || render_outcome(&outcome, &logs, vm.notes()));
            true
        }
        Step::Connection {
            events,
            http_calls,
            grpc_calls,
            expect,
        } => {
            queue_answers(vm, http_calls, grpc_calls);
            let events = chunking.events(events.iter().map(TcpEventSpec::to_event).collect());
            let mut conn = vm.connection();
            for e in events {
                conn = conn.event(e);
            }
            let outcome = match conn.run() {
                Ok(o) => o,
                Err(err) => {
                    run.fail(prefix, vec![err.to_string()], || vm.notes().join("\n"));
                    return false;
                }
            };
            let mut logs = start_logs.to_vec();
            logs.extend(outcome.logs.iter().cloned());
            run.fingerprint.push(format!(
                "to_upstream {:?}, to_downstream {:?}, closed {:?}",
                String::from_utf8_lossy(&outcome.to_upstream),
                String::from_utf8_lossy(&outcome.to_downstream),
                outcome.closed_by_plugin
            ));
            let mut f = check_tcp(expect, &outcome);
            f.extend(check_logs(&expect.logs, &logs));
            f.extend(check_callouts(
                expect,
                &outcome.http_calls,
                &outcome.grpc_calls,
            ));
            f.extend(check_vm_state(vm, expect));
            run.fail(prefix, f, || render_tcp(&outcome, &logs, vm.notes()));
            true
        }
    }
}

/// The observable HTTP outcome, without the request id (random in real time).
fn fingerprint_http(o: &Outcome) -> Vec<String> {
    let show = |m: &Message| {
        let mut h = m.headers.clone();
        h.remove("x-request-id");
        format!(
            "{h} body {:?} trailers {}",
            String::from_utf8_lossy(&m.body),
            m.trailers
        )
    };
    vec![
        format!(
            "local_response {}",
            o.local_response.as_ref().map_or("none".into(), |l| format!(
                "{} {:?}",
                l.status,
                l.body_text()
            ))
        ),
        format!(
            "upstream_request {}",
            o.upstream_request.as_ref().map_or("none".into(), show)
        ),
        format!(
            "downstream_response {}",
            o.downstream_response.as_ref().map_or("none".into(), show)
        ),
        format!("paused {}", o.paused.as_deref().unwrap_or("no")),
    ]
}

fn check_http(e: &Expect, outcome: &Outcome) -> Vec<String> {
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
    failures
}

fn check_tcp(e: &Expect, o: &TcpOutcome) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(p) = &o.paused {
        failures.push(format!("connection: {p}"));
    }
    let Some(want) = &e.connection else {
        return failures;
    };
    for (what, want, got) in [
        ("to_upstream", &want.to_upstream, &o.to_upstream),
        ("to_downstream", &want.to_downstream, &o.to_downstream),
    ] {
        if let Some(w) = want {
            if w.as_bytes() != got.as_slice() {
                failures.push(format!(
                    "connection.{what}: expected {w:?}, got {:?}",
                    String::from_utf8_lossy(got)
                ));
            }
        }
    }
    if let Some(closed) = &want.closed_by_plugin {
        let want: Vec<&str> = closed.iter().map(|p| p.name()).collect();
        if want != o.closed_by_plugin {
            failures.push(format!(
                "connection.closed_by_plugin: expected {want:?}, got {:?}",
                o.closed_by_plugin
            ));
        }
    }
    failures
}

fn check_callouts(e: &Expect, http: &[HttpCallRecord], grpc: &[GrpcCallRecord]) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(want) = &e.http_calls {
        if want.len() != http.len() {
            failures.push(format!(
                "http_calls: expected {} call(s), got {}{}",
                want.len(),
                http.len(),
                list_http(http)
            ));
        }
        for (i, (w, g)) in want.iter().zip(http).enumerate() {
            let what = format!("http_calls[{i}]");
            if let Some(c) = &w.cluster {
                if *c != g.upstream {
                    failures.push(format!(
                        "{what}.cluster: expected {c:?}, got {:?}",
                        g.upstream
                    ));
                }
            }
            for (name, want) in [(":method", &w.method), (":path", &w.path)] {
                if let Some(v) = want {
                    let got = g.headers.get(name);
                    if got.as_deref() != Some(v.as_str()) {
                        failures.push(format!(
                            "{what}.{}: expected {v:?}, got {}",
                            name.trim_start_matches(':'),
                            got.map_or("(absent)".into(), |g| format!("{g:?}"))
                        ));
                    }
                }
            }
            if let Some(h) = &w.headers {
                check_headers(&what, h, &g.headers, &mut failures);
            }
            for name in &w.absent {
                if g.headers.contains(name) {
                    failures.push(format!("{what}.headers[{name}]: expected absent"));
                }
            }
            if let Some(t) = &w.trailers {
                check_headers(&format!("{what}.trailers"), t, &g.trailers, &mut failures);
            }
            if let Some(b) = w.body_expect() {
                check_body(&what, b, &g.body, &mut failures);
            }
            if let Some(t) = w.timeout_ms {
                if t != g.timeout_ms {
                    failures.push(format!(
                        "{what}.timeout_ms: expected {t}, got {}",
                        g.timeout_ms
                    ));
                }
            }
        }
    }
    if let Some(want) = &e.grpc_calls {
        if want.len() != grpc.len() {
            failures.push(format!(
                "grpc_calls: expected {} call(s), got {}{}",
                want.len(),
                grpc.len(),
                list_grpc(grpc)
            ));
        }
        for (i, (w, g)) in want.iter().zip(grpc).enumerate() {
            let what = format!("grpc_calls[{i}]");
            for (field, want, got) in [
                ("cluster", &w.cluster, &g.cluster),
                ("service", &w.service, &g.service),
                ("method", &w.method, &g.method),
            ] {
                if let Some(v) = want {
                    if v != got {
                        failures.push(format!("{what}.{field}: expected {v:?}, got {got:?}"));
                    }
                }
            }
            if let Some(m) = &w.metadata {
                check_headers(&format!("{what}.metadata"), m, &g.metadata, &mut failures);
            }
            let shown = || hex_or_text(&g.message);
            if let Some(r) = &w.request {
                if r.as_bytes() != g.message.as_slice() {
                    failures.push(format!("{what}.request: expected {r:?}, got {}", shown()));
                }
            }
            if let Some(h) = &w.request_hex {
                if parse_hex(h).unwrap_or_default() != g.message {
                    failures.push(format!("{what}.request_hex: expected {h}, got {}", shown()));
                }
            }
            if let Some(part) = &w.request_contains {
                if !g
                    .message
                    .windows(part.len().max(1))
                    .any(|win| win == part.as_bytes())
                {
                    failures.push(format!(
                        "{what}.request: expected to contain {part:?}, got {}",
                        shown()
                    ));
                }
            }
            if let Some(t) = w.timeout_ms {
                if t != g.timeout_ms {
                    failures.push(format!(
                        "{what}.timeout_ms: expected {t}, got {}",
                        g.timeout_ms
                    ));
                }
            }
        }
    }
    failures
}

fn hex_or_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(t) if !t.chars().any(char::is_control) => format!("{t:?}"),
        _ => format!(
            "hex {}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

fn list_http(calls: &[HttpCallRecord]) -> String {
    if calls.is_empty() {
        return String::new();
    }
    let items: Vec<String> = calls
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c.upstream,
                c.headers.get(":method").unwrap_or_default(),
                c.headers.get(":path").unwrap_or_default()
            )
        })
        .collect();
    format!(": {}", items.join("; "))
}

fn list_grpc(calls: &[GrpcCallRecord]) -> String {
    if calls.is_empty() {
        return String::new();
    }
    let items: Vec<String> = calls
        .iter()
        .map(|c| format!("{} {}/{}", c.cluster, c.service, c.method))
        .collect();
    format!(": {}", items.join("; "))
}

/// Metrics and shared data after a step (or the session).
fn check_vm_state(vm: &Vm, e: &Expect) -> Vec<String> {
    let mut failures = Vec::new();
    for (name, want) in e.metrics.iter().flatten() {
        let defined = || {
            let names: Vec<String> = vm.metrics().into_iter().map(|(n, _)| n).collect();
            if names.is_empty() {
                "the plug-in defined none".to_string()
            } else {
                format!("defined: {}", names.join(", "))
            }
        };
        match want {
            MetricExpect::Value(v) => match vm.metric(name) {
                Some(got) if got == *v => {}
                Some(got) => failures.push(format!("metrics[{name}]: expected {v}, got {got}")),
                None => failures.push(format!(
                    "metrics[{name}]: expected {v}, got no such metric ({})",
                    defined()
                )),
            },
            MetricExpect::Samples(samples) => match vm.histogram(name) {
                Some(got) if got == *samples => {}
                Some(got) => failures.push(format!(
                    "metrics[{name}]: expected samples {samples:?}, got {got:?}"
                )),
                None => failures.push(format!(
                    "metrics[{name}]: expected histogram samples {samples:?}, got no such histogram ({})",
                    defined()
                )),
            },
        }
    }
    for (key, want) in e.shared_data.iter().flatten() {
        let got = vm.shared_data(key);
        let got_text = got
            .as_ref()
            .map(|g| String::from_utf8_lossy(g).into_owned());
        if got_text.as_deref() != want.as_deref() {
            let show = |v: Option<&str>| v.map_or("(absent)".into(), |v| format!("{v:?}"));
            failures.push(format!(
                "shared_data[{key}]: expected {}, got {}",
                show(want.as_deref()),
                show(got_text.as_deref())
            ));
        }
    }
    failures
}

fn render_vm_state(vm: &Vm) -> String {
    let mut s = String::new();
    let metrics = vm.metrics();
    if !metrics.is_empty() {
        let list: Vec<String> = metrics.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let _ = writeln!(s, "metrics: {}", list.join(", "));
    }
    s
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
    if let Some(t) = &want.trailers {
        check_headers(&format!("{what}.trailers"), t, &got.trailers, failures);
    }
    if let Some(b) = want.body_expect() {
        check_body(what, b, &got.body, failures);
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

fn render_callouts(s: &mut String, http: &[HttpCallRecord], grpc: &[GrpcCallRecord]) {
    for c in http {
        let _ = writeln!(
            s,
            "http_call: {} {}{} timeout {}ms answered={}",
            c.upstream,
            c.headers,
            if c.body.is_empty() {
                String::new()
            } else {
                format!(" body {:?}", String::from_utf8_lossy(&c.body))
            },
            c.timeout_ms,
            c.answered
        );
    }
    for c in grpc {
        let answer = match &c.answer {
            None => "none".to_string(),
            Some(GrpcAnswer::Ok(m)) => format!("ok {}", hex_or_text(m)),
            Some(GrpcAnswer::Error { status, message }) => format!("status {status} {message:?}"),
        };
        let _ = writeln!(
            s,
            "grpc_call: {} {}/{} metadata {} request {} timeout {}ms answer {answer}",
            c.cluster,
            c.service,
            c.method,
            c.metadata,
            hex_or_text(&c.message),
            c.timeout_ms
        );
    }
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
    render_callouts(&mut s, &o.http_calls, &o.grpc_calls);
    let _ = writeln!(s, "callbacks: {}", o.callbacks.join(" → "));
    for n in notes {
        let _ = writeln!(s, "host note: {n}");
    }
    s.push_str(&render_logs(logs));
    s
}

fn render_tcp(o: &TcpOutcome, logs: &[LogLine], notes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "to_upstream: {:?}\nto_downstream: {:?}\nclosed_by_plugin: {:?}",
        String::from_utf8_lossy(&o.to_upstream),
        String::from_utf8_lossy(&o.to_downstream),
        o.closed_by_plugin
    );
    render_callouts(&mut s, &o.http_calls, &o.grpc_calls);
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
