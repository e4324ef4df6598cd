//! Runs `sse_cases.txt`, the server-sent events table shared with the C++ SDK, at every chunking.

use pwsdk::sse::{Event, Line, Parser, Rewriter, Verdict};

fn decode(field: &str, line: usize) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3).unwrap_or_default()).unwrap_or("");
            let v = u8::from_str_radix(hex, 16)
                .unwrap_or_else(|_| panic!("sse_cases.txt:{line}: bad %HH escape in {field:?}"));
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The table's escaping of names, values and texts in the `events` field.
fn esc(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if !(0x20..0x7f).contains(&b) || b"%\t,|=".contains(&b) {
            s.push_str(&format!("%{b:02X}"));
        } else {
            s.push(b as char);
        }
    }
    s
}

fn describe(e: &Event) -> String {
    if e.is_empty() {
        return "()".to_owned();
    }
    e.lines()
        .iter()
        .map(|l| match l {
            Line::Field { name, value } => format!("f:{}={}", esc(name), esc(value)),
            Line::Comment(t) => format!("c:{}", esc(t)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The table's fixed rewriting rule.
fn rule(e: &mut Event) -> Verdict {
    match e.event_type() {
        Some(b"drop") => Verdict::Drop,
        Some(b"dup") => Verdict::Replace(vec![e.clone(), e.clone()]),
        Some(b"upper") => {
            let d = e.data().unwrap_or_default().to_ascii_uppercase();
            e.set_data(&d);
            Verdict::Keep
        }
        Some(b"insert") => {
            let mut n = Event::new();
            n.push_field(b"data", b"inserted");
            Verdict::Replace(vec![n, e.clone()])
        }
        Some(b"retry") => {
            match e.retry() {
                Some(n) => e.set_field(b"retry", (n + 1).to_string().as_bytes()),
                None => e.push_comment(b"no retry"),
            }
            Verdict::Keep
        }
        _ => Verdict::Keep,
    }
}

fn run(chunks: &[&[u8]]) -> (String, Vec<u8>) {
    let mut p = Parser::new();
    let mut described = Vec::new();
    let mut raw = Vec::new();
    for c in chunks {
        for e in p.push(c) {
            raw.extend_from_slice(e.raw().expect("parsed events keep their bytes"));
            described.push(describe(&e));
        }
    }
    if let Some(e) = p.finish() {
        raw.extend_from_slice(e.raw().expect("parsed events keep their bytes"));
        described.push(format!("end:{}", describe(&e)));
    }
    let whole: Vec<u8> = chunks.concat();
    assert_eq!(raw, whole, "the events' bytes are the input");
    let events = if described.is_empty() {
        "-".to_owned()
    } else {
        described.join("|")
    };
    let mut r = Rewriter::new();
    let mut out = Vec::new();
    for c in chunks {
        out.extend(r.push(c, rule));
    }
    out.extend(r.finish(rule));
    (events, out)
}

#[test]
fn sse_table_at_every_chunking() {
    let text = include_str!("sse_cases.txt");
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut runs = 0;
    let mut names = std::collections::HashSet::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        assert_eq!(
            fields.len(),
            4,
            "sse_cases.txt:{line}: expected 4 TAB-separated fields: {raw:?}"
        );
        let (name, stream, events, rewritten) = (
            fields[0],
            decode(fields[1], line),
            fields[2],
            decode(fields[3], line),
        );
        assert!(
            names.insert(name),
            "sse_cases.txt:{line}: duplicate name {name:?}"
        );
        cases += 1;
        let mut chunkings: Vec<Vec<&[u8]>> = vec![vec![&stream[..]]];
        for cut in 0..=stream.len() {
            chunkings.push(vec![&stream[..cut], &stream[cut..]]);
        }
        chunkings.push(stream.chunks(1).collect());
        for chunks in chunkings {
            runs += 1;
            let (got_events, got_out) = run(&chunks);
            let lens: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
            if got_events != events {
                failures.push(format!(
                    "line {line} `{name}` chunks {lens:?}: events {got_events:?}, expected {events:?}"
                ));
            }
            if got_out != rewritten {
                failures.push(format!(
                    "line {line} `{name}` chunks {lens:?}: rewritten {:?}, expected {:?}",
                    String::from_utf8_lossy(&got_out),
                    String::from_utf8_lossy(&rewritten)
                ));
            }
        }
    }
    assert!(cases >= 30, "only {cases} cases read");
    assert!(
        failures.is_empty(),
        "{} failures in {runs} runs of {cases} cases:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn rewriter_emits_every_complete_event_at_once() {
    // after each push, what was emitted is the rewrite of exactly the events completed so far
    let stream: &[u8] = b"data: a\n\nevent: upper\ndata: b\r\n\r\n: c\n\ndata: tail";
    for cut in 0..=stream.len() {
        let mut r = Rewriter::new();
        let first = r.push(&stream[..cut], rule);
        let mut p = Parser::new();
        let complete: usize = p
            .push(&stream[..cut])
            .iter()
            .map(|e| e.raw().map_or(0, <[u8]>::len))
            .sum();
        assert_eq!(r.pending(), cut - complete, "cut {cut}");
        let mut expect = Rewriter::new();
        assert_eq!(first, expect.push(&stream[..complete], rule), "cut {cut}");
    }
}
