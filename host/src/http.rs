//! HTTP streams through a VM, as Envoy's connection manager and filter manager drive an HTTP filter.
//!
//! - Before the filters run, the connection manager adds `x-forwarded-proto` (the listener is plain
//!   text: `http`) and `x-request-id` (a version-4 UUID) when the request lacks them
//!   (source/common/http/conn_manager_utility.cc `mutateRequestHeaders`).
//! - Each direction is headers, then each body chunk (`proxy_on_*_body(len, end_of_stream)`), then
//!   trailers. A Stop from a headers callback is StopAllIterationAndWatermark (ABI 0.2.x; cpp-host
//!   `convertVmCallResultToFilterHeadersStatus`): nothing more reaches the plug-in until it continues, then
//!   the body that arrived meanwhile comes as one chunk. A Stop from a body callback is
//!   StopIterationAndBuffer: the chunk stays buffered, the next chunk is added to it and the plug-in sees
//!   the whole buffered body (`decodeData` with `buffering_request_body_`); trailers still arrive.
//! - A local response is sent after the callback that asked for it, which is forced to stop; before the
//!   response started it goes back through the plug-in's response callbacks (headers from
//!   [`prepare_local_reply`]), after that the client gets it directly.
//! - Teardown is `proxy_on_log` (maps read as the access log's) → `proxy_on_done` → `proxy_on_delete`.

use std::collections::VecDeque;

use crate::abi::AbiVersion;
use crate::hostcalls::prepare_local_reply;
use crate::state::{Half, Stream, StreamKind};
use crate::types::{Error, Headers, LocalResponse, Message, Outcome, Request, Response, Teardown};
use crate::vm::Vm;

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

enum Piece {
    Headers,
    Data(Vec<u8>, bool),
    Trailers(Headers),
}

/// Where a direction stopped: the callback, and whether it stopped everything (a headers callback).
#[derive(Clone, Copy)]
struct Stop {
    at: &'static str,
    all: bool,
}

/// How a direction ended.
enum Flow {
    Done,
    LocalResponse,
    Paused(&'static str),
    Reset,
}

/// One request on its way through a VM.
pub struct Exchange<'a> {
    vm: &'a mut Vm,
    request: Request,
    upstream: Response,
}

impl Exchange<'_> {
    /// What the backend answers if the request reaches it (default: `200`, empty body).
    pub fn upstream(mut self, response: Response) -> Self {
        self.upstream = response;
        self
    }

    /// Scripted answer to the plug-in's next `proxy_http_call` (in call order; unanswered calls fail).
    pub fn http_call_answer(self, response: Response) -> Self {
        self.vm.http_answers.push_back(response);
        self
    }

    /// Scripted answer to the plug-in's next `proxy_grpc_call` (in call order; unanswered calls fail with
    /// status 14).
    pub fn grpc_call_answer(self, answer: crate::GrpcAnswer) -> Self {
        self.vm.grpc_answers.push_back(answer);
        self
    }

    /// Runs the stream to its end: request, response, then log/done/delete.
    pub fn run(self) -> Result<Outcome, Error> {
        self.vm.run_stream(self.request, self.upstream)
    }
}

