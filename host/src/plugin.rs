//! Loading a plug-in: compile, then Envoy's load checks in Envoy's order, then link.
//!
//! Facts (proxy-wasm-cpp-host `src/wasm.cc` `WasmBase::load`/`initialize`/`getFunctions`,
//! `src/bytecode_util.cc` `getAbiVersion`, `src/v8/v8.cc` `link`/`getModuleFunctionImpl`):
//! 1. the ABI is the first *function* export named `proxy_abi_version_0_1_0`, `_0_2_0` or `_0_2_1`; none:
//!    `Missing or unknown Proxy-Wasm ABI version` (and nothing else is checked);
//! 2. every import must be a host function of this ABI or of the host's WASI set, with the same signature:
//!    `Failed to load Wasm module due to a missing import: <module>.<name>` or `... due to an import type
//!    mismatch: <module>.<name>, want: <types> -> <types>, but host exports: <types> -> <types>` (the first
//!    such import stops the load);
//! 3. the allocator is `malloc`, else `proxy_on_memory_allocate`: `Wasm module is missing malloc
//!    function.`; an export named like a callback but with another signature is refused by V8, Envoy's
//!    default runtime: `Bad function signature for: <name>, want: ..., but the module exports: ...` (all of
//!    these are logged).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::{Config, Engine, Extern, ExternType, InstancePre, Linker, Module, Store};

use crate::abi::{self, AbiVersion};
use crate::state::HostState;
use crate::types::{Error, Limits, VmOptions};
use crate::vm::Vm;
use crate::wasi::WasiSet;
use crate::{hostcalls, wasi};

/// Epoch tick used for CPU limits.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// The one engine of the process, with a background thread advancing its epoch every [`TICK`].
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).expect("the default wasmtime configuration is valid");
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("pwhost-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(TICK);
                ticker.increment_epoch();
            })
            .expect("spawning the epoch thread");
        engine
    })
}

/// What the load check found out about a module.
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    /// The ABI marker export, e.g. `proxy_abi_version_0_2_1`.
    pub abi: String,
    /// The ABI version the marker declares.
    pub abi_version: AbiVersion,
    /// The host generation's WASI set the module was linked against.
    pub wasi: WasiSet,
    /// The allocator export the host uses (`malloc` or `proxy_on_memory_allocate`).
    pub allocator: String,
    /// Every import as `module.name`.
    pub imports: Vec<String>,
    /// Every export name.
    pub exports: Vec<String>,
    /// Initial and maximum linear memory, in 64 KiB pages (`(0, None)` without an exported memory).
    pub memory_pages: (u64, Option<u64>),
    /// Size of the module file in bytes.
    pub size: usize,
}

/// A compiled, load-checked plug-in. Cheap to clone; start any number of VMs from it.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) name: String,
    pub(crate) limits: Limits,
    pub(crate) info: Arc<ModuleInfo>,
    pub(crate) module: Module,
    pub(crate) pre: InstancePre<HostState>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("info", &self.info)
            .finish()
    }
}

/// The result of Envoy's load checks on a module: what it found, or every refusal Envoy would log. Envoy
/// starts the VM when it loads the module, so a trap in `_initialize`/`main` (such as V8's
/// `restricted_callback`) is a refusal too: `Function: _initialize failed: ...` (cpp-host
/// `V8::getFailMessage`).
pub fn check(bytes: &[u8], wasi: WasiSet) -> Result<ModuleInfo, Vec<String>> {
    let module = compile(bytes)?;
    let (info, pre) = check_module(&module, bytes.len(), wasi)?;
    let plugin = Plugin {
        name: "check".into(),
        limits: Limits::default(),
        info: Arc::new(info.clone()),
        module,
        pre,
    };
    match Vm::boot(&plugin, VmOptions::default()) {
        Err(Error::Trap {
            callback, reason, ..
        }) => Err(vec![format!("Function: {callback} failed: {reason}")]),
        Err(e) => Err(vec![e.to_string()]),
        Ok(_) => Ok(info),
    }
}

fn compile(bytes: &[u8]) -> Result<Module, Vec<String>> {
    Module::new(engine(), bytes).map_err(|e| vec![format!("Failed to load Wasm bytecode: {e}")])
}

