// say-hello: answers every request itself with `200 Hello, <name>!`.
#include "pwsdk/pwsdk.h"

namespace {

struct Config {
  std::optional<std::string> name;  // who to greet; `World` when absent

  static bool parse(pwsdk::ConfigReader& in, Config& out) {
    in.field("name", out.name);
    if (!in.finish()) return false;
    if (out.name && out.name->empty()) return in.fail("name", "must not be empty (omit it to greet `World`)");
    return true;
  }
};

// Requests that match no rule (and there is no global configuration) are greeted too.
class SayHelloRoot : public pwsdk::Plugin<Config> {
 public:
  using Plugin::Plugin;
  std::optional<Config> fallbackConfig() const override { return Config{}; }
};

class SayHello : public pwsdk::Filter<Config> {
 public:
  using Filter::Filter;

  pwsdk::FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    std::string body = pwsdk::cat("Hello, ", config().name.value_or("World"), "!");
    pwsdk::sendLocalResponse(200, body, {{"content-type", "text/plain; charset=utf-8"}});
    return pwsdk::FilterHeadersStatus::StopIteration;
  }
};

pwsdk::Register<SayHelloRoot, SayHello> registration("say-hello");

}  // namespace
