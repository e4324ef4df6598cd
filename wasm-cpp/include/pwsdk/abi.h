// Raw proxy-wasm 0.2.1 host imports (module "env"). Plug-ins should use the wrappers in api.h; these are
// declared for completeness and only become imports of a module when something calls them.
//
// Statuses (see types.h): every call returns Status as uint32_t. Ok on success; NotFound when the named
// header/property/buffer/context does not exist (get_header_map_value, get_property, get_buffer_bytes,
// get_shared_data); BadArgument for out-of-range enums or sizes; InvalidMemoryAccess when a pointer/length
// pair is outside memory; Empty for an empty queue; CasMismatch for set_shared_data; Unimplemented when the
// host lacks the call. Values returned through `ret_ptr` are allocated with this module's allocator
// (proxy_on_memory_allocate/malloc) and owned by the caller, who frees them with free(); empty = (nullptr,
// 0).
#pragma once

#include <cstddef>
#include <cstdint>

#define PWSDK_IMPORT_(name) __attribute__((import_module("env"), import_name(#name)))

namespace pwsdk {
inline namespace v0 {
namespace abi {
extern "C" {

// Logging, time, timers.
PWSDK_IMPORT_(proxy_log) uint32_t proxy_log(uint32_t level, const char* msg, size_t msg_len);
PWSDK_IMPORT_(proxy_get_log_level) uint32_t proxy_get_log_level(uint32_t* ret_level);
PWSDK_IMPORT_(proxy_get_current_time_nanoseconds)
uint32_t proxy_get_current_time_nanoseconds(uint64_t* ret_nanos);
PWSDK_IMPORT_(proxy_set_tick_period_milliseconds) uint32_t proxy_set_tick_period_milliseconds(uint32_t ms);

// Buffers (bodies, configuration, callout responses).
PWSDK_IMPORT_(proxy_get_buffer_bytes)
uint32_t proxy_get_buffer_bytes(uint32_t type, size_t start, size_t max_size, char** ret_ptr,
                                size_t* ret_len);
// start=0,size=0 prepends; start>=length appends; otherwise replaces [start, start+size).
PWSDK_IMPORT_(proxy_set_buffer_bytes)
uint32_t proxy_set_buffer_bytes(uint32_t type, size_t start, size_t size, const char* data, size_t data_len);
PWSDK_IMPORT_(proxy_get_buffer_status)
uint32_t proxy_get_buffer_status(uint32_t type, size_t* ret_len, uint32_t* ret_flags);

// Header maps (serialised pairs: u32 count, count x (u32 key_len, u32 value_len), then key\0value\0 ...).
PWSDK_IMPORT_(proxy_get_header_map_size) uint32_t proxy_get_header_map_size(uint32_t map, size_t* ret_size);
PWSDK_IMPORT_(proxy_get_header_map_pairs)
uint32_t proxy_get_header_map_pairs(uint32_t map, char** ret_ptr, size_t* ret_len);
PWSDK_IMPORT_(proxy_set_header_map_pairs)
uint32_t proxy_set_header_map_pairs(uint32_t map, const char* pairs, size_t pairs_len);
// NotFound when the header is absent.
PWSDK_IMPORT_(proxy_get_header_map_value)
uint32_t proxy_get_header_map_value(uint32_t map, const char* key, size_t key_len, char** ret_ptr,
                                    size_t* ret_len);
PWSDK_IMPORT_(proxy_add_header_map_value)
uint32_t proxy_add_header_map_value(uint32_t map, const char* key, size_t key_len, const char* value,
                                    size_t value_len);
PWSDK_IMPORT_(proxy_replace_header_map_value)
uint32_t proxy_replace_header_map_value(uint32_t map, const char* key, size_t key_len, const char* value,
                                        size_t value_len);
// Ok when the header is absent.
PWSDK_IMPORT_(proxy_remove_header_map_value)
uint32_t proxy_remove_header_map_value(uint32_t map, const char* key, size_t key_len);

// Stream control.
PWSDK_IMPORT_(proxy_continue_stream) uint32_t proxy_continue_stream(uint32_t stream);
PWSDK_IMPORT_(proxy_close_stream) uint32_t proxy_close_stream(uint32_t stream);
PWSDK_IMPORT_(proxy_get_status)
uint32_t proxy_get_status(uint32_t* ret_code, char** ret_msg_ptr, size_t* ret_msg_len);
PWSDK_IMPORT_(proxy_send_local_response)
uint32_t proxy_send_local_response(uint32_t status_code, const char* details, size_t details_len,
                                   const char* body, size_t body_len, const char* headers, size_t headers_len,
                                   int32_t grpc_status);

// Callouts.
// The host sends the answer to proxy_on_http_call_response with the ROOT context id (the call is registered
// on the root context); the SDK maps the token back to the calling context. A failed or timed-out call is
// answered with (token, 0 headers, 0, 0) and proxy_get_status then gives BrokenConnection "reset".
// Envoy: BadArgument for an unknown cluster or a request without :method, :path or :authority.
// `upstream` of proxy_grpc_call (Envoy's `grpc_service`) is a serialised envoy.config.core.v3.GrpcService, or
// (what the SDK passes) a cluster name: Envoy treats bytes that do not parse as a GrpcService as a cluster
// name (ParseFailure when there is no such cluster). Answers: proxy_on_grpc_receive (success) or
// proxy_on_grpc_close (failure).
PWSDK_IMPORT_(proxy_http_call)
uint32_t proxy_http_call(const char* upstream, size_t upstream_len, const char* headers, size_t headers_len,
                         const char* body, size_t body_len, const char* trailers, size_t trailers_len,
                         uint32_t timeout_ms, uint32_t* ret_token);
// gRPC callouts: messages are serialised bytes; metadata uses the header-map format.
PWSDK_IMPORT_(proxy_grpc_call)
uint32_t proxy_grpc_call(const char* upstream, size_t upstream_len, const char* service, size_t service_len,
                         const char* method, size_t method_len, const char* metadata, size_t metadata_len,
                         const char* message, size_t message_len, uint32_t timeout_ms, uint32_t* ret_token);
PWSDK_IMPORT_(proxy_grpc_stream)
uint32_t proxy_grpc_stream(const char* upstream, size_t upstream_len, const char* service, size_t service_len,
                           const char* method, size_t method_len, const char* metadata, size_t metadata_len,
                           uint32_t* ret_token);
PWSDK_IMPORT_(proxy_grpc_send)
uint32_t proxy_grpc_send(uint32_t token, const char* message, size_t message_len, uint32_t end_stream);
PWSDK_IMPORT_(proxy_grpc_cancel) uint32_t proxy_grpc_cancel(uint32_t token);
PWSDK_IMPORT_(proxy_grpc_close) uint32_t proxy_grpc_close(uint32_t token);

// Shared data and queues.
PWSDK_IMPORT_(proxy_set_shared_data)
uint32_t proxy_set_shared_data(const char* key, size_t key_len, const char* value, size_t value_len,
                               uint32_t cas);
PWSDK_IMPORT_(proxy_get_shared_data)
uint32_t proxy_get_shared_data(const char* key, size_t key_len, char** ret_ptr, size_t* ret_len,
                               uint32_t* ret_cas);
// Queues: register (or reopen) by name in this VM; resolve by VM id ("" = this VM) and name (NotFound when
// absent); dequeue returns Empty when there is nothing to take.
PWSDK_IMPORT_(proxy_register_shared_queue)
uint32_t proxy_register_shared_queue(const char* name, size_t name_len, uint32_t* ret_token);
PWSDK_IMPORT_(proxy_resolve_shared_queue)
uint32_t proxy_resolve_shared_queue(const char* vm_id, size_t vm_id_len, const char* name, size_t name_len,
                                    uint32_t* ret_token);
PWSDK_IMPORT_(proxy_enqueue_shared_queue)
uint32_t proxy_enqueue_shared_queue(uint32_t token, const char* data, size_t data_len);
PWSDK_IMPORT_(proxy_dequeue_shared_queue)
uint32_t proxy_dequeue_shared_queue(uint32_t token, char** ret_ptr, size_t* ret_len);

// Metrics.
PWSDK_IMPORT_(proxy_define_metric)
uint32_t proxy_define_metric(uint32_t type, const char* name, size_t name_len, uint32_t* ret_id);
PWSDK_IMPORT_(proxy_increment_metric) uint32_t proxy_increment_metric(uint32_t id, int64_t offset);
PWSDK_IMPORT_(proxy_record_metric) uint32_t proxy_record_metric(uint32_t id, uint64_t value);
PWSDK_IMPORT_(proxy_get_metric) uint32_t proxy_get_metric(uint32_t id, uint64_t* ret_value);

// Properties (path segments joined by '\0', no trailing NUL). NotFound when absent.
PWSDK_IMPORT_(proxy_get_property)
uint32_t proxy_get_property(const char* path, size_t path_len, char** ret_ptr, size_t* ret_len);
PWSDK_IMPORT_(proxy_set_property)
uint32_t proxy_set_property(const char* path, size_t path_len, const char* value, size_t value_len);

// Contexts.
PWSDK_IMPORT_(proxy_set_effective_context) uint32_t proxy_set_effective_context(uint32_t context_id);
PWSDK_IMPORT_(proxy_done) uint32_t proxy_done();

// Host-specific functions by name (NotFound when the host has none of that name).
PWSDK_IMPORT_(proxy_call_foreign_function)
uint32_t proxy_call_foreign_function(const char* name, size_t name_len, const char* args, size_t args_len,
                                     char** ret_ptr, size_t* ret_len);

}  // extern "C"
}  // namespace abi
}  // namespace v0
}  // namespace pwsdk

#undef PWSDK_IMPORT_
