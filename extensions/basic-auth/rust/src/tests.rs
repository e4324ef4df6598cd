//! Native tests. Hashes were generated with Debian's `htpasswd` (apache2-utils 2.4) and Python's `passlib`
//! 1.7.4 / `bcrypt` 5.0, not with this code.

use super::*;
use pwsdk::auth::AuthRules;

fn check(hashed: &str, password: &str) -> bool {
    Password::parse_hashed(hashed)
        .unwrap()
        .verify(password.as_bytes())
}

#[test]
fn hashes_from_other_tools() {
    // htpasswd -nbm alice secret
    assert!(check("$apr1$svI3h0Hc$oiSIo3SCN0NIfXQCUyqmw0", "secret"));
    assert!(!check("$apr1$svI3h0Hc$oiSIo3SCN0NIfXQCUyqmw0", "Secret"));
    // passlib apr_md5_crypt / md5_crypt
    assert!(check("$apr1$x$tMwYqBfQwi3FYAr0aJc8M/", ""));
    assert!(check(
        "$apr1$12345678$ZB1vyDV5V.sOKjJ6rQyTE1",
        &"a".repeat(40)
    ));
    assert!(check("$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret"));
    assert!(!check("$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secrets"));
    // htpasswd -nbs bob hunter2; passlib ldap_sha1 / ldap_salted_sha1
    assert!(check("{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=", "hunter2"));
    assert!(check("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"));
    assert!(check("{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME", "secret"));
    assert!(!check("{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME", "secreT"));
    assert!(check("{PLAIN}p:w", "p:w"));
    // htpasswd -nbB -C 4 carol 'p@ss:word'; -C 10 dave pw10; python bcrypt
    assert!(check(
        "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
        "p@ss:word"
    ));
    assert!(!check(
        "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
        "p@ss:wore"
    ));
    assert!(check(
        "$2y$10$ukxmqihrTQMnFdtW01QRtey7iERCeqcm2WWSAk/o5qB2gHxEbelqi",
        "pw10"
    ));
    assert!(check(
        "$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui",
        &"x".repeat(72)
    ));
    // only the first 72 bytes count
    assert!(check(
        "$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui",
        &"x".repeat(80)
    ));
    assert!(!check(
        "$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui",
        &"x".repeat(71)
    ));
    assert!(check(
        "$2b$05$uRuFzJf9YeA73XyXqRYDV.d8dnqW.Fz7ZGvshNTWB3ZFLwvC6AP/q",
        ""
    ));
    assert!(check(
        "$2b$04$RGqSgnXTLpSLvYORtZi5KOG1oGp6YfOt7I0XYnMgijcLB1e9HwaAu",
        "pässwörd"
    ));
}

#[test]
fn hash_format_errors() {
    for bad in [
        "plain",
        "{SHA}abc",
        "{SSHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
        "$apr1$svI3h0Hc",
        "$apr1$toolongsalt$oiSIo3SCN0NIfXQCUyqmw0",
        "$apr1$svI3h0Hc$oiSIo3SCN0NIfXQCUyqmw",
        "$2y$11$DhPYGsgRMngvVnRuDavR/OljBlIYnItZ8J3lPwX/Ad00xvZHe7irG",
        "$2y$03$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
        "$2x$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa",
        "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdR",
        "$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWd+a",
        "$6$salt$hash",
        "abJnggxhB/yWI",
    ] {
        assert!(Password::parse_hashed(bad).is_err(), "{bad}");
    }
}

fn config(json: &str) -> Result<AuthRules<Config>, String> {
    AuthRules::<Config>::parse(json.as_bytes()).map_err(|e| e.to_string())
}

fn global(json: &str) -> Config {
    let set = pwsdk::rules::RuleSet::<Config>::parse(json.as_bytes()).unwrap();
    std::rc::Rc::try_unwrap(set.global.unwrap()).unwrap()
}

#[test]
fn identify() {
    let c = global(
        r#"{"consumers": [{"name": "a", "credential": "alice:pw:x"}, {"name": "b", "credential": "Ym9iOnNlY3JldA=="}]}"#,
    );
    let id = |v: &str| c.identify_value(Some(v.as_bytes()));
    assert_eq!(id("Basic YWxpY2U6cHc6eA=="), Identity::Consumer("a".into())); // alice:pw:x
    assert_eq!(
        id("basic   YWxpY2U6cHc6eA \t"),
        Identity::Consumer("a".into())
    );
    assert_eq!(id("Basic Ym9iOnNlY3JldA"), Identity::Consumer("b".into())); // bob:secret
    assert_eq!(id("Basic Ym9iOnNlY3JldB=="), Identity::Consumer("b".into())); // non-zero padding bits are ignored
    assert_eq!(id("Basic YWxpY2U6cHc="), Identity::Invalid); // alice:pw
    assert_eq!(id("Basic !!!"), Identity::Invalid);
    assert_eq!(id("Basic YWxpY2U="), Identity::Invalid); // no colon
    assert_eq!(id("Basic "), Identity::Invalid);
    assert_eq!(id("Bearer YWxpY2U6cHc6eA=="), Identity::Missing);
    assert_eq!(id("BasicYWxpY2U6cHc6eA=="), Identity::Missing);
    assert_eq!(c.identify_value(None), Identity::Missing);
}

#[test]
fn config_errors() {
    let e = |j: &str| config(j).unwrap_err();
    assert!(e(r#"{"realm": "x"}"#).starts_with("invalid configuration: consumers: "));
    assert!(
        e(r#"{"consumers": [{"name": "a", "credential": "nocolon"}]}"#)
            .starts_with("invalid configuration: consumers[0].credential: ")
    );
    assert!(e(r#"{"consumers": [{"name": "a", "credential": ":pw"}]}"#)
        .starts_with("invalid configuration: consumers[0].credential: "));
    assert!(e(
        r#"{"consumers": [{"name": "a", "credential": "u:1"}, {"name": "b", "credential": "u:2"}]}"#
    )
    .starts_with("invalid configuration: consumers[1].credential: duplicate"));
    assert!(e(
        r#"{"consumers": [{"name": "a", "credential": "u:1"}, {"name": "a", "credential": "v:2"}]}"#
    )
    .starts_with("invalid configuration: consumers[1].name: "));
    assert!(
        e(r#"{"encrypted": true, "consumers": [{"name": "a", "credential": "u:plain"}]}"#)
            .starts_with("invalid configuration: consumers[0].credential: unsupported")
    );
    assert!(
        e(r#"{"encrypted": true, "consumers": [{"name": "a", "credential": "dTp4"}]}"#)
            .starts_with("invalid configuration: consumers[0].credential: ")
    );
    assert!(e(r#"{"consumers": [{"name": "a"}]}"#)
        .starts_with("invalid configuration: consumers[0].credential: "));
    assert!(
        e(r#"{"consumers": [{"name": "a", "credential": "u:p", "password": "x"}]}"#)
            .starts_with("invalid configuration: consumers[0].password: ")
    );
    assert!(config(
        r#"{"encrypted": true, "consumers": [{"name": "a", "credential": "u:{PLAIN}x"}]}"#
    )
    .is_ok());
}
