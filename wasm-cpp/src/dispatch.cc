// The module's exports: the ABI marker, the allocator, and every proxy_on_* callback, dispatched to the
// registered RootContext / Context objects by context id.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <unordered_map>

#include "pwsdk/api.h"

#define PWSDK_EXPORT_(name) extern "C" __attribute__((export_name(#name)))

namespace pwsdk {
inline namespace v0 {

namespace {

struct Stream {
  enum class State : uint8_t { Fresh, Active, Passive };
  std::unique_ptr<Context> context;
  State state = State::Fresh;
};

// Set by sendLocalResponse during a callback.
bool local_response_sent = false;

struct Registry {
  detail::Factories factories;
  bool registered = false;
  std::unordered_map<uint32_t, std::unique_ptr<RootContext>> roots;
  std::unordered_map<uint32_t, Stream> streams;
};

Registry& registry() {
  static Registry r;
  return r;
}

RootContext* findRoot(uint32_t id) {
  auto& roots = registry().roots;
  auto it = roots.find(id);
  return it == roots.end() ? nullptr : it->second.get();
}

// The stream when its callbacks are to be called (runs onStart on first use), else nullptr.
Stream* activeStream(uint32_t id) {
  auto& streams = registry().streams;
  auto it = streams.find(id);
  if (it == streams.end()) return nullptr;
  Stream& s = it->second;
  if (s.state == Stream::State::Fresh) {
    s.state = s.context->onStart() ? Stream::State::Active : Stream::State::Passive;
  }
  return s.state == Stream::State::Active ? &s : nullptr;
}

// Streams that never saw onStart (e.g. deleted before any request callback) are passive.
Stream* startedStream(uint32_t id) {
  auto& streams = registry().streams;
  auto it = streams.find(id);
  if (it == streams.end() || it->second.state != Stream::State::Active) return nullptr;
  return &it->second;
}

detail::Hooks hooks_;
size_t chunk_sizes[2] = {detail::kNoChunk, detail::kNoChunk};

}  // namespace

std::string_view pluginName() { return registry().factories.name; }

void detail::noteLocalResponse() { local_response_sent = true; }

bool detail::takeLocalResponse() {
  bool sent = local_response_sent;
  local_response_sent = false;
  return sent;
}

Context* detail::findStream(uint32_t id) {
  Stream* s = startedStream(id);
  return s ? s->context.get() : nullptr;
}

RootContext* detail::findRootContext(uint32_t id) { return findRoot(id); }

detail::Hooks& detail::hooks() { return hooks_; }

size_t& detail::chunkSize(bool request) { return chunk_sizes[request ? 0 : 1]; }

void detail::registerPlugin(const Factories& f) {
  Registry& r = registry();
  r.factories = f;
  r.registered = true;
}

// Context's default callbacks.
FilterHeadersStatus Context::onRequestHeaders(uint32_t, bool) { return FilterHeadersStatus::Continue; }
FilterDataStatus Context::onRequestBody(size_t, bool) { return FilterDataStatus::Continue; }
FilterTrailersStatus Context::onRequestTrailers(uint32_t) { return FilterTrailersStatus::Continue; }
FilterHeadersStatus Context::onResponseHeaders(uint32_t, bool) { return FilterHeadersStatus::Continue; }
FilterDataStatus Context::onResponseBody(size_t, bool) { return FilterDataStatus::Continue; }
FilterTrailersStatus Context::onResponseTrailers(uint32_t) { return FilterTrailersStatus::Continue; }

// Body buffering and streaming on behalf of the contexts (friend of Context); the buffering steps are
// those of wasm-rust/src/body.rs.
struct Dispatch {
  using Direction = Context::Direction;
  using BodyMode = Context::BodyMode;

  static const char* what(bool request) { return request ? "request" : "response"; }
  static Direction& direction(Context& c, bool request) { return request ? c.request_ : c.response_; }
  static BufferType bodyBuffer(bool request) {
    return request ? BufferType::HttpRequestBody : BufferType::HttpResponseBody;
  }

  // A plug-in callback's result as returned to the host. A local response sent during the callback forces
  // "stop" (1) and ends the body handling of this direction (the response callbacks of a reply sent in the
  // request phase then run normally). Otherwise a stop pauses the direction (see Context::httpCall).
  // While a direction is paused and calls of the stream are in flight, it stays paused whatever later
  // callbacks of that direction return: only an answer (or an explicit resume) releases it.
  static uint32_t finish(Context& c, bool request, uint32_t status) {
    Direction& d = direction(c, request);
    if (detail::takeLocalResponse()) {
      d.mode = BodyMode::Raw;
      d.paused = false;
      d.held = false;
      d.replied = true;
      return 1;
    }
    if (status == 0 && d.paused && c.calls_in_flight_ > 0) return 1;
    d.paused = status != 0;
    return status;
  }

  // After a local reply sent in the response phase Envoy answers the client directly: the plug-in's
  // response callbacks are not called again on that stream.
  static bool silenced(Context& c, bool request) { return !request && c.response_.replied; }

  static uint32_t headers(Context& c, bool request, uint32_t count, bool end_of_stream) {
    if (silenced(c, request)) return 0;
    direction(c, request).has_body = !end_of_stream;
    auto status =
        request ? c.onRequestHeaders(count, end_of_stream) : c.onResponseHeaders(count, end_of_stream);
    uint32_t r = finish(c, request, static_cast<uint32_t>(status));
    if (end_of_stream) direction(c, request).mode = BodyMode::Raw;  // no body follows
    return r;
  }

  static uint32_t body(Context& c, bool request, size_t size, bool end_of_stream) {
    if (silenced(c, request)) return 0;
    Direction& d = direction(c, request);
    if (d.mode == BodyMode::Raw) {
      detail::chunkSize(request) = size;
      auto status = request ? c.onRequestBody(size, end_of_stream) : c.onResponseBody(size, end_of_stream);
      detail::chunkSize(request) = detail::kNoChunk;
      return finish(c, request, static_cast<uint32_t>(status));
    }
    if (d.mode == BodyMode::Stream) return hooks_.stream_chunk(c, request, size, end_of_stream, false);
    // Buffering.
    if (size > kMaxBufferedBody) {
      d.mode = BodyMode::Raw;
      logWarn(what(request), " body larger than ", kMaxBufferedBody, " bytes: not inspected");
      return 0;
    }
    if (!end_of_stream) return static_cast<uint32_t>(FilterDataStatus::StopIterationAndBuffer);
    d.mode = BodyMode::Raw;
    std::string whole;
    if (size > 0) {
      auto bytes = getBufferBytes(bodyBuffer(request), 0, size);
      if (!bytes) {
        logError("reading the ", what(request), " body failed");
        return 0;
      }
      whole = std::move(*bytes);
    }
    return deliver(c, request, whole);
  }

  // Trailers end a stream whose body is still buffered (deliver it first) or streamed (deliver the held
  // bytes with end_of_stream); the trailers callback runs only when that body callback continued.
  static uint32_t trailers(Context& c, bool request, uint32_t count) {
    if (silenced(c, request)) return 0;
    Direction& d = direction(c, request);
    if (d.mode == BodyMode::Buffer) {
      d.mode = BodyMode::Raw;
      auto whole = getWholeBuffer(bodyBuffer(request));
      if (!whole) {
        logError("reading the ", what(request), " body failed");
      } else if (whole->size() > kMaxBufferedBody) {
        logWarn(what(request), " body larger than ", kMaxBufferedBody, " bytes: not inspected");
      } else if (deliver(c, request, *whole) != 0) {
        return 1;
      }
    } else if (d.mode == BodyMode::Stream) {
      if (hooks_.stream_chunk(c, request, 0, true, true) != 0) return 1;
    }
    auto status = request ? c.onRequestTrailers(count) : c.onResponseTrailers(count);
    return finish(c, request, static_cast<uint32_t>(status));
  }

  // The chunk callbacks (installed as hooks_.stream_chunk by streamRequestBody / streamResponseBody). At
  // trailers the held bytes are read only when the last chunk was held: Envoy drops the buffer of a chunk
  // that continued.
  static uint32_t streamChunk(Context& c, bool request, size_t size, bool end_of_stream, bool at_trailers) {
    std::string chunk;
    if (at_trailers ? direction(c, request).held : size > 0) {
      auto bytes =
          at_trailers ? getWholeBuffer(bodyBuffer(request)) : getBufferBytes(bodyBuffer(request), 0, size);
      if (!bytes) {
        logError("reading the ", what(request), " body failed");
        return 0;
      }
      chunk = std::move(*bytes);
    }
    return chunkDone(c, request, chunk, end_of_stream);
  }

  static uint32_t chunkDone(Context& c, bool request, std::string_view chunk, bool end_of_stream) {
    detail::chunkSize(request) = chunk.size();
    auto status = request ? c.onRequestChunk(chunk, end_of_stream) : c.onResponseChunk(chunk, end_of_stream);
    detail::chunkSize(request) = detail::kNoChunk;
    Direction& d = direction(c, request);
    if (end_of_stream) d.mode = BodyMode::Raw;
    uint32_t r = finish(c, request, static_cast<uint32_t>(status));
    d.held = d.mode == BodyMode::Stream && r != 0;
    return r;
  }

  static uint32_t deliver(Context& c, bool request, std::string_view body) {
    detail::chunkSize(request) = body.size();
    auto status = request ? c.onRequestBodyBuffered(body) : c.onResponseBodyBuffered(body);
    detail::chunkSize(request) = detail::kNoChunk;
    return finish(c, request, static_cast<uint32_t>(status));
  }
};

void Context::streamRequestBody() {
  request_.mode = BodyMode::Stream;
  hooks_.stream_chunk = &Dispatch::streamChunk;
}

void Context::streamResponseBody() {
  response_.mode = BodyMode::Stream;
  hooks_.stream_chunk = &Dispatch::streamChunk;
}

// ---- Body setters (see api.h for Envoy's proxy_set_buffer_bytes semantics): here, beside the chunk size
// they keep up to date, so hostcalls.cc (which the standard-API runtime links too) needs nothing of this
// file.
namespace {
// Larger than any buffer: "to the end" for replace, "at the end" for append.
constexpr size_t kToTheEnd = SIZE_MAX;
Status setBody(bool request, size_t start, size_t length, std::string_view data) {
  return setBufferBytes(request ? BufferType::HttpRequestBody : BufferType::HttpResponseBody, start, length,
                        data);
}
}  // namespace

namespace {
// The setters keep the size of the chunk handed to the running body callback up to date (as the Rust SDK
// does), so replace*Chunk after append/prepend/replace covers what the callback's chunk has become.
Status replaceBody(bool request, std::string_view data) {
  Status st = setBody(request, 0, kToTheEnd, data);
  size_t& chunk = detail::chunkSize(request);
  if (st == Status::Ok && chunk != detail::kNoChunk) chunk = data.size();
  return st;
}
Status replaceChunk(bool request, std::string_view data) {
  size_t& chunk = detail::chunkSize(request);
  if (chunk == detail::kNoChunk) return Status::NotFound;
  Status st = setBody(request, 0, chunk, data);
  if (st == Status::Ok) chunk = data.size();
  return st;
}
Status addToBody(bool request, bool at_end, std::string_view data) {
  Status st = at_end ? setBody(request, kToTheEnd, 0, data) : setBody(request, 0, 0, data);
  size_t& chunk = detail::chunkSize(request);
  if (st == Status::Ok && chunk != detail::kNoChunk) chunk += data.size();
  return st;
}
}  // namespace

Status replaceRequestBody(std::string_view data) { return replaceBody(true, data); }
Status replaceRequestChunk(std::string_view data) { return replaceChunk(true, data); }
Status appendRequestBody(std::string_view data) { return addToBody(true, true, data); }
Status prependRequestBody(std::string_view data) { return addToBody(true, false, data); }
Status replaceResponseBody(std::string_view data) { return replaceBody(false, data); }
Status replaceResponseChunk(std::string_view data) { return replaceChunk(false, data); }
Status appendResponseBody(std::string_view data) { return addToBody(false, true, data); }
Status prependResponseBody(std::string_view data) { return addToBody(false, false, data); }

}  // namespace v0
}  // namespace pwsdk

