//! A running VM: start-up in Envoy's order, calls into the plug-in under containment, callout answers and
//! queue events, ticks and the clock. HTTP streams are in `http.rs`, TCP connections in `tcp.rs`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use wasmtime::{Func, Instance, Store, Trap, Val};

use crate::abi::{self, AbiVersion};
use crate::plugin::{chain, Plugin, TICK};
use crate::state::{Callout, Delivery, HostState, Restriction};
use crate::types::{
    Error, GrpcAnswer, Headers, LogLevel, LogLine, Outcome, Response, Teardown, VmOptions,
};

/// Most callout answers and queue events delivered after one callback (guards against loops).
const MAX_EVENTS: usize = 1000;

/// What an unscripted gRPC call is answered with.
const UNSCRIPTED_GRPC: (u32, &str) = (
    14,
    "upstream unavailable (no answer scripted for this call)",
);

/// A started plug-in VM (one root context). Send requests through it with [`Vm::request`], TCP connections
/// with [`Vm::connection`], fire ticks with [`Vm::tick`].
pub struct Vm {
    pub(crate) plugin: String,
    pub(crate) abi: AbiVersion,
    limits: crate::types::Limits,
    pub(crate) store: Store<HostState>,
    exports: HashMap<&'static str, Func>,
    pub(crate) root_id: u32,
    pub(crate) next_context: u32,
    pub(crate) teardown: Teardown,
    failed: Option<String>,
    /// Scripted answers to `proxy_http_call`, in call order.
    pub(crate) http_answers: VecDeque<Response>,
    /// Scripted answers to `proxy_grpc_call`, in call order.
    pub(crate) grpc_answers: VecDeque<GrpcAnswer>,
    /// Every callback made, in order (outcomes take their slice).
    pub(crate) trace: Vec<&'static str>,
    /// Properties of every stream (`VmOptions::properties`).
    pub(crate) stream_properties: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("plugin", &self.plugin)
            .field("abi", &self.abi)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// Where an activity (a request, a connection, a round of ticks) started, to cut its records out.
pub(crate) struct Mark {
    logs: usize,
    http: usize,
    grpc: usize,
    trace: usize,
}

impl Vm {
    pub(crate) fn start(plugin: &Plugin, options: VmOptions) -> Result<Vm, Error> {
        let mut vm = Vm::boot(plugin, options)?;
        vm.start_root()?;
        Ok(vm)
    }

    /// Instantiates the module and runs its start functions (`_initialize`/`main` or `_start`).
    pub(crate) fn boot(plugin: &Plugin, options: VmOptions) -> Result<Vm, Error> {
        let state = HostState::new(&plugin.name, &options, plugin.limits, &plugin.info);
        let mut store = Store::new(crate::plugin::engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks(plugin.limits.cpu));
        let mut vm = Vm {
            plugin: plugin.name.clone(),
            abi: plugin.info.abi_version,
            limits: plugin.limits,
            store,
            exports: HashMap::new(),
            root_id: 1,
            next_context: 2,
            teardown: options.teardown,
            failed: None,
            http_answers: VecDeque::new(),
            grpc_answers: VecDeque::new(),
            trace: Vec::new(),
            stream_properties: options.properties.clone(),
        };
        let instance = match plugin.pre.instantiate(&mut vm.store) {
            Ok(i) => i,
            Err(e) => return Err(vm.classify("instantiation", e)),
        };
        vm.bind(instance, &plugin.info.allocator);

        // VM start, context id 0, under V8's start-up allow-list (proxy-wasm-cpp-host `startVm`)
        let startup = Restriction {
            allowed: plugin.info.wasi.startup_allowed(),
            during: "while the VM starts (_initialize/main)",
        };
        vm.store.data_mut().restricted = Some(startup);
        let started = vm.start_vm();
        vm.store.data_mut().restricted = None;
        started?;
        Ok(vm)
    }

    fn start_root(&mut self) -> Result<(), Error> {
        let vm = self;
        // root context: create, vm_start, configure (proxy-wasm-cpp-host `ContextBase::onStart/onConfigure`)
        let root = vm.root_id as i32;
        let (vm_len, cfg_len) = {
            let s = vm.store.data_mut();
            s.root_id = root as u32;
            (s.vm_config.len() as i32, s.plugin_config.len() as i32)
        };
        vm.call("proxy_on_context_create", root as u32, &[root, 0])?;
        let started = vm.call("proxy_on_vm_start", root as u32, &[root, vm_len])?;
        vm.drain()?;
        if started == Some(0) {
            return Err(Error::VmStartFailed {
                plugin: vm.plugin.clone(),
            });
        }
        vm.store.data_mut().configuring = true;
        let configured = vm.call("proxy_on_configure", root as u32, &[root, cfg_len]);
        vm.store.data_mut().configuring = false;
        let configured = configured?;
        vm.drain()?;
        if configured == Some(0) {
            let detail = vm
                .logs()
                .iter()
                .rev()
                .find(|l| l.level >= LogLevel::Error)
                .map(|l| format!(": {}", l.message))
                .unwrap_or_default();
            return Err(Error::ConfigRejected {
                plugin: vm.plugin.clone(),
                detail,
                logs: vm.logs().to_vec(),
            });
        }
        Ok(())
    }

