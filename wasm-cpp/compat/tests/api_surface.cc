// Compile check of the whole standard API surface: every function and every template of proxy_wasm_api.h used
// once, as plug-ins use them, so a header change that breaks a signature fails `cargo xtask test` (the C++
// SDK stage compiles this file with -fsyntax-only). Not run: the behaviour is checked by compat_test.cc (pure
// logic) and by extensions/http-wasm-example's vectors and pwhost test (against the host).
#include "proxy_wasm_intrinsics.h"

#if defined(__wasm__)
WASM_EXPORT(void, surface_custom_export, ()) {}
#endif

namespace {

class SurfaceRoot : public RootContext {
 public:
  SurfaceRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}
  bool validateConfiguration(size_t size) override { return size < 100; }
  bool onStart(size_t) override { return true; }
  bool onConfigure(size_t size) override {
    auto config = getBufferBytes(WasmBufferType::PluginConfiguration, 0, size);
    size_t length = 0;
    uint32_t flags = 0;
    getBufferStatus(WasmBufferType::PluginConfiguration, &length, &flags);
    LogLevel level;
    getLogLevel(&level);
    CHECK_RESULT(proxy_set_tick_period_milliseconds(500));
    return !config->view().empty() && root_id().empty() && id() > 0;
  }
  void onTick() override {
    uint32_t token = 0;
    registerSharedQueue("q", &token);
    resolveSharedQueue("vm", "q", &token);
    enqueueSharedQueue(token, "item");
    WasmDataPtr value;
    uint32_t cas = 0;
    if (getSharedData("k", &value, &cas) == WasmResult::Ok) setSharedData("k", value->view(), cas);
    getSharedDataValue("k");
    getCurrentTimeNanoseconds();
    httpCall("cluster", {{":method", "GET"}, {":path", "/"}, {":authority", "a"}}, "", {}, 100,
             [](uint32_t headers, size_t body_size, uint32_t trailers) {
               auto pairs = getHeaderMapPairs(WasmHeaderMapType::HttpCallResponseHeaders)->pairs();
               auto body = getBufferBytes(WasmBufferType::HttpCallResponseBody, 0, body_size);
               auto status = getStatus();
               logInfo(std::to_string(headers + trailers + pairs.size()) + body->toString() +
                       status.second->toString());
             });
    uint32_t call = 0;
    makeHttpCall("cluster", {}, "body", {{"t", "v"}}, 100, &call);
    grpcSimpleCall(
        "svc", "pkg.Service", "Method", {{"k", "v"}}, "message-bytes", 100,
        [](GrpcStatus status, size_t size) { logDebug(std::to_string(size + (status == GrpcStatus::Ok))); });
    grpcSimpleCall(
        "svc", "pkg.Service", "Method", {}, "m", 100, [](size_t) {}, [](GrpcStatus) {});
    grpcCallHandler("svc", "pkg.Service", "Method", {}, "m", 100, std::make_unique<CallHandler>());
    grpcStreamHandler("svc", "pkg.Service", "Stream", {}, std::make_unique<StreamHandler>());
    uint32_t grpc_token = 0;
    grpcCall("svc", "s", "m", {}, "m", 100, &grpc_token);
    grpcStream("svc", "s", "m", {}, &grpc_token);
    grpcSend(grpc_token, "m", true);
    grpcCancel(grpc_token);
    grpcClose(grpc_token);
    done();
  }
  void onQueueReady(uint32_t token) override {
    WasmDataPtr item;
    while (dequeueSharedQueue(token, &item) == WasmResult::Ok) LOG_INFO("item " + item->toString());
  }
  bool onDone() override { return true; }
  void onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size, uint32_t trailers) override {
    RootContext::onHttpCallResponse(token, headers, body_size, trailers);
  }

 private:
  struct CallHandler : public GrpcCallHandler<std::string> {
    void onSuccess(size_t body_size) override {
      getBufferBytes(WasmBufferType::GrpcReceiveBuffer, 0, body_size);
      cancel();
    }
    void onFailure(GrpcStatus status) override { logWarn(std::to_string(static_cast<int>(status))); }
  };
  struct StreamHandler : public GrpcStreamHandlerBase {
    void onReceiveInitialMetadata(uint32_t) override {
      getHeaderMapValue(WasmHeaderMapType::GrpcReceiveInitialMetadata, "k");
    }
    void onReceive(size_t) override {
      send("more", false);
      close();
    }
    void onRemoteClose(GrpcStatus) override { reset(); }
  };
};