using namespace pwsdk;

PWSDK_EXPORT_(proxy_abi_version_0_2_1) void pwsdk_abi_version_0_2_1() {}

PWSDK_EXPORT_(proxy_on_memory_allocate) void* pwsdk_on_memory_allocate(size_t size) { return ::malloc(size); }
// cpp-host looks for `malloc` first; export the same allocator under that name.
PWSDK_EXPORT_(malloc) void* pwsdk_malloc(size_t size) { return ::malloc(size); }

PWSDK_EXPORT_(proxy_on_context_create) void pwsdk_on_context_create(uint32_t id, uint32_t parent) {
  Registry& r = registry();
  if (!r.registered) return;
  if (parent == 0) {
    r.roots[id] = r.factories.make_root(id);
    return;
  }
  RootContext* root = findRoot(parent);
  if (!root) return;
  Stream s;
  s.context = r.factories.make_http(id, root);
  r.streams[id] = std::move(s);
}

PWSDK_EXPORT_(proxy_on_vm_start) uint32_t pwsdk_on_vm_start(uint32_t root_id, uint32_t size) {
  RootContext* root = findRoot(root_id);
  return root ? root->onVmStart(size) : 1;
}

PWSDK_EXPORT_(proxy_on_configure) uint32_t pwsdk_on_configure(uint32_t root_id, uint32_t size) {
  RootContext* root = findRoot(root_id);
  return root ? root->onConfigure(size) : 0;
}