    fn start_vm(&mut self) -> Result<(), Error> {
        if self.exports.contains_key("_initialize") {
            self.call("_initialize", 0, &[])?;
            if self.exports.contains_key("main") {
                self.call("main", 0, &[0, 0])?;
            } else if self.exports.contains_key("__main_void") {
                self.call("__main_void", 0, &[])?;
            }
        } else {
            self.call("_start", 0, &[])?;
        }
        Ok(())
    }

    fn bind(&mut self, instance: Instance, allocator: &str) {
        let memory = instance.get_memory(&mut self.store, "memory");
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut self.store, allocator)
            .ok();
        // the load check refused wrong signatures, so every export of a known name is callable
        for (name, _, _) in abi::callbacks(self.abi) {
            if let Some(f) = instance.get_func(&mut self.store, name) {
                self.exports.insert(name, f);
            }
        }
        let s = self.store.data_mut();
        s.memory = memory;
        s.alloc = alloc;
    }

    /// Calls an export on context `ctx` under the CPU limit. `Ok(None)`: the plug-in does not export it.
    pub(crate) fn call(
        &mut self,
        name: &'static str,
        ctx: u32,
        args: &[i32],
    ) -> Result<Option<i32>, Error> {
        if let Some(first) = &self.failed {
            return Err(Error::Failed {
                plugin: self.plugin.clone(),
                first: first.clone(),
            });
        }
        let Some(&func) = self.exports.get(name) else {
            return Ok(None);
        };
        let has_result = func.ty(&self.store).results().len() == 1;
        if name.starts_with("proxy_on_") {
            self.trace.push(name);
        }
        let params: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
        let mut results = [Val::I32(0)];
        self.store.set_epoch_deadline(ticks(self.limits.cpu));
        let logs_before = self.store.data().logs.len();
        let saved = {
            let s = self.store.data_mut();
            let saved = (s.current, s.effective, s.callback);
            s.current = ctx;
            s.effective = 0;
            s.callback = name;
            s.limiter.hit = false;
            saved
        };
        let n = usize::from(has_result);
        let r = func.call(&mut self.store, &params, &mut results[..n]);
        {
            // calls nest (the allocator inside a host call): restore the outer call's context
            let s = self.store.data_mut();
            (s.current, s.effective, s.callback) = saved;
        }
        match r {
            Ok(()) => Ok(Some(if has_result {
                results[0].i32().unwrap_or(0)
            } else {
                0
            })),
            Err(e) => {
                let mut err = self.classify(name, e);
                if let Error::Trap { reason, .. } = &mut err {
                    let logs = &self.store.data().logs;
                    if let Some(l) = logs
                        .get(logs_before.min(logs.len())..)
                        .and_then(|new| new.iter().rev().find(|l| l.level >= LogLevel::Error))
                    {
                        reason.push_str(&format!(" (last plug-in log: {})", l.message));
                    }
                }
                self.failed = Some(err.to_string());
                Err(err)
            }
        }
    }

    fn classify(&self, callback: &'static str, e: wasmtime::Error) -> Error {
        let plugin = self.plugin.clone();
        if self.store.data().limiter.hit {
            return Error::MemoryLimit {
                plugin,
                callback,
                limit: self.limits.memory,
            };
        }
        if let Some(trap) = e.downcast_ref::<Trap>() {
            if *trap == Trap::Interrupt {
                return Error::CpuLimit {
                    plugin,
                    callback,
                    limit: self.limits.cpu,
                };
            }
            return Error::Trap {
                plugin,
                callback,
                reason: trap.to_string(),
            };
        }
        // a host function's error (restricted_callback, the allocator failing inside a host call): its own
        // message, without the wasm backtrace wasmtime wraps it in
        let reason = if e.downcast_ref::<wasmtime::WasmBacktrace>().is_some() {
            e.root_cause().to_string()
        } else {
            chain(&e)
        };
        Error::Trap {
            plugin,
            callback,
            reason,
        }
    }

