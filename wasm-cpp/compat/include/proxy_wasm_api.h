// Standard proxy-wasm C++ SDK API (compat layer): the classes, registration and helper functions of Envoy's /
// Istio's `proxy-wasm-cpp-sdk`, with the same names and signatures, written for this repository on the ABI
// layer of pwsdk (wasm-cpp/include/pwsdk/abi.h). Part of `proxy_wasm_intrinsics.h`; what it offers and what
// it does not is in wasm-cpp/README.md ("The standard C++ SDK API").
//
// No protobuf: gRPC messages and property values are bytes (std::string_view / WasmData); the templates that
// need a protobuf type (WasmData::proto, getMessageValue, GrpcStreamHandler::send(const Request&)) compile
// only when given a type with ParseFromArray / SerializeToString.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proxy_wasm_common.h"
#include "proxy_wasm_enums.h"
#include "proxy_wasm_externs.h"

// Logs `_c` at critical level and aborts the VM unless it evaluates to WasmResult::Ok.
#define CHECK_RESULT(_c)                                   \
  do {                                                     \
    if ((_c) != WasmResult::Ok) {                          \
      proxy_log(LogLevel::critical, #_c, sizeof(#_c) - 1); \
      abort();                                             \
    }                                                      \
  } while (0)

class ContextBase;
class RootContext;
class Context;

// Exceptions are not supported (the SDK is built with -fno-exceptions).
#define WASM_EXCEPTIONS 0

// ---- Logging ---------------------------------------------------------------------------------------------
// The message goes to the host as given (no prefix).
inline WasmResult logTrace(std::string_view m) { return proxy_log(LogLevel::trace, m.data(), m.size()); }
inline WasmResult logDebug(std::string_view m) { return proxy_log(LogLevel::debug, m.data(), m.size()); }
inline WasmResult logInfo(std::string_view m) { return proxy_log(LogLevel::info, m.data(), m.size()); }
inline WasmResult logWarn(std::string_view m) { return proxy_log(LogLevel::warn, m.data(), m.size()); }
inline WasmResult logError(std::string_view m) { return proxy_log(LogLevel::error, m.data(), m.size()); }
inline WasmResult logCritical(std::string_view m) {
  return proxy_log(LogLevel::critical, m.data(), m.size());
}

// Logs at critical level, then aborts the VM (a trap the host reports).
inline void logAbort(std::string_view m) {
  logCritical(m);
  abort();
}

// LOG_INFO("x " + std::to_string(n)) logs "[<file>:<line>]::<function>() x 3". The arguments are appended to
// a std::string, so they may be std::string, const char* or char (as upstream).
#define LOG(_level, ...)                                                                                    \
  log##_level(std::string("[") + __FILE__ + ":" + std::to_string(__LINE__) + "]::" + __FUNCTION__ + "() " + \
              __VA_ARGS__)
#define LOG_TRACE(...) LOG(Trace, __VA_ARGS__)
#define LOG_DEBUG(...) LOG(Debug, __VA_ARGS__)
#define LOG_INFO(...) LOG(Info, __VA_ARGS__)
#define LOG_WARN(...) LOG(Warn, __VA_ARGS__)
#define LOG_ERROR(...) LOG(Error, __VA_ARGS__)
#define LOG_CRITICAL(...) LOG(Critical, __VA_ARGS__)

// ---- WasmData --------------------------------------------------------------------------------------------
// Bytes the host gave the module (allocated with its malloc); freed with the object.
class WasmData {
 public:
  WasmData(const char* data, size_t size) : data_(data), size_(size) {}
  ~WasmData() { ::free(const_cast<char*>(data_)); }
  WasmData(const WasmData&) = delete;
  WasmData& operator=(const WasmData&) = delete;

  const char* data() { return data_; }
  size_t size() { return size_; }
  std::string_view view() { return {data_, size_}; }
  std::string toString() { return std::string(view()); }
  // The pairs of a serialised header map, as views into this buffer; empty when the bytes are malformed.
  std::vector<std::pair<std::string_view, std::string_view>> pairs();
  // A protobuf message parsed from the bytes (T needs ParseFromArray; no protobuf is built in).
  template <typename T>
  T proto() {
    T p;
    p.ParseFromArray(data_, size_);
    return p;
  }

 private:
  const char* data_;
  size_t size_;
};
using WasmDataPtr = std::unique_ptr<WasmData>;

// The upstream SDK trusts the host's bytes; this parser checks every size against the buffer instead (as
// pwsdk::deserializeHeaders does, which copies where this returns views).
inline std::vector<std::pair<std::string_view, std::string_view>> WasmData::pairs() {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  auto u32 = [this](size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, data_ + at, sizeof v);
    return size_t{v};
  };
  if (!data_ || size_ < sizeof(uint32_t)) return out;
  size_t n = u32(0);
  if (n > (size_ - sizeof(uint32_t)) / 8) return out;
  size_t at = sizeof(uint32_t) + n * 8;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    size_t key = u32(4 + i * 8);
    size_t value = u32(8 + i * 8);
    if (key > size_ || value > size_ || at + key + value + 2 > size_) return {};
    std::string_view k(data_ + at, key);
    at += key + 1;
    std::string_view v(data_ + at, value);
    at += value + 1;
    out.emplace_back(k, v);
  }
  return out;
}

// ---- Header pairs in the proxy-wasm serialisation
// ----------------------------------------------------------- u32 count, count x (u32 key size, u32 value
// size), then each key and value followed by '\0' (little endian).

// Bytes needed to serialise `pairs`.
template <typename Pairs>
size_t pairsSize(const Pairs& pairs) {
  size_t n = sizeof(uint32_t);
  for (const auto& p : pairs) n += 2 * sizeof(uint32_t) + p.first.size() + 1 + p.second.size() + 1;
  return n;
}

