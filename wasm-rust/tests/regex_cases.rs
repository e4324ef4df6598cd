//! Runs `regex_cases.txt`, the dialect table shared with the C++ SDK.

use pwsdk::regex::Regex;

fn decode(field: &str, line: usize) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3).unwrap_or_default()).unwrap_or("");
            let v = u8::from_str_radix(hex, 16)
                .unwrap_or_else(|_| panic!("regex_cases.txt:{line}: bad %HH escape in {field:?}"));
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn regex_dialect_table() {
    let text = include_str!("regex_cases.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        assert_eq!(
            fields.len(),
            4,
            "regex_cases.txt:{line}: expected 4 TAB-separated fields: {raw:?}"
        );
        let (expect, flags, pattern, input) = (
            fields[0],
            fields[1],
            decode(fields[2], line),
            decode(fields[3], line),
        );
        let ci = match flags {
            "-" => false,
            "i" => true,
            f => panic!("regex_cases.txt:{line}: unknown flags {f:?}"),
        };
        // patterns come from JSON strings, so they are UTF-8
        let pattern = String::from_utf8(pattern).expect("pattern is UTF-8");
        count += 1;
        let got = match Regex::new(&pattern, ci) {
            Err(e) => format!("error ({e})"),
            Ok(re) => (if re.is_full_match(&input) {
                "match"
            } else {
                "nomatch"
            })
            .to_owned(),
        };
        if !got.starts_with(expect) {
            failures.push(format!(
                "line {line}: {expect} {flags} {pattern:?} on {:?}: got {got}",
                String::from_utf8_lossy(&input)
            ));
        }
    }
    assert!(count > 200, "only {count} cases read");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