class SurfaceContext : public Context {
 public:
  SurfaceContext(uint32_t id, RootContext* root) : Context(id, root) {}
  void onCreate() override {}
  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override {
    addRequestHeader("a", "1");
    replaceRequestHeader("b", "2");
    removeRequestHeader("c");
    auto value = getRequestHeader(":path");
    auto pairs = getRequestHeaderPairs()->pairs();
    setRequestHeaderPairs({{":path", "/"}});
    size_t size = 0;
    getRequestHeaderSize(&size);
    addRequestTrailer("t", "v");
    getRequestTrailer("t");
    replaceRequestTrailer("t", "w");
    removeRequestTrailer("t");
    getRequestTrailerPairs();
    setRequestTrailerPairs({});
    getRequestTrailerSize(&size);
    addHeaderMapValue(WasmHeaderMapType::RequestHeaders, "x", "y");
    replaceHeaderMapValue(WasmHeaderMapType::RequestHeaders, "x", "z");
    removeHeaderMapValue(WasmHeaderMapType::RequestHeaders, "x");
    setHeaderMapPairs(WasmHeaderMapType::RequestHeaders, {});
    getHeaderMapSize(WasmHeaderMapType::RequestHeaders, &size);

    std::string s;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    bool b = false;
    getValue({"request", "path"}, &s);
    getValue({"request", "size"}, &i);
    getValue({"response", "code"}, &u);
    getValue({"x"}, &d);
    getValue({"connection", "mtls"}, &b);
    getValue(std::vector<std::string>{"request", "path"}, &s);
    getValue(std::vector<std::string_view>{"request", "path"}, &s);
    getValue(std::vector<std::string>{"request", "size"}, &i);
    auto prop = getProperty({"plugin_name"});
    auto prop2 = getProperty(std::vector<std::string>{"plugin_name"});
    setFilterState("k", "v");
    setFilterStateStringValue("k", "v");

    static Counter<>* plain = Counter<>::New("plain");
    plain->increment(1);
    static Counter<std::string, int, bool>* tagged = Counter<std::string, int, bool>::New("c", "a", "b", "c");
    tagged->increment(1, "x", 2, true);
    tagged->record(1, "x", 2, true);
    SimpleCounter one = tagged->resolve("x", 2, false);
    one++;
    ++one;
    one.increment(2);
    one.get();
    auto* more = tagged->extendAndResolve<std::string>("x", 2, true, "d");
    more->increment(1, "e");
    tagged->get("x", 2, true);
    static Gauge<std::string>* gauge = Gauge<std::string>::New("g", "zone");
    gauge->record(5, "eu");
    gauge->get("eu");
    gauge->resolve("eu").record(6);
    static Histogram<int>* histogram = Histogram<int>::New("h", "code");
    histogram->record(7, 200);
    histogram->resolve(200).record(8);
    static Counter<std::string> direct("direct", MetricTagDescriptor<std::string>("tag"));
    direct.increment(1, "v");
    Metric metric(MetricType::Counter, "m", {MetricTag{"t", MetricTag::TagType::String}});
    metric.increment(1, "v");
    metric.record(2, "v");
    metric.get("v");
    metric.resolve("v");
    Metric gauge_metric(MetricType::Gauge, "gm",
                        {{"a", MetricTag::TagType::String}, {"b", MetricTag::TagType::Int}});
    gauge_metric.partiallyResolve("x").record(1, 3);
    uint32_t id = 0;
    uint64_t v = 0;
    defineMetric(MetricType::Counter, "raw", &id);
    incrementMetric(id, 1);
    recordMetric(id, 2);
    getMetric(id, &v);

    if (value->size() == 0 || pairs.empty() || !prop || !prop2) {
      sendLocalResponse(400, "bad", "bad request", {{"x", "y"}}, GrpcStatus::InvalidArgument);
      sendLocalResponse(400, "bad", "bad request", {});
      return FilterHeadersStatus::StopIteration;
    }
    if (getContext(id) == this && getContextBase(id) == this && getRootContext(1) && getRoot("") == root()) {
      setEffectiveContext();
    }
    return end_of_stream && headers > 0 ? FilterHeadersStatus::ContinueAndEndStream
                                        : FilterHeadersStatus::Continue;
  }
  FilterDataStatus onRequestBody(size_t length, bool end_of_stream) override {
    size_t new_size = length;
    setBuffer(WasmBufferType::HttpRequestBody, 0, length, "x", &new_size);
    return end_of_stream ? FilterDataStatus::Continue : FilterDataStatus::StopIterationAndBuffer;
  }
  FilterTrailersStatus onRequestTrailers(uint32_t) override {
    continueRequest();
    closeRequest();
    return FilterTrailersStatus::Continue;
  }
  FilterHeadersStatus onResponseHeaders(uint32_t, bool) override {
    addResponseHeader("a", "1");
    replaceResponseHeader("b", "2");
    removeResponseHeader("c");
    getResponseHeader(":status");
    getResponseHeaderPairs();
    setResponseHeaderPairs({});
    size_t size = 0;
    getResponseHeaderSize(&size);
    addResponseTrailer("t", "v");
    getResponseTrailer("t");
    replaceResponseTrailer("t", "v");
    removeResponseTrailer("t");
    getResponseTrailerPairs();
    setResponseTrailerPairs({});
    getResponseTrailerSize(&size);
    return FilterHeadersStatus::StopAllIterationAndBuffer;
  }
  FilterDataStatus onResponseBody(size_t, bool) override {
    continueResponse();
    closeResponse();
    return FilterDataStatus::StopIterationNoBuffer;
  }
  FilterTrailersStatus onResponseTrailers(uint32_t) override { return FilterTrailersStatus::StopIteration; }
  FilterMetadataStatus onRequestMetadata(uint32_t) override { return FilterMetadataStatus::Continue; }
  FilterStatus onNewConnection() override { return FilterStatus::Continue; }
  FilterStatus onDownstreamData(size_t size, bool) override {
    getBufferBytes(WasmBufferType::NetworkDownstreamData, 0, size);
    continueDownstream();
    closeDownstream();
    return FilterStatus::StopIteration;
  }
  FilterStatus onUpstreamData(size_t, bool) override {
    continueUpstream();
    closeUpstream();
    return FilterStatus::Continue;
  }
  void onDownstreamConnectionClose(CloseType type) override {
    logTrace(std::to_string(static_cast<int>(type)));
  }
  void onForeignFunction(uint32_t, uint32_t size) override {
    char* out = nullptr;
    size_t out_size = 0;
    auto args = getBufferBytes(WasmBufferType::CallData, 0, size);
    proxy_call_foreign_function("f", 1, args->data(), args->size(), &out, &out_size);
    ::free(out);
  }
  void onDone() override { LOG_DEBUG("done"); }
  void onLog() override {
    LOG_TRACE("a");
    LOG_WARN("b");
    LOG_ERROR("c");
    LOG_CRITICAL(std::string("d"));
    logError("e");
    logCritical("f");
  }
  void onDelete() override {}
};

