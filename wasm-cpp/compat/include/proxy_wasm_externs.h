// Standard proxy-wasm C++ SDK API (compat layer): the raw hostcalls under their ABI names and the upstream
// SDK's C++ signatures, for plug-ins that call them directly (e.g.
// `proxy_set_tick_period_milliseconds(1000)`).
//
// These are ordinary C++ functions defined in compat/src/externs.cc, which forwards each one to the import of
// the same name declared once, in pwsdk/abi.h; they add no import of their own and inline away under -flto.
// Values returned through pointers are allocated with the module's malloc and owned by the caller (free()).
//
// Not offered (a plug-in calling one fails to compile rather than to load): `proxy_get_configuration` and
// `proxy_clear_route_cache` exist only for ABI 0.1.0 modules, and hosts refuse them in an ABI 0.2.1 module;
// Higress' `proxy_redis_*` calls need Higress' ABI 0.2.100 marker, which stock Envoy refuses.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy_wasm_common.h"
#include "proxy_wasm_enums.h"

// Status of the last callout answer (proxy_on_http_call_response, onGrpcClose).
WasmResult proxy_get_status(uint32_t* status_code_ptr, const char** message_ptr, size_t* message_size);

// Logging, timers, time.
WasmResult proxy_log(LogLevel level, const char* message, size_t message_size);
WasmResult proxy_get_log_level(LogLevel* level);
WasmResult proxy_set_tick_period_milliseconds(uint32_t millisecond);
WasmResult proxy_get_current_time_nanoseconds(uint64_t* nanoseconds);

// Properties: path segments separated by '\0'.
WasmResult proxy_get_property(const char* path_ptr, size_t path_size, const char** value_ptr_ptr,
                              size_t* value_size_ptr);
WasmResult proxy_set_property(const char* path_ptr, size_t path_size, const char* value_ptr,
                              size_t value_size);

// Stream control and local replies.
WasmResult proxy_continue_stream(WasmStreamType stream_type);
WasmResult proxy_close_stream(WasmStreamType stream_type);
WasmResult proxy_send_local_response(uint32_t response_code, const char* response_code_details_ptr,
                                     size_t response_code_details_size, const char* body_ptr,
                                     size_t body_size, const char* additional_response_header_pairs_ptr,
                                     size_t additional_response_header_pairs_size, uint32_t grpc_status);

// Shared data: cas 0 sets unconditionally; otherwise CasMismatch when the value changed since it was read.
WasmResult proxy_get_shared_data(const char* key_ptr, size_t key_size, const char** value_ptr,
                                 size_t* value_size, uint32_t* cas);
WasmResult proxy_set_shared_data(const char* key_ptr, size_t key_size, const char* value_ptr,
                                 size_t value_size, uint32_t cas);

// Shared queues.
WasmResult proxy_register_shared_queue(const char* queue_name_ptr, size_t queue_name_size, uint32_t* token);
WasmResult proxy_resolve_shared_queue(const char* vm_id, size_t vm_id_size, const char* queue_name_ptr,
                                      size_t queue_name_size, uint32_t* token);
WasmResult proxy_dequeue_shared_queue(uint32_t token, const char** data_ptr, size_t* data_size);
WasmResult proxy_enqueue_shared_queue(uint32_t token, const char* data_ptr, size_t data_size);

// Header maps (pairs in the proxy-wasm serialisation, see marshalPairs).
WasmResult proxy_add_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size,
                                      const char* value_ptr, size_t value_size);
WasmResult proxy_get_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size,
                                      const char** value_ptr, size_t* value_size);
WasmResult proxy_get_header_map_pairs(WasmHeaderMapType type, const char** ptr, size_t* size);
WasmResult proxy_set_header_map_pairs(WasmHeaderMapType type, const char* ptr, size_t size);
WasmResult proxy_replace_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size,
                                          const char* value_ptr, size_t value_size);
WasmResult proxy_remove_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size);
WasmResult proxy_get_header_map_size(WasmHeaderMapType type, size_t* size);

// Buffers.
WasmResult proxy_get_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char** ptr,
                                  size_t* size);
WasmResult proxy_get_buffer_status(WasmBufferType type, size_t* length_ptr, uint32_t* flags_ptr);
WasmResult proxy_set_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char* ptr,
                                  size_t size);

// Callouts. Answers arrive on the root context (RootContext::onHttpCallResponse, onGrpc*).
WasmResult proxy_http_call(const char* uri_ptr, size_t uri_size, void* header_pairs_ptr,
                           size_t header_pairs_size, const char* body_ptr, size_t body_size,
                           void* trailer_pairs_ptr, size_t trailer_pairs_size, uint32_t timeout_milliseconds,
                           uint32_t* token_ptr);
WasmResult proxy_grpc_call(const char* service_ptr, size_t service_size, const char* service_name_ptr,
                           size_t service_name_size, const char* method_name_ptr, size_t method_name_size,
                           void* initial_metadata_ptr, size_t initial_metadata_size, const char* request_ptr,
                           size_t request_size, uint32_t timeout_milliseconds, uint32_t* token_ptr);
WasmResult proxy_grpc_stream(const char* service_ptr, size_t service_size, const char* service_name_ptr,
                             size_t service_name_size, const char* method_name_ptr, size_t method_name_size,
                             void* initial_metadata, size_t initial_metadata_size, uint32_t* token_ptr);
WasmResult proxy_grpc_cancel(uint32_t token);
WasmResult proxy_grpc_close(uint32_t token);
WasmResult proxy_grpc_send(uint32_t token, const char* message_ptr, size_t message_size, uint32_t end_stream);

// Metrics.
WasmResult proxy_define_metric(MetricType type, const char* name_ptr, size_t name_size, uint32_t* metric_id);
WasmResult proxy_increment_metric(uint32_t metric_id, int64_t offset);
WasmResult proxy_record_metric(uint32_t metric_id, uint64_t value);
WasmResult proxy_get_metric(uint32_t metric_id, uint64_t* result);

// Contexts and host extensions.
WasmResult proxy_set_effective_context(uint32_t effective_context_id);
WasmResult proxy_done();
WasmResult proxy_call_foreign_function(const char* function_name, size_t function_name_size,
                                       const char* arguments, size_t arguments_size, char** results,
                                       size_t* results_size);
