//! The per-VM host state stored in the wasmtime `Store`: contexts, streams, callouts, VM-wide data.

use std::collections::{HashMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmtime::{Memory, ResourceLimiter, TypedFunc};

use crate::types::{
    GrpcCallRecord, Headers, HttpCallRecord, LocalResponse, LogLevel, LogLine, Response,
};
use crate::wasi::WasiSet;

/// Memory limiter that remembers it fired, so the error can say "memory limit".
pub(crate) struct Limiter {
    pub max: usize,
    pub hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.hit = true;
            wasmtime::bail!("memory limit of {} bytes reached", self.max);
        }
        Ok(maximum.is_none_or(|m| desired <= m))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000 && maximum.is_none_or(|m| desired <= m))
    }
}

/// The VM's clock: fixed (deterministic, moved only by `advance` and ticks) or the system clock plus whatever
/// was advanced.
pub(crate) struct Clock {
    pub start_ns: u64,
    pub advanced_ns: u64,
    pub real: Option<Instant>,
}

impl Clock {
    /// Wall-clock time (`proxy_get_current_time_nanoseconds`, WASI realtime clock).
    pub fn now_ns(&self) -> u64 {
        let base = match self.real {
            None => self.start_ns,
            Some(_) => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        };
        base.saturating_add(self.advanced_ns)
    }

    /// Monotonic time (WASI monotonic clock): one second at VM start, then elapsed (advanced) time.
    pub fn monotonic_ns(&self) -> u64 {
        let elapsed = self.real.map_or(0, |i| i.elapsed().as_nanos() as u64);
        1_000_000_000u64
            .saturating_add(elapsed)
            .saturating_add(self.advanced_ns)
    }
}

/// V8's restricted-callback mode (proxy-wasm-cpp-host `setRestrictedCallback`): while set, a host call not
/// in the list traps with `restricted_callback`.
#[derive(Clone, Copy)]
pub(crate) struct Restriction {
    /// `env.<name>` for proxy-wasm functions, the bare name for WASI functions.
    pub allowed: &'static [&'static str],
    /// Where the VM is (`while _initialize/main run`, `inside the guest allocator`).
    pub during: &'static str,
}

/// One direction of an HTTP stream as Envoy's filter holds it (source/extensions/common/wasm/context.cc:
/// `request_headers_`, `request_body_buffer_`, `request_trailers_` are set for the callback and cleared when
/// it returns Continue or the plug-in continues the stream).
#[derive(Default)]
pub(crate) struct Half {
    pub headers: Option<Headers>,
    pub headers_held: bool,
    /// Body data the filter holds (the current chunk plus chunks stopped with StopIterationAndBuffer).
    pub body: Vec<u8>,
    pub body_held: bool,
    /// Body data passed on (to the backend, or to the client).
    pub forwarded: Vec<u8>,
    pub trailers: Option<Headers>,
    pub trailers_held: bool,
    /// end_of_stream of the last data callback (Envoy lets the plug-in add trailers there).
    pub end_of_stream: bool,
    /// The plug-in called `proxy_continue_stream` for this direction.
    pub resume: bool,
}

/// One direction of a TCP connection.
#[derive(Default)]
pub(crate) struct Flow {
    /// Data the filter holds (stopped, not yet passed on); readable as buffer 2 or 3.
    pub held: Vec<u8>,
    pub in_callback: bool,
    pub forwarded: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Http,
    Tcp,
}

/// The stream context being driven (one at a time).
pub(crate) struct Stream {
    pub id: u32,
    pub kind: StreamKind,
    pub properties: Vec<(String, Vec<u8>)>,
    pub request: Half,
    pub response: Half,
    /// `proxy_on_log` is running: header reads see the access log's maps.
    pub in_log: bool,
    pub local_response: Option<LocalResponse>,
    /// Extra `proxy_send_local_response` calls after the first (ignored, like Envoy).
    pub extra_local_responses: u32,
    /// `proxy_close_stream` was called (HTTP: the stream is reset).
    pub reset: bool,
    pub downstream: Flow,
    pub upstream: Flow,
    pub resume_downstream: bool,
    /// `proxy_close_stream(downstream|upstream)` calls, in order.
    pub closed_by_plugin: Vec<&'static str>,
}

impl Stream {
    pub fn new(id: u32, kind: StreamKind, properties: Vec<(String, Vec<u8>)>) -> Stream {
        Stream {
            id,
            kind,
            properties,
            request: Half::default(),
            response: Half::default(),
            in_log: false,
            local_response: None,
            extra_local_responses: 0,
            reset: false,
            downstream: Flow::default(),
            upstream: Flow::default(),
            resume_downstream: false,
            closed_by_plugin: Vec::new(),
        }
    }
}

/// An answer being delivered to the root context (read back through buffers 4/5 and maps 6/7).
pub(crate) enum Delivery {
    Http(Response),
    Grpc(Vec<u8>),
}

pub(crate) enum Callout {
    Http { token: u32, record: usize },
    Grpc { token: u32, record: usize },
}