// Serialises `pairs` (a container of pairs of std::string / std::string_view) into `buffer`, which has at
// least pairsSize(pairs) bytes.
template <typename Pairs>
void marshalPairs(const Pairs& pairs, char* buffer) {
  auto put = [&buffer](uint32_t v) {
    std::memcpy(buffer, &v, sizeof v);
    buffer += sizeof v;
  };
  auto bytes = [&buffer](std::string_view s) {
    std::memcpy(buffer, s.data(), s.size());
    buffer += s.size();
    *buffer++ = '\0';
  };
  put(static_cast<uint32_t>(pairs.size()));
  for (const auto& p : pairs) {
    put(static_cast<uint32_t>(p.first.size()));
    put(static_cast<uint32_t>(p.second.size()));
  }
  for (const auto& p : pairs) {
    bytes(p.first);
    bytes(p.second);
  }
}

// Serialises `pairs` into a malloc'ed buffer the caller frees; (nullptr, 0) for no pairs.
template <typename Pairs>
void exportPairs(const Pairs& pairs, const char** ptr, size_t* size_ptr) {
  if (pairs.empty()) {
    *ptr = nullptr;
    *size_ptr = 0;
    return;
  }
  size_t size = pairsSize(pairs);
  char* buffer = static_cast<char*>(::malloc(size));
  marshalPairs(pairs, buffer);
  *ptr = buffer;
  *size_ptr = size;
}

struct PairHash {
  template <typename T, typename U>
  std::size_t operator()(const std::pair<T, U>& x) const {
    return std::hash<T>()(x.first) + std::hash<U>()(x.second);
  }
};

struct Tuple3Hash {
  template <typename T, typename U, typename V>
  std::size_t operator()(const std::tuple<T, U, V>& x) const {
    return std::hash<T>()(std::get<0>(x)) + std::hash<U>()(std::get<1>(x)) + std::hash<V>()(std::get<2>(x));
  }
};

using HeaderStringPairs = std::vector<std::pair<std::string, std::string>>;

// ---- gRPC callout handlers (messages are bytes)
// -------------------------------------------------------------- Receives the outcome of
// RootContext::grpcCallHandler.
class GrpcCallHandlerBase {
 public:
  GrpcCallHandlerBase() {}
  virtual ~GrpcCallHandlerBase() {}

  RootContext* context() { return context_; }
  uint32_t token() { return token_; }
  // Cancels the call; no callback follows (the handler is destroyed).
  void cancel();

  // The answer arrived: its message (body_size bytes) is in WasmBufferType::GrpcReceiveBuffer.
  virtual void onSuccess(size_t body_size) = 0;
  virtual void onFailure(GrpcStatus status) = 0;

 private:
  friend class RootContext;
  RootContext* context_{nullptr};
  uint32_t token_{0};
};

template <typename Message>
class GrpcCallHandler : public GrpcCallHandlerBase {
 public:
  GrpcCallHandler() : GrpcCallHandlerBase() {}
  virtual ~GrpcCallHandler() {}
  virtual void onSuccess(size_t body_size) = 0;
};

// Drives a streaming gRPC callout started by RootContext::grpcStreamHandler.
class GrpcStreamHandlerBase {
 public:
  GrpcStreamHandlerBase() {}
  virtual ~GrpcStreamHandlerBase() {}

  RootContext* context() { return context_; }
  uint32_t token() { return token_; }
  // Sends one serialised message; end_of_stream half-closes the stream (callbacks may still come: reset()).
  WasmResult send(std::string_view message, bool end_of_stream);
  // Closes the local side (callbacks may still come: reset()).
  void close();
  // Cancels the stream; no callback follows (the handler is destroyed).
  void reset();

  virtual void onReceiveInitialMetadata(uint32_t /* headers */) {}
  virtual void onReceiveTrailingMetadata(uint32_t /* trailers */) {}
  // A message of body_size bytes is in WasmBufferType::GrpcReceiveBuffer.
  virtual void onReceive(size_t body_size) = 0;
  virtual void onRemoteClose(GrpcStatus status) = 0;

 protected:
  friend class RootContext;
  void doRemoteClose(GrpcStatus status);

  bool local_close_{false};
  bool remote_close_{false};
  RootContext* context_{nullptr};
  uint32_t token_{0};
};

template <typename Request, typename Response>
class GrpcStreamHandler : public GrpcStreamHandlerBase {
 public:
  GrpcStreamHandler() : GrpcStreamHandlerBase() {}
  virtual ~GrpcStreamHandler() {}

  using GrpcStreamHandlerBase::send;
  // Sends a message object (Request needs SerializeToString, i.e. protobuf, which is not built in).
  WasmResult send(const Request& message, bool end_of_stream) {
    std::string bytes;
    if (!message.SerializeToString(&bytes)) return WasmResult::SerializationFailure;
    return GrpcStreamHandlerBase::send(bytes, end_of_stream);
  }
  virtual void onReceive(size_t body_size) = 0;
};

// ---- Contexts --------------------------------------------------------------------------------------------
class ContextBase {
 public:
  explicit ContextBase(uint32_t id) : id_(id) {}
  virtual ~ContextBase() {}

  uint32_t id() { return id_; }
  // Makes this context the one later hostcalls act on (e.g. a stream's, from a callout's callback).
  WasmResult setEffectiveContext();

  virtual RootContext* asRoot() { return nullptr; }
  virtual Context* asContext() { return nullptr; }

  virtual void onCreate() {}
  // The host is done with the context: true lets it be deleted now; false means done() follows later.
  virtual bool onDoneBase() = 0;
  virtual void onLog() {}
  virtual void onDelete() {}
  // A host-specific event; its arguments are in WasmBufferType::CallData.
  virtual void onForeignFunction(uint32_t /* foreign_function_id */, uint32_t /* data_size */) {}

