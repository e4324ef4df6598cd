//! `env.*` host functions, linked per ABI version as Envoy does (proxy-wasm-cpp-host
//! `WasmBase::registerCallbacks`), and the guest-memory helpers they share.
//!
//! - `streams`: header maps, bodies, stream control, local responses;
//! - `callouts`: `proxy_http_call`, `proxy_grpc_*`, foreign functions;
//! - `vmwide`: logs, time, ticks, properties, shared data and queues, metrics, effective context.

use wasmtime::{Caller, Linker};

use crate::abi::{AbiVersion, Status};
use crate::state::{HostState, Restriction};

mod callouts;
mod streams;
mod vmwide;

pub(crate) use streams::prepare_local_reply;

pub(crate) type C<'a> = Caller<'a, HostState>;
pub(crate) type R = wasmtime::Result<i32>;

pub(crate) const OK: R = Ok(0);

pub(crate) fn st(s: Status) -> R {
    Ok(s.code())
}

/// Defines a host function that obeys V8's restricted-callback mode: while the VM starts, or while the guest
/// allocator runs for the host, a call outside the allow-list traps with `restricted_callback`
/// (proxy-wasm-cpp-host `src/v8/v8.cc` `isHostFunctionAllowed`).
macro_rules! host_fn {
    ($linker:expr, $module:expr, $name:expr, |$c:ident $(, $arg:ident : $ty:ty)* $(,)?| -> $ret:ty $body:block) => {{
        let module: &'static str = $module;
        let name: &'static str = $name;
        $linker.func_wrap(module, name, move |mut $c: $crate::hostcalls::C<'_> $(, $arg: $ty)*| -> $ret {
            $crate::hostcalls::gate(&mut $c, module, name)?;
            $body
        })
    }};
}
pub(crate) use host_fn;

/// Traps with `restricted_callback` when the running phase does not allow this host call.
pub(crate) fn gate(c: &mut C<'_>, module: &str, name: &str) -> wasmtime::Result<()> {
    let Some(r) = c.data().restricted else {
        return Ok(());
    };
    let allowed = if module == "env" {
        r.allowed
            .iter()
            .any(|a| a.strip_prefix("env.") == Some(name))
    } else {
        r.allowed.contains(&name)
    };
    if allowed {
        return Ok(());
    }
    let list: Vec<String> = r
        .allowed
        .iter()
        .map(|a| {
            if a.starts_with("env.") {
                a.to_string()
            } else {
                format!("wasi.{a}")
            }
        })
        .collect();
    Err(wasmtime::format_err!(
        "restricted_callback: {module}.{name} is not allowed {} (Envoy's default runtime, V8, allows only {})",
        r.during,
        list.join(", ")
    ))
}

pub(crate) fn read(c: &C<'_>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let mem = c.data().memory?;
    let (p, l) = (ptr as u32 as usize, len as u32 as usize);
    mem.data(c).get(p..p.checked_add(l)?).map(<[u8]>::to_vec)
}

pub(crate) fn write(c: &mut C<'_>, ptr: i32, bytes: &[u8]) -> bool {
    let Some(mem) = c.data().memory else {
        return false;
    };
    let p = ptr as u32 as usize;
    match p
        .checked_add(bytes.len())
        .and_then(|end| mem.data_mut(&mut *c).get_mut(p..end))
    {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

pub(crate) fn write_u32(c: &mut C<'_>, ptr: i32, v: u32) -> bool {
    write(c, ptr, &v.to_le_bytes())
}

/// Calls the guest allocator the way Envoy does: under V8's allocator allow-list.
pub(crate) fn allocate(c: &mut C<'_>, len: i32) -> wasmtime::Result<i32> {
    let Some(alloc) = c.data().alloc.clone() else {
        return Ok(0);
    };
    let saved = c.data().restricted;
    let allowed = c.data().wasi.allocator_allowed();
    c.data_mut().restricted = Some(Restriction {
        allowed,
        during: "inside the guest allocator while the host copies data into the module",
    });
    let r = alloc.call(&mut *c, len);
    c.data_mut().restricted = saved;
    r
}

/// Copies `bytes` into guest memory allocated with the plug-in's allocator and stores (ptr, len).
/// Empty data is returned as (0, 0) without allocating (proxy-wasm-cpp-host `copyToPointerSize`).
pub(crate) fn copy_out(c: &mut C<'_>, bytes: &[u8], ret_ptr: i32, ret_len: i32) -> R {
    let mut ptr = 0i32;
    if !bytes.is_empty() {
        let Ok(len) = i32::try_from(bytes.len()) else {
            return st(Status::InvalidMemoryAccess);
        };
        ptr = allocate(c, len)?;
        if ptr == 0 || !write(c, ptr, bytes) {
            return st(Status::InvalidMemoryAccess);
        }
    }
    if !write_u32(c, ret_ptr, ptr as u32) || !write_u32(c, ret_len, bytes.len() as u32) {
        return st(Status::InvalidMemoryAccess);
    }
    OK
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Links the `env` functions of `abi`: the 36 of every version, the version's own, and the two Emscripten
/// helpers Envoy registers for every module.
pub(crate) fn link(linker: &mut Linker<HostState>, abi: AbiVersion) -> wasmtime::Result<()> {
    vmwide::link(linker, abi)?;
    streams::link(linker, abi)?;
    callouts::link(linker)?;
    host_fn!(linker, "env", "pthread_equal", |c, a: i32, b: i32| -> R {
        Ok(i32::from(a == b))
    })?;
    host_fn!(
        linker,
        "env",
        "emscripten_notify_memory_growth",
        |c, _index: i32| -> wasmtime::Result<()> { Ok(()) }
    )?;
    Ok(())
}