pub(crate) struct Queue {
    pub name: String,
    pub vm_id: String,
    pub items: VecDeque<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MetricKind {
    Counter = 0,
    Gauge = 1,
    Histogram = 2,
}

/// One named stat; several metric ids may point at it (Envoy defines the stat by name).
pub(crate) struct Metric {
    pub name: String,
    pub kind: MetricKind,
    pub value: i64,
    pub samples: Vec<u64>,
}

/// The host side of one VM.
pub(crate) struct HostState {
    pub limiter: Limiter,
    pub memory: Option<Memory>,
    pub alloc: Option<TypedFunc<i32, i32>>,
    pub wasi: WasiSet,
    pub restricted: Option<Restriction>,
    pub plugin: String,
    pub root_id: u32,
    /// The context whose callback runs (0 while the VM starts).
    pub current: u32,
    /// `proxy_set_effective_context` for the running callback (0: none; reset for every callback).
    pub effective: u32,
    pub callback: &'static str,
    pub logs: Vec<LogLine>,
    pub log_level: LogLevel,
    pub clock: Clock,
    /// The plug-in's random source (`random_get`).
    pub rng: u64,
    /// The gateway's own random source (`x-request-id`), apart from the plug-in's so that both builds of a
    /// plug-in see the same request ids whatever randomness they use.
    pub gateway_rng: u64,
    pub env: Vec<(String, String)>,
    pub vm_config: Vec<u8>,
    pub plugin_config: Vec<u8>,
    /// `proxy_on_configure` runs: the plug-in configuration is readable.
    pub configuring: bool,
    /// `plugin_name`, `plugin_root_id`, `plugin_vm_id`: readable from every context.
    pub plugin_properties: Vec<(String, Vec<u8>)>,
    pub vm_id: String,
    pub stream: Option<Stream>,
    /// Known upstream clusters (`None`: every name is a cluster).
    pub clusters: Option<Vec<String>>,
    pub delivering: Option<Delivery>,
    pub next_http_token: u32,
    pub next_grpc_token: u32,
    pub pending: VecDeque<Callout>,
    pub http_calls: Vec<HttpCallRecord>,
    pub grpc_calls: Vec<GrpcCallRecord>,
    pub status: (u32, Vec<u8>),
    pub shared: HashMap<Vec<u8>, (Vec<u8>, u32)>,
    pub next_cas: u32,
    pub queues: Vec<Queue>,
    pub ready_queues: VecDeque<u32>,
    pub metrics: Vec<Metric>,
    /// Metric id → index into `metrics`.
    pub metric_ids: HashMap<u32, usize>,
    pub next_metric_id: u32,
    pub tick_period_ms: u32,
    /// `proxy_send_local_response` ran in this callback: its result is forced to stop.
    pub stop_next: bool,
    pub exit_code: Option<i32>,
    /// Problems the host noticed that are not the plug-in's fault to trap on (shown in diagnostics).
    pub notes: Vec<String>,
}

/// Which context a host call acts on (proxy-wasm-cpp-host `contextOrEffectiveContext`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The root context, or the VM context while it starts.
    Root,
    /// The live stream.
    Stream,
}

impl HostState {
    pub fn new(
        plugin: &str,
        o: &crate::types::VmOptions,
        limits: crate::types::Limits,
        info: &crate::plugin::ModuleInfo,
    ) -> HostState {
        let rng = if o.realtime {
            // OS-seeded: std's RandomState draws its keys from the OS
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(o.seed);
            h.finish()
        } else {
            o.seed
        };
        let mut state = HostState::probe(info.wasi);
        state.limiter.max = limits.memory;
        state.plugin = plugin.to_string();
        state.log_level = o.log_level;
        state.clock = Clock {
            start_ns: o.clock_ns,
            advanced_ns: 0,
            real: o.realtime.then(Instant::now),
        };
        state.rng = rng;
        state.gateway_rng = rng ^ 0x6761_7465_7761_7921;
        state.env = o.env.clone();
        state.vm_config = o.vm_config.clone();
        state.plugin_config = o.plugin_config.clone();
        state.plugin_properties = vec![
            ("plugin_name".to_string(), plugin.as_bytes().to_vec()),
            ("plugin_root_id".to_string(), o.root_id.as_bytes().to_vec()),
            ("plugin_vm_id".to_string(), o.vm_id.as_bytes().to_vec()),
        ];
        state.vm_id = o.vm_id.clone();
        state.clusters = o.clusters.clone();
        for (k, v) in &o.shared_data {
            state.next_cas += 1;
            state
                .shared
                .insert(k.as_bytes().to_vec(), (v.clone(), state.next_cas));
        }
        state
    }