impl Vm {
    /// Prepares a request; finish with [`Exchange::run`]. Envoy's connection manager adds
    /// `x-forwarded-proto: http` and `x-request-id: <uuid>` unless the request has them (or
    /// [`Request::without`] leaves them out).
    pub fn request(&mut self, request: Request) -> Exchange<'_> {
        Exchange {
            vm: self,
            request,
            upstream: Response::default(),
        }
    }

    fn stream(&mut self) -> &mut Stream {
        self.store
            .data_mut()
            .stream
            .as_mut()
            .expect("a stream is active while driving it")
    }

    fn half(&mut self, dir: Dir) -> &mut Half {
        let s = self.stream();
        match dir {
            Dir::Request => &mut s.request,
            Dir::Response => &mut s.response,
        }
    }

    /// The headers the filter chain sees: the client's, plus what the connection manager adds.
    fn gateway_headers(&mut self, request: &Request) -> Headers {
        let mut headers = request.effective_headers();
        if request.defaults {
            let omitted = |h: &str| request.omit.iter().any(|o| o == h);
            if !headers.contains("x-forwarded-proto") && !omitted("x-forwarded-proto") {
                headers.add("x-forwarded-proto", "http");
            }
            if !headers.contains("x-request-id") && !omitted("x-request-id") {
                let id = self.store.data_mut().uuid4();
                headers.add("x-request-id", id);
            }
        }
        headers
    }

    pub(crate) fn run_stream(
        &mut self,
        request: Request,
        upstream: Response,
    ) -> Result<Outcome, Error> {
        self.check_usable()?;
        let id = self.next_context;
        self.next_context += 1;
        let mark = self.mark();
        let headers = self.gateway_headers(&request);
        let mut properties = self.stream_properties.clone();
        for (k, v) in &request.properties {
            properties.retain(|(p, _)| p != k);
            properties.push((k.clone(), v.clone()));
        }
        let mut stream = Stream::new(id, StreamKind::Http, properties);
        stream.request.headers = Some(headers);
        self.store.data_mut().stream = Some(stream);

        let mut out = Outcome::default();
        let mut result = self.drive(id, request, upstream, &mut out);
        if result.is_ok() {
            result = self.finish(id);
        }
        self.collect(&mark, &mut out);
        self.store.data_mut().stream = None;
        result.map(|()| out)
    }

    /// Calls a stream callback; `Some(true)` when it answered Continue. A local response sent during the
    /// callback forces a stop (cpp-host `stopNextIteration`).
    fn stream_cb(&mut self, id: u32, name: &'static str, args: &[i32]) -> Result<bool, Error> {
        self.store.data_mut().stop_next = false;
        let r = self.call(name, id, args)?;
        let forced = std::mem::take(&mut self.store.data_mut().stop_next);
        Ok(!forced && r.is_none_or(|a| a == 0))
    }

    fn drive(
        &mut self,
        id: u32,
        request: Request,
        upstream: Response,
        out: &mut Outcome,
    ) -> Result<(), Error> {
        let root = self.root_id;
        self.call("proxy_on_context_create", id, &[id as i32, root as i32])?;
        self.drain()?;

        let request_pieces = pieces(request.body_chunks(), request.trailers);
        match self.pump(id, Dir::Request, request_pieces, false)? {
            Flow::Done => {}
            Flow::LocalResponse => return self.local_reply(id, out),
            Flow::Paused(at) => {
                out.paused = Some(paused_text(at));
                return Ok(());
            }
            Flow::Reset => {
                out.paused = Some(
                    "stream reset by the plug-in (proxy_close_stream) during the request: the client gets \
                     no response"
                        .into(),
                );
                return Ok(());
            }
        }
        let s = self.stream();
        out.upstream_request = Some(Message {
            headers: s.request.headers.clone().unwrap_or_default(),
            body: s.request.forwarded.clone(),
            trailers: s.request.trailers.clone().unwrap_or_default(),
        });

        let chunks = upstream.body_chunks();
        let chunks = (!chunks.is_empty()).then_some(chunks);
        let Response {
            headers, trailers, ..
        } = upstream;
        self.stream().response.headers = Some(headers);
        match self.pump(id, Dir::Response, pieces(chunks, trailers), false)? {
            Flow::Done => {}
            Flow::LocalResponse => {
                // after the upstream answered: Envoy sends the reply directly, not through the filters
                let lr = self.local_response();
                let req = self.stream().request.headers.clone();
                let (headers, body) = prepare_local_reply(&lr, req.as_ref());
                out.downstream_response = Some(Message {
                    headers,
                    body: body.unwrap_or_default(),
                    trailers: Headers::default(),
                });
                out.local_response = Some(lr);
                return Ok(());
            }
            Flow::Paused(at) => {
                out.paused = Some(paused_text(at));
                return Ok(());
            }
            Flow::Reset => {
                out.paused = Some(
                    "stream reset by the plug-in (proxy_close_stream) during the response".into(),
                );
                return Ok(());
            }
        }
        out.downstream_response = Some(self.response_message());
        Ok(())
    }

    fn local_response(&mut self) -> LocalResponse {
        self.stream()
            .local_response
            .clone()
            .expect("flow says a local response was sent")
    }

    fn response_message(&mut self) -> Message {
        let s = self.stream();
        Message {
            headers: s.response.headers.clone().unwrap_or_default(),
            body: s.response.forwarded.clone(),
            trailers: s.response.trailers.clone().unwrap_or_default(),
        }
    }

    /// Envoy sends a local reply through the encoder filters: the plug-in sees its own reply's response
    /// headers (prepared as Envoy does) and body.
    fn local_reply(&mut self, id: u32, out: &mut Outcome) -> Result<(), Error> {
        let lr = self.local_response();
        out.local_response = Some(lr.clone());
        let req = self.stream().request.headers.clone();
        let (headers, body) = prepare_local_reply(&lr, req.as_ref());
        {
            let s = self.stream();
            s.response = Half {
                headers: Some(headers),
                ..Half::default()
            };
        }
        let body = body.map(|b| vec![b]);
        match self.pump(id, Dir::Response, pieces(body, None), true)? {
            Flow::Paused(at) => {
                out.paused = Some(format!(
                    "stream paused at {at} of the plug-in's own local response ({} sent in {}): the reply would never \
                     reach the client (Envoy passes a local reply through the plug-in's response callbacks; return \
                     Continue there)",
                    lr.status, lr.sent_in
                ))
            }
            Flow::Reset => out.paused = Some("stream reset by the plug-in (proxy_close_stream)".into()),
            Flow::Done | Flow::LocalResponse => out.downstream_response = Some(self.response_message()),
        }
        Ok(())
    }

    /// Feeds one direction through the plug-in, honouring stops and resumes (see the module doc).
    fn pump(
        &mut self,
        id: u32,
        dir: Dir,
        pieces: VecDeque<Piece>,
        replying: bool,
    ) -> Result<Flow, Error> {
        let names = dir.names();
        let abi = self.abi;
        let mut queue = pieces;
        let mut stop: Option<Stop> = None;
        loop {
            {
                let s = self.stream();
                if !replying && s.local_response.is_some() {
                    return Ok(Flow::LocalResponse);
                }
                if s.reset {
                    return Ok(Flow::Reset);
                }
            }
            let resumed = std::mem::take(&mut self.half(dir).resume);
            if resumed {
                if let Some(st) = stop.take() {
                    flush(self.half(dir));
                    if st.all {
                        merge_data(&mut queue);
                    }
                }
            }
            if stop.is_some_and(|s| s.all) {
                break;
            }
            let Some(piece) = queue.pop_front() else {
                break;
            };
            match piece {
                Piece::Headers => {
                    let eos = queue.is_empty();
                    let half = self.half(dir);
                    half.headers_held = true;
                    let n = half.headers.as_ref().map_or(0, Headers::len) as i32;
                    let args: &[i32] = if abi == AbiVersion::V0_1_0 {
                        &[id as i32, n]
                    } else {
                        &[id as i32, n, eos as i32]
                    };
                    if self.stream_cb(id, names[0], args)? {
                        self.half(dir).headers_held = false;
                        stop = None;
                    } else {
                        stop = Some(Stop {
                            at: names[0],
                            all: true,
                        });
                    }
                }
                Piece::Data(chunk, eos) => {
                    let half = self.half(dir);
                    half.body.extend_from_slice(&chunk);
                    half.body_held = true;
                    half.end_of_stream = eos;
                    let len = half.body.len() as i32;
                    if self.stream_cb(id, names[1], &[id as i32, len, eos as i32])? {
                        flush(self.half(dir));
                        stop = None;
                    } else {
                        stop = Some(Stop {
                            at: names[1],
                            all: false,
                        });
                    }
                }
                Piece::Trailers(t) => {
                    let half = self.half(dir);
                    let n = t.len() as i32;
                    half.trailers = Some(t);
                    half.trailers_held = true;
                    if self.stream_cb(id, names[2], &[id as i32, n])? {
                        let half = self.half(dir);
                        half.trailers_held = false;
                        flush(half);
                        stop = None;
                    } else {
                        stop = Some(Stop {
                            at: names[2],
                            all: false,
                        });
                    }
                }
            }
            self.drain()?;
        }
        let s = self.stream();
        if !replying && s.local_response.is_some() {
            return Ok(Flow::LocalResponse);
        }
        if s.reset {
            return Ok(Flow::Reset);
        }
        match stop {
            Some(st) => Ok(Flow::Paused(st.at)),
            None => Ok(Flow::Done),
        }
    }

    fn finish(&mut self, id: u32) -> Result<(), Error> {
        let order: [&'static str; 3] = match self.teardown {
            Teardown::Envoy => ["proxy_on_log", "proxy_on_done", "proxy_on_delete"],
            Teardown::Spec => ["proxy_on_done", "proxy_on_log", "proxy_on_delete"],
        };
        for name in order {
            self.stream().in_log = name == "proxy_on_log";
            let r = self.call(name, id, &[id as i32]);
            self.stream().in_log = false;
            r?;
        }
        Ok(())
    }
}