    /// Delivers pending callout answers and queue notifications to the root context, as Envoy does once the
    /// callback that made them has returned.
    pub(crate) fn drain(&mut self) -> Result<(), Error> {
        let root = self.root_id;
        for _ in 0..MAX_EVENTS {
            let s = self.store.data_mut();
            if let Some(callout) = s.pending.pop_front() {
                match callout {
                    Callout::Http { token, record } => self.deliver_http(token, record)?,
                    Callout::Grpc { token, record } => self.deliver_grpc(token, record)?,
                }
                continue;
            }
            if let Some(q) = s.ready_queues.pop_front() {
                self.call("proxy_on_queue_ready", root, &[root as i32, q as i32])?;
                continue;
            }
            return Ok(());
        }
        Err(Error::Host {
            plugin: self.plugin.clone(),
            message: format!(
                "more than {MAX_EVENTS} callout answers or queue events in a row; is the plug-in looping?"
            ),
        })
    }

    /// Envoy's `onHttpCallSuccess` / `onHttpCallFailure`: `proxy_on_http_call_response(root, token, headers,
    /// body, trailers)`, or `(root, token, 0, 0, 0)` with status (11 BrokenConnection, "reset").
    fn deliver_http(&mut self, token: u32, record: usize) -> Result<(), Error> {
        let root = self.root_id;
        let answer = self.http_answers.pop_front();
        let s = self.store.data_mut();
        let args = match &answer {
            Some(a) => {
                s.http_calls[record].answered = true;
                [
                    root as i32,
                    token as i32,
                    a.headers.len() as i32,
                    a.body.len() as i32,
                    a.trailers.as_ref().map_or(0, Headers::len) as i32,
                ]
            }
            None => {
                s.status = (11, b"reset".to_vec());
                [root as i32, token as i32, 0, 0, 0]
            }
        };
        s.delivering = answer.map(Delivery::Http);
        let r = self.call("proxy_on_http_call_response", root, &args);
        let s = self.store.data_mut();
        s.delivering = None;
        s.status.1.clear();
        r.map(|_| ())
    }

    /// Envoy's unary `GrpcCallClientHandler`: success is `proxy_on_grpc_receive(root, token, len)` with the
    /// message in buffer 5; failure is `proxy_on_grpc_close(root, token, status)` with `proxy_get_status`
    /// answering (status, message). Nothing else is called.
    fn deliver_grpc(&mut self, token: u32, record: usize) -> Result<(), Error> {
        let root = self.root_id;
        let answer = self
            .grpc_answers
            .pop_front()
            .unwrap_or_else(|| GrpcAnswer::error(UNSCRIPTED_GRPC.0, UNSCRIPTED_GRPC.1));
        let s = self.store.data_mut();
        s.grpc_calls[record].answer = Some(answer.clone());
        let r = match answer {
            GrpcAnswer::Ok(message) => {
                let len = message.len() as i32;
                s.delivering = Some(Delivery::Grpc(message));
                self.call(
                    "proxy_on_grpc_receive",
                    root,
                    &[root as i32, token as i32, len],
                )
            }
            GrpcAnswer::Error { status, message } => {
                s.status = (status, message.into_bytes());
                self.call(
                    "proxy_on_grpc_close",
                    root,
                    &[root as i32, token as i32, status as i32],
                )
            }
        };
        let s = self.store.data_mut();
        s.delivering = None;
        s.status.1.clear();
        r.map(|_| ())
    }

    /// Queues an answer for the plug-in's next `proxy_http_call` (answers are used in call order, by
    /// requests and ticks alike; a call without one fails as a reset).
    pub fn answer_http_call(&mut self, response: Response) {
        self.http_answers.push_back(response);
    }

    /// Queues an answer for the plug-in's next `proxy_grpc_call` (a call without one fails with status 14,
    /// UNAVAILABLE).
    pub fn answer_grpc_call(&mut self, answer: GrpcAnswer) {
        self.grpc_answers.push_back(answer);
    }

    pub(crate) fn mark(&mut self) -> Mark {
        // no activity runs between two marks: bound what long runs (the battery's 10,000 requests) keep
        if self.trace.len() > 10_000 {
            self.trace.clear();
        }
        let s = self.store.data_mut();
        if s.http_calls.len() > 10_000 {
            s.http_calls.clear();
        }
        if s.grpc_calls.len() > 10_000 {
            s.grpc_calls.clear();
        }
        Mark {
            logs: s.logs.len(),
            http: s.http_calls.len(),
            grpc: s.grpc_calls.len(),
            trace: self.trace.len(),
        }
    }