    /// A state with defaults (also used to list the linker's definitions at load time).
    pub fn probe(wasi: WasiSet) -> HostState {
        HostState {
            limiter: Limiter {
                max: crate::types::Limits::default().memory,
                hit: false,
            },
            memory: None,
            alloc: None,
            wasi,
            restricted: None,
            plugin: String::new(),
            root_id: 0,
            current: 0,
            effective: 0,
            callback: "",
            logs: Vec::new(),
            log_level: LogLevel::Trace,
            clock: Clock {
                start_ns: 0,
                advanced_ns: 0,
                real: None,
            },
            rng: 0,
            gateway_rng: 0,
            env: Vec::new(),
            vm_config: Vec::new(),
            plugin_config: Vec::new(),
            configuring: false,
            plugin_properties: Vec::new(),
            vm_id: String::new(),
            stream: None,
            clusters: None,
            delivering: None,
            next_http_token: 0,
            next_grpc_token: 1,
            pending: VecDeque::new(),
            http_calls: Vec::new(),
            grpc_calls: Vec::new(),
            status: (0, Vec::new()),
            shared: HashMap::new(),
            next_cas: 0,
            queues: Vec::new(),
            ready_queues: VecDeque::new(),
            metrics: Vec::new(),
            metric_ids: HashMap::new(),
            next_metric_id: 0,
            tick_period_ms: 0,
            stop_next: false,
            exit_code: None,
            notes: Vec::new(),
        }
    }

    pub fn log(&mut self, level: LogLevel, message: String) {
        // keep memory bounded under long benches
        if self.logs.len() >= 100_000 {
            self.logs.drain(..50_000);
        }
        self.logs.push(LogLine { level, message });
    }

    pub fn note(&mut self, note: String) {
        if self.notes.len() < 1000 {
            self.notes.push(note);
        }
    }

    /// proxy-wasm-cpp-host `ContextBase::error`, which Envoy logs at trace level.
    pub fn host_error(&mut self, message: &str) {
        self.note(format!(
            "Envoy logs (trace) \"{message}\" from {} and carries on",
            self.callback
        ));
    }

    /// The plug-in's next random number.
    pub fn next_random(&mut self) -> u64 {
        splitmix64(&mut self.rng)
    }

    /// A version-4 UUID from the gateway's random source (Envoy's `x-request-id`).
    pub fn uuid4(&mut self) -> String {
        let (a, b) = (
            splitmix64(&mut self.gateway_rng),
            splitmix64(&mut self.gateway_rng),
        );
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// The context a host call acts on: the effective context if set, else the running callback's.
    pub fn target(&self) -> Target {
        let id = if self.effective != 0 {
            self.effective
        } else {
            self.current
        };
        match &self.stream {
            Some(s) if s.id == id && id != 0 => Target::Stream,
            _ => Target::Root,
        }
    }

    /// The stream, if host calls currently act on it.
    pub fn target_stream(&mut self) -> Option<&mut Stream> {
        match self.target() {
            Target::Stream => self.stream.as_mut(),
            Target::Root => None,
        }
    }

    /// Looks up a property by its dotted name, as Envoy's `Context::findValue` does: stream contexts see the
    /// request, the route and filter state; every context sees `plugin_name`, `plugin_root_id`,
    /// `plugin_vm_id`.
    pub fn property(&self, name: &str) -> Option<Vec<u8>> {
        if self.target() == Target::Stream {
            if let Some(s) = &self.stream {
                if let Some(v) = stream_property(s, name) {
                    return Some(v);
                }
                if let Some((_, v)) = s.properties.iter().find(|(k, _)| k == name) {
                    return Some(v.clone());
                }
            }
        }
        self.plugin_properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Properties Envoy derives from the stream (`request.path`, `request.headers`, ...).
fn stream_property(s: &Stream, name: &str) -> Option<Vec<u8>> {
    match name {
        "source.address" => return Some(b"127.0.0.1:40000".to_vec()),
        "destination.address" => return Some(b"127.0.0.1:10000".to_vec()),
        "response.code" => {
            return s
                .response
                .headers
                .as_ref()
                .and_then(|r| r.get(":status"))
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c.to_le_bytes().to_vec())
        }
        "response.headers" => return s.response.headers.as_ref().map(Headers::wire),
        _ => {}
    }
    let h = s.request.headers.as_ref()?;
    let get = |k: &str| h.get(k).map(String::into_bytes);
    match name {
        "request.path" => get(":path"),
        "request.url_path" => h
            .get(":path")
            .map(|p| p.split('?').next().unwrap_or("").as_bytes().to_vec()),
        "request.query" => h.get(":path").map(|p| {
            p.split_once('?')
                .map(|x| x.1)
                .unwrap_or("")
                .as_bytes()
                .to_vec()
        }),
        "request.host" => get(":authority"),
        "request.method" => get(":method"),
        "request.scheme" => get(":scheme"),
        "request.protocol" => Some(b"HTTP/1.1".to_vec()),
        "request.id" => get("x-request-id"),
        "request.useragent" => get("user-agent"),
        "request.referer" => get("referer"),
        "request.headers" => Some(h.wire()),
        _ => {
            let rest = name.strip_prefix("request.headers.")?;
            get(rest)
        }
    }
}
