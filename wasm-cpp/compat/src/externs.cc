// The raw hostcalls of proxy_wasm_externs.h: each forwards to the import of the same name in pwsdk/abi.h (the
// one place imports are declared), converting the upstream SDK's enum and pointer types.
#include "proxy_wasm_externs.h"
#include "pwsdk/abi.h"

namespace abi = pwsdk::abi;

namespace {

WasmResult result(uint32_t status) { return static_cast<WasmResult>(status); }
template <class E>
uint32_t raw(E e) {
  return static_cast<uint32_t>(e);
}
// Host-allocated results come back through `char**`; the upstream API hands them out as `const char*`.
char** out(const char** p) { return const_cast<char**>(p); }
const char* bytes(const void* p) { return static_cast<const char*>(p); }

}  // namespace

WasmResult proxy_get_status(uint32_t* status_code_ptr, const char** message_ptr, size_t* message_size) {
  return result(abi::proxy_get_status(status_code_ptr, out(message_ptr), message_size));
}

WasmResult proxy_log(LogLevel level, const char* message, size_t message_size) {
  return result(abi::proxy_log(raw(level), message, message_size));
}

WasmResult proxy_get_log_level(LogLevel* level) {
  uint32_t l = 0;
  WasmResult r = result(abi::proxy_get_log_level(&l));
  if (r == WasmResult::Ok) *level = static_cast<LogLevel>(l);
  return r;
}

WasmResult proxy_set_tick_period_milliseconds(uint32_t millisecond) {
  return result(abi::proxy_set_tick_period_milliseconds(millisecond));
}

WasmResult proxy_get_current_time_nanoseconds(uint64_t* nanoseconds) {
  return result(abi::proxy_get_current_time_nanoseconds(nanoseconds));
}

WasmResult proxy_get_property(const char* path_ptr, size_t path_size, const char** value_ptr_ptr,
                              size_t* value_size_ptr) {
  return result(abi::proxy_get_property(path_ptr, path_size, out(value_ptr_ptr), value_size_ptr));
}

WasmResult proxy_set_property(const char* path_ptr, size_t path_size, const char* value_ptr,
                              size_t value_size) {
  return result(abi::proxy_set_property(path_ptr, path_size, value_ptr, value_size));
}

WasmResult proxy_continue_stream(WasmStreamType stream_type) {
  return result(abi::proxy_continue_stream(raw(stream_type)));
}

WasmResult proxy_close_stream(WasmStreamType stream_type) {
  return result(abi::proxy_close_stream(raw(stream_type)));
}

WasmResult proxy_send_local_response(uint32_t response_code, const char* response_code_details_ptr,
                                     size_t response_code_details_size, const char* body_ptr,
                                     size_t body_size, const char* additional_response_header_pairs_ptr,
                                     size_t additional_response_header_pairs_size, uint32_t grpc_status) {
  return result(abi::proxy_send_local_response(
      response_code, response_code_details_ptr, response_code_details_size, body_ptr, body_size,
      additional_response_header_pairs_ptr, additional_response_header_pairs_size,
      static_cast<int32_t>(grpc_status)));
}

WasmResult proxy_get_shared_data(const char* key_ptr, size_t key_size, const char** value_ptr,
                                 size_t* value_size, uint32_t* cas) {
  return result(abi::proxy_get_shared_data(key_ptr, key_size, out(value_ptr), value_size, cas));
}

WasmResult proxy_set_shared_data(const char* key_ptr, size_t key_size, const char* value_ptr,
                                 size_t value_size, uint32_t cas) {
  return result(abi::proxy_set_shared_data(key_ptr, key_size, value_ptr, value_size, cas));
}

WasmResult proxy_register_shared_queue(const char* queue_name_ptr, size_t queue_name_size, uint32_t* token) {
  return result(abi::proxy_register_shared_queue(queue_name_ptr, queue_name_size, token));
}

WasmResult proxy_resolve_shared_queue(const char* vm_id, size_t vm_id_size, const char* queue_name_ptr,
                                      size_t queue_name_size, uint32_t* token) {
  return result(abi::proxy_resolve_shared_queue(vm_id, vm_id_size, queue_name_ptr, queue_name_size, token));
}

WasmResult proxy_dequeue_shared_queue(uint32_t token, const char** data_ptr, size_t* data_size) {
  return result(abi::proxy_dequeue_shared_queue(token, out(data_ptr), data_size));
}

WasmResult proxy_enqueue_shared_queue(uint32_t token, const char* data_ptr, size_t data_size) {
  return result(abi::proxy_enqueue_shared_queue(token, data_ptr, data_size));
}

WasmResult proxy_add_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size,
                                      const char* value_ptr, size_t value_size) {
  return result(abi::proxy_add_header_map_value(raw(type), key_ptr, key_size, value_ptr, value_size));
}

WasmResult proxy_get_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size,
                                      const char** value_ptr, size_t* value_size) {
  return result(abi::proxy_get_header_map_value(raw(type), key_ptr, key_size, out(value_ptr), value_size));
}

