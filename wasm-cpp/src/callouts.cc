// Callouts: starting HTTP and gRPC calls, remembering which context made each, and delivering the answers.
// The host registers every call on the root context and answers it with the root context's id (see
// abi.h), so the SDK maps the token back to the caller and makes it the effective context
// (proxy_set_effective_context) before calling it. The answer handling is installed into the exports by
// the first call a module makes: plug-ins that make no calls do not link it.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "pwsdk/api.h"
#include "pwsdk/detail/glue.h"

namespace pwsdk {
inline namespace v0 {

std::optional<std::string_view> CallResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i)
      same = detail::asciiLower(key[i]) == detail::asciiLower(name[i]);
    if (same) return std::string_view(value);
  }
  return std::nullopt;
}

// ---- Clusters: the request's inputs of a route cluster -------------------------------------------------
std::optional<std::string> Cluster::name(Status* status) const {
  std::optional<std::string> route;
  if (kind_ == Kind::Route) route = getProperty({"cluster_name"});
  auto out = nameWith(route);
  if (status) *status = out ? Status::Ok : Status::NotFound;
  return out;
}

std::optional<std::string> Cluster::authority(Status* status) const {
  std::optional<std::string> request;
  if (kind_ == Kind::Route && host_.empty()) request = getHeader(MapType::RequestHeaders, ":authority");
  auto out = authorityWith(request);
  if (status) *status = out ? Status::Ok : Status::NotFound;
  return out;
}

// Friend of Context: the callout bookkeeping of streams.
struct Callouts {
  enum class Kind : uint8_t { Http, Grpc };
  struct Pending {
    uint32_t token;
    Kind kind;
    bool stream;        // owner is a stream (else a root context)
    uint32_t owner;     // context id
    GrpcResponse grpc;  // gRPC trailing metadata received before the message
  };

  static std::vector<Pending>& pending() {
    static std::vector<Pending> calls;
    return calls;
  }

  static Pending* find(uint32_t token, Kind kind) {
    for (Pending& p : pending()) {
      if (p.token == token && p.kind == kind) return &p;
    }
    return nullptr;
  }

  // Removes and returns the call (nullopt when unknown, e.g. answered already or its stream ended).
  static std::optional<Pending> take(uint32_t token, Kind kind) {
    auto& calls = pending();
    for (auto it = calls.begin(); it != calls.end(); ++it) {
      if (it->token == token && it->kind == kind) {
        Pending p = std::move(*it);
        calls.erase(it);
        return p;
      }
    }
    return std::nullopt;
  }

  static void streamDeleted(uint32_t id) {
    auto& calls = pending();
    calls.erase(std::remove_if(calls.begin(), calls.end(),
                               [id](const Pending& p) { return p.stream && p.owner == id; }),
                calls.end());
  }

  static std::optional<uint32_t> refused(Status st, Status* status) {
    if (status) *status = st;
    return std::nullopt;
  }

  static std::optional<uint32_t> started(Status st, uint32_t token, Kind kind, bool stream, uint32_t owner,
                                         Status* status) {
    if (status) *status = st;
    if (st != Status::Ok) return std::nullopt;
    pending().push_back(Pending{token, kind, stream, owner, {}});
    return token;
  }

  static std::optional<uint32_t> http(const HttpCall& call, bool stream, uint32_t owner, Status* status) {
    auto& hooks = detail::hooks();
    hooks.http_response = &httpResponse;
    hooks.stream_deleted = &streamDeleted;
    Status st = Status::Ok;
    std::optional<std::string> cluster = call.cluster.name(&st);
    if (!cluster) return refused(st, status);
    std::optional<std::string> authority = call.authority ? call.authority : call.cluster.authority(&st);
    if (!authority) return refused(st, status);
    HeaderList headers;
    headers.reserve(call.headers.size() + 3);
    headers.emplace_back(":method", call.method);
    headers.emplace_back(":path", call.path);
    headers.emplace_back(":authority", std::move(*authority));
    headers.insert(headers.end(), call.headers.begin(), call.headers.end());
    uint32_t token = 0;
    st = detail::startHttpCall(*cluster, headers, call.body, call.timeout_ms, &token);
    return started(st, token, Kind::Http, stream, owner, status);
  }

