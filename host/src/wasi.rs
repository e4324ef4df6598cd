//! WASI preview1 as Envoy's host provides it, registered under `wasi_snapshot_preview1` and `wasi_unstable`.
//!
//! Which functions exist depends on the Envoy host generation (proxy-wasm-cpp-host
//! `include/proxy-wasm/exports.h` `FOR_ALL_WASI_FUNCTIONS`): a module importing one its gateway lacks does
//! not load. Behaviour follows `src/exports.cc` of the same library; the clock and `random_get` are the VM's
//! (deterministic unless the VM runs in real time).

use wasmtime::Linker;

use crate::hostcalls::host_fn;
use crate::hostcalls::{read, write, write_u32, C, R};
use crate::state::HostState;
use crate::types::LogLevel;

pub(crate) const MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

const SUCCESS: i32 = 0;
const BADF: i32 = 8;
const NOTDIR: i32 = 20;
const FAULT: i32 = 21;
const INVAL: i32 = 28;
const NOENT: i32 = 44;
const NOSYS: i32 = 52;
const NOTSUP: i32 = 58;

/// `random_get` refuses larger requests (proxy-wasm-cpp-host `PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES`).
const RANDOM_GET_MAX: i32 = 64 * 1024;

/// The WASI functions of an Envoy host generation. The default is the oldest generation still shipped, so a
/// plug-in that loads in pwhost loads in every supported Envoy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WasiSet {
    /// proxy-wasm-cpp-host up to 2024-12-13 (Envoy releases up to 1.33): 15 functions.
    #[default]
    Set15,
    /// 2024-12-19 to 2026-01: adds `fd_fdstat_set_flags`, `sched_yield`, `poll_oneoff` (18).
    Set18,
    /// From 2026-04-06: 45 functions (adds `clock_res_get` and the remaining fd_/path_/sock_ ones, mostly
    /// stubs).
    Set45,
}

const SET15: &[&str] = &[
    "fd_write",
    "fd_read",
    "fd_seek",
    "fd_close",
    "fd_fdstat_get",
    "environ_get",
    "environ_sizes_get",
    "args_get",
    "args_sizes_get",
    "clock_time_get",
    "random_get",
    "proc_exit",
    "path_open",
    "fd_prestat_get",
    "fd_prestat_dir_name",
];

const SET18_EXTRA: &[&str] = &["fd_fdstat_set_flags", "sched_yield", "poll_oneoff"];

const SET45_EXTRA: &[&str] = &[
    "fd_fdstat_set_rights",
    "clock_res_get",
    "fd_advise",
    "fd_allocate",
    "fd_datasync",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_pwrite",
    "fd_readdir",
    "fd_renumber",
    "fd_sync",
    "fd_tell",
    "path_create_directory",
    "path_filestat_set_times",
    "path_link",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
    "path_filestat_get",
    "fd_filestat_get",
];

