//! TCP connections through a VM, as Envoy drives a network filter (source/extensions/common/wasm/context.cc
//! `onNewConnection`, `onData`, `onWrite`, `onEvent`, `onCloseTCP`):
//!
//! - a new connection is `proxy_on_context_create(id, root)` then `proxy_on_new_connection(id)`;
//! - client data is `proxy_on_downstream_data(id, len, end_of_stream)` with the data in buffer 2, backend
//!   data `proxy_on_upstream_data` with buffer 3. Continue passes the data on; Stop keeps it in the
//!   connection's buffer, later data is added to it and the plug-in sees all of it. Downstream data
//!   resumes with `proxy_continue_stream(downstream)`; upstream data cannot be resumed (Unimplemented);
//! - backend data with end_of_stream is also the upstream close: `proxy_on_upstream_connection_close(id,
//!   unknown)`;
//! - the client closing is `proxy_on_downstream_connection_close(id, remote)`; the plug-in closing
//!   (`proxy_close_stream(downstream|upstream)`, both close the client connection) is `(id, local)`; then
//!   `proxy_on_done` → `proxy_on_log` → `proxy_on_delete` (this order for TCP).

use crate::state::{Stream, StreamKind};
use crate::types::{Error, TcpOutcome};
use crate::vm::Vm;

const PEER_UNKNOWN: i32 = 0;
const PEER_LOCAL: i32 = 1;
const PEER_REMOTE: i32 = 2;

/// One event on a TCP connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpEvent {
    /// The client sends data (`end_of_stream`: it half-closes after it).
    Downstream { data: Vec<u8>, end_of_stream: bool },
    /// The backend sends data.
    Upstream { data: Vec<u8>, end_of_stream: bool },
    /// The client closes the connection.
    CloseDownstream,
    /// The backend closes the connection.
    CloseUpstream,
}

/// A TCP connection on its way through a VM; finish with [`Connection::run`].
pub struct Connection<'a> {
    vm: &'a mut Vm,
    events: Vec<TcpEvent>,
    properties: Vec<(String, Vec<u8>)>,
}

impl Connection<'_> {
    /// The client sends `data`.
    pub fn downstream(mut self, data: impl AsRef<[u8]>) -> Self {
        self.events.push(TcpEvent::Downstream {
            data: data.as_ref().to_vec(),
            end_of_stream: false,
        });
        self
    }

    /// The backend sends `data`.
    pub fn upstream(mut self, data: impl AsRef<[u8]>) -> Self {
        self.events.push(TcpEvent::Upstream {
            data: data.as_ref().to_vec(),
            end_of_stream: false,
        });
        self
    }

    /// Any event.
    pub fn event(mut self, event: TcpEvent) -> Self {
        self.events.push(event);
        self
    }

    /// The client closes the connection.
    pub fn close_downstream(self) -> Self {
        self.event(TcpEvent::CloseDownstream)
    }

    /// The backend closes the connection.
    pub fn close_upstream(self) -> Self {
        self.event(TcpEvent::CloseUpstream)
    }

    /// Sets a connection property.
    pub fn property(mut self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.properties.retain(|(k, _)| k != key);
        self.properties
            .push((key.to_string(), value.as_ref().to_vec()));
        self
    }

    /// Runs the events; a connection the events leave open is closed by the client at the end.
    pub fn run(self) -> Result<TcpOutcome, Error> {
        self.vm.run_connection(self.events, self.properties)
    }
}