  WasmResult getLogLevel(LogLevel* level) { return proxy_get_log_level(level); }

  using HttpCallCallback = std::function<void(uint32_t num_headers, size_t body_size, uint32_t num_trailers)>;
  using GrpcSimpleCallCallback = std::function<void(GrpcStatus status, size_t body_size)>;

 private:
  uint32_t id_;
};

// The plug-in's context: one per plug-in configuration (root_id) in a VM.
class RootContext : public ContextBase {
 public:
  RootContext(uint32_t id, std::string_view root_id) : ContextBase(id), root_id_(root_id) {}
  ~RootContext() override {}

  std::string_view root_id() { return root_id_; }

  RootContext* asRoot() override { return this; }
  Context* asContext() override { return nullptr; }

  // Configuration bytes (configuration_size) are in WasmBufferType::PluginConfiguration; return false to
  // reject.
  virtual bool validateConfiguration(size_t /* configuration_size */) { return true; }
  virtual bool onConfigure(size_t /* configuration_size */) { return true; }
  // VM start; the VM configuration is in WasmBufferType::VmConfiguration. Return false to fail the VM.
  virtual bool onStart(size_t /* vm_configuration_size */) { return true; }
  // Every period set with proxy_set_tick_period_milliseconds.
  virtual void onTick() {}
  // A shared queue this VM registered has data (dequeueSharedQueue).
  virtual void onQueueReady(uint32_t /* token */) {}
  virtual bool onDone() { return true; }
  // Tells the host the plug-in has finished after onDone() returned false.
  void done();

  // Low-level callout answers. The defaults route them to the callbacks/handlers given to httpCall,
  // grpcSimpleCall, grpcCallHandler and grpcStreamHandler; overriding one disables that routing.
  // headers == 0 means the call failed (e.g. timed out); getStatus() tells why.
  virtual void onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers);
  virtual void onGrpcReceiveInitialMetadata(uint32_t token, uint32_t headers);
  virtual void onGrpcReceiveTrailingMetadata(uint32_t token, uint32_t trailers);
  virtual void onGrpcReceive(uint32_t token, size_t body_size);
  virtual void onGrpcClose(uint32_t token, GrpcStatus status);

  // HTTP callout to the upstream (Envoy: the cluster) `uri`. request_headers needs :method, :path and
  // :authority. The callback runs on this root context when the answer (or a failure) arrives; read the
  // answer with getHeaderMapValue(WasmHeaderMapType::HttpCallResponseHeaders, ..) and
  // getBufferBytes(WasmBufferType::HttpCallResponseBody, ..).
  WasmResult httpCall(std::string_view uri, const HeaderStringPairs& request_headers,
                      std::string_view request_body, const HeaderStringPairs& request_trailers,
                      uint32_t timeout_milliseconds, HttpCallCallback callback);

  // Unary gRPC callout with a serialised request message.
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name,
                            std::string_view method_name, const HeaderStringPairs& initial_metadata,
                            std::string_view request, uint32_t timeout_milliseconds,
                            GrpcSimpleCallCallback callback);
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name,
                            std::string_view method_name, const HeaderStringPairs& initial_metadata,
                            std::string_view request, uint32_t timeout_milliseconds,
                            std::function<void(size_t body_size)> success_callback,
                            std::function<void(GrpcStatus status)> failure_callback) {
    auto both = [success_callback, failure_callback](GrpcStatus status, size_t body_size) {
      if (status == GrpcStatus::Ok) {
        success_callback(body_size);
      } else {
        failure_callback(status);
      }
    };
    return grpcSimpleCall(service, service_name, method_name, initial_metadata, request, timeout_milliseconds,
                          both);
  }
  WasmResult grpcCallHandler(std::string_view service, std::string_view service_name,
                             std::string_view method_name, const HeaderStringPairs& initial_metadata,
                             std::string_view request, uint32_t timeout_milliseconds,
                             std::unique_ptr<GrpcCallHandlerBase> handler);
  WasmResult grpcStreamHandler(std::string_view service, std::string_view service_name,
                               std::string_view method_name, const HeaderStringPairs& initial_metadata,
                               std::unique_ptr<GrpcStreamHandlerBase> handler);

 private:
  friend class GrpcCallHandlerBase;
  friend class GrpcStreamHandlerBase;

  bool onDoneBase() override { return onDone(); }

  const std::string root_id_;
  std::unordered_map<uint32_t, HttpCallCallback> http_calls_;
  std::unordered_map<uint32_t, GrpcSimpleCallCallback> simple_grpc_calls_;
  std::unordered_map<uint32_t, std::unique_ptr<GrpcCallHandlerBase>> grpc_calls_;
  std::unordered_map<uint32_t, std::unique_ptr<GrpcStreamHandlerBase>> grpc_streams_;
};

// The root context created for `root_id`, or nullptr.
RootContext* getRoot(std::string_view root_id);

// One HTTP stream (or TCP connection).
class Context : public ContextBase {
 public:
  Context(uint32_t id, RootContext* root) : ContextBase(id), root_(root) {}
  ~Context() override {}

  RootContext* root() { return root_; }
  RootContext* asRoot() override { return nullptr; }
  Context* asContext() override { return this; }

  // TCP (network filter) callbacks; the data is in WasmBufferType::Network{Downstream,Upstream}Data.
  virtual FilterStatus onNewConnection() { return FilterStatus::Continue; }
  virtual FilterStatus onDownstreamData(size_t /* data_size */, bool /* end_of_stream */) {
    return FilterStatus::Continue;
  }
  virtual FilterStatus onUpstreamData(size_t /* data_size */, bool /* end_of_stream */) {
    return FilterStatus::Continue;
  }
  virtual void onDownstreamConnectionClose(CloseType /* close_type */) {}
  virtual void onUpstreamConnectionClose(CloseType /* close_type */) {}

