// Configuration with per-route/domain/service rules (`_rules_`), as described in wasm-rust/README.md
// ("Configuration and rule matching"). Pure logic: no host calls, so it is unit-tested natively.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pwsdk/config.h"
#include "pwsdk/json.h"

namespace pwsdk {
inline namespace v0 {

// What a request is matched on.
struct MatchInput {
  std::optional<std::string> authority;     // the `:authority` header
  std::optional<std::string> route_name;    // property `route_name`
  std::optional<std::string> cluster_name;  // property `cluster_name`
};

struct MatchNeeds {
  bool authority = false;
  bool route_name = false;
  bool cluster_name = false;
};

// `:authority` without its port, lower-cased ("[::1]:443" -> "[::1]", "Foo.com:80" -> "foo.com").
std::string hostFromAuthority(std::string_view authority);

struct DomainPattern {
  enum class Kind { Any, Suffix, Prefix, Exact };
  Kind kind = Kind::Exact;
  std::string text;  // lower-cased, without the `*`
  bool matches(std::string_view host) const;
};

struct ServiceEntry {
  std::string fqdn;
  std::optional<std::string> port;
  // `cluster_name` is "direction|port|subset|fqdn".
  bool matches(std::string_view cluster_name) const;
};

// The `_match_*` part of one rule.
struct RuleMatcher {
  enum class Kind { Route, RoutePrefix, Domain, Service };
  Kind kind = Kind::Route;
  std::vector<std::string> names;  // route names or prefixes
  std::vector<DomainPattern> domains;
  std::vector<ServiceEntry> services;
  bool matches(const MatchInput& in) const;
};

namespace detail {

// A rule with its configuration still unparsed.
struct RawRule {
  RuleMatcher matcher;
  bool disable = false;
  json::Value config;  // the rule's other keys, as an object
  std::string path;    // "_rules_[i]"
};

struct RawConfiguration {
  std::optional<json::Value> global;  // the keys other than `_rules_`, when there is a global configuration
  bool has_rules = false;
  json::Value rules;  // the `_rules_` array
};

// Steps 1-3 of the README: JSON, object, split into the global configuration and `_rules_`.
bool parseDocument(std::string_view bytes, RawConfiguration& out, ConfigError& error);
// `_rules_`, when present, is an array.
bool checkRules(const RawConfiguration& raw, ConfigError& error);
// Steps 4-5 and 7-8 for one entry of `_rules_` (at `path`, "_rules_[i]"); the rule's config stays raw.
bool parseRule(const json::Value& rule, std::string path, RawRule& out, ConfigError& error);

}  // namespace detail

// The parsed configuration of a plug-in whose config type is `Config` (see config.h for its parse()).
template <class Config>
class RuleSet {
 public:
  // Parses configuration bytes; on failure returns nullopt with `error` set.
  static std::optional<RuleSet> parse(std::string_view bytes, ConfigError& error) {
    // Same order as the Rust SDK: the document, the global configuration, then each rule in turn.
    detail::RawConfiguration raw;
    if (!detail::parseDocument(bytes, raw, error)) return std::nullopt;
    RuleSet set;
    if (raw.global) {
      set.global_.emplace();
      if (!parseConfig(*raw.global, "", *set.global_, error)) return std::nullopt;
    }
    if (!detail::checkRules(raw, error)) return std::nullopt;
    for (size_t i = 0; i < raw.rules.items().size(); ++i) {
      detail::RawRule r;
      if (!detail::parseRule(raw.rules.items()[i], detail::cat("_rules_[", i, "]"), r, error)) {
        return std::nullopt;
      }
      Rule rule{std::move(r.matcher), r.disable, std::nullopt};
      if (!r.disable) {
        rule.config.emplace();
        if (!parseConfig(r.config, r.path, *rule.config, error)) return std::nullopt;
      }
      set.rules_.push_back(std::move(rule));
    }
    return set;
  }

  // Parses one configuration object as Config (at `path`: "" or "_rules_[i]").
  static bool parseConfig(const json::Value& object, std::string path, Config& out, ConfigError& error) {
    ConfigReader reader(object, std::move(path), error);
    bool ok = Config::parse(reader, out);
    if (ok && reader.ok()) return true;
    if (reader.ok()) reader.fail("", "invalid configuration");  // parse() returned false without a reason
    return false;
  }

  // The configuration for a request: the first matching rule's, else the global one; nullptr when the
  // plug-in must do nothing (no match and no global configuration, or a matched `_disable_` rule, which
  // also sets *disabled).
  const Config* select(const MatchInput& in, bool* disabled = nullptr) const {
    if (disabled) *disabled = false;
    for (const auto& r : rules_) {
      if (!r.matcher.matches(in)) continue;
      if (r.disable && disabled) *disabled = true;
      return r.disable ? nullptr : &*r.config;
    }
    return global_ ? &*global_ : nullptr;
  }

  // Which request inputs the rules look at (so only those are read from the host).
  MatchNeeds needs() const {
    MatchNeeds n;
    for (const auto& r : rules_) {
      switch (r.matcher.kind) {
        case RuleMatcher::Kind::Route:
        case RuleMatcher::Kind::RoutePrefix:
          n.route_name = true;
          break;
        case RuleMatcher::Kind::Domain:
          n.authority = true;
          break;
        case RuleMatcher::Kind::Service:
          n.cluster_name = true;
          break;
      }
    }
    return n;
  }

  bool hasGlobal() const { return global_.has_value(); }
  // The global configuration (the keys other than `_rules_`), nullptr when there is none. Rust: `global`.
  const Config* global() const { return global_ ? &*global_ : nullptr; }
  size_t ruleCount() const { return rules_.size(); }

 private:
  struct Rule {
    RuleMatcher matcher;
    bool disable;
    std::optional<Config> config;
  };
  std::optional<Config> global_;
  std::vector<Rule> rules_;
};

}  // namespace v0
}  // namespace pwsdk
