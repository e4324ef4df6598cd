//! What the commit says: its time (for SOURCE_DATE_EPOCH and image `created`), id and dirtiness.

use anyhow::{bail, Context, Result};

use crate::runner::output;

#[derive(Debug, Clone)]
pub struct Commit {
    /// seconds since the epoch (`git log -1 --format=%ct`), or SOURCE_DATE_EPOCH when set
    pub time: i64,
    /// 40-hex commit id
    pub id: String,
    /// uncommitted changes to tracked files
    pub dirty: bool,
}

impl Commit {
    pub fn short(&self) -> &str {
        &self.id[..7.min(self.id.len())]
    }
}

/// The HEAD commit of the repository at `root`.
pub fn head(root: &std::path::Path) -> Result<Commit> {
    let dir = root.display().to_string();
    let id = output("git", &["-C", &dir, "rev-parse", "HEAD"]).context(
        "not a git checkout with a commit; image tags and annotations come from the commit \
         (commit your work, or run inside a git clone)",
    )?;
    if id.len() != 40 {
        bail!("unexpected `git rev-parse HEAD` output `{id}`");
    }
    let time = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => s
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH `{s}` is not a number of seconds"))?,
        Err(_) => output("git", &["-C", &dir, "log", "-1", "--format=%ct"])?
            .parse()
            .context("reading the commit time")?,
    };
    let status = output(
        "git",
        &["-C", &dir, "status", "--porcelain", "--untracked-files=no"],
    )?;
    Ok(Commit {
        time,
        id,
        dirty: !status.is_empty(),
    })
}

/// `YYYYMMDD-HHMMSS` (UTC) for seconds since the epoch: Higress's tag clock format.
pub fn stamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamp_formats_utc() {
        assert_eq!(super::stamp(0), "19700101-000000");
        assert_eq!(super::stamp(1_795_000_000), "20261118-110640");
        assert_eq!(super::stamp(951_782_400), "20000229-000000");
    }
}