  // HTTP callbacks. Bodies arrive in chunks: body_buffer_length bytes are in WasmBufferType::Http*Body, and
  // returning StopIterationAndBuffer holds them back so the next call sees everything buffered so far.
  virtual FilterHeadersStatus onRequestHeaders(uint32_t /* headers */, bool /* end_of_stream */) {
    return FilterHeadersStatus::Continue;
  }
  virtual FilterMetadataStatus onRequestMetadata(uint32_t /* elements */) {
    return FilterMetadataStatus::Continue;
  }
  virtual FilterDataStatus onRequestBody(size_t /* body_buffer_length */, bool /* end_of_stream */) {
    return FilterDataStatus::Continue;
  }
  virtual FilterTrailersStatus onRequestTrailers(uint32_t /* trailers */) {
    return FilterTrailersStatus::Continue;
  }
  virtual FilterHeadersStatus onResponseHeaders(uint32_t /* headers */, bool /* end_of_stream */) {
    return FilterHeadersStatus::Continue;
  }
  virtual FilterMetadataStatus onResponseMetadata(uint32_t /* elements */) {
    return FilterMetadataStatus::Continue;
  }
  virtual FilterDataStatus onResponseBody(size_t /* body_buffer_length */, bool /* end_of_stream */) {
    return FilterDataStatus::Continue;
  }
  virtual FilterTrailersStatus onResponseTrailers(uint32_t /* trailers */) {
    return FilterTrailersStatus::Continue;
  }
  // The stream is complete.
  virtual void onDone() {}

 private:
  bool onDoneBase() override {
    onDone();
    return true;
  }
  RootContext* root_{};
};

// Contexts by id (nullptr when none, or of the other kind).
Context* getContext(uint32_t context_id);
RootContext* getRootContext(uint32_t context_id);
ContextBase* getContextBase(uint32_t context_id);

// ---- Registration ----------------------------------------------------------------------------------------
using RootFactory = std::function<std::unique_ptr<RootContext>(uint32_t id, std::string_view root_id)>;
using ContextFactory = std::function<std::unique_ptr<Context>(uint32_t id, RootContext* root)>;

#define ROOT_FACTORY(_c)                                                      \
  [](uint32_t id, std::string_view root_id) -> std::unique_ptr<RootContext> { \
    return std::make_unique<_c>(id, root_id);                                 \
  }
#define CONTEXT_FACTORY(_c) \
  [](uint32_t id, RootContext* root) -> std::unique_ptr<Context> { return std::make_unique<_c>(id, root); }

// A static instance registers the factories for the plug-in configured with `root_id` (the gateway's root_id,
// usually ""); a root_id without factories gets the default RootContext/Context, which do nothing.
struct RegisterContextFactory {
  RegisterContextFactory(ContextFactory context_factory, RootFactory root_factory,
                         std::string_view root_id = "");
  explicit RegisterContextFactory(RootFactory root_factory, std::string_view root_id = "")
      : RegisterContextFactory(nullptr, root_factory, root_id) {}
  explicit RegisterContextFactory(ContextFactory context_factory, std::string_view root_id = "")
      : RegisterContextFactory(context_factory, nullptr, root_id) {}
};

// ---- Hostcall helpers ------------------------------------------------------------------------------------
// The status code and message of the last callout answer (in onHttpCallResponse / onGrpcClose).
inline std::pair<uint32_t, WasmDataPtr> getStatus() {
  uint32_t code = 0;
  const char* ptr = nullptr;
  size_t size = 0;
  CHECK_RESULT(proxy_get_status(&code, &ptr, &size));
  return std::make_pair(code, std::make_unique<WasmData>(ptr, size));
}

namespace proxy_wasm_compat {
// A property path: the parts separated by '\0'.
template <typename Parts>
std::string propertyPath(const Parts& parts) {
  std::string path;
  bool first = true;
  for (const auto& part : parts) {
    if (!first) path.push_back('\0');
    first = false;
    path.append(part.data(), part.size());
  }
  return path;
}
std::optional<WasmDataPtr> getPropertyAt(std::string_view path);
}  // namespace proxy_wasm_compat

// A property by path, e.g. getProperty({"request", "path"}); nullopt when the host has none.
inline std::optional<WasmDataPtr> getProperty(const std::initializer_list<std::string_view>& parts) {
  return proxy_wasm_compat::getPropertyAt(proxy_wasm_compat::propertyPath(parts));
}
template <typename S>
inline std::optional<WasmDataPtr> getProperty(const std::vector<S>& parts) {
  return proxy_wasm_compat::getPropertyAt(proxy_wasm_compat::propertyPath(parts));
}

// A property as a value of type T (int64_t, uint64_t, double, bool: the host's binary form; durations and
// timestamps are int64 nanoseconds) or std::string. False when absent or of another size.
template <typename T>
inline bool getValue(const std::initializer_list<std::string_view>& parts, T* out) {
  auto buf = getProperty(parts);
  if (!buf.has_value() || buf.value()->size() != sizeof(T)) return false;
  std::memcpy(out, buf.value()->data(), sizeof(T));
  return true;
}
template <>
inline bool getValue<std::string>(const std::initializer_list<std::string_view>& parts, std::string* out) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) return false;
  out->assign(buf.value()->data(), buf.value()->size());
  return true;
}
template <typename S, typename T>
inline bool getValue(const std::vector<S>& parts, T* out) {
  auto buf = getProperty(parts);
  if (!buf.has_value() || buf.value()->size() != sizeof(T)) return false;
  std::memcpy(out, buf.value()->data(), sizeof(T));
  return true;
}
template <>
inline bool getValue<std::string, std::string>(const std::vector<std::string>& parts, std::string* out) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) return false;
  out->assign(buf.value()->data(), buf.value()->size());
  return true;
}
template <>
inline bool getValue<std::string_view, std::string>(const std::vector<std::string_view>& parts,
                                                    std::string* out) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) return false;
  out->assign(buf.value()->data(), buf.value()->size());
  return true;
}

