// http-wasm-example: a plug-in written only against the standard proxy-wasm C++ SDK API (Envoy's / Istio's
// proxy-wasm-cpp-sdk), in the style of that SDK's http example: headers, body rewrite, local reply, an HTTP
// callout, metrics, shared data, a queue, a timer and logs. The behaviour is in ../README.md.
#include <string>
#include <string_view>

#include "proxy_wasm_intrinsics.h"

namespace {

constexpr std::string_view kTicksKey = "http-wasm-example.ticks";
constexpr std::string_view kQueueName = "http-wasm-example.paths";

// True for an empty configuration or `{}` (whitespace allowed): the plug-in has no settings.
bool isEmptyConfiguration(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact.push_back(c);
  }
  return compact.empty() || compact == "{}";
}

}  // namespace

class ExampleRootContext : public RootContext {
 public:
  explicit ExampleRootContext(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onStart(size_t) override;
  bool onConfigure(size_t configuration_size) override;
  void onTick() override;
  void onQueueReady(uint32_t token) override;

  uint32_t queue() const { return queue_; }
  Counter<std::string>* requests() { return requests_; }

 private:
  uint32_t queue_ = 0;
  uint64_t ticks_ = 0;
  Counter<std::string>* requests_ = nullptr;
};

class ExampleContext : public Context {
 public:
  explicit ExampleContext(uint32_t id, RootContext* root) : Context(id, root) {}

  void onCreate() override;
  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override;
  FilterDataStatus onRequestBody(size_t body_buffer_length, bool end_of_stream) override;
  FilterHeadersStatus onResponseHeaders(uint32_t headers, bool end_of_stream) override;
  FilterDataStatus onResponseBody(size_t body_buffer_length, bool end_of_stream) override;
  void onDone() override;
  void onLog() override;
  void onDelete() override;

 private:
  ExampleRootContext* exampleRoot() { return static_cast<ExampleRootContext*>(root()); }

