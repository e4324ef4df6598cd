//! Runs one case on one build and compares what two builds did.

use pwhost::vectors::Case;
use pwhost::{Error, Headers, LogLevel, LogLine, Message, Outcome, Plugin, VmOptions};

/// Everything observable about one case on one build.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    pub configured: bool,
    /// The logs of start + configure (on rejection: all of them).
    pub start_logs: Vec<LogLine>,
    /// A trap, a limit or another host-level failure (never allowed by the contract).
    pub crash: Option<String>,
    pub outcome: Option<Outcome>,
    pub notes: Vec<String>,
}

/// Runs `case` in a fresh VM, as `pwhost conformance` does.
pub fn observe(plugin: &Plugin, case: &Case) -> Observation {
    let options = VmOptions {
        plugin_config: case.config.clone(),
        ..VmOptions::default()
    };
    let mut vm = match plugin.start_with(options) {
        Ok(vm) => vm,
        Err(Error::ConfigRejected { logs, .. }) => {
            return Observation {
                configured: false,
                start_logs: logs,
                ..Observation::default()
            }
        }
        Err(e) => {
            return Observation {
                crash: Some(e.to_string()),
                ..Observation::default()
            }
        }
    };
    let start_logs = vm.logs().to_vec();
    let result = vm
        .request(case.to_request())
        .upstream(case.upstream_response.to_response())
        .run();
    let notes = vm.notes().to_vec();
    match result {
        Ok(outcome) => Observation {
            configured: true,
            start_logs,
            crash: None,
            outcome: Some(outcome),
            notes,
        },
        Err(e) => Observation {
            configured: true,
            start_logs,
            crash: Some(e.to_string()),
            outcome: None,
            notes,
        },
    }
}

/// One observable effect on which the builds differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// `configure`, `rejection log`, `local_response`, `upstream_request.headers`, ...
    pub aspect: String,
    pub rust: String,
    pub cpp: String,
    /// False for differences the contract allows (the wording of a rejection reason).
    pub contract: bool,
}

