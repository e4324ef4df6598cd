// The module's exports for plug-ins written against the standard API: the ABI marker, the allocator, and
// every proxy_on_* callback, dispatched the upstream SDK's way: root contexts are made by the factory
// registered for the plug-in's root_id (the `plugin_root_id` property), stream contexts by the factory of
// their root's root_id, and callbacks go to the context object of their id. Linked instead of pwsdk's
// src/dispatch.cc (never both: the exports would be defined twice).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>

#include "proxy_wasm_intrinsics.h"
#include "pwsdk/api.h"

#define PROXY_WASM_COMPAT_EXPORT_(name) extern "C" __attribute__((export_name(#name)))

namespace {

struct Registry {
  std::unordered_map<std::string, RootFactory> root_factories;
  std::unordered_map<std::string, ContextFactory> context_factories;
  std::unordered_map<uint32_t, std::unique_ptr<ContextBase>> contexts;
  std::unordered_map<std::string, RootContext*> roots;  // by root_id
};

// Function-local: RegisterContextFactory runs from static constructors, in any order.
Registry& registry() {
  static Registry r;
  return r;
}

std::string rootIdProperty() {
  static constexpr std::string_view kName = "plugin_root_id";
  const char* ptr = nullptr;
  size_t size = 0;
  if (proxy_get_property(kName.data(), kName.size(), &ptr, &size) != WasmResult::Ok) return std::string();
  WasmData value(ptr, size);
  return value.toString();
}

RootContext* createRoot(uint32_t id) {
  Registry& r = registry();
  std::string root_id = rootIdProperty();
  std::unique_ptr<RootContext> root;
  auto factory = r.root_factories.find(root_id);
  if (factory != r.root_factories.end() && factory->second) {
    root = factory->second(id, root_id);
  } else {
    bool registered_here = r.context_factories.count(root_id) > 0;
    if (!registered_here && (!r.root_factories.empty() || !r.context_factories.empty())) {
      // As the upstream SDK, the plug-in then does nothing; say why, since that is rarely what was meant.
      std::string registered;
      auto name = [&registered](const std::string& id) {
        std::string quoted = "\"" + id + "\"";
        if (registered.find(quoted) == std::string::npos)
          registered += (registered.empty() ? "" : ", ") + quoted;
      };
      for (const auto& f : r.root_factories) name(f.first);
      for (const auto& f : r.context_factories) name(f.first);
      logWarn("no RegisterContextFactory for root_id \"" + root_id + "\" (registered: " + registered +
              "): this plug-in configuration gets a RootContext and Contexts that do nothing");
    }
    root = std::make_unique<RootContext>(id, root_id);
  }
  RootContext* raw = root.get();
  r.roots[root_id] = raw;
  r.contexts[id] = std::move(root);
  return raw;
}

Context* createContext(uint32_t id, RootContext* root) {
  Registry& r = registry();
  std::unique_ptr<Context> context;
  auto factory = r.context_factories.find(std::string(root->root_id()));
  if (factory != r.context_factories.end() && factory->second) {
    context = factory->second(id, root);
  } else {
    context = std::make_unique<Context>(id, root);
  }
  Context* raw = context.get();
  r.contexts[id] = std::move(context);
  return raw;
}

// The root context a callout answer or queue event belongs to: the context itself, or a stream's root.
RootContext* rootOf(uint32_t id) {
  ContextBase* c = getContextBase(id);
  if (!c) return nullptr;
  if (RootContext* root = c->asRoot()) return root;
  return c->asContext()->root();
}

template <class S>
uint32_t status(S s) {
  return static_cast<uint32_t>(s);
}

}  // namespace

RegisterContextFactory::RegisterContextFactory(ContextFactory context_factory, RootFactory root_factory,
                                               std::string_view root_id) {
  Registry& r = registry();
  if (context_factory) r.context_factories[std::string(root_id)] = std::move(context_factory);
  if (root_factory) r.root_factories[std::string(root_id)] = std::move(root_factory);
}

ContextBase* getContextBase(uint32_t context_id) {
  auto& contexts = registry().contexts;
  auto it = contexts.find(context_id);
  return it == contexts.end() ? nullptr : it->second.get();
}

Context* getContext(uint32_t context_id) {
  ContextBase* c = getContextBase(context_id);
  return c ? c->asContext() : nullptr;
}

RootContext* getRootContext(uint32_t context_id) {
  ContextBase* c = getContextBase(context_id);
  return c ? c->asRoot() : nullptr;
}