impl Vm {
    /// Opens a TCP connection (a network-filter stream); add events and [`Connection::run`] it.
    pub fn connection(&mut self) -> Connection<'_> {
        Connection {
            vm: self,
            events: Vec::new(),
            properties: Vec::new(),
        }
    }

    pub(crate) fn run_connection(
        &mut self,
        events: Vec<TcpEvent>,
        extra: Vec<(String, Vec<u8>)>,
    ) -> Result<TcpOutcome, Error> {
        self.check_usable()?;
        let id = self.next_context;
        self.next_context += 1;
        let mark = self.mark();
        let mut properties = self.stream_properties.clone();
        for (k, v) in extra {
            properties.retain(|(p, _)| *p != k);
            properties.push((k, v));
        }
        self.store.data_mut().stream = Some(Stream::new(id, StreamKind::Tcp, properties));
        let mut out = TcpOutcome::default();
        let result = self.drive_tcp(id, events);
        let mut o = crate::types::Outcome::default();
        self.collect(&mark, &mut o);
        if let Some(s) = self.store.data_mut().stream.take() {
            out.to_upstream = s.downstream.forwarded;
            out.to_downstream = s.upstream.forwarded;
            out.closed_by_plugin = s.closed_by_plugin;
            if out.paused.is_none() {
                if !s.downstream.held.is_empty() {
                    out.paused = Some(format!(
                        "{} bytes of client data held by proxy_on_downstream_data and never passed on",
                        s.downstream.held.len()
                    ));
                } else if !s.upstream.held.is_empty() {
                    out.paused = Some(format!(
                        "{} bytes of backend data held by proxy_on_upstream_data and never passed on \
                         (Envoy cannot resume upstream data)",
                        s.upstream.held.len()
                    ));
                }
            }
        }
        out.http_calls = o.http_calls;
        out.grpc_calls = o.grpc_calls;
        out.logs = o.logs;
        out.callbacks = o.callbacks;
        result.map(|()| out)
    }

    fn tcp(&mut self) -> &mut Stream {
        self.store
            .data_mut()
            .stream
            .as_mut()
            .expect("a connection is active while driving it")
    }

    fn drive_tcp(&mut self, id: u32, events: Vec<TcpEvent>) -> Result<(), Error> {
        let root = self.root_id;
        self.call("proxy_on_context_create", id, &[id as i32, root as i32])?;
        let go = self.call("proxy_on_new_connection", id, &[id as i32])?;
        self.drain()?;
        // a Stop from a new connection holds client data until the plug-in continues
        let mut reading_stopped = go.is_some_and(|a| a != 0);
        let mut downstream_closed = false;
        let mut upstream_closed = false;
        for event in events {
            if self.closed_by_plugin() {
                break;
            }
            match event {
                TcpEvent::Downstream {
                    data,
                    end_of_stream,
                } => {
                    let s = self.tcp();
                    s.downstream.held.extend_from_slice(&data);
                    if std::mem::take(&mut s.resume_downstream) {
                        reading_stopped = false;
                    }
                    if reading_stopped {
                        continue;
                    }
                    self.data(id, true, end_of_stream)?;
                }
                TcpEvent::Upstream {
                    data,
                    end_of_stream,
                } => {
                    self.tcp().upstream.held.extend_from_slice(&data);
                    self.data(id, false, end_of_stream)?;
                    if end_of_stream && !upstream_closed {
                        upstream_closed = true;
                        self.call(
                            "proxy_on_upstream_connection_close",
                            id,
                            &[id as i32, PEER_UNKNOWN],
                        )?;
                        self.drain()?;
                    }
                }
                TcpEvent::CloseUpstream => {
                    if !upstream_closed {
                        upstream_closed = true;
                        self.call(
                            "proxy_on_upstream_connection_close",
                            id,
                            &[id as i32, PEER_UNKNOWN],
                        )?;
                        self.drain()?;
                    }
                }
                TcpEvent::CloseDownstream => {
                    downstream_closed = true;
                    self.call(
                        "proxy_on_downstream_connection_close",
                        id,
                        &[id as i32, PEER_REMOTE],
                    )?;
                    break;
                }
            }
            // data held by a stopped new connection flows once the plug-in continues
            if reading_stopped && std::mem::take(&mut self.tcp().resume_downstream) {
                reading_stopped = false;
                if !self.tcp().downstream.held.is_empty() {
                    self.data(id, true, false)?;
                }
            }
        }
        if !downstream_closed {
            let peer = if self.closed_by_plugin() {
                PEER_LOCAL
            } else {
                PEER_REMOTE
            };
            self.call(
                "proxy_on_downstream_connection_close",
                id,
                &[id as i32, peer],
            )?;
        }
        for name in ["proxy_on_done", "proxy_on_log", "proxy_on_delete"] {
            self.call(name, id, &[id as i32])?;
        }
        Ok(())
    }

    fn closed_by_plugin(&mut self) -> bool {
        !self.tcp().closed_by_plugin.is_empty()
    }

    /// One data callback on the held data of one direction; Continue passes it all on.
    fn data(&mut self, id: u32, downstream: bool, end_of_stream: bool) -> Result<(), Error> {
        let (name, len) = {
            let s = self.tcp();
            let flow = if downstream {
                &mut s.downstream
            } else {
                &mut s.upstream
            };
            flow.in_callback = true;
            let name = if downstream {
                "proxy_on_downstream_data"
            } else {
                "proxy_on_upstream_data"
            };
            (name, flow.held.len() as i32)
        };
        let r = self.call(name, id, &[id as i32, len, end_of_stream as i32])?;
        let resumed = downstream && std::mem::take(&mut self.tcp().resume_downstream);
        let s = self.tcp();
        let flow = if downstream {
            &mut s.downstream
        } else {
            &mut s.upstream
        };
        if r.is_none_or(|a| a == 0) || resumed {
            let held = std::mem::take(&mut flow.held);
            flow.forwarded.extend_from_slice(&held);
            flow.in_callback = false;
        }
        self.drain()?;
        // continued from an answer delivered after the callback
        if downstream && std::mem::take(&mut self.tcp().resume_downstream) {
            let flow = &mut self.tcp().downstream;
            let held = std::mem::take(&mut flow.held);
            flow.forwarded.extend_from_slice(&held);
            flow.in_callback = false;
        }
        Ok(())
    }
}
