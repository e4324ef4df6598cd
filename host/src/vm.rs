//! A running VM: the root context, HTTP streams in Envoy's order, containment.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use wasmtime::{Func, Instance, Store, Trap, Val};

use crate::plugin::{chain, Plugin, TICK};
use crate::state::{HostState, Stream};
use crate::types::{
    Error, Headers, LocalResponse, LogLevel, LogLine, Message, Outcome, Request, Response,
    Teardown, VmOptions,
};
use crate::wasi::ProcExit;

/// Callback exports and their (parameter count, has result). An export with another signature is
/// treated as absent, as Envoy does.
const CALLBACKS: &[(&str, usize, bool)] = &[
    ("_initialize", 0, false),
    ("_start", 0, false),
    ("main", 2, true),
    ("__main_void", 0, true),
    ("proxy_on_context_create", 2, false),
    ("proxy_on_vm_start", 2, true),
    ("proxy_on_configure", 2, true),
    ("proxy_on_done", 1, true),
    ("proxy_on_log", 1, false),
    ("proxy_on_delete", 1, false),
    ("proxy_on_tick", 1, false),
    ("proxy_on_queue_ready", 2, false),
    ("proxy_on_request_headers", 3, true),
    ("proxy_on_request_body", 3, true),
    ("proxy_on_request_trailers", 2, true),
    ("proxy_on_response_headers", 3, true),
    ("proxy_on_response_body", 3, true),
    ("proxy_on_response_trailers", 2, true),
    ("proxy_on_http_call_response", 5, false),
];

/// Most http-call answers and queue events delivered after one callback (guards against loops).
const MAX_EVENTS: usize = 1000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

impl Dir {
    fn names(self) -> [&'static str; 3] {
        match self {
            Dir::Request => [
                "proxy_on_request_headers",
                "proxy_on_request_body",
                "proxy_on_request_trailers",
            ],
            Dir::Response => [
                "proxy_on_response_headers",
                "proxy_on_response_body",
                "proxy_on_response_trailers",
            ],
        }
    }
}

#[derive(Clone, Copy)]
enum Piece {
    Headers,
    Body,
    Trailers,
}

/// How a direction of the stream ended.
enum Flow {
    Done,
    LocalResponse,
    /// Stopped at this callback and never resumed.
    Paused(&'static str, bool),
    Closed,
}

/// A started plug-in VM (one root context). Send requests through it with [`Vm::request`].
pub struct Vm {
    plugin: String,
    limits: crate::types::Limits,
    store: Store<HostState>,
    exports: HashMap<&'static str, (Func, bool)>,
    root_id: u32,
    next_stream: u32,
    teardown: Teardown,
    failed: Option<String>,
    answers: VecDeque<Response>,
}

impl Vm {
    pub(crate) fn start(plugin: &Plugin, options: VmOptions) -> Result<Vm, Error> {
        let state = HostState::new(&plugin.name, &options, plugin.limits);
        let mut store = Store::new(crate::plugin::engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(ticks(plugin.limits.cpu));
        let mut vm = Vm {
            plugin: plugin.name.clone(),
            limits: plugin.limits,
            store,
            exports: HashMap::new(),
            root_id: 1,
            next_stream: 2,
            teardown: options.teardown,
            failed: None,
            answers: VecDeque::new(),
        };
        let instance = match plugin.pre.instantiate(&mut vm.store) {
            Ok(i) => i,
            Err(e) => return Err(vm.classify("instantiation", e)),
        };
        vm.bind(instance, &plugin.info.allocator);

        // VM start: context id 0
        if vm.exports.contains_key("_initialize") {
            vm.call("_initialize", &[])?;
            if vm.exports.contains_key("main") {
                vm.call("main", &[0, 0])?;
            } else if vm.exports.contains_key("__main_void") {
                vm.call("__main_void", &[])?;
            }
        } else {
            vm.call("_start", &[])?;
        }

        // root context
        let root = vm.root_id as i32;
        let (vm_len, cfg_len) = {
            let s = vm.store.data_mut();
            s.root_id = root as u32;
            s.effective = root as u32;
            (s.vm_config.len() as i32, s.plugin_config.len() as i32)
        };
        vm.call("proxy_on_context_create", &[root, 0])?;
        let started = vm.call("proxy_on_vm_start", &[root, vm_len])?;
        vm.drain()?;
        if started == Some(0) {
            return Err(Error::VmStartFailed {
                plugin: vm.plugin.clone(),
            });
        }
        let configured = vm.call("proxy_on_configure", &[root, cfg_len])?;
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
        Ok(vm)
    }

    fn bind(&mut self, instance: Instance, allocator: &str) {
        let memory = instance.get_memory(&mut self.store, "memory");
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut self.store, allocator)
            .ok();
        for &(name, params, result) in CALLBACKS {
            let Some(f) = instance.get_func(&mut self.store, name) else {
                continue;
            };
            let ty = f.ty(&self.store);
            let ok = ty.params().len() == params
                && ty.params().all(|p| p.is_i32())
                && ty.results().len() == usize::from(result)
                && ty.results().all(|r| r.is_i32());
            if ok {
                self.exports.insert(name, (f, result));
            }
        }
        let s = self.store.data_mut();
        s.memory = memory;
        s.alloc = alloc;
    }

