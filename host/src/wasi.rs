//! The WASI preview1 subset plug-ins import, registered under `wasi_snapshot_preview1` and `wasi_unstable`.
//! Deterministic: the clock is the VM's settable clock and `random_get` is a seeded generator.

use wasmtime::Linker;

use crate::hostcalls::{read, write, write_u32, C};
use crate::state::HostState;
use crate::types::LogLevel;

pub(crate) const MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

const SUCCESS: i32 = 0;
const BADF: i32 = 8;
const FAULT: i32 = 21;
const INVAL: i32 = 28;
pub(crate) const NOSYS: i32 = 52;
const SPIPE: i32 = 70;

/// The trap raised by `proc_exit`.
#[derive(Debug)]
pub(crate) struct ProcExit(pub i32);

impl std::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the plug-in called WASI proc_exit({})", self.0)
    }
}

impl std::error::Error for ProcExit {}

fn env_strings(s: &HostState) -> Vec<Vec<u8>> {
    s.env
        .iter()
        .map(|(k, v)| format!("{k}={v}\0").into_bytes())
        .collect()
}

pub(crate) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    for m in MODULES {
        linker.func_wrap(
            m,
            "fd_write",
            |mut c: C<'_>, fd: i32, iovs: i32, n: i32, ret: i32| -> wasmtime::Result<i32> {
                let level = match fd {
                    1 => LogLevel::Info,
                    2 => LogLevel::Error,
                    _ => return Ok(BADF),
                };
                let mut out = Vec::new();
                for i in 0..n.max(0) {
                    let Some(iov) = read(&c, iovs.wrapping_add(i * 8), 8) else {
                        return Ok(FAULT);
                    };
                    let ptr = i32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
                    let len = i32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
                    let Some(data) = read(&c, ptr, len) else {
                        return Ok(FAULT);
                    };
                    out.extend_from_slice(&data);
                }
                let written = out.len() as u32;
                let text = String::from_utf8_lossy(&out);
                let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
                c.data_mut().log(level, text);
                if !write_u32(&mut c, ret, written) {
                    return Ok(FAULT);
                }
                Ok(SUCCESS)
            },
        )?;
        linker.func_wrap(
            m,
            "fd_read",
            |_c: C<'_>, _fd: i32, _iovs: i32, _n: i32, _ret: i32| -> i32 { BADF },
        )?;
        linker.func_wrap(
            m,
            "fd_seek",
            |_c: C<'_>, fd: i32, _off: i64, _wh: i32, _ret: i32| -> i32 {
                if (0..=2).contains(&fd) {
                    SPIPE
                } else {
                    BADF
                }
            },
        )?;
        linker.func_wrap(m, "fd_close", |_c: C<'_>, _fd: i32| -> i32 { BADF })?;
        linker.func_wrap(
            m,
            "fd_prestat_get",
            |_c: C<'_>, _fd: i32, _ret: i32| -> i32 { BADF },
        )?;
        linker.func_wrap(
            m,
            "fd_prestat_dir_name",
            |_c: C<'_>, _fd: i32, _p: i32, _l: i32| -> i32 { BADF },
        )?;
        linker.func_wrap(
            m,
            "fd_fdstat_get",
            |mut c: C<'_>, fd: i32, ret: i32| -> i32 {
                if !(0..=2).contains(&fd) {
                    return BADF;
                }
                // filetype character_device (2), no flags, rights fd_read|fd_write for the std streams
                let mut stat = [0u8; 24];
                stat[0] = 2;
                let rights: u64 = if fd == 0 { 1 << 1 } else { 1 << 6 };
                stat[8..16].copy_from_slice(&rights.to_le_bytes());
                if write(&mut c, ret, &stat) {
                    SUCCESS
                } else {
                    FAULT
                }
            },
        )?;
        linker.func_wrap(
            m,
            "clock_time_get",
            |mut c: C<'_>, id: i32, _precision: i64, ret: i32| -> i32 {
                if !(0..=3).contains(&id) {
                    return INVAL;
                }
                let now = c.data().clock_ns;
                if write(&mut c, ret, &now.to_le_bytes()) {
                    SUCCESS
                } else {
                    FAULT
                }
            },
        )?;
        linker.func_wrap(
            m,
            "clock_res_get",
            |mut c: C<'_>, id: i32, ret: i32| -> i32 {
                if !(0..=3).contains(&id) {
                    return INVAL;
                }
                if write(&mut c, ret, &1u64.to_le_bytes()) {
                    SUCCESS
                } else {
                    FAULT
                }
            },
        )?;
        linker.func_wrap(m, "random_get", |mut c: C<'_>, buf: i32, len: i32| -> i32 {
            let mut bytes = Vec::with_capacity(len.max(0) as usize);
            while bytes.len() < len.max(0) as usize {
                let r = c.data_mut().next_random();
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            bytes.truncate(len.max(0) as usize);
            if write(&mut c, buf, &bytes) {
                SUCCESS
            } else {
                FAULT
            }
        })?;
        linker.func_wrap(
            m,
            "environ_sizes_get",
            |mut c: C<'_>, ret_count: i32, ret_size: i32| -> i32 {
                let strings = env_strings(c.data());
                let size: usize = strings.iter().map(Vec::len).sum();
                if write_u32(&mut c, ret_count, strings.len() as u32)
                    && write_u32(&mut c, ret_size, size as u32)
                {
                    SUCCESS
                } else {
                    FAULT
                }
            },
        )?;
        linker.func_wrap(
            m,
            "environ_get",
            |mut c: C<'_>, ptrs: i32, buf: i32| -> i32 {
                let strings = env_strings(c.data());
                let mut at = buf;
                for (i, s) in strings.iter().enumerate() {
                    if !write_u32(&mut c, ptrs.wrapping_add(4 * i as i32), at as u32)
                        || !write(&mut c, at, s)
                    {
                        return FAULT;
                    }
                    at = at.wrapping_add(s.len() as i32);
                }
                SUCCESS
            },
        )?;
        linker.func_wrap(
            m,
            "args_sizes_get",
            |mut c: C<'_>, ret_count: i32, ret_size: i32| -> i32 {
                if write_u32(&mut c, ret_count, 0) && write_u32(&mut c, ret_size, 0) {
                    SUCCESS
                } else {
                    FAULT
                }
            },
        )?;
        linker.func_wrap(m, "args_get", |_c: C<'_>, _ptrs: i32, _buf: i32| -> i32 {
            SUCCESS
        })?;
        linker.func_wrap(m, "sched_yield", |_c: C<'_>| -> i32 { SUCCESS })?;
        linker.func_wrap(
            m,
            "proc_exit",
            |mut c: C<'_>, code: i32| -> wasmtime::Result<()> {
                c.data_mut().exit_code = Some(code);
                Err(wasmtime::Error::new(ProcExit(code)))
            },
        )?;
    }
    Ok(())
}