fn signature(ty: &wasmtime::FuncType) -> (String, String) {
    (
        abi::print_types(ty.params()),
        abi::print_types(ty.results()),
    )
}

fn check_module(
    module: &Module,
    size: usize,
    wasi: WasiSet,
) -> Result<(ModuleInfo, InstancePre<HostState>), Vec<String>> {
    let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    let Some((marker, abi_version)) = module.exports().find_map(|e| match e.ty() {
        ExternType::Func(_) => AbiVersion::ALL
            .iter()
            .find(|(m, _)| *m == e.name())
            .copied(),
        _ => None,
    }) else {
        return Err(vec!["Missing or unknown Proxy-Wasm ABI version".into()]);
    };

    let internal = |what: &str, e: wasmtime::Error| vec![format!("internal error {what}: {e}")];
    let mut linker = Linker::new(engine());
    hostcalls::link(&mut linker, abi_version).map_err(|e| internal("linking host functions", e))?;
    wasi::link(&mut linker, wasi).map_err(|e| internal("linking WASI", e))?;
    let defined: HashMap<(String, String), (String, String)> = {
        let mut store = Store::new(engine(), HostState::probe(wasi));
        let funcs: Vec<(String, String, wasmtime::Func)> = linker
            .iter(&mut store)
            .filter_map(|(m, n, ext)| match ext {
                Extern::Func(f) => Some((m.to_string(), n.to_string(), f)),
                _ => None,
            })
            .collect();
        funcs
            .into_iter()
            .map(|(m, n, f)| ((m, n), signature(&f.ty(&store))))
            .collect()
    };

    let mut imports = Vec::new();
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        imports.push(format!("{m}.{n}"));
        let (ExternType::Func(ty), Some(host)) =
            (import.ty(), defined.get(&(m.to_string(), n.to_string())))
        else {
            return Err(vec![format!(
                "Failed to load Wasm module due to a missing import: {m}.{n}"
            )]);
        };
        let want = signature(&ty);
        if want != *host {
            return Err(vec![format!(
                "Failed to load Wasm module due to an import type mismatch: {m}.{n}, want: {} -> {}, but host \
                 exports: {} -> {}",
                want.0, want.1, host.0, host.1
            )]);
        }
    }

    // getFunctions: every callback Envoy looks up must have its signature
    let mut refusals = Vec::new();
    let table = abi::callbacks(abi_version);
    let has_initialize = matches!(module.get_export("_initialize"), Some(ExternType::Func(_)));
    // V8 refuses an export named like a callback with another signature
    let usable = |name: &str, refusals: &mut Vec<String>| -> bool {
        let Some((_, params, result)) = table.iter().find(|(n, _, _)| *n == name) else {
            return false;
        };
        let Some(ExternType::Func(f)) = module.get_export(name) else {
            return false;
        };
        let want = (
            abi::print_types(std::iter::repeat_n(wasmtime::ValType::I32, *params)),
            abi::print_types(std::iter::repeat_n(
                wasmtime::ValType::I32,
                usize::from(*result),
            )),
        );
        let got = signature(&f);
        if got != want {
            refusals.push(format!(
                "Bad function signature for: {name}, want: {} -> {}, but the module exports: {} -> {}",
                want.0, want.1, got.0, got.1
            ));
            return false;
        }
        true
    };
    if has_initialize {
        usable("_initialize", &mut refusals);
        usable("main", &mut refusals);
        usable("__main_void", &mut refusals);
    } else {
        usable("_start", &mut refusals);
    }
    let allocator = if usable("malloc", &mut refusals) {
        Some("malloc")
    } else if usable("proxy_on_memory_allocate", &mut refusals) {
        Some("proxy_on_memory_allocate")
    } else {
        None
    };
    if allocator.is_none() {
        refusals.push("Wasm module is missing malloc function.".into());
    }
    for (name, _, _) in &table {
        if name.starts_with("proxy_on_") && *name != "proxy_on_memory_allocate" {
            usable(name, &mut refusals);
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }

    let memory_pages = match module.get_export("memory") {
        Some(ExternType::Memory(m)) => (m.minimum(), m.maximum()),
        _ => (0, None),
    };
    let pre = linker
        .instantiate_pre(module)
        .map_err(|e| internal("preparing the instance", e))?;
    let info = ModuleInfo {
        abi: marker.to_string(),
        abi_version,
        wasi,
        allocator: allocator.unwrap_or_default().to_string(),
        imports,
        exports,
        memory_pages,
        size,
    };
    Ok((info, pre))
}