    /// Calls an export under the CPU limit. `Ok(None)`: the plug-in does not export it.
    fn call(&mut self, name: &'static str, args: &[i32]) -> Result<Option<i32>, Error> {
        if let Some(first) = &self.failed {
            return Err(Error::Failed {
                plugin: self.plugin.clone(),
                first: first.clone(),
            });
        }
        let Some(&(func, has_result)) = self.exports.get(name) else {
            return Ok(None);
        };
        let params: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
        let mut results = [Val::I32(0)];
        self.store.set_epoch_deadline(ticks(self.limits.cpu));
        let logs_before = self.store.data().logs.len();
        {
            let s = self.store.data_mut();
            s.callback = name;
            s.limiter.hit = false;
        }
        let n = usize::from(has_result);
        match func.call(&mut self.store, &params, &mut results[..n]) {
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
        if let Some(exit) = e.downcast_ref::<ProcExit>() {
            return Error::Trap {
                plugin,
                callback,
                reason: exit.to_string(),
            };
        }
        Error::Trap {
            plugin,
            callback,
            reason: chain(&e),
        }
    }

    /// Delivers pending http-call answers and queue notifications to the root context.
    fn drain(&mut self) -> Result<(), Error> {
        let root = self.root_id as i32;
        for _ in 0..MAX_EVENTS {
            let s = self.store.data_mut();
            if let Some(call) = s.pending_calls.pop_front() {
                let answer = self.answers.pop_front();
                let s = self.store.data_mut();
                let args = match &answer {
                    Some(a) => {
                        s.calls[call.record].answered = true;
                        s.status = (0, Vec::new());
                        [
                            root,
                            call.token as i32,
                            a.headers.len() as i32,
                            a.body.len() as i32,
                            a.trailers.as_ref().map_or(0, Headers::len) as i32,
                        ]
                    }
                    None => {
                        s.status = (11, b"reset".to_vec());
                        [root, call.token as i32, 0, 0, 0]
                    }
                };
                s.call_answer = answer;
                let r = self.call("proxy_on_http_call_response", &args);
                let s = self.store.data_mut();
                s.call_answer = None;
                s.effective = s.stream.as_ref().map_or(s.root_id, |x| x.id);
                r?;
                continue;
            }
            if let Some(q) = s.ready_queues.pop_front() {
                self.call("proxy_on_queue_ready", &[root, q as i32])?;
                continue;
            }
            return Ok(());
        }
        Err(Error::Host {
            plugin: self.plugin.clone(),
            message: format!("more than {MAX_EVENTS} http calls or queue events in a row; is the plug-in looping?"),
        })
    }

    /// Prepares a request; finish with [`Exchange::run`].
    pub fn request(&mut self, request: Request) -> Exchange<'_> {
        Exchange {
            vm: self,
            request,
            upstream: Response::default(),
            answers: Vec::new(),
        }
    }

