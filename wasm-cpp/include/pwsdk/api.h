// The plug-in author's API: host call wrappers, logging, and the RootContext / Context classes whose
// virtual callbacks the SDK's exports dispatch to. Callbacks default to "do nothing, continue".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pwsdk/callout.h"
#include "pwsdk/detail/strings.h"
#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {

// Concatenates strings, characters and integers: cat("code ", 403) == "code 403".
using detail::cat;

// ---- Logging -----------------------------------------------------------------------------------------
// Every line is prefixed with "[<plugin>] " (the name given to Register).
void logMessage(LogLevel level, std::string_view message);
template <class... Parts>
void logTrace(const Parts&... p) {
  logMessage(LogLevel::Trace, cat(p...));
}
template <class... Parts>
void logDebug(const Parts&... p) {
  logMessage(LogLevel::Debug, cat(p...));
}
template <class... Parts>
void logInfo(const Parts&... p) {
  logMessage(LogLevel::Info, cat(p...));
}
template <class... Parts>
void logWarn(const Parts&... p) {
  logMessage(LogLevel::Warn, cat(p...));
}
template <class... Parts>
void logError(const Parts&... p) {
  logMessage(LogLevel::Error, cat(p...));
}
template <class... Parts>
void logCritical(const Parts&... p) {
  logMessage(LogLevel::Critical, cat(p...));
}

// The plug-in name given to Register ("" before registration).
std::string_view pluginName();

// ---- Host calls --------------------------------------------------------------------------------------
// Getters return nullopt when the host has no such item (NotFound) or the call fails.
// `*status` (when given) receives the host's status.
std::optional<std::string> getBufferBytes(BufferType type, size_t start, size_t max_size,
                                          Status* status = nullptr);
// The whole buffer; a buffer the host does not have (NotFound: e.g. a request with trailers but no body) is
// empty, not an error. nullopt only on a real failure.
std::optional<std::string> getWholeBuffer(BufferType type);
Status setBufferBytes(BufferType type, size_t start, size_t size, std::string_view data);

std::optional<std::string> getHeader(MapType map, std::string_view key);
// nullopt on the host's failure (in `*status`), or SerializationFailure when the pairs are malformed.
std::optional<HeaderList> getHeaderPairs(MapType map, Status* status = nullptr);
Status setHeaderPairs(MapType map, const HeaderList& pairs);
Status addHeader(MapType map, std::string_view key, std::string_view value);
Status replaceHeader(MapType map, std::string_view key, std::string_view value);
Status removeHeader(MapType map, std::string_view key);

// A property by path, e.g. getProperty({"route_name"}) or getProperty({"request", "path"}).
std::optional<std::string> getProperty(std::initializer_list<std::string_view> path);
Status setProperty(std::initializer_list<std::string_view> path, std::string_view value);

// Answers the request from the plug-in; the request does not reach the upstream. Return
// FilterHeadersStatus::StopIteration afterwards (the SDK stops iteration anyway once a local response was
// sent in a callback, and stops buffering the request body). Works from the response phase too: Envoy then
// sends the reply directly (the plug-in's response callbacks do not run for it), and from a callout's answer.
Status sendLocalResponse(uint32_t status_code, std::string_view body, const HeaderList& headers = {},
                         std::string_view details = {}, GrpcStatus grpc_status = GrpcStatus::None);
Status continueStream(StreamType stream);
Status closeStream(StreamType stream);
std::optional<uint64_t> currentTimeNanoseconds();
// The root context's tick period (0 stops ticks); RootContext::onTick runs every period.
Status setTickPeriodMilliseconds(uint32_t ms);

// ---- Bodies --------------------------------------------------------------------------------------------
// Valid inside a body callback (onRequestChunk, onRequestBodyBuffered, onRequestBody, and the response
// ones): they act on the host's current body buffer, which is the current chunk (joined with the chunks
// held by earlier Stop results) or, when buffering, the whole body. Envoy's proxy_set_buffer_bytes
// semantics: start 0 drains `length` bytes then prepends; start >= length appends; (0, 0) prepends.
// Elsewhere the host's refusal is returned as is; replace*Chunk is NotFound without a host call.
Status replaceRequestBody(std::string_view data);   // the whole current buffer
Status replaceRequestChunk(std::string_view data);  // the chunk handed to this callback (as changed since)
Status appendRequestBody(std::string_view data);
Status prependRequestBody(std::string_view data);
Status replaceResponseBody(std::string_view data);
Status replaceResponseChunk(std::string_view data);
Status appendResponseBody(std::string_view data);
Status prependResponseBody(std::string_view data);

