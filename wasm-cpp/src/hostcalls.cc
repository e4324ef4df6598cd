// Safe wrappers over the raw imports in abi.h.
#include <cstdlib>
#include <cstring>

#include "pwsdk/abi.h"
#include "pwsdk/api.h"
#include "pwsdk/detail/glue.h"
#include "pwsdk/plugin.h"
#include "pwsdk/state.h"

namespace pwsdk {
inline namespace v0 {

namespace {

Status toStatus(uint32_t s) { return static_cast<Status>(s); }

// Takes ownership of a host-allocated (ptr, len) pair.
std::string adopt(char* ptr, size_t len) {
  std::string out;
  if (ptr) {
    out.assign(ptr, len);
    ::free(ptr);
  }
  return out;
}

std::string joinPath(std::initializer_list<std::string_view> path) {
  std::string out;
  bool first = true;
  for (std::string_view seg : path) {
    if (!first) out.push_back('\0');
    first = false;
    out.append(seg.data(), seg.size());
  }
  return out;
}

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t getU32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

std::optional<std::string> getBufferBytes(BufferType type, size_t start, size_t max_size, Status* status) {
  char* ptr = nullptr;
  size_t len = 0;
  Status st = toStatus(abi::proxy_get_buffer_bytes(static_cast<uint32_t>(type), start, max_size, &ptr, &len));
  if (status) *status = st;
  if (st != Status::Ok) return std::nullopt;
  return adopt(ptr, len);
}

std::optional<std::string> getWholeBuffer(BufferType type) {
  char* ptr = nullptr;
  size_t len = 0;
  uint32_t st = abi::proxy_get_buffer_bytes(static_cast<uint32_t>(type), 0, SIZE_MAX, &ptr, &len);
  if (st == static_cast<uint32_t>(Status::NotFound)) return std::string();
  if (st != 0) return std::nullopt;
  return adopt(ptr, len);
}

Status setBufferBytes(BufferType type, size_t start, size_t size, std::string_view data) {
  return toStatus(
      abi::proxy_set_buffer_bytes(static_cast<uint32_t>(type), start, size, data.data(), data.size()));
}

std::optional<std::string> getHeader(MapType map, std::string_view key) {
  char* ptr = nullptr;
  size_t len = 0;
  if (abi::proxy_get_header_map_value(static_cast<uint32_t>(map), key.data(), key.size(), &ptr, &len) != 0) {
    return std::nullopt;
  }
  return adopt(ptr, len);
}

std::string serializeHeaders(const HeaderList& pairs) {
  std::string out;
  putU32(out, static_cast<uint32_t>(pairs.size()));
  for (const auto& [k, v] : pairs) {
    putU32(out, static_cast<uint32_t>(k.size()));
    putU32(out, static_cast<uint32_t>(v.size()));
  }
  for (const auto& [k, v] : pairs) {
    out.append(k);
    out.push_back('\0');
    out.append(v);
    out.push_back('\0');
  }
  return out;
}

std::optional<HeaderList> deserializeHeaders(std::string_view bytes) {
  HeaderList out;
  if (bytes.size() < 4) {
    if (bytes.empty() || (bytes.size() == 1 && bytes[0] == 0)) return out;
    return std::nullopt;
  }
  uint32_t n = getU32(bytes, 0);
  if (n > (bytes.size() - 4) / 8) return std::nullopt;
  size_t data = 4 + size_t{n} * 8;
  for (uint32_t i = 0; i < n; ++i) {
    size_t kl = getU32(bytes, 4 + size_t{i} * 8);
    size_t vl = getU32(bytes, 8 + size_t{i} * 8);
    if (kl > bytes.size() || vl > bytes.size() || data + kl + vl + 2 > bytes.size()) return std::nullopt;
    std::string k(bytes.substr(data, kl));
    data += kl + 1;
    std::string v(bytes.substr(data, vl));
    data += vl + 1;
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

std::optional<HeaderList> getHeaderPairs(MapType map, Status* status) {
  char* ptr = nullptr;
  size_t len = 0;
  Status st = toStatus(abi::proxy_get_header_map_pairs(static_cast<uint32_t>(map), &ptr, &len));
  std::optional<HeaderList> out;
  if (st == Status::Ok) {
    out = deserializeHeaders(adopt(ptr, len));
    if (!out) st = Status::SerializationFailure;
  }
  if (status) *status = st;
  return out;
}

Status setHeaderPairs(MapType map, const HeaderList& pairs) {
  std::string bytes = serializeHeaders(pairs);
  return toStatus(abi::proxy_set_header_map_pairs(static_cast<uint32_t>(map), bytes.data(), bytes.size()));
}

Status addHeader(MapType map, std::string_view key, std::string_view value) {
  return toStatus(abi::proxy_add_header_map_value(static_cast<uint32_t>(map), key.data(), key.size(),
                                                  value.data(), value.size()));
}

Status replaceHeader(MapType map, std::string_view key, std::string_view value) {
  return toStatus(abi::proxy_replace_header_map_value(static_cast<uint32_t>(map), key.data(), key.size(),
                                                      value.data(), value.size()));
}

Status removeHeader(MapType map, std::string_view key) {
  return toStatus(abi::proxy_remove_header_map_value(static_cast<uint32_t>(map), key.data(), key.size()));
}

std::optional<std::string> getProperty(std::initializer_list<std::string_view> path) {
  std::string p = joinPath(path);
  char* ptr = nullptr;
  size_t len = 0;
  if (abi::proxy_get_property(p.data(), p.size(), &ptr, &len) != 0) return std::nullopt;
  return adopt(ptr, len);
}

Status setProperty(std::initializer_list<std::string_view> path, std::string_view value) {
  std::string p = joinPath(path);
  return toStatus(abi::proxy_set_property(p.data(), p.size(), value.data(), value.size()));
}

Status sendLocalResponse(uint32_t status_code, std::string_view body, const HeaderList& headers,
                         std::string_view details, GrpcStatus grpc_status) {
  std::string h = headers.empty() ? std::string() : serializeHeaders(headers);
  detail::noteLocalResponse();
  return toStatus(abi::proxy_send_local_response(status_code, details.data(), details.size(), body.data(),
                                                 body.size(), h.empty() ? nullptr : h.data(), h.size(),
                                                 static_cast<int32_t>(grpc_status)));
}

Status continueStream(StreamType stream) {
  return toStatus(abi::proxy_continue_stream(static_cast<uint32_t>(stream)));
}

Status closeStream(StreamType stream) {
  return toStatus(abi::proxy_close_stream(static_cast<uint32_t>(stream)));
}

std::optional<uint64_t> currentTimeNanoseconds() {
  uint64_t t = 0;
  if (abi::proxy_get_current_time_nanoseconds(&t) != 0) return std::nullopt;
  return t;
}

Status setTickPeriodMilliseconds(uint32_t ms) {
  return toStatus(abi::proxy_set_tick_period_milliseconds(ms));
}

// ---- Shared data and queues ------------------------------------------------------------------------------
namespace {
void report(Status* out, Status status) {
  if (out) *out = status;
}
}  // namespace

std::optional<SharedValue> getSharedData(std::string_view key, Status* status) {
  char* ptr = nullptr;
  size_t len = 0;
  uint32_t cas = 0;
  Status st = toStatus(abi::proxy_get_shared_data(key.data(), key.size(), &ptr, &len, &cas));
  report(status, st);
  if (st != Status::Ok) return std::nullopt;
  return SharedValue{adopt(ptr, len), cas};
}

Status setSharedData(std::string_view key, std::string_view value, uint32_t cas) {
  return toStatus(abi::proxy_set_shared_data(key.data(), key.size(), value.data(), value.size(), cas));
}

std::optional<uint32_t> registerSharedQueue(std::string_view name, Status* status) {
  uint32_t id = 0;
  Status st = toStatus(abi::proxy_register_shared_queue(name.data(), name.size(), &id));
  report(status, st);
  if (st != Status::Ok) return std::nullopt;
  return id;
}

std::optional<uint32_t> resolveSharedQueue(std::string_view vm_id, std::string_view name, Status* status) {
  uint32_t id = 0;
  Status st =
      toStatus(abi::proxy_resolve_shared_queue(vm_id.data(), vm_id.size(), name.data(), name.size(), &id));
  report(status, st);
  if (st != Status::Ok) return std::nullopt;
  return id;
}

Status enqueueSharedQueue(uint32_t queue_id, std::string_view data) {
  return toStatus(abi::proxy_enqueue_shared_queue(queue_id, data.data(), data.size()));
}

std::optional<std::string> dequeueSharedQueue(uint32_t queue_id, Status* status) {
  char* ptr = nullptr;
  size_t len = 0;
  Status st = toStatus(abi::proxy_dequeue_shared_queue(queue_id, &ptr, &len));
  report(status, st);
  if (st != Status::Ok) return std::nullopt;
  return adopt(ptr, len);
}

// ---- Metrics ---------------------------------------------------------------------------------------------
std::optional<uint32_t> detail::defineMetric(MetricType type, std::string_view name, Status* status) {
  // Envoy hands out a new id (and keeps a map entry) for every define of the same name: remember the ids so
  // a plug-in that defines per request does not grow the host's tables.
  struct Defined {
    MetricType type;
    std::string name;
    uint32_t id;
  };
  static std::vector<Defined> defined;
  for (const Defined& d : defined) {
    if (d.type == type && d.name == name) {
      report(status, Status::Ok);
      return d.id;
    }
  }
  uint32_t id = 0;
  Status st = toStatus(abi::proxy_define_metric(static_cast<uint32_t>(type), name.data(), name.size(), &id));
  report(status, st);
  if (st != Status::Ok) return std::nullopt;
  defined.push_back(Defined{type, std::string(name), id});
  return id;
}

Status detail::incrementMetric(uint32_t id, int64_t delta) {
  return toStatus(abi::proxy_increment_metric(id, delta));
}

Status detail::recordMetric(uint32_t id, uint64_t value) {
  return toStatus(abi::proxy_record_metric(id, value));
}

std::optional<uint64_t> detail::getMetric(uint32_t id, Status* status) {
  uint64_t value = 0;
  Status st = toStatus(abi::proxy_get_metric(id, &value));
  report(status, st);
  if (st != Status::Ok) return std::nullopt;
  return value;
}

// ---- Stream control and callouts ---------------------------------------------------------------------
Status Context::resumeRequest() {
  request_.paused = false;
  return continueStream(StreamType::Request);
}

Status Context::resumeResponse() {
  response_.paused = false;
  return continueStream(StreamType::Response);
}

Status detail::startHttpCall(std::string_view cluster, const HeaderList& headers, std::string_view body,
                             uint32_t timeout_ms, uint32_t* token) {
  std::string h = serializeHeaders(headers);
  return toStatus(abi::proxy_http_call(cluster.data(), cluster.size(), h.data(), h.size(), body.data(),
                                       body.size(), nullptr, 0, timeout_ms, token));
}

Status detail::startGrpcCall(std::string_view cluster, const GrpcCall& call, uint32_t* token) {
  std::string md = call.initial_metadata.empty() ? std::string() : serializeHeaders(call.initial_metadata);
  return toStatus(abi::proxy_grpc_call(cluster.data(), cluster.size(), call.service.data(),
                                       call.service.size(), call.method.data(), call.method.size(),
                                       md.empty() ? nullptr : md.data(), md.size(), call.message.data(),
                                       call.message.size(), call.timeout_ms, token));
}

detail::HostStatus detail::lastStatus() {
  uint32_t code = 0;
  char* ptr = nullptr;
  size_t len = 0;
  HostStatus out;
  out.call = toStatus(abi::proxy_get_status(&code, &ptr, &len));
  if (out.call == Status::Ok) {
    out.code = code;
    out.message = adopt(ptr, len);
  }
  return out;
}

Status detail::setEffectiveContext(uint32_t context_id) {
  return toStatus(abi::proxy_set_effective_context(context_id));
}

void logMessage(LogLevel level, std::string_view message) {
  std::string line = cat("[", pluginName(), "] ", message);
  abi::proxy_log(static_cast<uint32_t>(level), line.data(), line.size());
}

std::optional<std::string> RootContext::pluginConfiguration(size_t size) const {
  if (size == 0) return std::string();
  return getBufferBytes(BufferType::PluginConfiguration, 0, size);
}

std::optional<std::string> RootContext::vmConfiguration(size_t size) const {
  if (size == 0) return std::string();
  return getBufferBytes(BufferType::VmConfiguration, 0, size);
}

std::string Context::requestScheme() const { return requestHeader(":scheme").value_or(""); }
std::string Context::requestHost() const { return requestHeader(":authority").value_or(""); }
std::string Context::requestPath() const { return requestHeader(":path").value_or(""); }
std::string Context::requestMethod() const { return requestHeader(":method").value_or(""); }

namespace detail {

std::optional<std::string> readPluginConfiguration(size_t size) {
  if (size == 0) return std::string();
  return getBufferBytes(BufferType::PluginConfiguration, 0, size);
}

void logInvalidConfiguration(const ConfigError& error) {
  logError("invalid configuration: ", error.message());
}

MatchInput readMatchInput(MatchNeeds needs) {
  MatchInput in;
  if (needs.authority) in.authority = getHeader(MapType::RequestHeaders, ":authority");
  if (needs.route_name) in.route_name = getProperty({"route_name"});
  if (needs.cluster_name) in.cluster_name = getProperty({"cluster_name"});
  return in;
}

}  // namespace detail

}  // namespace v0
}  // namespace pwsdk