// A property parsed into a protobuf message (T needs ParseFromArray; no protobuf is built in).
template <typename T>
inline bool getMessageValue(const std::initializer_list<std::string_view>& parts, T* value_ptr) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) return false;
  if (buf.value()->size() == 0) return true;
  return value_ptr->ParseFromArray(buf.value()->data(), buf.value()->size());
}
template <typename S, typename T>
inline bool getMessageValue(const std::vector<S>& parts, T* value_ptr) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) return false;
  if (buf.value()->size() == 0) return true;
  return value_ptr->ParseFromArray(buf.value()->data(), buf.value()->size());
}

// Sets the property (Envoy: filter state) `key`.
inline WasmResult setFilterState(std::string_view key, std::string_view value) {
  return proxy_set_property(key.data(), key.size(), value.data(), value.size());
}
inline WasmResult setFilterStateStringValue(std::string_view key, std::string_view s) {
  return setFilterState(key, s);
}

// Stream control. continueRequest()/continueResponse() resume a stream a callback stopped.
inline WasmResult continueDownstream() { return proxy_continue_stream(WasmStreamType::Downstream); }
inline WasmResult continueUpstream() { return proxy_continue_stream(WasmStreamType::Upstream); }
inline WasmResult closeDownstream() { return proxy_close_stream(WasmStreamType::Downstream); }
inline WasmResult closeUpstream() { return proxy_close_stream(WasmStreamType::Upstream); }
inline WasmResult continueRequest() { return proxy_continue_stream(WasmStreamType::Request); }
inline WasmResult continueResponse() { return proxy_continue_stream(WasmStreamType::Response); }
inline WasmResult closeRequest() { return proxy_close_stream(WasmStreamType::Request); }
inline WasmResult closeResponse() { return proxy_close_stream(WasmStreamType::Response); }

// Answers the request from the plug-in (the upstream is not called). Return StopIteration from the callback.
WasmResult sendLocalResponse(uint32_t response_code, std::string_view response_code_details,
                             std::string_view body, const HeaderStringPairs& additional_response_headers,
                             GrpcStatus grpc_status = GrpcStatus::InvalidCode);

// Shared data (per VM id). `cas` (optional) receives the version to pass to setSharedData.
inline WasmResult getSharedData(std::string_view key, WasmDataPtr* value, uint32_t* cas = nullptr) {
  uint32_t ignored = 0;
  const char* ptr = nullptr;
  size_t size = 0;
  WasmResult r = proxy_get_shared_data(key.data(), key.size(), &ptr, &size, cas ? cas : &ignored);
  if (r != WasmResult::Ok) return r;
  *value = std::make_unique<WasmData>(ptr, size);
  return WasmResult::Ok;
}
// cas 0: set unconditionally; otherwise CasMismatch when the value changed since getSharedData returned
// `cas`.
inline WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas = 0) {
  return proxy_set_shared_data(key.data(), key.size(), value.data(), value.size(), cas);
}
// The value, or the VM aborts when there is none.
inline WasmDataPtr getSharedDataValue(std::string_view key, uint32_t* cas = nullptr) {
  WasmDataPtr data;
  WasmResult r = getSharedData(key, &data, cas);
  if (r != WasmResult::Ok) logAbort("getSharedData returned WasmError: " + toString(r));
  return data;
}

// Shared queues.
inline WasmResult registerSharedQueue(std::string_view queue_name, uint32_t* token) {
  return proxy_register_shared_queue(queue_name.data(), queue_name.size(), token);
}
inline WasmResult resolveSharedQueue(std::string_view vm_id, std::string_view queue_name, uint32_t* token) {
  return proxy_resolve_shared_queue(vm_id.data(), vm_id.size(), queue_name.data(), queue_name.size(), token);
}
inline WasmResult enqueueSharedQueue(uint32_t token, std::string_view data) {
  return proxy_enqueue_shared_queue(token, data.data(), data.size());
}
// Empty when there is nothing to take (then *data holds no bytes).
inline WasmResult dequeueSharedQueue(uint32_t token, WasmDataPtr* data) {
  const char* ptr = nullptr;
  size_t size = 0;
  WasmResult r = proxy_dequeue_shared_queue(token, &ptr, &size);
  *data = std::make_unique<WasmData>(ptr, size);
  return r;
}

// Header maps. getHeaderMapValue returns an empty WasmData when the header is absent.
inline WasmResult addHeaderMapValue(WasmHeaderMapType type, std::string_view key, std::string_view value) {
  return proxy_add_header_map_value(type, key.data(), key.size(), value.data(), value.size());
}
inline WasmDataPtr getHeaderMapValue(WasmHeaderMapType type, std::string_view key) {
  const char* ptr = nullptr;
  size_t size = 0;
  if (proxy_get_header_map_value(type, key.data(), key.size(), &ptr, &size) != WasmResult::Ok) {
    ptr = nullptr;
    size = 0;
  }
  return std::make_unique<WasmData>(ptr, size);
}
// Sets the header to one value, adding it when absent.
inline WasmResult replaceHeaderMapValue(WasmHeaderMapType type, std::string_view key,
                                        std::string_view value) {
  return proxy_replace_header_map_value(type, key.data(), key.size(), value.data(), value.size());
}
// Ok also when the header is absent.
inline WasmResult removeHeaderMapValue(WasmHeaderMapType type, std::string_view key) {
  return proxy_remove_header_map_value(type, key.data(), key.size());
}
// All pairs (WasmData::pairs()).
inline WasmDataPtr getHeaderMapPairs(WasmHeaderMapType type) {
  const char* ptr = nullptr;
  size_t size = 0;
  if (proxy_get_header_map_pairs(type, &ptr, &size) != WasmResult::Ok) {
    ptr = nullptr;
    size = 0;
  }
  return std::make_unique<WasmData>(ptr, size);
}
// Replaces the whole map.
WasmResult setHeaderMapPairs(WasmHeaderMapType type, const HeaderStringPairs& pairs);
// The map's size in bytes.
inline WasmResult getHeaderMapSize(WasmHeaderMapType type, size_t* size) {
  return proxy_get_header_map_size(type, size);
}