impl Plugin {
    /// Reads, compiles and load-checks a `.wasm` (or `.wat`) file; the plug-in is named after the file stem.
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin, Error> {
        let path = path.as_ref();
        let name = path.file_stem().map_or_else(
            || "plugin".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        Plugin::load_as(&name, path)
    }

    /// Like [`Plugin::load`], naming the plug-in `name` (also in load errors).
    pub fn load_as(name: &str, path: impl AsRef<Path>) -> Result<Plugin, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Plugin::from_bytes(name, &bytes)
    }

    /// Compiles and load-checks a module from memory (binary or text format) against the default WASI set
    /// (the oldest Envoy host generation still shipped; see [`Plugin::with_wasi`]).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Plugin, Error> {
        let fail = |mut refusals: Vec<String>| Error::Load {
            plugin: name.to_string(),
            message: refusals.swap_remove(0),
        };
        let module = compile(bytes).map_err(fail)?;
        let (info, pre) = check_module(&module, bytes.len(), WasiSet::default()).map_err(fail)?;
        Ok(Plugin {
            name: name.to_string(),
            limits: Limits::default(),
            info: Arc::new(info),
            module,
            pre,
        })
    }

    /// Re-links the plug-in against another Envoy host generation's WASI set (and its start-up
    /// allow-list); fails as that gateway would.
    pub fn with_wasi(self, wasi: WasiSet) -> Result<Plugin, Error> {
        let (info, pre) =
            check_module(&self.module, self.info.size, wasi).map_err(|mut r| Error::Load {
                plugin: self.name.clone(),
                message: r.swap_remove(0),
            })?;
        Ok(Plugin {
            info: Arc::new(info),
            pre,
            ..self
        })
    }

    /// Renames the plug-in (the name appears in every error).
    pub fn named(mut self, name: &str) -> Plugin {
        self.name = name.to_string();
        self
    }

    /// Sets the CPU and memory limits of VMs started afterwards.
    pub fn with_limits(mut self, limits: Limits) -> Plugin {
        self.limits = limits;
        self
    }

    /// The plug-in's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the load check found.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// Starts a VM with this plug-in configuration (JSON text or any bytes): `_initialize`, root context,
    /// `proxy_on_vm_start`, `proxy_on_configure`.
    pub fn start(&self, config: impl AsRef<[u8]>) -> Result<Vm, Error> {
        self.start_with(VmOptions {
            plugin_config: config.as_ref().to_vec(),
            ..VmOptions::default()
        })
    }

    /// Starts a VM with full options.
    pub fn start_with(&self, options: VmOptions) -> Result<Vm, Error> {
        Vm::start(self, options)
    }
}

pub(crate) fn chain(e: &wasmtime::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `env` functions each ABI links: the 36 common ones, the version's own, the two Emscripten helpers.
    #[test]
    fn env_functions_follow_register_callbacks() {
        for abi in [AbiVersion::V0_1_0, AbiVersion::V0_2_0, AbiVersion::V0_2_1] {
            let mut linker = Linker::new(engine());
            hostcalls::link(&mut linker, abi).unwrap();
            let mut store = Store::new(engine(), HostState::probe(WasiSet::default()));
            let mut names: Vec<String> = linker
                .iter(&mut store)
                .map(|(_, n, _)| n.to_string())
                .collect();
            names.sort();
            let specific = abi.specific_imports();
            assert_eq!(names.len(), 36 + specific.len() + 2, "{abi:?}: {names:?}");
            for s in specific {
                assert!(names.iter().any(|n| n == s), "{abi:?} lacks {s}");
            }
            for other in [
                "proxy_get_configuration",
                "proxy_continue_stream",
                "proxy_get_log_level",
            ] {
                if !specific.contains(&other) {
                    assert!(!names.iter().any(|n| n == other), "{abi:?} links {other}");
                }
            }
        }
    }
}
