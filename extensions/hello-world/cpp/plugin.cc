// hello-world: logs every request and marks every response with `x-hello: world`.
#include "pwsdk/pwsdk.h"

namespace {

// No settings: only `{}` (or an empty configuration) is accepted.
struct Config {
  static bool parse(pwsdk::ConfigReader& in, Config&) { return in.finish(); }
};

class HelloWorld : public pwsdk::Filter<Config> {
 public:
  using Filter::Filter;

  pwsdk::FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    auto method = requestHeader(":method").value_or("-");
    auto path = requestHeader(":path").value_or("-");
    pwsdk::logInfo("hello, world: ", method, " ", path);
    return pwsdk::FilterHeadersStatus::Continue;
  }

  pwsdk::FilterHeadersStatus onResponseHeaders(uint32_t, bool) override {
    pwsdk::replaceHeader(pwsdk::MapType::ResponseHeaders, "x-hello", "world");
    return pwsdk::FilterHeadersStatus::Continue;
  }
};

pwsdk::Register<pwsdk::Plugin<Config>, HelloWorld> registration("hello-world");

}  // namespace