#define PROXY_WASM_COMPAT_HEADER_MAP_(_Name, _type)                                              \
  inline WasmResult add##_Name(std::string_view key, std::string_view value) {                   \
    return addHeaderMapValue(WasmHeaderMapType::_type, key, value);                              \
  }                                                                                              \
  inline WasmDataPtr get##_Name(std::string_view key) {                                          \
    return getHeaderMapValue(WasmHeaderMapType::_type, key);                                     \
  }                                                                                              \
  inline WasmResult replace##_Name(std::string_view key, std::string_view value) {               \
    return replaceHeaderMapValue(WasmHeaderMapType::_type, key, value);                          \
  }                                                                                              \
  inline WasmResult remove##_Name(std::string_view key) {                                        \
    return removeHeaderMapValue(WasmHeaderMapType::_type, key);                                  \
  }                                                                                              \
  inline WasmDataPtr get##_Name##Pairs() { return getHeaderMapPairs(WasmHeaderMapType::_type); } \
  inline WasmResult set##_Name##Pairs(const HeaderStringPairs& pairs) {                          \
    return setHeaderMapPairs(WasmHeaderMapType::_type, pairs);                                   \
  }                                                                                              \
  inline WasmResult get##_Name##Size(size_t* size) {                                             \
    return getHeaderMapSize(WasmHeaderMapType::_type, size);                                     \
  }

// addRequestHeader, getRequestHeader, replaceRequestHeader, removeRequestHeader, getRequestHeaderPairs,
// setRequestHeaderPairs, getRequestHeaderSize; the same for RequestTrailer, ResponseHeader, ResponseTrailer.
PROXY_WASM_COMPAT_HEADER_MAP_(RequestHeader, RequestHeaders)
PROXY_WASM_COMPAT_HEADER_MAP_(RequestTrailer, RequestTrailers)
PROXY_WASM_COMPAT_HEADER_MAP_(ResponseHeader, ResponseHeaders)
PROXY_WASM_COMPAT_HEADER_MAP_(ResponseTrailer, ResponseTrailers)
#undef PROXY_WASM_COMPAT_HEADER_MAP_

// Buffers. getBufferBytes returns an empty WasmData when the buffer is not available.
inline WasmDataPtr getBufferBytes(WasmBufferType type, size_t start, size_t length) {
  const char* ptr = nullptr;
  size_t size = 0;
  if (proxy_get_buffer_bytes(type, static_cast<uint32_t>(start), static_cast<uint32_t>(length), &ptr,
                             &size) != WasmResult::Ok) {
    ptr = nullptr;
    size = 0;
  }
  return std::make_unique<WasmData>(ptr, size);
}
// The buffer's size; NotFound when it is not available in this callback.
inline WasmResult getBufferStatus(WasmBufferType type, size_t* size, uint32_t* flags) {
  return proxy_get_buffer_status(type, size, flags);
}
// Replaces `length` bytes at `start` with `data` (start 0, length 0 prepends; start at the end appends). With
// `new_size`, adjusts the caller's idea of the buffer's size.
inline WasmResult setBuffer(WasmBufferType type, size_t start, size_t length, std::string_view data,
                            size_t* new_size = nullptr) {
  WasmResult r = proxy_set_buffer_bytes(type, static_cast<uint32_t>(start), static_cast<uint32_t>(length),
                                        data.data(), data.size());
  if (r == WasmResult::Ok && new_size) *new_size = *new_size - length + data.size();
  return r;
}

// Serialises `headers` into a malloc'ed buffer the caller frees; (nullptr, 0) for no headers.
inline void MakeHeaderStringPairsBuffer(const HeaderStringPairs& headers, void** buffer_ptr,
                                        size_t* size_ptr) {
  const char* ptr = nullptr;
  exportPairs(headers, &ptr, size_ptr);
  *buffer_ptr = const_cast<char*>(ptr);
}

// The token-based HTTP callout under RootContext::httpCall: the answer goes to
// RootContext::onHttpCallResponse.
WasmResult makeHttpCall(std::string_view uri, const HeaderStringPairs& request_headers,
                        std::string_view request_body, const HeaderStringPairs& request_trailers,
                        uint32_t timeout_milliseconds, uint32_t* token_ptr);

// ---- Metrics ---------------------------------------------------------------------------------------------
inline WasmResult defineMetric(MetricType type, std::string_view name, uint32_t* metric_id) {
  return proxy_define_metric(type, name.data(), name.size(), metric_id);
}
inline WasmResult incrementMetric(uint32_t metric_id, int64_t offset) {
  return proxy_increment_metric(metric_id, offset);
}
inline WasmResult recordMetric(uint32_t metric_id, uint64_t value) {
  return proxy_record_metric(metric_id, value);
}
inline WasmResult getMetric(uint32_t metric_id, uint64_t* value) {
  return proxy_get_metric(metric_id, value);
}