// Serialises header pairs in the proxy-wasm wire format.
std::string serializeHeaders(const HeaderList& pairs);
// Parses the proxy-wasm wire format; nullopt when malformed.
std::optional<HeaderList> deserializeHeaders(std::string_view bytes);

// ---- Contexts ----------------------------------------------------------------------------------------
class RootContext {
 public:
  explicit RootContext(uint32_t id) : id_(id) {}
  virtual ~RootContext() = default;
  RootContext(const RootContext&) = delete;
  RootContext& operator=(const RootContext&) = delete;

  uint32_t id() const { return id_; }

  // Returning false makes the host reject the VM / the configuration.
  virtual bool onVmStart(size_t vm_configuration_size) { return (void)vm_configuration_size, true; }
  virtual bool onConfigure(size_t configuration_size) { return (void)configuration_size, true; }
  // Every tick period (setTickPeriodMilliseconds).
  virtual void onTick() {}
  // A shared queue this VM registered (registerSharedQueue) has items (dequeueSharedQueue them).
  virtual void onQueueReady(uint32_t queue_id) { (void)queue_id; }
  // Return false to finish later with proxy_done().
  virtual bool onDone() { return true; }
  virtual void onDelete() {}

  // Callouts from the root context (e.g. on a tick): the answers arrive at the callbacks below. A host
  // refusal (unknown cluster, missing pseudo-header) is nullopt with its Status in `*status`.
  std::optional<uint32_t> httpCall(const HttpCall& call, Status* status = nullptr);
  std::optional<uint32_t> grpcCall(const GrpcCall& call, Status* status = nullptr);
  virtual void onHttpCallResponse(uint32_t token, const HttpCallResult& result) { (void)token, (void)result; }
  // Calls of this root context started and not answered yet.
  uint32_t callsInFlight() const { return calls_in_flight_; }
  // The tick period (0 stops ticks); onTick runs every period.
  Status setTickPeriodMilliseconds(uint32_t ms) { return pwsdk::setTickPeriodMilliseconds(ms); }
  virtual void onGrpcCallResponse(uint32_t token, const GrpcResponse& response) {
    (void)token, (void)response;
  }

  // The configuration bytes given to onConfigure / onVmStart.
  std::optional<std::string> pluginConfiguration(size_t size) const;
  std::optional<std::string> vmConfiguration(size_t size) const;

 private:
  friend struct Callouts;
  uint32_t id_;
  uint32_t calls_in_flight_ = 0;
};

// The largest body the SDK buffers for onRequestBodyBuffered / onResponseBodyBuffered (32 MiB).
constexpr size_t kMaxBufferedBody = size_t{32} << 20;

// One HTTP stream.
class Context {
 public:
  // The root type a Register of this context needs (Filter<Config> narrows it to Plugin<Config>).
  using RootType = RootContext;

  Context(uint32_t id, RootContext* root) : id_(id), root_(root) {}
  virtual ~Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  uint32_t id() const { return id_; }
  RootContext* root() const { return root_; }

  // Called once before the first request callback. Returning false makes the stream passive: no further
  // callback of this context is called and the stream continues untouched.
  virtual bool onStart() { return true; }

