//! Times some of the slowest patterns the dialect's cost limit allows on a 64 KiB input: `cargo run --release -p pwsdk --example regex_worst`.
use std::time::Instant;

fn main() {
    let input = vec![b'x'; 64 * 1024];
    for pattern in [
        "(?:[^a]{0,497}|b)*z",
        "(?:.?){499}z",
        "(?:.*){332}z",
        "(?:(?:x|xx)*){300}y",
        "(.*a){333}",
    ] {
        let re = match pwsdk::regex::Regex::new(pattern, true) {
            Ok(re) => re,
            Err(e) => {
                println!("{pattern}: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let m = re.is_full_match(&input);
        println!("{pattern}: {m} in {:?}", t.elapsed());
    }
}