RootContext* getRoot(std::string_view root_id) {
  auto& roots = registry().roots;
  auto it = roots.find(std::string(root_id));
  return it == roots.end() ? nullptr : it->second;
}

// pwsdk's hostcalls.cc (linked for its header serialiser and wrappers) expects its dispatcher to provide
// these two: the name it prefixes pwsdk log lines with (the standard API logs without a prefix and never
// calls pwsdk's logging), and the note that a callback sent a local response (pwsdk then forces "stop"; the
// standard API returns what the callback returns, as the upstream SDK does).
namespace pwsdk {
inline namespace v0 {
std::string_view pluginName() { return {}; }
void detail::noteLocalResponse() {}
}  // namespace v0
}  // namespace pwsdk

PROXY_WASM_COMPAT_EXPORT_(proxy_abi_version_0_2_1) void proxy_wasm_compat_abi_version_0_2_1() {}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_memory_allocate) void* proxy_wasm_compat_on_memory_allocate(size_t size) {
  return ::malloc(size);
}
// cpp-host looks for `malloc` first; the same allocator under that name.
PROXY_WASM_COMPAT_EXPORT_(malloc) void* proxy_wasm_compat_malloc(size_t size) { return ::malloc(size); }

// ---- Lifecycle
// -----------------------------------------------------------------------------------------------

PROXY_WASM_COMPAT_EXPORT_(proxy_on_context_create)
void proxy_wasm_compat_on_context_create(uint32_t context_id, uint32_t parent_context_id) {
  if (parent_context_id == 0) {
    createRoot(context_id)->onCreate();
    return;
  }
  if (RootContext* root = rootOf(parent_context_id)) createContext(context_id, root)->onCreate();
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_vm_start)
uint32_t proxy_wasm_compat_on_vm_start(uint32_t root_context_id, uint32_t vm_configuration_size) {
  RootContext* root = getRootContext(root_context_id);
  return root ? root->onStart(vm_configuration_size) : 1;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_validate_configuration)
uint32_t proxy_wasm_compat_validate_configuration(uint32_t root_context_id, uint32_t configuration_size) {
  RootContext* root = getRootContext(root_context_id);
  return root ? root->validateConfiguration(configuration_size) : 1;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_configure)
uint32_t proxy_wasm_compat_on_configure(uint32_t root_context_id, uint32_t configuration_size) {
  RootContext* root = getRootContext(root_context_id);
  return root ? root->onConfigure(configuration_size) : 1;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_tick) void proxy_wasm_compat_on_tick(uint32_t root_context_id) {
  if (RootContext* root = getRootContext(root_context_id)) root->onTick();
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_queue_ready)
void proxy_wasm_compat_on_queue_ready(uint32_t root_context_id, uint32_t token) {
  if (RootContext* root = rootOf(root_context_id)) root->onQueueReady(token);
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_foreign_function)
void proxy_wasm_compat_on_foreign_function(uint32_t context_id, uint32_t function_id, uint32_t data_size) {
  if (ContextBase* c = getContextBase(context_id)) c->onForeignFunction(function_id, data_size);
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_done) uint32_t proxy_wasm_compat_on_done(uint32_t context_id) {
  ContextBase* c = getContextBase(context_id);
  return c ? c->onDoneBase() : 1;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_log) void proxy_wasm_compat_on_log(uint32_t context_id) {
  if (ContextBase* c = getContextBase(context_id)) c->onLog();
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_delete) void proxy_wasm_compat_on_delete(uint32_t context_id) {
  Registry& r = registry();
  auto it = r.contexts.find(context_id);
  if (it == r.contexts.end()) return;
  it->second->onDelete();
  if (RootContext* root = it->second->asRoot()) {
    auto named = r.roots.find(std::string(root->root_id()));
    if (named != r.roots.end() && named->second == root) r.roots.erase(named);
  }
  r.contexts.erase(context_id);
}

// ---- HTTP streams
// --------------------------------------------------------------------------------------------