fn short(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 160 {
        let head: String = text.chars().take(160).collect();
        format!("{head:?}... ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

fn render_headers(h: &Headers) -> String {
    let s = h.to_string();
    if s.len() > 600 {
        format!(
            "{}... ({} entries)",
            &s[..s.floor_char_boundary(600)],
            h.len()
        )
    } else {
        s
    }
}

fn errors(logs: &[LogLine]) -> Vec<&LogLine> {
    logs.iter().filter(|l| l.level >= LogLevel::Error).collect()
}

/// The part of a rejection line the contract fixes: `[p] invalid configuration: <path>: ` (or, for the
/// whole-object messages, their fixed head: `not valid JSON`, `must be a JSON object`, `no block rule`).
pub fn rejection_key(line: &str) -> String {
    let Some(rest) = line
        .find("] invalid configuration: ")
        .map(|i| &line[i + 25..])
    else {
        return line.to_string();
    };
    let head = &line[..line.len() - rest.len()];
    match rest.find(": ") {
        Some(i)
            if !rest[..i].is_empty()
                && rest[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_[].".contains(&b)) =>
        {
            format!("{head}{}: ", &rest[..i])
        }
        Some(i) => format!("{head}{}", &rest[..i]),
        None => line.to_string(),
    }
}

fn logs_at_least(logs: &[LogLine], level: LogLevel) -> Vec<String> {
    logs.iter()
        .filter(|l| l.level >= level)
        .map(|l| l.to_string())
        .collect()
}

fn message_parts(m: &Option<Message>) -> (Option<&Headers>, Option<&[u8]>, Option<&Headers>) {
    match m {
        Some(m) => (Some(&m.headers), Some(&m.body), Some(&m.trailers)),
        None => (None, None, None),
    }
}

/// Compares two observations of the same case (`r` from the Rust build, `c` from the C++ build).
pub fn compare(r: &Observation, c: &Observation) -> Vec<Divergence> {
    let mut out = Vec::new();
    let mut push = |aspect: &str, rust: String, cpp: String, contract: bool| {
        out.push(Divergence {
            aspect: aspect.to_string(),
            rust,
            cpp,
            contract,
        })
    };
    if r.crash.is_some() || c.crash.is_some() {
        let show = |o: &Observation| o.crash.clone().unwrap_or_else(|| "no crash".into());
        push("crash", show(r), show(c), true);
        return out;
    }
    if r.configured != c.configured {
        let show = |o: &Observation| {
            if o.configured {
                "accepted".to_string()
            } else {
                format!(
                    "rejected: {}",
                    errors(&o.start_logs)
                        .first()
                        .map(|l| l.message.clone())
                        .unwrap_or_default()
                )
            }
        };
        push("configure", show(r), show(c), true);
        return out;
    }
    if !r.configured {
        let (er, ec) = (errors(&r.start_logs), errors(&c.start_logs));
        let lines = |e: &[&LogLine]| {
            e.iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        if er.len() != 1 || ec.len() != 1 {
            push("rejection log count", lines(&er), lines(&ec), true);
            return out;
        }
        let (lr, lc) = (&er[0].message, &ec[0].message);
        for (line, _) in [(lr, 0), (lc, 1)] {
            if !line.contains("] invalid configuration: ") {
                push("rejection log format", lr.clone(), lc.clone(), true);
                return out;
            }
        }
        if rejection_key(lr) != rejection_key(lc) {
            push("rejection log", lr.clone(), lc.clone(), true);
        } else if lr != lc {
            push("rejection wording", lr.clone(), lc.clone(), false);
        }
        return out;
    }
    let (sr, sc) = (
        logs_at_least(&r.start_logs, LogLevel::Info),
        logs_at_least(&c.start_logs, LogLevel::Info),
    );
    if sr != sc {
        push("configure logs", sr.join(" | "), sc.join(" | "), true);
    }
    let (Some(or), Some(oc)) = (&r.outcome, &c.outcome) else {
        return out;
    };
    let lr = or.local_response.as_ref();
    let lc = oc.local_response.as_ref();
    match (lr, lc) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            if a.status != b.status {
                push(
                    "local_response.status",
                    a.status.to_string(),
                    b.status.to_string(),
                    true,
                );
            }
            if a.headers != b.headers {
                push(
                    "local_response.headers",
                    render_headers(&a.headers),
                    render_headers(&b.headers),
                    true,
                );
            }
            if a.body != b.body {
                push("local_response.body", short(&a.body), short(&b.body), true);
            }
            if a.sent_in != b.sent_in {
                push(
                    "local_response.sent_in",
                    a.sent_in.into(),
                    b.sent_in.into(),
                    true,
                );
            }
        }
        (a, b) => {
            let show = |l: Option<&pwhost::LocalResponse>| match l {
                Some(l) => format!("{} {} in {}", l.status, short(&l.body), l.sent_in),
                None => "none".to_string(),
            };
            push("local_response", show(a), show(b), true);
        }
    }
    for (name, a, b) in [
        (
            "upstream_request",
            &or.upstream_request,
            &oc.upstream_request,
        ),
        (
            "downstream_response",
            &or.downstream_response,
            &oc.downstream_response,
        ),
    ] {
        let (ha, ba, ta) = message_parts(a);
        let (hb, bb, tb) = message_parts(b);
        if a.is_some() != b.is_some() {
            let show =
                |m: &Option<Message>| if m.is_some() { "present" } else { "none" }.to_string();
            push(name, show(a), show(b), true);
            continue;
        }
        if ha != hb {
            push(
                &format!("{name}.headers"),
                ha.map(render_headers).unwrap_or_default(),
                hb.map(render_headers).unwrap_or_default(),
                true,
            );
        }
        if ba != bb {
            push(
                &format!("{name}.body"),
                ba.map(short).unwrap_or_default(),
                bb.map(short).unwrap_or_default(),
                true,
            );
        }
        if ta != tb {
            push(
                &format!("{name}.trailers"),
                ta.map(render_headers).unwrap_or_default(),
                tb.map(render_headers).unwrap_or_default(),
                true,
            );
        }
    }
    if or.paused != oc.paused {
        push(
            "paused",
            format!("{:?}", or.paused),
            format!("{:?}", oc.paused),
            true,
        );
    }
    if or.callbacks != oc.callbacks {
        push(
            "callbacks",
            or.callbacks.join(","),
            oc.callbacks.join(","),
            true,
        );
    }
    if or.http_calls.len() != oc.http_calls.len() {
        push(
            "http_calls",
            or.http_calls.len().to_string(),
            oc.http_calls.len().to_string(),
            true,
        );
    }
    let (gr, gc) = (
        logs_at_least(&or.logs, LogLevel::Info),
        logs_at_least(&oc.logs, LogLevel::Info),
    );
    if gr != gc {
        push("logs", gr.join(" | "), gc.join(" | "), true);
    }
    if r.notes != c.notes {
        push("host notes", r.notes.join(" | "), c.notes.join(" | "), true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_keys() {
        assert_eq!(
            rejection_key("[p] invalid configuration: _rules_[0].name: invalid type: x: y"),
            "[p] invalid configuration: _rules_[0].name: "
        );
        assert_eq!(
            rejection_key("[p] invalid configuration: not valid JSON: EOF at line 1"),
            "[p] invalid configuration: not valid JSON"
        );
        assert_eq!(
            rejection_key("[p] invalid configuration: must be a JSON object"),
            "[p] invalid configuration: must be a JSON object"
        );
        assert_eq!(
            rejection_key("[p] invalid configuration: _rules_[1]: needs exactly one of a, b"),
            "[p] invalid configuration: _rules_[1]: "
        );
    }
}