/// Body data the filter held is passed on (Continue, or the plug-in continued the stream).
fn flush(half: &mut Half) {
    let body = std::mem::take(&mut half.body);
    half.forwarded.extend_from_slice(&body);
    half.body_held = false;
}

/// After a StopAll is lifted, the body that arrived meanwhile reaches the plug-in as one chunk.
fn merge_data(queue: &mut VecDeque<Piece>) {
    let mut merged: Option<(Vec<u8>, bool)> = None;
    let mut rest = VecDeque::new();
    for p in queue.drain(..) {
        match p {
            Piece::Data(chunk, eos) => {
                let m = merged.get_or_insert_with(|| (Vec::new(), false));
                m.0.extend_from_slice(&chunk);
                m.1 = eos;
            }
            other => rest.push_back(other),
        }
    }
    if let Some((chunk, eos)) = merged {
        queue.push_back(Piece::Data(chunk, eos));
    }
    queue.extend(rest);
}

/// Headers, then each chunk (the last one ends the stream unless trailers follow), then trailers.
fn pieces(chunks: Option<Vec<Vec<u8>>>, trailers: Option<Headers>) -> VecDeque<Piece> {
    let mut q = VecDeque::from([Piece::Headers]);
    if let Some(chunks) = chunks {
        let n = chunks.len();
        for (i, c) in chunks.into_iter().enumerate() {
            q.push_back(Piece::Data(c, i + 1 == n && trailers.is_none()));
        }
    }
    if let Some(t) = trailers {
        q.push_back(Piece::Trailers(t));
    }
    q
}

fn paused_text(at: &str) -> String {
    format!(
        "stream paused at {at} and never resumed (no local response, no proxy_continue_stream): the request \
         would hang"
    )
}
