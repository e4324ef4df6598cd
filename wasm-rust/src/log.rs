//! Plug-in logging: every line is `[<plugin-name>] <message>`, the name given at registration.

use std::fmt;
use std::sync::OnceLock;

pub use crate::host::LogLevel;

static NAME: OnceLock<&'static str> = OnceLock::new();

/// Sets the name used as the log prefix (done by [`crate::register`]; the first call wins).
pub fn set_plugin_name(name: &'static str) {
    let _ = NAME.set(name);
}

/// The registered plug-in name (`"plugin"` before registration).
pub fn plugin_name() -> &'static str {
    NAME.get().copied().unwrap_or("plugin")
}

/// The full log line for `message`.
pub fn line(message: fmt::Arguments<'_>) -> String {
    format!("[{}] {}", plugin_name(), message)
}

/// Logs one line; a failing host log call is ignored (there is nowhere else to report it).
pub fn log(level: LogLevel, message: fmt::Arguments<'_>) {
    let _ = crate::host::log(level, &line(message));
}

pub fn debug(message: &str) {
    log(LogLevel::Debug, format_args!("{message}"));
}
pub fn info(message: &str) {
    log(LogLevel::Info, format_args!("{message}"));
}
pub fn warn(message: &str) {
    log(LogLevel::Warn, format_args!("{message}"));
}
pub fn error(message: &str) {
    log(LogLevel::Error, format_args!("{message}"));
}

/// `pwsdk::info!("hello, {}", who)` logs `[<plugin>] hello, ...` at info level; also `debug!`, `warn!`, `error!`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::LogLevel::Info, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::LogLevel::Debug, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::LogLevel::Warn, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::LogLevel::Error, format_args!($($arg)*)) };
}