    /// Calls `proxy_on_tick` on the root context and advances the clock by the tick period.
    pub fn tick(&mut self) -> Result<(), Error> {
        let period = self.store.data().tick_period_ms;
        self.store.data_mut().clock_ns += u64::from(period) * 1_000_000;
        self.call("proxy_on_tick", &[self.root_id as i32])?;
        self.drain()
    }

    /// The tick period the plug-in asked for (0: none).
    pub fn tick_period(&self) -> Duration {
        Duration::from_millis(u64::from(self.store.data().tick_period_ms))
    }

    /// Moves the deterministic clock forward.
    pub fn advance_clock(&mut self, by: Duration) {
        self.store.data_mut().clock_ns += by.as_nanos() as u64;
    }

    /// Logs written outside requests (start, configure, ticks).
    pub fn logs(&self) -> &[LogLine] {
        &self.store.data().logs
    }

    /// Things the host noticed (refused callouts, extra local responses ...).
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

    /// A metric's value by name.
    pub fn metric(&self, name: &str) -> Option<i64> {
        self.store
            .data()
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// A shared-data value by key.
    pub fn shared_data(&self, key: &str) -> Option<Vec<u8>> {
        self.store
            .data()
            .shared
            .get(key.as_bytes())
            .map(|(v, _)| v.clone())
    }

    /// The first failure, if the VM is unusable.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The plug-in's name.
    pub fn plugin_name(&self) -> &str {
        &self.plugin
    }

    fn run_stream(
        &mut self,
        request: Request,
        upstream: Response,
        answers: Vec<Response>,
    ) -> Result<Outcome, Error> {
        if let Some(first) = &self.failed {
            return Err(Error::Failed {
                plugin: self.plugin.clone(),
                first: first.clone(),
            });
        }
        let id = self.next_stream;
        self.next_stream += 1;
        self.answers = answers.into();
        let logs_before = self.store.data().logs.len();
        let calls_before = self.store.data().calls.len();
        {
            let s = self.store.data_mut();
            s.stream = Some(Stream {
                id,
                properties: request.properties.clone(),
                request_headers: request.effective_headers(),
                ..Stream::default()
            });
            s.effective = id;
        }
        let mut out = Outcome::default();
        let mut result = self.drive(id as i32, request, upstream, &mut out);
        if result.is_ok() {
            result = self.finish(id as i32, &mut out);
        }
        let s = self.store.data_mut();
        s.stream = None;
        s.effective = s.root_id;
        out.logs = s.logs.drain(logs_before.min(s.logs.len())..).collect();
        out.http_calls = s.calls.drain(calls_before.min(s.calls.len())..).collect();
        s.pending_calls.clear();
        result.map(|()| out)
    }

    fn cb(
        &mut self,
        out: &mut Outcome,
        name: &'static str,
        args: &[i32],
    ) -> Result<Option<i32>, Error> {
        if self.exports.contains_key(name) {
            out.callbacks.push(name);
        }
        self.call(name, args)
    }

    fn stream(&mut self) -> &mut Stream {
        self.store
            .data_mut()
            .stream
            .as_mut()
            .expect("a stream is active while driving it")
    }

    fn drive(
        &mut self,
        id: i32,
        request: Request,
        upstream: Response,
        out: &mut Outcome,
    ) -> Result<(), Error> {
        self.cb(out, "proxy_on_context_create", &[id, self.root_id as i32])?;
        self.drain()?;

        let body = request.body;
        let trailers = request.trailers;
        match self.pump(id, Dir::Request, body, trailers, false, out)? {
            Flow::Done => {}
            Flow::LocalResponse => return self.local_reply(id, out),
            Flow::Paused(at, eos) => {
                out.paused = Some(paused_text(at, eos));
                return Ok(());
            }
            Flow::Closed => {
                out.paused = Some(
                    "stream closed by the plug-in (proxy_close_stream) during the request".into(),
                );
                return Ok(());
            }
        }
        let s = self.stream();
        out.upstream_request = Some(Message {
            headers: s.request_headers.clone(),
            body: s.request_body.clone().unwrap_or_default(),
            trailers: s.request_trailers.clone().unwrap_or_default(),
        });

        let Response {
            headers,
            body,
            trailers,
        } = upstream;
        self.stream().response_headers = Some(headers);
        let body = (!body.is_empty()).then_some(body);
        match self.pump(id, Dir::Response, body, trailers, false, out)? {
            Flow::Done => {}
            Flow::LocalResponse => {
                // after the upstream answered: the local reply replaces the response without a replay
                let lr = self
                    .stream()
                    .local_response
                    .clone()
                    .expect("flow says a local response was sent");
                out.downstream_response = Some(local_message(&lr));
                out.local_response = Some(lr);
                return Ok(());
            }
            Flow::Paused(at, eos) => {
                out.paused = Some(paused_text(at, eos));
                return Ok(());
            }
            Flow::Closed => {
                out.paused = Some(
                    "stream closed by the plug-in (proxy_close_stream) during the response".into(),
                );
                return Ok(());
            }
        }
        out.downstream_response = Some(self.response_message());
        Ok(())
    }

    fn response_message(&mut self) -> Message {
        let s = self.stream();
        Message {
            headers: s.response_headers.clone().unwrap_or_default(),
            body: s.response_body.clone().unwrap_or_default(),
            trailers: s.response_trailers.clone().unwrap_or_default(),
        }
    }

    /// Envoy sends the local reply through the encoder filters: the plug-in sees its own reply's
    /// response headers (with `:status`) and body.
    fn local_reply(&mut self, id: i32, out: &mut Outcome) -> Result<(), Error> {
        let lr = self
            .stream()
            .local_response
            .clone()
            .expect("flow says a local response was sent");
        out.local_response = Some(lr.clone());
        let msg = local_message(&lr);
        {
            let s = self.stream();
            s.response_headers = Some(msg.headers);
            s.response_body = None;
            s.response_trailers = None;
        }
        let body = (!lr.body.is_empty()).then(|| lr.body.clone());
        match self.pump(id, Dir::Response, body, None, true, out)? {
            Flow::Paused(at, _) => {
                out.paused = Some(format!(
                    "stream paused at {at} of the plug-in's own local response ({} sent in {}): the reply would never \
                     reach the client (Envoy passes a local reply through the plug-in's response callbacks; return \
                     Continue there)",
                    lr.status, lr.sent_in
                ))
            }
            Flow::Closed => out.paused = Some("stream closed by the plug-in (proxy_close_stream)".into()),
            Flow::Done | Flow::LocalResponse => out.downstream_response = Some(self.response_message()),
        }
        Ok(())
    }

    /// Feeds one direction (headers, body, trailers) through the plug-in, honouring stops and resumes.
    /// A Pause from headers is Envoy's StopAllIterationAndWatermark (ABI 0.2.x): body and trailers are
    /// buffered and reach the plug-in only after it resumes. A Pause from body or trailers stops iteration
    /// until a later Continue or `proxy_continue_stream`.
    fn pump(
        &mut self,
        id: i32,
        dir: Dir,
        body: Option<Vec<u8>>,
        trailers: Option<Headers>,
        replying: bool,
        out: &mut Outcome,
    ) -> Result<Flow, Error> {
        let names = dir.names();
        let has_body = body.is_some();
        let has_trailers = trailers.is_some();
        let mut queue: VecDeque<Piece> = VecDeque::from([Piece::Headers]);
        if has_body {
            queue.push_back(Piece::Body);
        }
        if has_trailers {
            queue.push_back(Piece::Trailers);
        }
        let mut body = body;
        let mut trailers = trailers;
        // (callback, stops everything, end of stream)
        let mut stop: Option<(&'static str, bool, bool)> = None;
        loop {
            {
                let s = self.stream();
                if !replying && s.local_response.is_some() {
                    return Ok(Flow::LocalResponse);
                }
                if s.closed {
                    return Ok(Flow::Closed);
                }
                let resumed = match dir {
                    Dir::Request => std::mem::take(&mut s.continue_request),
                    Dir::Response => std::mem::take(&mut s.continue_response),
                };
                if resumed {
                    stop = None;
                }
            }
            if matches!(stop, Some((_, true, _))) {
                break;
            }
            let Some(piece) = queue.pop_front() else {
                break;
            };
            let (name, action, eos) = match piece {
                Piece::Headers => {
                    let eos = !has_body && !has_trailers;
                    let n = match dir {
                        Dir::Request => self.stream().request_headers.len(),
                        Dir::Response => self
                            .stream()
                            .response_headers
                            .as_ref()
                            .map_or(0, Headers::len),
                    };
                    (
                        names[0],
                        self.cb(out, names[0], &[id, n as i32, eos as i32])?,
                        eos,
                    )
                }
                Piece::Body => {
                    let data = body.take().unwrap_or_default();
                    let len = data.len() as i32;
                    match dir {
                        Dir::Request => self.stream().request_body = Some(data),
                        Dir::Response => self.stream().response_body = Some(data),
                    }
                    let eos = !has_trailers;
                    (
                        names[1],
                        self.cb(out, names[1], &[id, len, eos as i32])?,
                        eos,
                    )
                }
                Piece::Trailers => {
                    let t = trailers.take().unwrap_or_default();
                    let n = t.len() as i32;
                    match dir {
                        Dir::Request => self.stream().request_trailers = Some(t),
                        Dir::Response => self.stream().response_trailers = Some(t),
                    }
                    (names[2], self.cb(out, names[2], &[id, n])?, true)
                }
            };
            let paused = action.is_some_and(|a| a != 0);
            stop = match (paused, piece) {
                (true, Piece::Headers) => Some((name, true, eos)),
                (true, _) => Some((name, false, eos)),
                (false, _) => None,
            };
            self.drain()?;
        }
        if !replying && self.stream().local_response.is_some() {
            return Ok(Flow::LocalResponse);
        }
        match stop {
            Some((at, _, eos)) => Ok(Flow::Paused(at, eos || !queue.is_empty())),
            None => Ok(Flow::Done),
        }
    }

    fn finish(&mut self, id: i32, out: &mut Outcome) -> Result<(), Error> {
        let order: [&'static str; 3] = match self.teardown {
            Teardown::Envoy => ["proxy_on_log", "proxy_on_done", "proxy_on_delete"],
            Teardown::Spec => ["proxy_on_done", "proxy_on_log", "proxy_on_delete"],
        };
        for name in order {
            self.cb(out, name, &[id])?;
        }
        Ok(())
    }
}

fn paused_text(at: &str, _end_of_stream: bool) -> String {
    format!("stream paused at {at} and never resumed (no local response, no proxy_continue_stream): the request would hang")
}

fn local_message(lr: &LocalResponse) -> Message {
    let mut headers = Headers::default();
    headers.add(":status", lr.status.to_string());
    headers.0.extend(lr.headers.0.iter().cloned());
    Message {
        headers,
        body: lr.body.clone(),
        trailers: Headers::default(),
    }
}

fn ticks(cpu: Duration) -> u64 {
    (cpu.as_millis() / TICK.as_millis()).max(1) as u64 + 1
}

/// One request on its way through a VM.
pub struct Exchange<'a> {
    vm: &'a mut Vm,
    request: Request,
    upstream: Response,
    answers: Vec<Response>,
}

impl Exchange<'_> {
    /// What the backend answers if the request reaches it (default: `200`, empty body).
    pub fn upstream(mut self, response: Response) -> Self {
        self.upstream = response;
        self
    }

    /// Scripted answer to the plug-in's next `proxy_http_call` (in call order; unanswered calls fail).
    pub fn http_call_answer(mut self, response: Response) -> Self {
        self.answers.push(response);
        self
    }

    /// Runs the stream to its end: request, response, then log/done/delete.
    pub fn run(self) -> Result<Outcome, Error> {
        self.vm
            .run_stream(self.request, self.upstream, self.answers)
    }
}