  virtual FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream);
  virtual FilterDataStatus onRequestBody(size_t body_size, bool end_of_stream);
  virtual FilterTrailersStatus onRequestTrailers(uint32_t trailers);
  virtual FilterHeadersStatus onResponseHeaders(uint32_t headers, bool end_of_stream);
  virtual FilterDataStatus onResponseBody(size_t body_size, bool end_of_stream);
  virtual FilterTrailersStatus onResponseTrailers(uint32_t trailers);
  virtual void onLog() {}
  virtual bool onDone() { return true; }
  virtual void onDelete() {}

  // Body buffering: after bufferRequestBody() (in onRequestHeaders) the SDK holds the request body back
  // until the end of the stream (or its trailers) and then calls onRequestBodyBuffered with all of it,
  // instead of onRequestBody. A body over kMaxBufferedBody logs one warning and passes uninspected.
  void bufferRequestBody() { request_.mode = BodyMode::Buffer; }
  void bufferResponseBody() { response_.mode = BodyMode::Buffer; }
  virtual FilterDataStatus onRequestBodyBuffered(std::string_view body) {
    return (void)body, FilterDataStatus::Continue;
  }
  virtual FilterDataStatus onResponseBodyBuffered(std::string_view body) {
    return (void)body, FilterDataStatus::Continue;
  }

  // Whether a body (or trailers) follows the request / response headers (false: the headers ended the
  // stream). Rust: `request_has_body()` / `response_has_body()`.
  bool requestHasBody() const { return request_.has_body; }
  bool responseHasBody() const { return response_.has_body; }

  // Streaming: after streamRequestBody() (in onRequestHeaders) each body chunk is read from the host and
  // given to onRequestChunk instead of onRequestBody. Continue passes the (possibly rewritten, see
  // replaceRequestChunk) chunk on; StopIterationAndBuffer holds it: the host keeps it and the next call
  // gets it again joined with the next chunk. end_of_stream is true exactly once: with the last chunk, or
  // with the held bytes (often empty) just before onRequestTrailers when trailers end the stream.
  void streamRequestBody();
  void streamResponseBody();
  virtual FilterDataStatus onRequestChunk(std::string_view chunk, bool end_of_stream) {
    return (void)chunk, (void)end_of_stream, FilterDataStatus::Continue;
  }
  virtual FilterDataStatus onResponseChunk(std::string_view chunk, bool end_of_stream) {
    return (void)chunk, (void)end_of_stream, FilterDataStatus::Continue;
  }

  // Callouts. A callback that started calls returns a stop status (StopIteration from headers,
  // StopIterationAndBuffer from a body); the stream stays paused until an answer callback returns
  // Flow::Continue while no other call of this stream is in flight (the SDK then resumes it with
  // proxy_continue_stream), a callback sends a local response, or resumeRequest() / resumeResponse() is
  // called. A host refusal (unknown cluster, missing pseudo-header) is nullopt with its Status in `*status`;
  // no answer follows then. Answers to a stream that ended meanwhile are dropped.
  std::optional<uint32_t> httpCall(const HttpCall& call, Status* status = nullptr);
  std::optional<uint32_t> grpcCall(const GrpcCall& call, Status* status = nullptr);
  virtual Flow onHttpCallResponse(uint32_t token, const HttpCallResult& result) {
    return (void)token, (void)result, Flow::Continue;
  }
  virtual Flow onGrpcCallResponse(uint32_t token, const GrpcResponse& response) {
    return (void)token, (void)response, Flow::Continue;
  }
  // Calls of this stream started and not answered yet.
  uint32_t callsInFlight() const { return calls_in_flight_; }
  Status resumeRequest();
  Status resumeResponse();

  // Request helpers: the pseudo-headers of the request ("" when absent).
  std::string requestScheme() const;
  std::string requestHost() const;  // `:authority`
  std::string requestPath() const;
  std::string requestMethod() const;

  std::optional<std::string> requestHeader(std::string_view key) const {
    return getHeader(MapType::RequestHeaders, key);
  }
  std::optional<std::string> responseHeader(std::string_view key) const {
    return getHeader(MapType::ResponseHeaders, key);
  }

  // Trailers (valid in the trailers callbacks; Envoy also lets the last body callback add them).
  std::optional<std::string> requestTrailer(std::string_view key) const {
    return getHeader(MapType::RequestTrailers, key);
  }
  std::optional<HeaderList> requestTrailers() const { return getHeaderPairs(MapType::RequestTrailers); }
  Status setRequestTrailer(std::string_view key, std::string_view value) {
    return replaceHeader(MapType::RequestTrailers, key, value);
  }
  Status addRequestTrailer(std::string_view key, std::string_view value) {
    return addHeader(MapType::RequestTrailers, key, value);
  }
  Status removeRequestTrailer(std::string_view key) { return removeHeader(MapType::RequestTrailers, key); }
  std::optional<std::string> responseTrailer(std::string_view key) const {
    return getHeader(MapType::ResponseTrailers, key);
  }
  std::optional<HeaderList> responseTrailers() const { return getHeaderPairs(MapType::ResponseTrailers); }
  Status setResponseTrailer(std::string_view key, std::string_view value) {
    return replaceHeader(MapType::ResponseTrailers, key, value);
  }
  Status addResponseTrailer(std::string_view key, std::string_view value) {
    return addHeader(MapType::ResponseTrailers, key, value);
  }
  Status removeResponseTrailer(std::string_view key) { return removeHeader(MapType::ResponseTrailers, key); }

 private:
  friend struct Dispatch;
  friend struct Callouts;
  enum class BodyMode : uint8_t { Raw, Buffer, Stream };
  struct Direction {
    BodyMode mode = BodyMode::Raw;
    bool held = false;      // the last chunk callback returned a stop: the host holds bytes for the next one
    bool paused = false;    // the last callback of this direction returned a stop
    bool replied = false;   // a local reply was sent in this direction (response: no more callbacks)
    bool has_body = false;  // the headers did not end the stream: a body (or trailers) follows
  };
  uint32_t id_;
  RootContext* root_;
  Direction request_;
  Direction response_;
  uint32_t calls_in_flight_ = 0;
};

