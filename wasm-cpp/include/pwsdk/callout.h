// Callouts: what a plug-in asks another service (HttpCall, GrpcCall, to a Cluster) and what comes back
// (HttpCallResult, GrpcResponse). Start a call with Context::httpCall / grpcCall (the answer arrives at that
// stream's onHttpCallResponse / onGrpcCallResponse) or RootContext::httpCall / grpcCall (answer at the root).
// Rust twins: `HttpCall`, `CallResponse`, `CallFailure`, `GrpcCall`, `GrpcResponse` in `pwsdk::callout`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pwsdk/cluster.h"
#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The default callout timeout (the Rust SDK's `DEFAULT_TIMEOUT`).
constexpr uint32_t kDefaultCallTimeoutMs = 1000;

// An HTTP request to another service. The SDK sends `:method`, `:path` and `:authority` first, then
// `headers` in order (do not repeat the three pseudo-headers there); the upstream is the cluster's Envoy
// name.
struct HttpCall {
  HttpCall(Cluster cluster_, std::string method_, std::string path_)
      : cluster(std::move(cluster_)), method(std::move(method_)), path(std::move(path_)) {}

  Cluster cluster;
  std::string method;
  std::string path;                      // path and query, e.g. "/check?x=1"
  std::optional<std::string> authority;  // `:authority`; nullopt: the cluster's (Cluster::authority)
  HeaderList headers;
  std::string body;                             // sent when not empty (Envoy then sets content-length)
  uint32_t timeout_ms = kDefaultCallTimeoutMs;  // 0: no timeout (Envoy)
};

// The answer of a call that completed (whatever its status code). Envoy's router answers a timeout itself
// with a 504 (`upstream request timeout`) and a failed connection usually with a 503: both arrive here.
struct CallResponse {
  uint32_t status = 0;  // from `:status`; 0 when missing or not a number
  HeaderList headers;   // every response header, `:status` included
  std::string body;
  HeaderList trailers;

  // The first value of a header (names compared ASCII case-insensitively), nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
};

// A call that got no answer (0 headers, 0 body bytes, 0 trailers): the host's status for it, from
// proxy_get_status (Envoy: 11 BrokenConnection, "reset").
struct CallFailure {
  uint32_t status = 0;
  std::string message;
};

// An answer or a failure (Rust: `Result<CallResponse, CallFailure>`).
struct HttpCallResult {
  std::optional<CallResponse> response;  // set when the call completed
  CallFailure failure;                   // meaningful when !ok()

  bool ok() const { return response.has_value(); }
};

// A unary gRPC call. The message is the serialised request (the SDK has no protobuf). The cluster's Envoy
// name is passed as proxy_grpc_call's `grpc_service` argument: Envoy first tries to parse it as a
// GrpcService proto and, when that fails (Higress names start with `o`, an invalid wire type), takes it as a
// cluster name (ParseFailure for an unknown cluster). `:authority` is then Envoy's default (the cluster
// name).
// Whether bytes are valid protobuf wire format, so that Envoy's proxy_grpc_call would read them as a
// serialised GrpcService rather than as a cluster name (the empty string included). grpcCall refuses such
// cluster names with BadArgument before any host call (Rust: `callout::parses_as_protobuf`). Pure.
bool parsesAsProtobuf(std::string_view bytes);

struct GrpcCall {
  GrpcCall(Cluster cluster_, std::string service_, std::string method_)
      : cluster(std::move(cluster_)), service(std::move(service_)), method(std::move(method_)) {}

  Cluster cluster;
  std::string service;  // fully qualified, e.g. "envoy.service.auth.v3.Authorization"
  std::string method;   // e.g. "Check"
  HeaderList initial_metadata;
  std::string message;
  uint32_t timeout_ms = kDefaultCallTimeoutMs;  // 0: no timeout (Envoy)
};

// The outcome of a unary gRPC call, folded from the host's callbacks: proxy_on_grpc_receive is the success
// (status 0 with the message), proxy_on_grpc_close before it the failure (its code, status_message from
// proxy_get_status).
struct GrpcResponse {
  uint32_t status = 0;         // gRPC status code: 0 (OK) with the message
  std::string message;         // the serialised response
  std::string status_message;  // the host's text on a failure
  HeaderList trailers;         // trailing metadata, if the host sent it before the message (Envoy: none)

  bool ok() const { return status == 0; }
};

}  // namespace v0
}  // namespace pwsdk