[[maybe_unused]] void rawCalls() {
  const char* ptr = nullptr;
  size_t size = 0;
  uint32_t u = 0;
  uint64_t t = 0;
  proxy_get_property("a", 1, &ptr, &size);
  proxy_set_property("a", 1, "b", 1);
  proxy_get_header_map_value(WasmHeaderMapType::RequestHeaders, "a", 1, &ptr, &size);
  proxy_get_buffer_bytes(WasmBufferType::HttpRequestBody, 0, 10, &ptr, &size);
  proxy_set_buffer_bytes(WasmBufferType::HttpRequestBody, 0, 0, "x", 1);
  proxy_get_current_time_nanoseconds(&t);
  proxy_get_shared_data("k", 1, &ptr, &size, &u);
  proxy_done();
  proxy_set_effective_context(1);
  if (false) logAbort("never");
  PairHash ph;
  Tuple3Hash th;
  (void)ph(std::make_pair(std::string("a"), 1));
  (void)th(std::make_tuple(1, 2, 3));
}

static RegisterContextFactory register_both(CONTEXT_FACTORY(SurfaceContext), ROOT_FACTORY(SurfaceRoot));
static RegisterContextFactory register_root_only(ROOT_FACTORY(SurfaceRoot), "root-only");
static RegisterContextFactory register_context_only(CONTEXT_FACTORY(SurfaceContext), "context-only");

}  // namespace