    /// The logs, callouts and callbacks since `mark`, into `out`.
    pub(crate) fn collect(&mut self, mark: &Mark, out: &mut Outcome) {
        let s = self.store.data_mut();
        out.logs = s.logs[mark.logs.min(s.logs.len())..].to_vec();
        out.http_calls = s.http_calls[mark.http.min(s.http_calls.len())..].to_vec();
        out.grpc_calls = s.grpc_calls[mark.grpc.min(s.grpc_calls.len())..].to_vec();
        out.callbacks = self.trace[mark.trace.min(self.trace.len())..].to_vec();
        // the activity is over: unanswered callouts die with it (Envoy cancels them with the context)
        s.pending.retain(|_| false);
    }

    /// Fires `proxy_on_tick` once on the root context, after moving the clock by the tick period (as
    /// Envoy's timer would), then delivers the answers to any callouts it made.
    pub fn tick(&mut self) -> Result<Outcome, Error> {
        let mark = self.mark();
        let period = self.store.data().tick_period_ms;
        self.store.data_mut().clock.advanced_ns += u64::from(period) * 1_000_000;
        let root = self.root_id;
        self.call("proxy_on_tick", root, &[root as i32])?;
        self.drain()?;
        let mut out = Outcome::default();
        self.collect(&mark, &mut out);
        Ok(out)
    }

    /// The tick period the plug-in asked for (0: none).
    pub fn tick_period(&self) -> Duration {
        Duration::from_millis(u64::from(self.store.data().tick_period_ms))
    }

    /// Moves the clock forward (in real time too: it then reads the system time plus everything advanced).
    pub fn advance_clock(&mut self, by: Duration) {
        self.store.data_mut().clock.advanced_ns += by.as_nanos() as u64;
    }

    /// What `proxy_get_current_time_nanoseconds` answers now.
    pub fn now_ns(&self) -> u64 {
        self.store.data().clock.now_ns()
    }

    /// Every log the VM captured (start, configure, requests, ticks), in order.
    pub fn logs(&self) -> &[LogLine] {
        &self.store.data().logs
    }

    /// Things the host noticed (refused callouts, host calls on the wrong context, Envoy's trace-level
    /// messages ...).
    pub fn notes(&self) -> &[String] {
        &self.store.data().notes
    }

    /// Current linear memory size in bytes.
    pub fn memory_size(&self) -> usize {
        self.store
            .data()
            .memory
            .map_or(0, |m| m.data_size(&self.store))
    }

    /// A counter's or gauge's value by the name the plug-in defined it with (a histogram: its number of
    /// samples).
    pub fn metric(&self, name: &str) -> Option<i64> {
        self.store
            .data()
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| match m.kind {
                crate::state::MetricKind::Histogram => m.samples.len() as i64,
                _ => m.value,
            })
    }

    /// A histogram's recorded samples, in order.
    pub fn histogram(&self, name: &str) -> Option<Vec<u64>> {
        self.store
            .data()
            .metrics
            .iter()
            .find(|m| m.name == name && m.kind == crate::state::MetricKind::Histogram)
            .map(|m| m.samples.clone())
    }

    /// Every metric the plug-in defined: (name, value); histograms give their number of samples.
    pub fn metrics(&self) -> Vec<(String, i64)> {
        self.store
            .data()
            .metrics
            .iter()
            .map(|m| {
                let v = match m.kind {
                    crate::state::MetricKind::Histogram => m.samples.len() as i64,
                    _ => m.value,
                };
                (m.name.clone(), v)
            })
            .collect()
    }

    /// A shared-data value by key.
    pub fn shared_data(&self, key: &str) -> Option<Vec<u8>> {
        self.store
            .data()
            .shared
            .get(key.as_bytes())
            .map(|(v, _)| v.clone())
    }

    /// Sets a shared-data value, as another VM of the gateway would.
    pub fn set_shared_data(&mut self, key: &str, value: impl AsRef<[u8]>) {
        let s = self.store.data_mut();
        s.next_cas = s.next_cas.wrapping_add(1).max(1);
        let cas = s.next_cas;
        s.shared
            .insert(key.as_bytes().to_vec(), (value.as_ref().to_vec(), cas));
    }

    /// The first failure, if the VM is unusable.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    pub(crate) fn check_usable(&self) -> Result<(), Error> {
        match &self.failed {
            Some(first) => Err(Error::Failed {
                plugin: self.plugin.clone(),
                first: first.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The plug-in's name.
    pub fn plugin_name(&self) -> &str {
        &self.plugin
    }

    /// The ABI version the plug-in declared.
    pub fn abi(&self) -> AbiVersion {
        self.abi
    }
}

fn ticks(cpu: Duration) -> u64 {
    (cpu.as_millis() / TICK.as_millis()).max(1) as u64 + 1
}