  static std::optional<uint32_t> grpc(const GrpcCall& call, bool stream, uint32_t owner, Status* status) {
    auto& hooks = detail::hooks();
    hooks.grpc_message = &grpcMessage;
    hooks.grpc_trailing_metadata = &grpcTrailingMetadata;
    hooks.grpc_close = &grpcClose;
    hooks.stream_deleted = &streamDeleted;
    Status st = Status::Ok;
    std::optional<std::string> cluster = call.cluster.name(&st);
    if (!cluster) return refused(st, status);
    // Envoy would read such a name as a GrpcService without a target and refuse it (BadArgument).
    if (parsesAsProtobuf(*cluster)) return refused(Status::BadArgument, status);
    uint32_t token = 0;
    st = detail::startGrpcCall(*cluster, call, &token);
    return started(st, token, Kind::Grpc, stream, owner, status);
  }

  // ---- answers

  static void httpResponse(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers) {
    std::optional<Pending> call = take(token, Kind::Http);
    if (!call) return;
    HttpCallResult result;
    if (headers == 0 && body_size == 0 && trailers == 0) {
      detail::HostStatus st = detail::lastStatus();
      result.failure = st.call == Status::Ok ? CallFailure{st.code, std::move(st.message)}
                                             : failure("proxy_get_status", st.call);
    } else {
      // A part the host cannot give makes the answer a failure naming that host call (as in the Rust SDK).
      CallResponse r;
      Status st = Status::Ok;
      if (!readPairs(MapType::HttpCallResponseHeaders, r.headers, &st)) {
        result.failure = failure("proxy_get_header_map_pairs", st);
      } else if (body_size > 0 && !readBuffer(BufferType::HttpCallResponseBody, body_size, r.body, &st)) {
        result.failure = failure("proxy_get_buffer_bytes", st);
      } else if (trailers > 0 && !readPairs(MapType::HttpCallResponseTrailers, r.trailers, &st)) {
        result.failure = failure("proxy_get_header_map_pairs", st);
      } else {
        for (const auto& [key, value] : r.headers) {
          if (key == ":status") {
            r.status = parseStatus(value);
            break;
          }
        }
        result.response = std::move(r);
      }
    }
    deliver(
        *call, [&](Context& c) { return c.onHttpCallResponse(token, result); },
        [&](RootContext& r) { r.onHttpCallResponse(token, result); });
  }

  static void grpcTrailingMetadata(uint32_t token, uint32_t trailers) {
    Pending* call = find(token, Kind::Grpc);
    if (call && trailers > 0) readPairs(MapType::GrpcTrailingMetadata, call->grpc.trailers, nullptr);
  }

  // A unary call's message is its answer: Envoy sends nothing after it (no close, no trailing metadata).
  static void grpcMessage(uint32_t token, size_t size) {
    std::optional<Pending> call = take(token, Kind::Grpc);
    if (!call) return;
    GrpcResponse& response = call->grpc;
    response.status = 0;
    Status st = Status::Ok;
    if (size > 0 && !readBuffer(BufferType::GrpcReceiveBuffer, size, response.message, &st)) {
      // The message is lost: gRPC INTERNAL (13), as the Rust SDK reports it.
      response.status = 13;
      response.status_message = hostCallError("proxy_get_buffer_bytes", st);
    }
    grpcDeliver(*call);
  }

  // A close before the message is the call's failure, with the gRPC status and the host's message.
  static void grpcClose(uint32_t token, uint32_t status) {
    std::optional<Pending> call = take(token, Kind::Grpc);
    if (!call) return;
    call->grpc.status = status;
    call->grpc.status_message = detail::lastStatus().message;
    grpcDeliver(*call);
  }