// A tag of a metric family (Envoy stats style: "<tag><value_separator><value><field_separator>...<name>").
struct MetricTag {
  enum class TagType : uint32_t {
    String = 0,
    Int = 1,
    Bool = 2,
  };
  std::string name;
  TagType tagType;
};

template <typename T>
inline std::string toString(T t) {
  return std::to_string(t);
}
template <>
inline std::string toString(std::string_view t) {
  return std::string(t);
}
template <>
inline std::string toString(const char* t) {
  return std::string(t);
}
template <>
inline std::string toString(std::string t) {
  return t;
}
template <>
inline std::string toString(bool t) {
  return t ? "true" : "false";
}

template <typename T>
struct StringToStringView {
  typedef T type;
};
template <>
struct StringToStringView<std::string> {
  typedef std::string_view type;
};

// A metric family: each combination of tag values is one metric, defined on first use.
struct MetricBase {
  MetricBase(MetricType t, const std::string& n) : type(t), name(n) {}
  MetricBase(MetricType t, const std::string& n, const std::vector<MetricTag>& ts)
      : type(t), name(n), tags(ts.begin(), ts.end()) {}
  MetricBase(MetricType t, const std::string& n, const std::vector<MetricTag>& ts, std::string fs,
             std::string vs)
      : type(t), name(n), tags(ts.begin(), ts.end()), field_separator(fs), value_separator(vs) {}

  MetricType type;
  std::string name;
  std::string prefix;
  std::vector<MetricTag> tags;
  std::unordered_map<std::string, uint32_t> metric_ids;

  std::string field_separator = ".";
  std::string value_separator = ".";

  // prefix + "<tag><value_separator><field><field_separator>" for each field given.
  std::string prefixWithFields(const std::vector<std::string>& fields) {
    std::string out = prefix;
    for (size_t i = 0; i < fields.size() && i < tags.size(); ++i) {
      out += tags[i].name + value_separator + fields[i] + field_separator;
    }
    return out;
  }
  // The metric id of a full name, defined with the host on first use (the VM aborts if the host refuses).
  uint32_t resolveFullName(const std::string& n) {
    auto it = metric_ids.find(n);
    if (it != metric_ids.end()) return it->second;
    uint32_t id = 0;
    CHECK_RESULT(defineMetric(type, n, &id));
    metric_ids[n] = id;
    return id;
  }
  // One value per tag, or the VM aborts.
  uint32_t resolveWithFields(const std::vector<std::string>& fields) {
    if (fields.size() != tags.size()) logAbort("metric fields.size() != tags.size()");
    return resolveFullName(prefixWithFields(fields) + name);
  }
  // Fixes the first fields.size() tags (fewer than all, or the VM aborts).
  void partiallyResolveWithFields(const std::vector<std::string>& fields) {
    if (fields.size() >= tags.size()) logAbort("metric fields.size() >= tags.size()");
    prefix = prefixWithFields(fields);
    tags.erase(tags.begin(), tags.begin() + static_cast<std::ptrdiff_t>(fields.size()));
  }
  std::string nameFromIdSlow(uint32_t id) {
    for (const auto& p : metric_ids) {
      if (p.second == id) return p.first;
    }
    return "";
  }
};

// A metric family of any type, tag values given per call.
struct Metric : public MetricBase {
  Metric(MetricType t, const std::string& n) : MetricBase(t, n) {}
  Metric(MetricType t, const std::string& n, const std::vector<MetricTag>& ts) : MetricBase(t, n, ts) {}
  Metric(MetricType t, const std::string& n, const std::vector<MetricTag>& ts, std::string field_separator,
         std::string value_separator)
      : MetricBase(t, n, ts, field_separator, value_separator) {}

  template <typename... Fields>
  void increment(int64_t offset, Fields... tags) {
    incrementMetric(resolve(tags...), offset);
  }
  template <typename... Fields>
  void record(uint64_t value, Fields... tags) {
    recordMetric(resolve(tags...), value);
  }
  template <typename... Fields>
  uint64_t get(Fields... tags) {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(resolve(tags...), &value));
    return value;
  }
  template <typename... Fields>
  uint32_t resolve(Fields... tags) {
    return resolveWithFields(std::vector<std::string>{toString(tags)...});
  }
  template <typename... Fields>
  Metric partiallyResolve(Fields... tags) {
    Metric partial(*this);
    partial.partiallyResolveWithFields(std::vector<std::string>{toString(tags)...});
    return partial;
  }
};

// The name of a tag of type T in Counter<...>/Gauge<...>/Histogram<...>.
template <typename T>
struct MetricTagDescriptor {
  MetricTagDescriptor(std::string_view n) : name(n) {}
  MetricTagDescriptor(const char* n) : name(n) {}
  typedef T type;
  std::string_view name;
};