  bool hello_ = false;  // the request asked for /hello: the response body is replaced
};

static RegisterContextFactory register_ExampleContext(CONTEXT_FACTORY(ExampleContext),
                                                      ROOT_FACTORY(ExampleRootContext));

bool ExampleRootContext::onStart(size_t) {
  LOG_DEBUG("onStart");
  return true;
}

bool ExampleRootContext::onConfigure(size_t configuration_size) {
  auto configuration = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
  if (!isEmptyConfiguration(configuration->view())) {
    LOG_ERROR("invalid configuration: http-wasm-example has no settings; expected {} or nothing, got " +
              std::to_string(configuration_size) + " bytes");
    return false;
  }
  if (registerSharedQueue(kQueueName, &queue_) != WasmResult::Ok) {
    LOG_ERROR("cannot register the shared queue " + std::string(kQueueName));
    return false;
  }
  if (!requests_) requests_ = Counter<std::string>::New("http_wasm_example_requests", "method");
  proxy_set_tick_period_milliseconds(1000);  // 1 sec
  LOG_INFO("onConfigure: ticking every 1000 ms");
  return true;
}

void ExampleRootContext::onTick() {
  ++ticks_;
  setSharedData(kTicksKey, std::to_string(ticks_));
  LOG_INFO("onTick " + std::to_string(ticks_));
}

void ExampleRootContext::onQueueReady(uint32_t token) {
  WasmDataPtr item;
  while (dequeueSharedQueue(token, &item) == WasmResult::Ok) {
    LOG_INFO("dequeued " + item->toString());
  }
}

void ExampleContext::onCreate() { LOG_DEBUG("onCreate " + std::to_string(id())); }

FilterHeadersStatus ExampleContext::onRequestHeaders(uint32_t, bool) {
  LOG_DEBUG("onRequestHeaders " + std::to_string(id()));
  auto result = getRequestHeaderPairs();
  auto pairs = result->pairs();
  LOG_INFO("headers: " + std::to_string(pairs.size()));
  for (auto& p : pairs) {
    LOG_DEBUG(std::string(p.first) + " -> " + std::string(p.second));
  }

  std::string path;
  getValue({"request", "path"}, &path);
  if (path == "/local") {
    sendLocalResponse(403, "denied by http-wasm-example", "access denied\n", {{"x-wasm-reply", "local"}});
    return FilterHeadersStatus::StopIteration;
  }
  hello_ = path == "/hello";

  std::string method = getRequestHeader(":method")->toString();
  exampleRoot()->requests()->increment(1, method);
  LOG_INFO("requests with method " + method + ": " + std::to_string(exampleRoot()->requests()->get(method)));
  enqueueSharedQueue(exampleRoot()->queue(), path);

  addRequestHeader("x-wasm-example", "1");
  replaceRequestHeader("x-request-stage", "wasm");
  removeRequestHeader("x-remove-me");

  if (getRequestHeader("x-wasm-callout")->size() == 0) return FilterHeadersStatus::Continue;
  // Ask the `httpbin` upstream first; its answer decides whether the request goes on.
  uint32_t context_id = id();
  auto callback = [context_id](uint32_t headers, size_t body_size, uint32_t) {
    Context* stream = getContext(context_id);
    if (!stream) return;
    stream->setEffectiveContext();
    auto status = getHeaderMapValue(WasmHeaderMapType::HttpCallResponseHeaders, ":status");
    if (headers == 0 || status->view() != "200") {
      LOG_WARN("callout failed: " +
               (headers == 0 ? std::string("no answer") : "status " + status->toString()));
      sendLocalResponse(503, "callout failed", "callout failed\n", {});
      return;
    }
    auto body = getBufferBytes(WasmBufferType::HttpCallResponseBody, 0, body_size);
    replaceRequestHeader("x-callout-answer", body->view());
    continueRequest();
  };
  WasmResult sent = root()->httpCall(
      "httpbin", {{":method", "GET"}, {":path", "/uuid"}, {":authority", "httpbin"}}, "", {}, 1000, callback);
  if (sent != WasmResult::Ok) {
    LOG_WARN("callout not sent: " + toString(sent));
    sendLocalResponse(503, "callout failed", "callout failed\n", {});
  }
  return FilterHeadersStatus::StopIteration;
}

FilterDataStatus ExampleContext::onRequestBody(size_t body_buffer_length, bool end_of_stream) {
  if (!end_of_stream) return FilterDataStatus::StopIterationAndBuffer;  // rewrite the whole body at once
  auto body = getBufferBytes(WasmBufferType::HttpRequestBody, 0, body_buffer_length);
  LOG_INFO("onRequestBody " + body->toString());
  std::string text = body->toString();
  bool changed = false;
  for (size_t at = text.find("secret"); at != std::string::npos; at = text.find("secret", at + 6)) {
    text.replace(at, 6, "******");
    changed = true;
  }
  if (changed) setBuffer(WasmBufferType::HttpRequestBody, 0, body_buffer_length, text);
  return FilterDataStatus::Continue;
}

FilterHeadersStatus ExampleContext::onResponseHeaders(uint32_t, bool) {
  LOG_DEBUG("onResponseHeaders " + std::to_string(id()));
  auto result = getResponseHeaderPairs();
  auto pairs = result->pairs();
  LOG_INFO("headers: " + std::to_string(pairs.size()));
  for (auto& p : pairs) {
    LOG_DEBUG(std::string(p.first) + " -> " + std::string(p.second));
  }
  addResponseHeader("X-Wasm-custom", "FOO");
  replaceResponseHeader("content-type", "text/plain; charset=utf-8");
  removeResponseHeader("content-length");
  return FilterHeadersStatus::Continue;
}

FilterDataStatus ExampleContext::onResponseBody(size_t body_buffer_length, bool end_of_stream) {
  if (!hello_) return FilterDataStatus::Continue;
  if (!end_of_stream) return FilterDataStatus::StopIterationAndBuffer;
  setBuffer(WasmBufferType::HttpResponseBody, 0, body_buffer_length, "Hello, world");
  return FilterDataStatus::Continue;
}

void ExampleContext::onDone() { LOG_DEBUG("onDone " + std::to_string(id())); }

void ExampleContext::onLog() { LOG_INFO("onLog " + std::to_string(id())); }

void ExampleContext::onDelete() { LOG_DEBUG("onDelete " + std::to_string(id())); }