PWSDK_EXPORT_(proxy_on_tick) void pwsdk_on_tick(uint32_t root_id) {
  if (RootContext* root = findRoot(root_id)) root->onTick();
}

PWSDK_EXPORT_(proxy_on_queue_ready) void pwsdk_on_queue_ready(uint32_t root_id, uint32_t queue_id) {
  if (RootContext* root = findRoot(root_id)) root->onQueueReady(queue_id);
}

PWSDK_EXPORT_(proxy_on_request_headers)
uint32_t pwsdk_on_request_headers(uint32_t id, uint32_t headers, uint32_t end_of_stream) {
  Stream* s = activeStream(id);
  return s ? Dispatch::headers(*s->context, true, headers, end_of_stream != 0) : 0;
}

PWSDK_EXPORT_(proxy_on_request_body)
uint32_t pwsdk_on_request_body(uint32_t id, uint32_t size, uint32_t end_of_stream) {
  Stream* s = activeStream(id);
  return s ? Dispatch::body(*s->context, true, size, end_of_stream != 0) : 0;
}

PWSDK_EXPORT_(proxy_on_request_trailers) uint32_t pwsdk_on_request_trailers(uint32_t id, uint32_t trailers) {
  Stream* s = activeStream(id);
  return s ? Dispatch::trailers(*s->context, true, trailers) : 0;
}

