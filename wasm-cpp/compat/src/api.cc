// The non-inline parts of proxy_wasm_api.h: the calls that serialise header lists (with
// pwsdk's serialiser), and the callout bookkeeping of RootContext and the gRPC handlers.
#include "pwsdk/api.h"

#include "proxy_wasm_intrinsics.h"
#include "pwsdk/abi.h"

namespace abi = pwsdk::abi;

namespace {

WasmResult result(uint32_t status) { return static_cast<WasmResult>(status); }
WasmResult result(pwsdk::Status status) { return static_cast<WasmResult>(status); }

// A header list in the proxy-wasm serialisation, or empty for none (as the upstream SDK passes it).
std::string serialized(const HeaderStringPairs& pairs) {
  return pairs.empty() ? std::string() : pwsdk::serializeHeaders(pairs);
}
const char* dataOrNull(const std::string& s) { return s.empty() ? nullptr : s.data(); }

}  // namespace

std::optional<WasmDataPtr> proxy_wasm_compat::getPropertyAt(std::string_view path) {
  const char* ptr = nullptr;
  size_t size = 0;
  if (proxy_get_property(path.data(), path.size(), &ptr, &size) != WasmResult::Ok) return std::nullopt;
  return std::make_unique<WasmData>(ptr, size);
}

WasmResult sendLocalResponse(uint32_t response_code, std::string_view response_code_details,
                             std::string_view body, const HeaderStringPairs& additional_response_headers,
                             GrpcStatus grpc_status) {
  return result(pwsdk::sendLocalResponse(response_code, body, additional_response_headers,
                                         response_code_details, static_cast<pwsdk::GrpcStatus>(grpc_status)));
}

WasmResult setHeaderMapPairs(WasmHeaderMapType type, const HeaderStringPairs& pairs) {
  return result(pwsdk::setHeaderPairs(static_cast<pwsdk::MapType>(type), pairs));
}

WasmResult makeHttpCall(std::string_view uri, const HeaderStringPairs& request_headers,
                        std::string_view request_body, const HeaderStringPairs& request_trailers,
                        uint32_t timeout_milliseconds, uint32_t* token_ptr) {
  std::string headers = serialized(request_headers);
  std::string trailers = serialized(request_trailers);
  return result(abi::proxy_http_call(uri.data(), uri.size(), dataOrNull(headers), headers.size(),
                                     request_body.data(), request_body.size(), dataOrNull(trailers),
                                     trailers.size(), timeout_milliseconds, token_ptr));
}

WasmResult grpcCall(std::string_view service, std::string_view service_name, std::string_view method_name,
                    const HeaderStringPairs& initial_metadata, std::string_view request,
                    uint32_t timeout_milliseconds, uint32_t* token_ptr) {
  std::string metadata = serialized(initial_metadata);
  return result(abi::proxy_grpc_call(service.data(), service.size(), service_name.data(), service_name.size(),
                                     method_name.data(), method_name.size(), dataOrNull(metadata),
                                     metadata.size(), request.data(), request.size(), timeout_milliseconds,
                                     token_ptr));
}

WasmResult grpcStream(std::string_view service, std::string_view service_name, std::string_view method_name,
                      const HeaderStringPairs& initial_metadata, uint32_t* token_ptr) {
  std::string metadata = serialized(initial_metadata);
  return result(abi::proxy_grpc_stream(service.data(), service.size(), service_name.data(),
                                       service_name.size(), method_name.data(), method_name.size(),
                                       dataOrNull(metadata), metadata.size(), token_ptr));
}

// ---- RootContext callouts
// ----------------------------------------------------------------------------------

WasmResult RootContext::httpCall(std::string_view uri, const HeaderStringPairs& request_headers,
                                 std::string_view request_body, const HeaderStringPairs& request_trailers,
                                 uint32_t timeout_milliseconds, HttpCallCallback callback) {
  uint32_t token = 0;
  WasmResult r =
      makeHttpCall(uri, request_headers, request_body, request_trailers, timeout_milliseconds, &token);
  if (r == WasmResult::Ok) http_calls_[token] = std::move(callback);
  return r;
}

void RootContext::onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers) {
  auto it = http_calls_.find(token);
  if (it == http_calls_.end()) return;
  // Taken out first: the callback may start another call (and so rehash the map).
  HttpCallCallback callback = std::move(it->second);
  http_calls_.erase(it);
  if (callback) callback(headers, body_size, trailers);
}

WasmResult RootContext::grpcSimpleCall(std::string_view service, std::string_view service_name,
                                       std::string_view method_name,
                                       const HeaderStringPairs& initial_metadata, std::string_view request,
                                       uint32_t timeout_milliseconds, GrpcSimpleCallCallback callback) {
  uint32_t token = 0;
  WasmResult r =
      grpcCall(service, service_name, method_name, initial_metadata, request, timeout_milliseconds, &token);
  if (r == WasmResult::Ok) simple_grpc_calls_[token] = std::move(callback);
  return r;
}

