//! Runs `cluster_cases.txt`, the cluster naming table shared with the C++ SDK.

use std::collections::HashMap;

use pwsdk::cluster::Cluster;

fn decode(field: &str, line: usize) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3).unwrap_or_default()).unwrap_or("");
            let v = u8::from_str_radix(hex, 16).unwrap_or_else(|_| {
                panic!("cluster_cases.txt:{line}: bad %HH escape in {field:?}")
            });
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("cluster table values are UTF-8")
}

#[test]
fn cluster_naming_table() {
    let text = include_str!("cluster_cases.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        assert_eq!(
            fields.len(),
            4,
            "cluster_cases.txt:{line}: expected 4 TAB-separated fields: {raw:?}"
        );
        let mut args: HashMap<&str, String> = HashMap::new();
        if fields[1] != "-" {
            for pair in fields[1].split(' ') {
                let (k, v) = pair.split_once('=').unwrap_or_else(|| {
                    panic!("cluster_cases.txt:{line}: `{pair}` is not key=value")
                });
                args.insert(k, decode(v, line));
            }
        }
        let s = |k: &str| args.get(k).cloned().unwrap_or_default();
        let port = |k: &str| -> u16 {
            s(k).parse()
                .unwrap_or_else(|_| panic!("cluster_cases.txt:{line}: bad {k}"))
        };
        let cluster = match fields[0] {
            "route" => Cluster::route(&s("host")),
            "k8s" => Cluster::k8s(
                &s("service"),
                &s("namespace"),
                port("port"),
                &s("version"),
                &s("host"),
            ),
            "nacos" => Cluster::nacos(
                &s("service"),
                &s("group"),
                &s("namespace_id"),
                port("port"),
                s("ext") == "true",
                &s("version"),
                &s("host"),
            ),
            "static" => Cluster::static_ip(&s("service"), port("port"), &s("host")),
            "dns" => Cluster::dns(&s("service"), &s("domain"), port("port")),
            "consul" => Cluster::consul(&s("service"), &s("datacenter"), port("port"), &s("host")),
            "fqdn" => Cluster::fqdn(&s("fqdn"), port("port"), &s("host")),
            "named" => Cluster::named(&s("name"), &s("authority")),
            k => panic!("cluster_cases.txt:{line}: unknown kind {k:?}"),
        };
        kinds.insert(fields[0]);
        count += 1;
        let show = |r: Option<String>| r.unwrap_or_else(|| "!error".to_owned());
        let name = show(cluster.name_with(args.get("property").map(String::as_str)));
        let authority = show(cluster.authority_with(args.get("request").map(String::as_str)));
        if name != decode(fields[2], line) || authority != decode(fields[3], line) {
            failures.push(format!(
                "line {line}: {cluster:?}: got name {name:?} authority {authority:?}, expected {:?} {:?}",
                fields[2], fields[3]
            ));
        }
    }
    assert_eq!(kinds.len(), 8, "every kind is covered: {kinds:?}");
    assert!(count >= 25, "only {count} cases read");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