/// Host calls V8 allows while `_initialize`/`main` run (proxy-wasm-cpp-host `WasmBase::startVm`), per
/// generation. `env.` names are proxy-wasm functions; the others are WASI (either module name).
const START_15: &[&str] = &[
    "env.proxy_log",
    "fd_write",
    "args_sizes_get",
    "args_get",
    "environ_sizes_get",
    "environ_get",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "clock_time_get",
    "random_get",
];
const START_18: &[&str] = &[
    "env.emscripten_notify_memory_growth",
    "env.proxy_log",
    "fd_write",
    "args_sizes_get",
    "args_get",
    "environ_sizes_get",
    "environ_get",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "clock_time_get",
    "random_get",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
];
const START_45: &[&str] = &[
    "env.emscripten_notify_memory_growth",
    "env.proxy_log",
    "fd_write",
    "args_sizes_get",
    "args_get",
    "environ_sizes_get",
    "environ_get",
    "clock_time_get",
    "clock_res_get",
    "random_get",
    "poll_oneoff",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_advise",
    "fd_allocate",
    "fd_datasync",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_pwrite",
    "fd_readdir",
    "fd_renumber",
    "fd_sync",
    "fd_tell",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// Host calls V8 allows inside the guest allocator when the host calls it (`WasmBase::allocMemory`).
const ALLOC_OLD: &[&str] = &["env.proxy_log", "fd_write", "clock_time_get"];
const ALLOC_45: &[&str] = &["env.proxy_log", "fd_write", "clock_time_get", "poll_oneoff"];

impl WasiSet {
    /// Parses `15`, `18` or `45`.
    pub fn parse(s: &str) -> Option<WasiSet> {
        match s {
            "15" => Some(WasiSet::Set15),
            "18" => Some(WasiSet::Set18),
            "45" => Some(WasiSet::Set45),
            _ => None,
        }
    }

    /// The number of functions (15, 18 or 45).
    pub fn size(self) -> usize {
        self.functions().count()
    }

    /// The WASI function names this generation registers.
    pub fn functions(self) -> impl Iterator<Item = &'static str> {
        let extra18: &[&str] = match self {
            WasiSet::Set15 => &[],
            _ => SET18_EXTRA,
        };
        let extra45: &[&str] = match self {
            WasiSet::Set45 => SET45_EXTRA,
            _ => &[],
        };
        SET15.iter().chain(extra18).chain(extra45).copied()
    }

    fn has(self, name: &str) -> bool {
        self.functions().any(|f| f == name)
    }

    pub(crate) fn startup_allowed(self) -> &'static [&'static str] {
        match self {
            WasiSet::Set15 => START_15,
            WasiSet::Set18 => START_18,
            WasiSet::Set45 => START_45,
        }
    }

    pub(crate) fn allocator_allowed(self) -> &'static [&'static str] {
        match self {
            WasiSet::Set45 => ALLOC_45,
            _ => ALLOC_OLD,
        }
    }
}

impl std::fmt::Display for WasiSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, when) = match self {
            WasiSet::Set15 => (15, "Envoy hosts up to 2024-12-13"),
            WasiSet::Set18 => (18, "Envoy hosts from 2024-12-19"),
            WasiSet::Set45 => (45, "Envoy hosts from 2026-04-06"),
        };
        write!(f, "{n} WASI functions ({when})")
    }
}

fn env_strings(s: &HostState) -> Vec<Vec<u8>> {
    s.env
        .iter()
        .map(|(k, v)| format!("{k}={v}\0").into_bytes())
        .collect()
}

/// `fd_write`/`fd_pwrite`: stdout is an info log, stderr an error log, a trailing newline is dropped.
fn writev(c: &mut C<'_>, fd: i32, iovs: i32, n: i32) -> Result<u32, i32> {
    let level = match fd {
        1 => LogLevel::Info,
        2 => LogLevel::Error,
        _ => return Err(BADF),
    };
    let mut out = Vec::new();
    for i in 0..n.max(0) {
        let Some(iov) = read(c, iovs.wrapping_add(i.wrapping_mul(8)), 8) else {
            return Err(FAULT);
        };
        let ptr = i32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
        let len = i32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
        let Some(data) = read(c, ptr, len) else {
            return Err(FAULT);
        };
        out.extend_from_slice(&data);
    }
    let written = out.len() as u32;
    if written != 0 {
        let text = String::from_utf8_lossy(&out);
        let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
        c.data_mut().log(level, text);
    }
    Ok(written)
}

fn ok_if(done: bool) -> R {
    Ok(if done { SUCCESS } else { FAULT })
}

fn std_fd(fd: i32) -> bool {
    fd == 1 || fd == 2
}

/// Links the WASI functions of `set` under both module names.
pub(crate) fn link(linker: &mut Linker<HostState>, set: WasiSet) -> wasmtime::Result<()> {
    for m in MODULES {
        link_module(linker, m, set)?;
    }
    Ok(())
}

