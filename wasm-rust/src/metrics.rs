//! Metrics: counters, gauges and histograms, defined once by name.
//!
//! Envoy creates each as `wasmcustom.<name>` and shows it as `<name>` (see `wasm-rust/README.md`, "Metrics",
//! for the naming conventions). Defining the same name and kind again returns the same metric: the SDK keeps
//! name → id per VM, because Envoy hands out a new id for every `proxy_define_metric` call.

use std::cell::Cell;

use crate::host::{self, HostError, MetricType};

thread_local! {
    static DEFINED: Cell<Vec<(MetricType, String, u32)>> = const { Cell::new(Vec::new()) };
}

fn define(kind: MetricType, name: &str) -> Result<u32, HostError> {
    let mut defined = DEFINED.take();
    let found = defined
        .iter()
        .find(|(k, n, _)| *k == kind && n == name)
        .map(|&(_, _, id)| id);
    let result = match found {
        Some(id) => Ok(id),
        None => {
            host::define_metric(kind, name).inspect(|&id| defined.push((kind, name.to_owned(), id)))
        }
    };
    DEFINED.set(defined);
    result
}

/// A monotonic counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    id: u32,
}

impl Counter {
    pub fn define(name: &str) -> Result<Counter, HostError> {
        define(MetricType::Counter, name).map(|id| Counter { id })
    }

    /// Adds `delta` (0 does nothing: Envoy rejects increments ≤ 0).
    pub fn increment(&self, delta: u64) -> Result<(), HostError> {
        if delta == 0 {
            return Ok(());
        }
        host::increment_metric(self.id, i64::try_from(delta).unwrap_or(i64::MAX))
    }

    pub fn get(&self) -> Result<u64, HostError> {
        host::get_metric(self.id)
    }
}

/// A value that goes up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauge {
    id: u32,
}

impl Gauge {
    pub fn define(name: &str) -> Result<Gauge, HostError> {
        define(MetricType::Gauge, name).map(|id| Gauge { id })
    }

    /// Adds `delta` (negative subtracts).
    pub fn increment(&self, delta: i64) -> Result<(), HostError> {
        host::increment_metric(self.id, delta)
    }

    /// Sets the value.
    pub fn record(&self, value: u64) -> Result<(), HostError> {
        host::record_metric(self.id, value)
    }

    pub fn get(&self) -> Result<u64, HostError> {
        host::get_metric(self.id)
    }
}

/// A distribution of samples (Envoy cannot read one back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Histogram {
    id: u32,
}

impl Histogram {
    pub fn define(name: &str) -> Result<Histogram, HostError> {
        define(MetricType::Histogram, name).map(|id| Histogram { id })
    }

    /// Records one sample.
    pub fn record(&self, value: u64) -> Result<(), HostError> {
        host::record_metric(self.id, value)
    }
}