PROXY_WASM_COMPAT_EXPORT_(proxy_on_request_headers)
uint32_t proxy_wasm_compat_on_request_headers(uint32_t context_id, uint32_t headers, uint32_t end_of_stream) {
  Context* c = getContext(context_id);
  return c ? status(c->onRequestHeaders(headers, end_of_stream != 0)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_request_metadata)
uint32_t proxy_wasm_compat_on_request_metadata(uint32_t context_id, uint32_t elements) {
  Context* c = getContext(context_id);
  return c ? status(c->onRequestMetadata(elements)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_request_body)
uint32_t proxy_wasm_compat_on_request_body(uint32_t context_id, uint32_t body_buffer_length,
                                           uint32_t end_of_stream) {
  Context* c = getContext(context_id);
  return c ? status(c->onRequestBody(body_buffer_length, end_of_stream != 0)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_request_trailers)
uint32_t proxy_wasm_compat_on_request_trailers(uint32_t context_id, uint32_t trailers) {
  Context* c = getContext(context_id);
  return c ? status(c->onRequestTrailers(trailers)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_response_headers)
uint32_t proxy_wasm_compat_on_response_headers(uint32_t context_id, uint32_t headers,
                                               uint32_t end_of_stream) {
  Context* c = getContext(context_id);
  return c ? status(c->onResponseHeaders(headers, end_of_stream != 0)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_response_metadata)
uint32_t proxy_wasm_compat_on_response_metadata(uint32_t context_id, uint32_t elements) {
  Context* c = getContext(context_id);
  return c ? status(c->onResponseMetadata(elements)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_response_body)
uint32_t proxy_wasm_compat_on_response_body(uint32_t context_id, uint32_t body_buffer_length,
                                            uint32_t end_of_stream) {
  Context* c = getContext(context_id);
  return c ? status(c->onResponseBody(body_buffer_length, end_of_stream != 0)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_response_trailers)
uint32_t proxy_wasm_compat_on_response_trailers(uint32_t context_id, uint32_t trailers) {
  Context* c = getContext(context_id);
  return c ? status(c->onResponseTrailers(trailers)) : 0;
}

// ---- TCP streams
// ---------------------------------------------------------------------------------------------

PROXY_WASM_COMPAT_EXPORT_(proxy_on_new_connection)
uint32_t proxy_wasm_compat_on_new_connection(uint32_t context_id) {
  Context* c = getContext(context_id);
  return c ? status(c->onNewConnection()) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_downstream_data)
uint32_t proxy_wasm_compat_on_downstream_data(uint32_t context_id, uint32_t data_length,
                                              uint32_t end_of_stream) {
  Context* c = getContext(context_id);
  return c ? status(c->onDownstreamData(data_length, end_of_stream != 0)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_upstream_data)
uint32_t proxy_wasm_compat_on_upstream_data(uint32_t context_id, uint32_t data_length,
                                            uint32_t end_of_stream) {
  Context* c = getContext(context_id);
  return c ? status(c->onUpstreamData(data_length, end_of_stream != 0)) : 0;
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_downstream_connection_close)
void proxy_wasm_compat_on_downstream_connection_close(uint32_t context_id, uint32_t close_type) {
  if (Context* c = getContext(context_id)) c->onDownstreamConnectionClose(static_cast<CloseType>(close_type));
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_upstream_connection_close)
void proxy_wasm_compat_on_upstream_connection_close(uint32_t context_id, uint32_t close_type) {
  if (Context* c = getContext(context_id)) c->onUpstreamConnectionClose(static_cast<CloseType>(close_type));
}

// ---- Callout answers (delivered to the root context)
// -----------------------------------------------------------

PROXY_WASM_COMPAT_EXPORT_(proxy_on_http_call_response)
void proxy_wasm_compat_on_http_call_response(uint32_t context_id, uint32_t token, uint32_t headers,
                                             uint32_t body_size, uint32_t trailers) {
  if (RootContext* root = rootOf(context_id)) root->onHttpCallResponse(token, headers, body_size, trailers);
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_grpc_receive_initial_metadata)
void proxy_wasm_compat_on_grpc_receive_initial_metadata(uint32_t context_id, uint32_t token,
                                                        uint32_t headers) {
  if (RootContext* root = rootOf(context_id)) root->onGrpcReceiveInitialMetadata(token, headers);
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_grpc_receive_trailing_metadata)
void proxy_wasm_compat_on_grpc_receive_trailing_metadata(uint32_t context_id, uint32_t token,
                                                         uint32_t trailers) {
  if (RootContext* root = rootOf(context_id)) root->onGrpcReceiveTrailingMetadata(token, trailers);
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_grpc_receive)
void proxy_wasm_compat_on_grpc_receive(uint32_t context_id, uint32_t token, uint32_t response_size) {
  if (RootContext* root = rootOf(context_id)) root->onGrpcReceive(token, response_size);
}

PROXY_WASM_COMPAT_EXPORT_(proxy_on_grpc_close)
void proxy_wasm_compat_on_grpc_close(uint32_t context_id, uint32_t token, uint32_t status_code) {
  if (RootContext* root = rootOf(context_id)) root->onGrpcClose(token, static_cast<GrpcStatus>(status_code));
}

#undef PROXY_WASM_COMPAT_EXPORT_