WasmResult proxy_get_header_map_pairs(WasmHeaderMapType type, const char** ptr, size_t* size) {
  return result(abi::proxy_get_header_map_pairs(raw(type), out(ptr), size));
}

WasmResult proxy_set_header_map_pairs(WasmHeaderMapType type, const char* ptr, size_t size) {
  return result(abi::proxy_set_header_map_pairs(raw(type), ptr, size));
}

WasmResult proxy_replace_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size,
                                          const char* value_ptr, size_t value_size) {
  return result(abi::proxy_replace_header_map_value(raw(type), key_ptr, key_size, value_ptr, value_size));
}

WasmResult proxy_remove_header_map_value(WasmHeaderMapType type, const char* key_ptr, size_t key_size) {
  return result(abi::proxy_remove_header_map_value(raw(type), key_ptr, key_size));
}

WasmResult proxy_get_header_map_size(WasmHeaderMapType type, size_t* size) {
  return result(abi::proxy_get_header_map_size(raw(type), size));
}

WasmResult proxy_get_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char** ptr,
                                  size_t* size) {
  return result(abi::proxy_get_buffer_bytes(raw(type), start, length, out(ptr), size));
}

WasmResult proxy_get_buffer_status(WasmBufferType type, size_t* length_ptr, uint32_t* flags_ptr) {
  return result(abi::proxy_get_buffer_status(raw(type), length_ptr, flags_ptr));
}

WasmResult proxy_set_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char* ptr,
                                  size_t size) {
  return result(abi::proxy_set_buffer_bytes(raw(type), start, length, ptr, size));
}

WasmResult proxy_http_call(const char* uri_ptr, size_t uri_size, void* header_pairs_ptr,
                           size_t header_pairs_size, const char* body_ptr, size_t body_size,
                           void* trailer_pairs_ptr, size_t trailer_pairs_size, uint32_t timeout_milliseconds,
                           uint32_t* token_ptr) {
  return result(abi::proxy_http_call(uri_ptr, uri_size, bytes(header_pairs_ptr), header_pairs_size, body_ptr,
                                     body_size, bytes(trailer_pairs_ptr), trailer_pairs_size,
                                     timeout_milliseconds, token_ptr));
}

WasmResult proxy_grpc_call(const char* service_ptr, size_t service_size, const char* service_name_ptr,
                           size_t service_name_size, const char* method_name_ptr, size_t method_name_size,
                           void* initial_metadata_ptr, size_t initial_metadata_size, const char* request_ptr,
                           size_t request_size, uint32_t timeout_milliseconds, uint32_t* token_ptr) {
  return result(abi::proxy_grpc_call(service_ptr, service_size, service_name_ptr, service_name_size,
                                     method_name_ptr, method_name_size, bytes(initial_metadata_ptr),
                                     initial_metadata_size, request_ptr, request_size, timeout_milliseconds,
                                     token_ptr));
}

WasmResult proxy_grpc_stream(const char* service_ptr, size_t service_size, const char* service_name_ptr,
                             size_t service_name_size, const char* method_name_ptr, size_t method_name_size,
                             void* initial_metadata, size_t initial_metadata_size, uint32_t* token_ptr) {
  return result(abi::proxy_grpc_stream(service_ptr, service_size, service_name_ptr, service_name_size,
                                       method_name_ptr, method_name_size, bytes(initial_metadata),
                                       initial_metadata_size, token_ptr));
}

WasmResult proxy_grpc_cancel(uint32_t token) { return result(abi::proxy_grpc_cancel(token)); }

WasmResult proxy_grpc_close(uint32_t token) { return result(abi::proxy_grpc_close(token)); }

WasmResult proxy_grpc_send(uint32_t token, const char* message_ptr, size_t message_size,
                           uint32_t end_stream) {
  return result(abi::proxy_grpc_send(token, message_ptr, message_size, end_stream));
}

WasmResult proxy_define_metric(MetricType type, const char* name_ptr, size_t name_size, uint32_t* metric_id) {
  return result(abi::proxy_define_metric(raw(type), name_ptr, name_size, metric_id));
}

WasmResult proxy_increment_metric(uint32_t metric_id, int64_t offset) {
  return result(abi::proxy_increment_metric(metric_id, offset));
}

WasmResult proxy_record_metric(uint32_t metric_id, uint64_t value) {
  return result(abi::proxy_record_metric(metric_id, value));
}

WasmResult proxy_get_metric(uint32_t metric_id, uint64_t* value) {
  return result(abi::proxy_get_metric(metric_id, value));
}

WasmResult proxy_set_effective_context(uint32_t effective_context_id) {
  return result(abi::proxy_set_effective_context(effective_context_id));
}

WasmResult proxy_done() { return result(abi::proxy_done()); }

WasmResult proxy_call_foreign_function(const char* function_name, size_t function_name_size,
                                       const char* arguments, size_t arguments_size, char** results,
                                       size_t* results_size) {
  return result(abi::proxy_call_foreign_function(function_name, function_name_size, arguments, arguments_size,
                                                 results, results_size));
}
