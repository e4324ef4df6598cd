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
  bool responded = false;  // a callback of this stream sent a local response
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

// A callback's result as returned to the host: 1 ("stop") when this callback sent a local response.
// Later callbacks (e.g. the response headers of that local reply) return what the plug-in says.
template <class S>
uint32_t result(Stream& s, S status) {
  if (local_response_sent) {
    local_response_sent = false;
    s.responded = true;
    return 1;
  }
  return static_cast<uint32_t>(status);
}

}  // namespace

std::string_view pluginName() { return registry().factories.name; }

void detail::noteLocalResponse() { local_response_sent = true; }

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

// Body buffering on behalf of contexts that asked for it (friend of Context); the same steps as
// wasm-rust/src/body.rs.
struct Dispatch {
  static const char* what(bool request) { return request ? "request" : "response"; }
  static bool& buffering(Context& c, bool request) {
    return request ? c.buffer_request_ : c.buffer_response_;
  }

  static FilterDataStatus body(Context& c, bool request, size_t size, bool end_of_stream) {
    if (!buffering(c, request)) {
      return request ? c.onRequestBody(size, end_of_stream) : c.onResponseBody(size, end_of_stream);
    }
    if (size > kMaxBufferedBody) {
      buffering(c, request) = false;
      logWarn(what(request), " body larger than ", kMaxBufferedBody, " bytes: not inspected");
      return FilterDataStatus::Continue;
    }
    if (!end_of_stream) return FilterDataStatus::StopIterationAndBuffer;
    buffering(c, request) = false;
    BufferType type = request ? BufferType::HttpRequestBody : BufferType::HttpResponseBody;
    std::string whole;
    if (size > 0) {
      auto bytes = getBufferBytes(type, 0, size);
      if (!bytes) {
        logError("reading the ", what(request), " body failed");
        return FilterDataStatus::Continue;
      }
      whole = std::move(*bytes);
    }
    return deliver(c, request, whole);
  }

  // Trailers end a stream whose body is still buffered: deliver the body first. Returns the body
  // callback's result (Continue when nothing was buffered).
  static FilterDataStatus trailers(Context& c, bool request) {
    if (!buffering(c, request)) return FilterDataStatus::Continue;
    BufferType type = request ? BufferType::HttpRequestBody : BufferType::HttpResponseBody;
    auto whole = getWholeBuffer(type);
    buffering(c, request) = false;
    if (!whole) {
      logError("reading the ", what(request), " body failed");
      return FilterDataStatus::Continue;
    }
    if (whole->size() > kMaxBufferedBody) {
      logWarn(what(request), " body larger than ", kMaxBufferedBody, " bytes: not inspected");
      return FilterDataStatus::Continue;
    }
    return deliver(c, request, *whole);
  }

  static FilterDataStatus deliver(Context& c, bool request, std::string_view body) {
    return request ? c.onRequestBodyBuffered(body) : c.onResponseBodyBuffered(body);
  }

  // After a headers callback: no body follows at end of stream, nor after a local response.
  static void headersDone(Context& c, bool request, bool end_of_stream, bool responded) {
    if (end_of_stream || (request && responded)) buffering(c, request) = false;
  }
};

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

PWSDK_EXPORT_(proxy_on_request_headers)
uint32_t pwsdk_on_request_headers(uint32_t id, uint32_t headers, uint32_t end_of_stream) {
  Stream* s = activeStream(id);
  if (!s) return 0;
  auto status = s->context->onRequestHeaders(headers, end_of_stream != 0);
  uint32_t r = result(*s, status);
  Dispatch::headersDone(*s->context, true, end_of_stream != 0, s->responded);
  return r;
}

PWSDK_EXPORT_(proxy_on_request_body)
uint32_t pwsdk_on_request_body(uint32_t id, uint32_t size, uint32_t end_of_stream) {
  Stream* s = activeStream(id);
  if (!s) return 0;
  return result(*s, Dispatch::body(*s->context, true, size, end_of_stream != 0));
}

PWSDK_EXPORT_(proxy_on_request_trailers) uint32_t pwsdk_on_request_trailers(uint32_t id, uint32_t trailers) {
  Stream* s = activeStream(id);
  if (!s) return 0;
  if (result(*s, Dispatch::trailers(*s->context, true)) != 0) return 1;
  return result(*s, s->context->onRequestTrailers(trailers));
}

PWSDK_EXPORT_(proxy_on_response_headers)
uint32_t pwsdk_on_response_headers(uint32_t id, uint32_t headers, uint32_t end_of_stream) {
  Stream* s = startedStream(id);
  if (!s) return 0;
  auto status = s->context->onResponseHeaders(headers, end_of_stream != 0);
  uint32_t r = result(*s, status);
  Dispatch::headersDone(*s->context, false, end_of_stream != 0, s->responded);
  return r;
}

PWSDK_EXPORT_(proxy_on_response_body)
uint32_t pwsdk_on_response_body(uint32_t id, uint32_t size, uint32_t end_of_stream) {
  Stream* s = startedStream(id);
  if (!s) return 0;
  return result(*s, Dispatch::body(*s->context, false, size, end_of_stream != 0));
}

PWSDK_EXPORT_(proxy_on_response_trailers)
uint32_t pwsdk_on_response_trailers(uint32_t id, uint32_t trailers) {
  Stream* s = startedStream(id);
  if (!s) return 0;
  if (result(*s, Dispatch::trailers(*s->context, false)) != 0) return 1;
  return result(*s, s->context->onResponseTrailers(trailers));
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