// ---- Registration ------------------------------------------------------------------------------------
namespace detail {
struct Factories {
  std::string_view name;
  std::unique_ptr<RootContext> (*make_root)(uint32_t id) = nullptr;
  std::unique_ptr<Context> (*make_http)(uint32_t id, RootContext* root) = nullptr;
};
void registerPlugin(const Factories& f);
// Marks that the current callback sent a local response (its result is then forced to "stop").
void noteLocalResponse();
// True (once) when a local response was sent since the last call.
bool takeLocalResponse();
// The size of the body chunk handed to the body callback running now for a direction (kNoChunk outside
// body callbacks); the body setters keep it up to date for replaceRequestChunk.
constexpr size_t kNoChunk = SIZE_MAX;
size_t& chunkSize(bool request);
// The live contexts by id (nullptr when gone).
Context* findStream(uint32_t id);
RootContext* findRootContext(uint32_t id);

// Optional features behind function pointers, set by the first use of the feature (a call made, a body
// streamed), so that modules that do not use it do not link its code. The exports forward to them.
struct Hooks {
  // Callouts (callouts.cc).
  void (*http_response)(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers) = nullptr;
  void (*grpc_message)(uint32_t token, size_t size) = nullptr;
  void (*grpc_trailing_metadata)(uint32_t token, uint32_t trailers) = nullptr;
  void (*grpc_close)(uint32_t token, uint32_t status) = nullptr;
  void (*stream_deleted)(uint32_t id) = nullptr;
  // Body streaming: one chunk (or, at trailers, the held bytes) to onRequestChunk / onResponseChunk.
  uint32_t (*stream_chunk)(Context& c, bool request, size_t size, bool end_of_stream,
                           bool at_trailers) = nullptr;
};
Hooks& hooks();
}  // namespace detail

// Registers the plug-in (one per module), e.g.
//     static pwsdk::Register<pwsdk::Plugin<Config>, AddHeader> registration("add-header");
template <class Root, class Http>
class Register {
  static_assert(std::is_base_of_v<RootContext, Root>, "Root must derive from pwsdk::RootContext");
  static_assert(std::is_base_of_v<Context, Http>, "Http must derive from pwsdk::Context");
  static_assert(std::is_base_of_v<typename Http::RootType, Root>,
                "Root must derive from the root type the Http context expects (Plugin<Config> for a "
                "Filter<Config>)");

 public:
  explicit Register(std::string_view plugin_name) {
    detail::Factories f;
    f.name = plugin_name;
    f.make_root = [](uint32_t id) -> std::unique_ptr<RootContext> { return std::make_unique<Root>(id); };
    f.make_http = [](uint32_t id, RootContext* root) -> std::unique_ptr<Context> {
      return std::make_unique<Http>(id, root);
    };
    detail::registerPlugin(f);
  }
};

}  // namespace v0
}  // namespace pwsdk