WasmResult RootContext::grpcCallHandler(std::string_view service, std::string_view service_name,
                                        std::string_view method_name,
                                        const HeaderStringPairs& initial_metadata, std::string_view request,
                                        uint32_t timeout_milliseconds,
                                        std::unique_ptr<GrpcCallHandlerBase> handler) {
  uint32_t token = 0;
  WasmResult r =
      grpcCall(service, service_name, method_name, initial_metadata, request, timeout_milliseconds, &token);
  if (r == WasmResult::Ok) {
    handler->token_ = token;
    handler->context_ = this;
    grpc_calls_[token] = std::move(handler);
  }
  return r;
}

WasmResult RootContext::grpcStreamHandler(std::string_view service, std::string_view service_name,
                                          std::string_view method_name,
                                          const HeaderStringPairs& initial_metadata,
                                          std::unique_ptr<GrpcStreamHandlerBase> handler) {
  uint32_t token = 0;
  WasmResult r = grpcStream(service, service_name, method_name, initial_metadata, &token);
  if (r == WasmResult::Ok) {
    handler->token_ = token;
    handler->context_ = this;
    grpc_streams_[token] = std::move(handler);
  }
  return r;
}

void RootContext::onGrpcReceiveInitialMetadata(uint32_t token, uint32_t headers) {
  auto it = grpc_streams_.find(token);
  if (it != grpc_streams_.end()) it->second->onReceiveInitialMetadata(headers);
}

void RootContext::onGrpcReceiveTrailingMetadata(uint32_t token, uint32_t trailers) {
  auto it = grpc_streams_.find(token);
  if (it != grpc_streams_.end()) it->second->onReceiveTrailingMetadata(trailers);
}

void RootContext::onGrpcReceive(uint32_t token, size_t body_size) {
  if (auto it = simple_grpc_calls_.find(token); it != simple_grpc_calls_.end()) {
    GrpcSimpleCallCallback callback = std::move(it->second);
    simple_grpc_calls_.erase(it);
    if (callback) callback(GrpcStatus::Ok, body_size);
    return;
  }
  if (auto it = grpc_calls_.find(token); it != grpc_calls_.end()) {
    std::unique_ptr<GrpcCallHandlerBase> handler = std::move(it->second);
    grpc_calls_.erase(it);
    handler->onSuccess(body_size);
    return;
  }
  if (auto it = grpc_streams_.find(token); it != grpc_streams_.end()) it->second->onReceive(body_size);
}

void RootContext::onGrpcClose(uint32_t token, GrpcStatus status) {
  if (auto it = simple_grpc_calls_.find(token); it != simple_grpc_calls_.end()) {
    GrpcSimpleCallCallback callback = std::move(it->second);
    simple_grpc_calls_.erase(it);
    if (callback) callback(status, 0);
    return;
  }
  if (auto it = grpc_calls_.find(token); it != grpc_calls_.end()) {
    std::unique_ptr<GrpcCallHandlerBase> handler = std::move(it->second);
    grpc_calls_.erase(it);
    handler->onFailure(status);
    return;
  }
  if (auto it = grpc_streams_.find(token); it != grpc_streams_.end()) it->second->doRemoteClose(status);
}

// ---- gRPC handlers
// -----------------------------------------------------------------------------------------

void GrpcCallHandlerBase::cancel() {
  grpcCancel(token_);
  context_->grpc_calls_.erase(token_);  // destroys this handler
}

WasmResult GrpcStreamHandlerBase::send(std::string_view message, bool end_of_stream) {
  WasmResult r = grpcSend(token_, message, end_of_stream);
  if (r != WasmResult::Ok) return r;
  if (end_of_stream) {
    local_close_ = true;
    if (remote_close_) context_->grpc_streams_.erase(token_);  // destroys this handler
  }
  return WasmResult::Ok;
}

void GrpcStreamHandlerBase::close() {
  grpcClose(token_);
  local_close_ = true;
  if (remote_close_) context_->grpc_streams_.erase(token_);  // destroys this handler
}

void GrpcStreamHandlerBase::reset() {
  grpcCancel(token_);
  context_->grpc_streams_.erase(token_);  // destroys this handler
}

void GrpcStreamHandlerBase::doRemoteClose(GrpcStatus status) {
  RootContext* context = context_;
  uint32_t token = token_;
  onRemoteClose(status);
  // onRemoteClose may have called reset(), which destroyed this handler: look it up again.
  if (context->grpc_streams_.find(token) == context->grpc_streams_.end()) return;
  remote_close_ = true;
  if (local_close_) context->grpc_streams_.erase(token);
}
