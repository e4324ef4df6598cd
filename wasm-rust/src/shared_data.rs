//! Shared data across VMs and requests: get/set with compare-and-swap, and a retry helper.
//!
//! [`update_with`] holds the retry decisions (pure, tested natively over an in-memory store); [`get`],
//! [`set`], [`update`] go to the host.

use std::fmt;

use crate::host::{self, HostError};

/// A failed `set`: a CAS mismatch (someone wrote since the read) is its own value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDataError {
    CasMismatch,
    Host(HostError),
}

impl fmt::Display for SharedDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedDataError::CasMismatch => {
                f.write_str("shared data changed since it was read (CAS mismatch)")
            }
            SharedDataError::Host(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SharedDataError {}

impl From<HostError> for SharedDataError {
    fn from(e: HostError) -> Self {
        SharedDataError::Host(e)
    }
}

/// The value of `key` and its CAS token; `Ok(None)` when the key is absent.
pub fn get(key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
    host::get_shared_data(key)
}

/// Writes `value`; with `cas` non-zero only if the value was not written since the read that returned `cas`.
pub fn set(key: &str, value: &[u8], cas: u32) -> Result<(), SharedDataError> {
    match host::set_shared_data(key, value, cas) {
        Ok(()) => Ok(()),
        Err(e) if e.status == host::CAS_MISMATCH => Err(SharedDataError::CasMismatch),
        Err(e) => Err(SharedDataError::Host(e)),
    }
}

/// Read-modify-write with CAS: up to `max_tries` rounds (0 counts as 1) of get → `f(current)` → set with the
/// CAS read (0 when the key is absent), retried on a mismatch. `f` returning `None` writes nothing
/// (`Ok(None)`); a written value is returned (`Ok(Some(value))`); `Err(CasMismatch)` after `max_tries`
/// mismatches.
pub fn update(
    key: &str,
    max_tries: u32,
    f: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, SharedDataError> {
    update_with(&mut HostStore, key, max_tries, f)
}

/// Where [`update_with`] reads and writes (the host, or a map in tests).
pub trait SharedStore {
    fn get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError>;
    fn set(&mut self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedDataError>;
}

struct HostStore;

impl SharedStore for HostStore {
    fn get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
        get(key)
    }
    fn set(&mut self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedDataError> {
        set(key, value, cas)
    }
}

/// [`update`] over any store.
pub fn update_with(
    store: &mut impl SharedStore,
    key: &str,
    max_tries: u32,
    mut f: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
) -> Result<Option<Vec<u8>>, SharedDataError> {
    for _ in 0..max_tries.max(1) {
        let current = store.get(key)?;
        let (value, cas) = match &current {
            Some((v, cas)) => (Some(v.as_slice()), *cas),
            None => (None, 0),
        };
        let Some(new) = f(value) else {
            return Ok(None);
        };
        match store.set(key, &new, cas) {
            Ok(()) => return Ok(Some(new)),
            Err(SharedDataError::CasMismatch) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(SharedDataError::CasMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Envoy's semantics: every write bumps the CAS; a non-zero CAS must match; `interfere` writes from
    /// "another VM" between a read and the next write that many times.
    #[derive(Default)]
    struct Map {
        data: HashMap<String, (Vec<u8>, u32)>,
        next_cas: u32,
        interfere: u32,
        writes: u32,
    }

    impl SharedStore for Map {
        fn get(&mut self, key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
            let got = self.data.get(key).cloned();
            if self.interfere > 0 {
                self.interfere -= 1;
                self.next_cas += 1;
                self.data
                    .insert(key.to_owned(), (b"other".to_vec(), self.next_cas));
            }
            Ok(got)
        }
        fn set(&mut self, key: &str, value: &[u8], cas: u32) -> Result<(), SharedDataError> {
            if let Some((_, current)) = self.data.get(key) {
                if cas != 0 && cas != *current {
                    return Err(SharedDataError::CasMismatch);
                }
            }
            self.next_cas += 1;
            self.writes += 1;
            self.data
                .insert(key.to_owned(), (value.to_vec(), self.next_cas));
            Ok(())
        }
    }

    fn incr(v: Option<&[u8]>) -> Option<Vec<u8>> {
        let n: u32 = v.map_or(0, |b| std::str::from_utf8(b).unwrap().parse().unwrap_or(0));
        Some((n + 1).to_string().into_bytes())
    }

    #[test]
    fn creates_then_increments() {
        let mut m = Map::default();
        assert_eq!(
            update_with(&mut m, "k", 3, incr).unwrap(),
            Some(b"1".to_vec())
        );
        assert_eq!(
            update_with(&mut m, "k", 3, incr).unwrap(),
            Some(b"2".to_vec())
        );
        assert_eq!(m.writes, 2);
    }

    #[test]
    fn retries_on_mismatch_and_gives_up() {
        let mut m = Map::default();
        update_with(&mut m, "k", 1, incr).unwrap();
        m.interfere = 2;
        // two rounds lose against the other writer, the third wins (reading "other", which parses as 0)
        assert_eq!(
            update_with(&mut m, "k", 3, incr).unwrap(),
            Some(b"1".to_vec())
        );
        m.interfere = 3;
        assert_eq!(
            update_with(&mut m, "k", 3, incr),
            Err(SharedDataError::CasMismatch)
        );
        m.interfere = 1;
        assert_eq!(
            update_with(&mut m, "k", 0, incr),
            Err(SharedDataError::CasMismatch),
            "0 tries counts as one"
        );
    }

    #[test]
    fn declining_writes_nothing() {
        let mut m = Map::default();
        assert_eq!(update_with(&mut m, "k", 3, |_| None).unwrap(), None);
        assert_eq!(m.writes, 0);
        assert!(m.data.is_empty());
    }
}
