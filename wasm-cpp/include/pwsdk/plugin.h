// Plug-ins with a rule-matched configuration: Plugin<Config> parses the configuration (global + `_rules_`)
// at configure time; Filter<Config> selects the configuration for each request and stays passive when none
// applies. See wasm-rust/README.md, "Configuration and rule matching".
#pragma once

#include <string>

#include "pwsdk/api.h"
#include "pwsdk/rules.h"

namespace pwsdk {
inline namespace v0 {

namespace detail {
// Reads and logs; the parts of Plugin/Filter that need no template.
std::optional<std::string> readPluginConfiguration(size_t size);
void logInvalidConfiguration(const ConfigError& error);
MatchInput readMatchInput(MatchNeeds needs);
}  // namespace detail

template <class Config>
class Plugin : public RootContext {
 public:
  using RootContext::RootContext;

  bool onConfigure(size_t configuration_size) override {
    rules_.reset();
    auto bytes = detail::readPluginConfiguration(configuration_size);
    ConfigError error;
    if (!bytes) {
      error.reason = "could not read the plug-in configuration from the host";
      detail::logInvalidConfiguration(error);
      return false;
    }
    rules_ = RuleSet<Config>::parse(*bytes, error);
    if (!rules_) {
      detail::logInvalidConfiguration(error);
      return false;
    }
    needs_ = rules_->needs();
    fallback_ = fallbackConfig();
    if (!onConfigured(*rules_, error)) {
      rules_.reset();
      detail::logInvalidConfiguration(error);
      return false;
    }
    return true;
  }

  // Per-VM set-up after the configuration parsed and validated (e.g. setTickPeriodMilliseconds, defining
  // metrics, registering a queue). Fill `error` (`error.path`, `error.reason`) and return false to reject
  // the configuration with the usual one error line. Rust: `RootPlugin::on_configure`.
  virtual bool onConfigured(const RuleSet<Config>& rules, ConfigError& error) {
    return (void)rules, (void)error, true;
  }

  // The configuration for requests that match no rule when there is no global configuration. Default:
  // none, and the plug-in does nothing for such requests. A matched `_disable_` rule always skips it.
  virtual std::optional<Config> fallbackConfig() const { return std::nullopt; }

  // The parsed configuration; nullptr before a successful onConfigure.
  const RuleSet<Config>* rules() const { return rules_ ? &*rules_ : nullptr; }

  // The configuration for the current request (reads `:authority`, `route_name`, `cluster_name` as the
  // rules need them); nullptr when the plug-in must do nothing.
  const Config* selectForRequest() const {
    if (!rules_) return nullptr;
    bool disabled = false;
    const Config* c = rules_->select(detail::readMatchInput(needs_), &disabled);
    if (!c && !disabled && fallback_) c = &*fallback_;
    return c;
  }

 private:
  std::optional<RuleSet<Config>> rules_;
  std::optional<Config> fallback_;
  MatchNeeds needs_;
};

template <class Config>
class Filter : public Context {
 public:
  using RootType = Plugin<Config>;
  using Context::Context;

  // The configuration selected for this request. Callbacks are only called when there is one.
  const Config& config() const { return *config_; }

  bool onStart() override {
    auto* plugin = static_cast<Plugin<Config>*>(root());
    config_ = plugin ? plugin->selectForRequest() : nullptr;
    return config_ != nullptr;
  }

 private:
  const Config* config_ = nullptr;
};

}  // namespace v0
}  // namespace pwsdk
