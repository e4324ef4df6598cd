//! Loading a plug-in: compile, Envoy's load checks, linking.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::{Config, Engine, ExternType, InstancePre, Linker, Module, Store};

use crate::state::{HostState, Limiter};
use crate::types::{Error, Limits, VmOptions};
use crate::vm::Vm;
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

/// ABI versions Envoy accepts (the marker is a function export of this name).
const ABI_MARKERS: [&str; 3] = [
    "proxy_abi_version_0_2_1",
    "proxy_abi_version_0_2_0",
    "proxy_abi_version_0_1_0",
];

/// What the load check found out about a module.
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    /// The ABI marker export, e.g. `proxy_abi_version_0_2_1`.
    pub abi: String,
    /// The allocator export the host uses (`malloc` or `proxy_on_memory_allocate`).
    pub allocator: String,
    /// Every import as `module.name`.
    pub imports: Vec<String>,
    /// Every export name.
    pub exports: Vec<String>,
    /// WASI imports satisfied by a stub returning ENOSYS.
    pub stubbed: Vec<String>,
    /// Initial and maximum linear memory, in 64 KiB pages.
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

    /// Compiles and load-checks a module from memory (binary or text format).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Plugin, Error> {
        let fail = |message: String| Error::Load {
            plugin: name.to_string(),
            message,
        };
        let module = Module::new(engine(), bytes)
            .map_err(|e| fail(format!("Failed to load Wasm code: {e}")))?;

        let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
        let is_func = |n: &str| matches!(module.get_export(n), Some(ExternType::Func(_)));
        let Some(abi) = ABI_MARKERS.iter().find(|m| is_func(m)) else {
            return Err(fail("Missing or unknown Proxy-Wasm ABI version".into()));
        };

        let mut linker = Linker::new(engine());
        hostcalls::link(&mut linker)
            .map_err(|e| fail(format!("internal error linking host functions: {e}")))?;
        wasi::link(&mut linker).map_err(|e| fail(format!("internal error linking WASI: {e}")))?;
        let defined: HashSet<(String, String)> = {
            let mut store = Store::new(
                engine(),
                HostState::new(name, &VmOptions::default(), Limits::default()),
            );
            linker
                .iter(&mut store)
                .map(|(m, n, _)| (m.to_string(), n.to_string()))
                .collect()
        };
        let mut imports = Vec::new();
        let mut stubbed = Vec::new();
        for import in module.imports() {
            let (m, n) = (import.module(), import.name());
            imports.push(format!("{m}.{n}"));
            if defined.contains(&(m.to_string(), n.to_string())) {
                continue;
            }
            match (wasi::MODULES.contains(&m), import.ty()) {
                (true, ExternType::Func(ty)) if ty.results().len() == 1 => {
                    // cpp-host registers every preview1 function; the ones plug-ins should not need answer ENOSYS
                    linker
                        .func_new(m, n, ty.clone(), |_c, _args, results| {
                            results[0] = wasmtime::Val::I32(wasi::NOSYS);
                            Ok(())
                        })
                        .map_err(|e| fail(format!("internal error stubbing {m}.{n}: {e}")))?;
                    stubbed.push(format!("{m}.{n}"));
                }
                _ => {
                    return Err(fail(format!(
                        "Failed to load Wasm module due to a missing import: {m}.{n}"
                    )))
                }
            }
        }

        let allocator = ["malloc", "proxy_on_memory_allocate"]
            .into_iter()
            .find(|n| match module.get_export(n) {
                Some(ExternType::Func(f)) => {
                    f.params().len() == 1
                        && f.results().len() == 1
                        && f.params().all(|p| p.is_i32())
                        && f.results().all(|p| p.is_i32())
                }
                _ => false,
            })
            .ok_or_else(|| fail("Wasm module is missing malloc function.".into()))?;

        let memory_pages = match module.get_export("memory") {
            Some(ExternType::Memory(m)) => (m.minimum(), m.maximum()),
            _ => {
                return Err(fail(
                    "Wasm module has no exported memory named `memory`".into(),
                ))
            }
        };

        let pre = linker.instantiate_pre(&module).map_err(|e| {
            fail(format!(
                "Failed to load Wasm module due to an import with a wrong signature: {}",
                chain(&e)
            ))
        })?;
        let info = ModuleInfo {
            abi: abi.to_string(),
            allocator: allocator.to_string(),
            imports,
            exports,
            stubbed,
            memory_pages,
            size: bytes.len(),
        };
        Ok(Plugin {
            name: name.to_string(),
            limits: Limits::default(),
            info: Arc::new(info),
            pre,
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

impl HostState {
    pub(crate) fn new(plugin: &str, o: &VmOptions, limits: Limits) -> HostState {
        let mut properties = vec![
            ("plugin_name".to_string(), plugin.as_bytes().to_vec()),
            ("plugin_root_id".to_string(), o.root_id.as_bytes().to_vec()),
            ("plugin_vm_id".to_string(), o.vm_id.as_bytes().to_vec()),
        ];
        for (k, v) in &o.properties {
            properties.retain(|(p, _)| p != k);
            properties.push((k.clone(), v.clone()));
        }
        HostState {
            limiter: Limiter {
                max: limits.memory,
                hit: false,
            },
            memory: None,
            alloc: None,
            root_id: 0,
            vm_id: o.vm_id.clone(),
            effective: 0,
            callback: "",
            logs: Vec::new(),
            log_level: o.log_level,
            clock_ns: o.clock_ns,
            rng: o.seed,
            env: o.env.clone(),
            vm_config: o.vm_config.clone(),
            plugin_config: o.plugin_config.clone(),
            properties,
            stream: None,
            call_answer: None,
            next_token: 0,
            pending_calls: Default::default(),
            calls: Vec::new(),
            status: (0, Vec::new()),
            shared: Default::default(),
            queues: Vec::new(),
            ready_queues: Default::default(),
            metrics: Vec::new(),
            tick_period_ms: 0,
            exit_code: None,
            notes: Vec::new(),
        }
    }
}