PWSDK_EXPORT_(proxy_on_response_headers)
uint32_t pwsdk_on_response_headers(uint32_t id, uint32_t headers, uint32_t end_of_stream) {
  Stream* s = startedStream(id);
  return s ? Dispatch::headers(*s->context, false, headers, end_of_stream != 0) : 0;
}

PWSDK_EXPORT_(proxy_on_response_body)
uint32_t pwsdk_on_response_body(uint32_t id, uint32_t size, uint32_t end_of_stream) {
  Stream* s = startedStream(id);
  return s ? Dispatch::body(*s->context, false, size, end_of_stream != 0) : 0;
}

PWSDK_EXPORT_(proxy_on_response_trailers)
uint32_t pwsdk_on_response_trailers(uint32_t id, uint32_t trailers) {
  Stream* s = startedStream(id);
  return s ? Dispatch::trailers(*s->context, false, trailers) : 0;
}

// Callout answers arrive with the root context's id; the SDK finds the caller by token (callouts.cc).
PWSDK_EXPORT_(proxy_on_http_call_response)
void pwsdk_on_http_call_response(uint32_t, uint32_t token, uint32_t headers, uint32_t body_size,
                                 uint32_t trailers) {
  if (auto f = hooks_.http_response) f(token, headers, body_size, trailers);
}

// Initial metadata of a unary call is not exported: Envoy sends none, and the answer does not carry it.
PWSDK_EXPORT_(proxy_on_grpc_receive)
void pwsdk_on_grpc_receive(uint32_t, uint32_t token, uint32_t size) {
  if (auto f = hooks_.grpc_message) f(token, size);
}

PWSDK_EXPORT_(proxy_on_grpc_receive_trailing_metadata)
void pwsdk_on_grpc_receive_trailing_metadata(uint32_t, uint32_t token, uint32_t trailers) {
  if (auto f = hooks_.grpc_trailing_metadata) f(token, trailers);
}

PWSDK_EXPORT_(proxy_on_grpc_close) void pwsdk_on_grpc_close(uint32_t, uint32_t token, uint32_t status) {
  if (auto f = hooks_.grpc_close) f(token, status);
}

PWSDK_EXPORT_(proxy_on_log) void pwsdk_on_log(uint32_t id) {
  if (Stream* s = startedStream(id)) s->context->onLog();
}

PWSDK_EXPORT_(proxy_on_done) uint32_t pwsdk_on_done(uint32_t id) {
  if (Stream* s = startedStream(id)) return s->context->onDone();
  if (RootContext* root = findRoot(id)) return root->onDone();
  return 1;
}

PWSDK_EXPORT_(proxy_on_delete) void pwsdk_on_delete(uint32_t id) {
  Registry& r = registry();
  auto it = r.streams.find(id);
  if (it != r.streams.end()) {
    if (auto f = hooks_.stream_deleted) f(id);
    if (it->second.state == Stream::State::Active) it->second.context->onDelete();
    r.streams.erase(it);
    return;
  }
  auto rit = r.roots.find(id);
  if (rit != r.roots.end()) {
    rit->second->onDelete();
    r.roots.erase(rit);
  }
}

#undef PWSDK_EXPORT_