template <typename T>
inline MetricTag toMetricTag(const MetricTagDescriptor<T>&) {
  return {};
}
template <>
inline MetricTag toMetricTag(const MetricTagDescriptor<const char*>& d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <>
inline MetricTag toMetricTag(const MetricTagDescriptor<std::string>& d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <>
inline MetricTag toMetricTag(const MetricTagDescriptor<std::string_view>& d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <>
inline MetricTag toMetricTag(const MetricTagDescriptor<int>& d) {
  return {std::string(d.name), MetricTag::TagType::Int};
}
template <>
inline MetricTag toMetricTag(const MetricTagDescriptor<bool>& d) {
  return {std::string(d.name), MetricTag::TagType::Bool};
}

// One resolved counter.
struct SimpleCounter {
  SimpleCounter(uint32_t id) : metric_id(id) {}
  void increment(int64_t offset) { incrementMetric(metric_id, offset); }
  void record(int64_t offset) { increment(offset); }
  uint64_t get() {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(metric_id, &value));
    return value;
  }
  void operator++() { increment(1); }
  void operator++(int) { increment(1); }
  uint32_t metric_id;
};

// One resolved gauge.
struct SimpleGauge {
  SimpleGauge(uint32_t id) : metric_id(id) {}
  void record(uint64_t value) { recordMetric(metric_id, value); }
  uint64_t get() {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(metric_id, &value));
    return value;
  }
  uint32_t metric_id;
};

// One resolved histogram.
struct SimpleHistogram {
  SimpleHistogram(uint32_t id) : metric_id(id) {}
  void record(int64_t value) { recordMetric(metric_id, static_cast<uint64_t>(value)); }
  uint32_t metric_id;
};

// Counter<std::string, int>::New("requests", "method", "code")->increment(1, "GET", 200) counts in
// "method.GET.code.200.requests". Counter<> c("requests") is a counter without tags.
template <typename... Tags>
struct Counter : public MetricBase {
  static Counter<Tags...>* New(std::string_view name, MetricTagDescriptor<Tags>... descriptors) {
    return new Counter<Tags...>(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...}));
  }
  template <typename... T>
  Counter(std::string_view name, MetricTagDescriptor<T>... descriptors)
      : Counter<T...>(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...})) {}

  SimpleCounter resolve(Tags... f) { return SimpleCounter(resolveWithFields({toString(f)...})); }
  template <typename... AdditionalTags>
  Counter<AdditionalTags...>* extendAndResolve(Tags... f,
                                               MetricTagDescriptor<AdditionalTags>... descriptors) {
    auto* more = Counter<AdditionalTags...>::New(name, descriptors...);
    more->prefix = prefixWithFields({toString(f)...});
    return more;
  }
  void increment(int64_t offset, Tags... tags) {
    incrementMetric(resolveWithFields({toString(tags)...}), offset);
  }
  void record(int64_t offset, Tags... tags) { increment(offset, tags...); }
  uint64_t get(Tags... tags) {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(resolveWithFields({toString(tags)...}), &value));
    return value;
  }

 private:
  Counter(const std::string& name, const std::vector<MetricTag>& tags)
      : MetricBase(MetricType::Counter, name, tags) {}
};

template <typename... Tags>
struct Gauge : public MetricBase {
  static Gauge<Tags...>* New(std::string_view name, MetricTagDescriptor<Tags>... descriptors) {
    return new Gauge<Tags...>(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...}));
  }
  template <typename... T>
  Gauge(std::string_view name, MetricTagDescriptor<T>... descriptors)
      : Gauge<T...>(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...})) {}

  SimpleGauge resolve(Tags... f) { return SimpleGauge(resolveWithFields({toString(f)...})); }
  template <typename... AdditionalTags>
  Gauge<AdditionalTags...>* extendAndResolve(Tags... f, MetricTagDescriptor<AdditionalTags>... descriptors) {
    auto* more = Gauge<AdditionalTags...>::New(name, descriptors...);
    more->prefix = prefixWithFields({toString(f)...});
    return more;
  }
  void record(int64_t value, typename StringToStringView<Tags>::type... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), static_cast<uint64_t>(value));
  }
  uint64_t get(Tags... tags) {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(resolveWithFields({toString(tags)...}), &value));
    return value;
  }

 private:
  Gauge(const std::string& name, const std::vector<MetricTag>& tags)
      : MetricBase(MetricType::Gauge, name, tags) {}
};

template <typename... Tags>
struct Histogram : public MetricBase {
  static Histogram<Tags...>* New(std::string_view name, MetricTagDescriptor<Tags>... descriptors) {
    return new Histogram<Tags...>(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...}));
  }
  template <typename... T>
  Histogram(std::string_view name, MetricTagDescriptor<T>... descriptors)
      : Histogram<T...>(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...})) {}

  SimpleHistogram resolve(Tags... f) { return SimpleHistogram(resolveWithFields({toString(f)...})); }
  template <typename... AdditionalTags>
  Histogram<AdditionalTags...>* extendAndResolve(Tags... f,
                                                 MetricTagDescriptor<AdditionalTags>... descriptors) {
    auto* more = Histogram<AdditionalTags...>::New(name, descriptors...);
    more->prefix = prefixWithFields({toString(f)...});
    return more;
  }
  void record(int64_t value, typename StringToStringView<Tags>::type... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), static_cast<uint64_t>(value));
  }

 private:
  Histogram(const std::string& name, const std::vector<MetricTag>& tags)
      : MetricBase(MetricType::Histogram, name, tags) {}
};

// ---- gRPC callouts (token-based)
// ---------------------------------------------------------------------------
WasmResult grpcCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                    const HeaderStringPairs& initial_metadata, std::string_view request,
                    uint32_t timeout_milliseconds, uint32_t* token_ptr);
WasmResult grpcStream(std::string_view service, std::string_view service_name, std::string_view method_name,
                      const HeaderStringPairs& initial_metadata, uint32_t* token_ptr);
inline WasmResult grpcCancel(uint32_t token) { return proxy_grpc_cancel(token); }
inline WasmResult grpcClose(uint32_t token) { return proxy_grpc_close(token); }
inline WasmResult grpcSend(uint32_t token, std::string_view message, bool end_stream) {
  return proxy_grpc_send(token, message.data(), message.size(), end_stream ? 1 : 0);
}

// ---- Misc ------------------------------------------------------------------------------------------------
inline WasmResult ContextBase::setEffectiveContext() { return proxy_set_effective_context(id_); }

// The host's clock (the VM aborts if the host refuses).
inline uint64_t getCurrentTimeNanoseconds() {
  uint64_t t = 0;
  CHECK_RESULT(proxy_get_current_time_nanoseconds(&t));
  return t;
}

inline void RootContext::done() { proxy_done(); }