  static void grpcDeliver(Pending& call) {
    const GrpcResponse& response = call.grpc;
    uint32_t token = call.token;
    deliver(
        call, [&](Context& c) { return c.onGrpcCallResponse(token, response); },
        [&](RootContext& r) { r.onGrpcCallResponse(token, response); });
  }

  // Calls the owner (made the effective context first) and, for a stream, resumes it when the answer
  // callback continues and no other call of the stream is in flight.
  template <class OnStream, class OnRoot>
  static void deliver(const Pending& call, OnStream&& on_stream, OnRoot&& on_root) {
    if (!call.stream) {
      RootContext* root = detail::findRootContext(call.owner);
      if (!root) return;
      if (root->calls_in_flight_ > 0) --root->calls_in_flight_;
      detail::setEffectiveContext(call.owner);
      on_root(*root);
      detail::takeLocalResponse();
      return;
    }
    Context* c = detail::findStream(call.owner);
    if (!c) return;
    if (c->calls_in_flight_ > 0) --c->calls_in_flight_;
    Status st = detail::setEffectiveContext(call.owner);
    if (st != Status::Ok) {
      logDebug("the answer to call ", call.token, " arrived for stream ", call.owner,
               " which the host no longer knows: dropped");
      return;
    }
    Flow flow = on_stream(*c);
    if (detail::takeLocalResponse()) {
      // The reply answers the client: the paused direction never resumes (nor, for the response, runs again).
      for (Context::Direction* d : {&c->request_, &c->response_}) {
        if (d->paused) {
          d->mode = Context::BodyMode::Raw;
          d->replied = true;
        }
        d->paused = false;
        d->held = false;
      }
      return;
    }
    if (flow != Flow::Continue || c->calls_in_flight_ > 0) return;
    if (c->request_.paused) {
      c->resumeRequest();
    } else if (c->response_.paused) {
      c->resumeResponse();
    }
  }

  static CallFailure failure(std::string_view call, Status st) {
    return CallFailure{static_cast<uint32_t>(st), hostCallError(call, st)};
  }

  // NotFound is an empty map (Envoy gives none for a map it does not have).
  static bool readPairs(MapType map, HeaderList& out, Status* status) {
    Status st = Status::Ok;
    auto pairs = getHeaderPairs(map, &st);
    if (status) *status = st;
    if (pairs) out = std::move(*pairs);
    return pairs || st == Status::NotFound;
  }

  static bool readBuffer(BufferType type, size_t size, std::string& out, Status* status) {
    auto bytes = getBufferBytes(type, 0, size, status);
    if (bytes) out = std::move(*bytes);
    return bytes.has_value();
  }

  // `:status` as a u32 (Rust's `str::parse`: an optional `+`, then digits); 0 when it is not one.
  static uint32_t parseStatus(std::string_view text) {
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    if (text.empty()) return 0;
    uint64_t code = 0;
    for (char ch : text) {
      if (ch < '0' || ch > '9') return 0;
      code = code * 10 + static_cast<uint64_t>(ch - '0');
      if (code > UINT32_MAX) return 0;
    }
    return static_cast<uint32_t>(code);
  }
};

std::optional<uint32_t> Context::httpCall(const HttpCall& call, Status* status) {
  auto token = Callouts::http(call, true, id_, status);
  if (token) ++calls_in_flight_;
  return token;
}

std::optional<uint32_t> Context::grpcCall(const GrpcCall& call, Status* status) {
  auto token = Callouts::grpc(call, true, id_, status);
  if (token) ++calls_in_flight_;
  return token;
}

std::optional<uint32_t> RootContext::httpCall(const HttpCall& call, Status* status) {
  auto token = Callouts::http(call, false, id_, status);
  if (token) ++calls_in_flight_;
  return token;
}

std::optional<uint32_t> RootContext::grpcCall(const GrpcCall& call, Status* status) {
  auto token = Callouts::grpc(call, false, id_, status);
  if (token) ++calls_in_flight_;
  return token;
}

}  // namespace v0
}  // namespace pwsdk