fn link_module(l: &mut Linker<HostState>, m: &'static str, set: WasiSet) -> wasmtime::Result<()> {
    macro_rules! wasi {
        ($name:literal, $($rest:tt)*) => {
            if set.has($name) {
                host_fn!(l, m, $name, $($rest)*)?;
            }
        };
    }

    wasi!("fd_write", |c, fd: i32, iovs: i32, n: i32, ret: i32| -> R {
        match writev(&mut c, fd, iovs, n) {
            Ok(written) => ok_if(write_u32(&mut c, ret, written)),
            Err(errno) => Ok(errno),
        }
    });
    wasi!("fd_read", |c,
                      _fd: i32,
                      _iovs: i32,
                      _n: i32,
                      _ret: i32|
     -> R { Ok(NOSYS) });
    wasi!("fd_seek", |c,
                      _fd: i32,
                      _off: i64,
                      _wh: i32,
                      _ret: i32|
     -> R {
        c.data_mut().host_error("wasi_unstable fd_seek");
        Ok(SUCCESS)
    });
    wasi!("fd_close", |c, _fd: i32| -> R {
        c.data_mut().host_error("wasi_unstable fd_close");
        Ok(SUCCESS)
    });
    wasi!("fd_fdstat_get", |c, fd: i32, ret: i32| -> R {
        if !std_fd(fd) {
            return Ok(BADF);
        }
        // 24 bytes, zero but fs_rights_base = FD_WRITE (64)
        let mut stat = [0u8; 24];
        stat[8..16].copy_from_slice(&64u64.to_le_bytes());
        write(&mut c, ret, &stat);
        Ok(SUCCESS)
    });
    wasi!("fd_fdstat_set_flags", |c, _fd: i32, _flags: i32| -> R {
        Ok(NOSYS)
    });
    wasi!("fd_prestat_get", |c, _fd: i32, _ret: i32| -> R { Ok(BADF) });
    wasi!("fd_prestat_dir_name", |c,
                                  _fd: i32,
                                  _p: i32,
                                  _l: i32|
     -> R { Ok(NOSYS) });
    wasi!("path_open", |c,
                        _fd: i32,
                        _dirflags: i32,
                        _path: i32,
                        _path_len: i32,
                        _oflags: i32,
                        _base: i64,
                        _inheriting: i64,
                        _fdflags: i32,
                        _ret: i32|
     -> R { Ok(NOENT) });
    wasi!("environ_sizes_get", |c,
                                ret_count: i32,
                                ret_size: i32|
     -> R {
        let strings = env_strings(c.data());
        let size: usize = strings.iter().map(Vec::len).sum();
        ok_if(
            write_u32(&mut c, ret_count, strings.len() as u32)
                && write_u32(&mut c, ret_size, size as u32),
        )
    });
    wasi!("environ_get", |c, ptrs: i32, buf: i32| -> R {
        let strings = env_strings(c.data());
        let mut at = buf;
        for (i, s) in strings.iter().enumerate() {
            if !write_u32(&mut c, ptrs.wrapping_add(4 * i as i32), at as u32)
                || !write(&mut c, at, s)
            {
                return Ok(FAULT);
            }
            at = at.wrapping_add(s.len() as i32);
        }
        Ok(SUCCESS)
    });
    wasi!("args_sizes_get", |c, ret_count: i32, ret_size: i32| -> R {
        ok_if(write_u32(&mut c, ret_count, 0) && write_u32(&mut c, ret_size, 0))
    });
    wasi!("args_get", |c, _ptrs: i32, _buf: i32| -> R { Ok(SUCCESS) });
    wasi!("clock_time_get", |c,
                             id: i32,
                             _precision: i64,
                             ret: i32|
     -> R {
        let now = match id {
            0 => c.data().clock.now_ns(),
            1 => c.data().clock.monotonic_ns(),
            _ => return Ok(NOTSUP),
        };
        ok_if(write(&mut c, ret, &now.to_le_bytes()))
    });
    wasi!("clock_res_get", |c, id: i32, ret: i32| -> R {
        if id != 0 && id != 1 {
            return Ok(NOTSUP);
        }
        ok_if(write(&mut c, ret, &1u64.to_le_bytes()))
    });
    wasi!("random_get", |c, buf: i32, len: i32| -> R {
        if len as u32 > RANDOM_GET_MAX as u32 {
            return Ok(INVAL);
        }
        if len == 0 {
            return Ok(SUCCESS);
        }
        let mut bytes = Vec::with_capacity(len as usize + 8);
        while bytes.len() < len as usize {
            let r = c.data_mut().next_random();
            bytes.extend_from_slice(&r.to_le_bytes());
        }
        bytes.truncate(len as usize);
        ok_if(write(&mut c, buf, &bytes))
    });
    wasi!("sched_yield", |c| -> R { Ok(SUCCESS) });
    wasi!("poll_oneoff", |c,
                          _in: i32,
                          _out: i32,
                          _n: i32,
                          ret: i32|
     -> R {
        ok_if(write_u32(&mut c, ret, 0))
    });
    wasi!("proc_exit", |c, code: i32| -> wasmtime::Result<()> {
        // Envoy's host logs and returns: the module carries on (WASI libc then usually hits `unreachable`)
        c.data_mut().exit_code = Some(code);
        c.data_mut().host_error("wasi_unstable proc_exit");
        Ok(())
    });

    // 2026-04 generation: mostly stubs
    wasi!("fd_fdstat_set_rights", |c,
                                   fd: i32,
                                   _b: i64,
                                   _i: i64|
     -> R {
        Ok(if std_fd(fd) { SUCCESS } else { BADF })
    });
    wasi!("fd_advise", |c, _fd: i32, _o: i64, _l: i64, _a: i32| -> R {
        Ok(SUCCESS)
    });
    wasi!("fd_allocate", |c, fd: i32, _o: i64, _l: i64| -> R {
        Ok(if std_fd(fd) { SUCCESS } else { BADF })
    });
    wasi!("fd_datasync", |c, fd: i32| -> R {
        Ok(if std_fd(fd) { SUCCESS } else { BADF })
    });
    wasi!("fd_filestat_set_size", |c, fd: i32, _s: i64| -> R {
        Ok(if std_fd(fd) { SUCCESS } else { BADF })
    });
    wasi!("fd_filestat_set_times", |c,
                                    fd: i32,
                                    _a: i64,
                                    _m: i64,
                                    _f: i32|
     -> R {
        Ok(if std_fd(fd) { SUCCESS } else { BADF })
    });
    wasi!("fd_pread", |c,
                       _fd: i32,
                       _iovs: i32,
                       _n: i32,
                       _off: i64,
                       _ret: i32|
     -> R { Ok(NOSYS) });
    wasi!("fd_pwrite", |c,
                        fd: i32,
                        iovs: i32,
                        n: i32,
                        _off: i64,
                        ret: i32|
     -> R {
        if !std_fd(fd) {
            return Ok(BADF);
        }
        match writev(&mut c, fd, iovs, n) {
            Ok(written) => ok_if(write_u32(&mut c, ret, written)),
            Err(errno) => Ok(errno),
        }
    });
    wasi!("fd_readdir", |c,
                         _fd: i32,
                         _buf: i32,
                         _len: i32,
                         _cookie: i64,
                         ret: i32|
     -> R {
        if !write_u32(&mut c, ret, 0) {
            return Ok(FAULT);
        }
        Ok(NOTDIR)
    });
    wasi!("fd_renumber", |c, fd: i32, to: i32| -> R {
        Ok(if std_fd(fd) && std_fd(to) {
            NOTSUP
        } else {
            BADF
        })
    });
    wasi!("fd_sync", |c, fd: i32| -> R {
        Ok(if std_fd(fd) { SUCCESS } else { BADF })
    });
    wasi!("fd_tell", |c, fd: i32, ret: i32| -> R {
        if !std_fd(fd) {
            return Ok(BADF);
        }
        ok_if(write(&mut c, ret, &0u64.to_le_bytes()))
    });
    wasi!("path_create_directory", |c,
                                    _fd: i32,
                                    _p: i32,
                                    _l: i32|
     -> R { Ok(NOTSUP) });
    wasi!("path_filestat_set_times", |c,
                                      _fd: i32,
                                      _flags: i32,
                                      _p: i32,
                                      _l: i32,
                                      _a: i64,
                                      _m: i64,
                                      _f: i32|
     -> R { Ok(NOTSUP) });
    // cpp-host declares path_link and path_symlink with one parameter fewer than WASI preview1; a module
    // importing the preview1 signature fails Envoy's type check, and so it does here.
    wasi!("path_link", |c,
                        _a: i32,
                        _b: i32,
                        _p: i32,
                        _l: i32,
                        _d: i32,
                        _n: i32|
     -> R { Ok(NOTSUP) });
    wasi!("path_readlink", |c,
                            _fd: i32,
                            _p: i32,
                            _l: i32,
                            _b: i32,
                            _bl: i32,
                            ret: i32|
     -> R {
        if !write_u32(&mut c, ret, 0) {
            return Ok(FAULT);
        }
        Ok(NOTSUP)
    });
    wasi!("path_remove_directory", |c,
                                    _fd: i32,
                                    _p: i32,
                                    _l: i32|
     -> R { Ok(NOTSUP) });
    wasi!("path_rename", |c,
                          _fd: i32,
                          _p: i32,
                          _l: i32,
                          _nfd: i32,
                          _np: i32,
                          _nl: i32|
     -> R { Ok(NOTSUP) });
    wasi!("path_symlink", |c,
                           _p: i32,
                           _l: i32,
                           _fd: i32,
                           _np: i32|
     -> R { Ok(NOTSUP) });
    wasi!("path_unlink_file", |c, _fd: i32, _p: i32, _l: i32| -> R {
        Ok(NOTSUP)
    });
    wasi!("sock_accept", |c, _fd: i32, _flags: i32, ret: i32| -> R {
        if !write_u32(&mut c, ret, 0) {
            return Ok(FAULT);
        }
        Ok(NOTSUP)
    });
    wasi!("sock_recv", |c,
                        _fd: i32,
                        _d: i32,
                        _l: i32,
                        _f: i32,
                        ret0: i32,
                        ret1: i32|
     -> R {
        if !write_u32(&mut c, ret0, 0) || !write(&mut c, ret1, &[0, 0]) {
            return Ok(FAULT);
        }
        Ok(NOTSUP)
    });
    wasi!("sock_send", |c,
                        _fd: i32,
                        _d: i32,
                        _l: i32,
                        _f: i32,
                        ret: i32|
     -> R {
        if !write_u32(&mut c, ret, 0) {
            return Ok(FAULT);
        }
        Ok(NOTSUP)
    });
    wasi!("sock_shutdown", |c, _fd: i32, _how: i32| -> R {
        Ok(NOTSUP)
    });
    wasi!("path_filestat_get", |c,
                                _fd: i32,
                                _f: i32,
                                _p: i32,
                                _l: i32,
                                _b: i32|
     -> R { Ok(NOTSUP) });
    wasi!("fd_filestat_get", |c, _fd: i32, _b: i32| -> R { Ok(BADF) });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_have_15_18_and_45_functions() {
        assert_eq!(WasiSet::Set15.size(), 15);
        assert_eq!(WasiSet::Set18.size(), 18);
        assert_eq!(WasiSet::Set45.size(), 45);
        assert!(!WasiSet::Set15.has("clock_res_get"));
        assert!(!WasiSet::Set18.has("clock_res_get"));
        assert!(WasiSet::Set18.has("sched_yield"));
        assert!(WasiSet::Set45.has("clock_res_get"));
    }
}
