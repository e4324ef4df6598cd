// Callouts: what a plug-in asks another service (HttpCall, GrpcCall) and what comes back (HttpCallResult,
// GrpcResponse). Start a call with Context::httpCall / grpcCall (the answer arrives at that stream's
// onHttpCallResponse / onGrpcCallResponse) or RootContext::httpCall / grpcCall (answer at the root).
// Rust twins: `HttpCall`, `CallResponse`, `CallFailure`, `GrpcCall`, `GrpcResponse` in `pwsdk::callout`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// An HTTP request to an Envoy cluster. The SDK sends `:method`, `:path` and `:authority` first (from the
// fields below), then `headers` as given. Build the cluster name (and authority) with pwsdk/cluster.h.
struct HttpCall {
  std::string cluster;  // the Envoy cluster name, e.g. "outbound|80||auth.static"
  std::string method = "GET";
  std::string path = "/";
  std::string
      authority;       // `:authority`; empty: the cluster's host name (cluster::Cluster) or the cluster name
  HeaderList headers;  // more request headers (lower-case names)
  std::string body;    // sent when not empty (Envoy then sets content-length)
  uint32_t timeout_ms = 500;  // Higress's default; 0 means no timeout in Envoy
};

// The answer of a call that completed (whatever its status code).
struct CallResponse {
  uint32_t status = 0;  // from `:status` (0 if the host gave none)
  HeaderList headers;   // every response header, `:status` included
  std::string body;
  HeaderList trailers;

  // The first value of a header (names compared ASCII case-insensitively), nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
};

// A call that produced no answer: connection failure, reset or timeout. Envoy gives no detail beyond
// proxy_get_status (BrokenConnection, "reset") and the same for a timeout.
struct CallFailure {
  Status status = Status::BrokenConnection;
  std::string message;  // the host's status text, e.g. "reset"
};

// An answer or a failure (Rust: `Result<CallResponse, CallFailure>`).
struct HttpCallResult {
  std::optional<CallResponse> response;  // set when the call completed
  CallFailure failure;                   // meaningful when !ok()

  bool ok() const { return response.has_value(); }
};

// A unary gRPC call. The message is the serialised request (the SDK has no protobuf). The cluster name is
// passed as proxy_grpc_call's `grpc_service` argument, which Envoy accepts as a cluster name.
struct GrpcCall {
  std::string cluster;  // the Envoy cluster of the gRPC server
  std::string service;  // fully qualified, e.g. "envoy.service.auth.v3.Authorization"
  std::string method;   // e.g. "Check"
  HeaderList initial_metadata;
  std::string message;
  uint32_t timeout_ms = 500;
};

// The outcome of a unary gRPC call, folded from the host's receive / metadata / close callbacks.
struct GrpcResponse {
  uint32_t status = 0;         // gRPC status code: 0 (OK) with a message, else the failure's code
  std::string status_message;  // the failure's text from the host (empty on success)
  std::string message;         // the serialised response (OK only)
  HeaderList initial_metadata;
  HeaderList trailers;  // trailing metadata (Envoy delivers none for unary calls)

  bool ok() const { return status == 0; }
};

}  // namespace v0
}  // namespace pwsdk
