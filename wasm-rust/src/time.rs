//! The host's clock (`proxy_get_current_time_nanoseconds`; pwhost lets vectors move it).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::host::{self, HostError};

/// Unix time in nanoseconds.
pub fn now_nanos() -> Result<u64, HostError> {
    host::current_time_nanos()
}

/// The current time.
pub fn now() -> Result<SystemTime, HostError> {
    Ok(UNIX_EPOCH + Duration::from_nanos(now_nanos()?))
}
