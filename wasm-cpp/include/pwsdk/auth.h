// Consumer authentication rules shared by the auth plug-ins (key-auth, basic-auth): the C++ twin of the Rust
// `pwsdk::auth` (wasm-rust/src/auth.rs; names: AuthRules, Decision, Identity, checkRealm, base64Decode,
// constantTimeEq; an auth plug-in type `A` below is the Rust `Authenticator`, auth::Register<A> its
// `auth_plugin!`). The semantics are written out in extensions/key-auth/README.md
// ("Rules, allow lists and global_auth"):
//   - the global object holds the consumers configuration; each `_rules_` entry may carry `allow` (consumer
//     names) and/or its own configuration; the top-level `global_auth` says whether requests that match no
//     rule are authenticated (default: true without rules, false with rules);
//   - the plug-in glue (AuthPlugin / AuthFilter) answers 401 (missing / invalid credentials, with a
//     `WWW-Authenticate` challenge), 403 (consumer not allowed), or sets `x-mse-consumer` and continues.
// The parsing part (AuthRules, base64Decode, the serde-like field readers) makes no host calls and is tested
// natively; only the AuthPlugin / AuthFilter templates call the host.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pwsdk/api.h"
#include "pwsdk/config.h"
#include "pwsdk/json.h"
#include "pwsdk/plugin.h"
#include "pwsdk/rules.h"

namespace pwsdk {
inline namespace v0 {
namespace auth {

// The header naming the authenticated consumer for the upstream (set, replacing any value the client sent).
constexpr std::string_view kConsumerHeader = "x-mse-consumer";
constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

// ---- Pure helpers ---------------------------------------------------------------------------------------

// Standard base64 (alphabet `A-Z a-z 0-9 + /`), padding optional; nullopt on any other byte, a misplaced `=`,
// padding that does not make the length a multiple of 4, or a length that cannot be base64 (n mod 4 = 1).
// Non-zero unused bits in the last character are accepted.
std::optional<std::string> base64Decode(std::string_view input);

// Byte comparison whose time does not depend on where the inputs differ (only on their lengths).
bool constantTimeEq(std::string_view a, std::string_view b);

// Checks a realm for use inside `realm="..."` (1 to 256 bytes of printable ASCII without `"` and `\`); on a
// problem fails `in` at "realm" and returns false.
bool checkRealm(ConfigReader& in, std::string_view realm);

// ---- serde-like field readers ---------------------------------------------------------------------------
// For configuration structs that ConfigReader's declarative fields cannot express (arrays of objects, lists
// of integers, Option<Vec<..>>). Paths are relative to `in`; messages are serde's.

enum class FieldResult : uint8_t { Ok, Failed, Unknown };

bool readString(ConfigReader& in, std::string_view path, const json::Value& v, std::string& out);
// Option<String>: null leaves `out` empty.
bool readOptionalString(ConfigReader& in, std::string_view path, const json::Value& v,
                        std::optional<std::string>& out);
bool readBool(ConfigReader& in, std::string_view path, const json::Value& v, bool& out);
bool readU32(ConfigReader& in, std::string_view path, const json::Value& v, uint32_t& out);
bool readStringList(ConfigReader& in, std::string_view path, const json::Value& v,
                    std::vector<std::string>& out);
// Option<Vec<String>>: null leaves `out` empty.
bool readOptionalStringList(ConfigReader& in, std::string_view path, const json::Value& v,
                            std::optional<std::vector<std::string>>& out);
// serde's "unknown field `x`, expected ..." for a struct with `fields` (declaration order).
std::string unknownFieldMessage(std::string_view key, std::initializer_list<std::string_view> fields);
// Joins a path and a member name ("consumers[0]" + "name" -> "consumers[0].name"; "" + "name" -> "name").
std::string joinPath(std::string_view path, std::string_view key);

// Reads `v` as a struct called `type` with `fields` (declaration order), the way serde's derive does over a
// serde_json Value: an object's members are visited in key order and handed to
// `visit(field_name, value, value_path)`, which returns Ok, Failed (after failing `in`) or Unknown (an
// unknown key, reported as serde does); an array is the sequence form, its items taken as the fields in
// declaration order (missing trailing fields keep their defaults, extra items are an error). Anything else is
// "invalid type: ..., expected struct <type>".
template <class Visit>
bool readStruct(ConfigReader& in, std::string_view path, const json::Value& v, std::string_view type,
                std::initializer_list<std::string_view> fields, Visit&& visit) {
  if (v.isObject()) {
    for (const auto& m : v.members()) {
      switch (visit(std::string_view(m.key), m.value, joinPath(path, m.key))) {
        case FieldResult::Ok:
          break;
        case FieldResult::Failed:
          return false;
        case FieldResult::Unknown:
          return in.fail(joinPath(path, m.key), unknownFieldMessage(m.key, fields));
      }
    }
    return true;
  }
  if (v.isArray()) {
    size_t i = 0;
    for (std::string_view name : fields) {
      if (i == v.items().size()) break;
      if (visit(name, v.items()[i], detail::cat(path, "[", i, "]")) != FieldResult::Ok) return false;
      ++i;
    }
    if (v.items().size() > fields.size()) {
      return in.fail(path,
                     detail::cat("invalid length ", v.items().size(), ", expected fewer elements in array"));
    }
    return true;
  }
  return in.fail(path, detail::cat("invalid type: ", v.describe(), ", expected struct ", type));
}

// ---- The rule layer -------------------------------------------------------------------------------------

// `allow`: a non-empty array of non-empty strings (fails `in` at "allow" / "allow[j]").
bool readAllowList(ConfigReader& in, const json::Value& v, std::vector<std::string>& out);

// One configuration object (global or rule): `allow`, `global_auth` and, when any other key is present, the
// plug-in's own configuration C (with `static bool parse(ConfigReader&, C&)`, as for Plugin<C>).
template <class C>
struct Entry {
  std::optional<std::vector<std::string>> allow;
  std::optional<bool> global_auth;
  std::optional<C> config;

  // `path` is "" for the global object, "_rules_[i]" for a rule.
  static bool parse(const json::Value& object, const std::string& path, Entry& out, ConfigError& error) {
    std::vector<json::Member> rest;
    const json::Value* allow = nullptr;
    const json::Value* global_auth = nullptr;
    for (const auto& m : object.members()) {
      if (m.key == "allow") {
        allow = &m.value;
      } else if (m.key == "global_auth") {
        global_auth = &m.value;
      } else {
        rest.push_back(m);
      }
    }
    ConfigReader in(object, path, error);
    if (allow) {
      std::vector<std::string> list;
      if (!readAllowList(in, *allow, list)) return false;
      out.allow = std::move(list);
    }
    if (global_auth) {
      if (!global_auth->isBool()) return in.fail("global_auth", "must be a boolean");
      out.global_auth = global_auth->asBool();
    }
    if (!rest.empty()) {
      json::Value own = json::Value::object(std::move(rest));
      out.config.emplace();
      if (!RuleSet<C>::parseConfig(own, path, *out.config, error)) return false;
    }
    return true;
  }
};

// What to do with one request: skip (config == nullptr) or authenticate with `config`, letting only the
// consumers in `allow` pass when it is set.
template <class C>
struct Decision {
  const C* config = nullptr;
  const std::vector<std::string>* allow = nullptr;
  bool skip() const { return config == nullptr; }
};

template <class C>
class AuthRules {
 public:
  // Parses configuration bytes (the SDK's steps for `_rules_`, then the checks of this layer, in the Rust
  // order); on failure returns nullopt with `error` set.
  static std::optional<AuthRules> parse(std::string_view bytes, ConfigError& error) {
    detail::RawConfiguration raw;
    if (!detail::parseDocument(bytes, raw, error)) return std::nullopt;
    AuthRules r;
    if (raw.global) {
      r.global_.emplace();
      if (!Entry<C>::parse(*raw.global, "", *r.global_, error)) return std::nullopt;
    }
    if (!detail::checkRules(raw, error)) return std::nullopt;
    for (size_t i = 0; i < raw.rules.items().size(); ++i) {
      detail::RawRule rr;
      if (!detail::parseRule(raw.rules.items()[i], detail::cat("_rules_[", i, "]"), rr, error))
        return std::nullopt;
      Rule rule{std::move(rr.matcher), rr.disable, std::nullopt};
      if (!rr.disable) {
        rule.entry.emplace();
        if (!Entry<C>::parse(rr.config, rr.path, *rule.entry, error)) return std::nullopt;
      }
      r.rules_.push_back(std::move(rule));
    }
    if (!r.crossCheck(error)) return std::nullopt;
    return r;
  }

  // The first matching rule decides; without one, the global configuration applies when `global_auth`.
  Decision<C> decide(const MatchInput& in) const {
    const C* global = globalConfig();
    for (const auto& rule : rules_) {
      if (!rule.matcher.matches(in)) continue;
      if (rule.disable) return {};
      const Entry<C>& e = *rule.entry;
      return {e.config ? &*e.config : global, e.allow ? &*e.allow : nullptr};
    }
    if (global && global_auth_) return {global, nullptr};
    return {};
  }

  MatchNeeds needs() const {
    MatchNeeds n;
    for (const auto& rule : rules_) {
      switch (rule.matcher.kind) {
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

  // `global_auth` as configured, or its default (true without rules, false with rules).
  bool globalAuth() const { return global_auth_; }
  const C* globalConfig() const { return global_ && global_->config ? &*global_->config : nullptr; }

 private:
  struct Rule {
    RuleMatcher matcher;
    bool disable;
    std::optional<Entry<C>> entry;
  };
  std::optional<Entry<C>> global_;
  std::vector<Rule> rules_;
  bool global_auth_ = true;

  bool fail(ConfigError& error, std::string path, std::string reason) {
    error.path = std::move(path);
    error.reason = std::move(reason);
    return false;
  }

  bool crossCheck(ConfigError& error) {
    if (global_ && global_->allow) return fail(error, "allow", "is allowed only inside _rules_ entries");
    const C* global = globalConfig();
    bool any_config = global != nullptr;
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (rules_[i].disable) continue;
      const Entry<C>& e = *rules_[i].entry;
      std::string path = detail::cat("_rules_[", i, "]");
      if (e.global_auth) return fail(error, path + ".global_auth", "is allowed only at the top level");
      if (!e.allow && !e.config) {
        return fail(error, path, "needs `allow` or its own consumers configuration (or `_disable_: true`)");
      }
      any_config = any_config || e.config.has_value();
    }
    if (!any_config)
      return fail(error, "", "no consumers: configure consumers at the top level or in a rule");
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (!rules_[i].disable && !rules_[i].entry->config && !global) {
        return fail(error, detail::cat("_rules_[", i, "].allow"),
                    "an allow-only rule needs consumers in the top-level configuration");
      }
    }
    std::optional<bool> configured = global_ ? global_->global_auth : std::nullopt;
    if (configured == std::optional<bool>(true) && !global) {
      return fail(error, "global_auth", "`true` needs consumers in the top-level configuration");
    }
    global_auth_ = configured.value_or(rules_.empty());
    return true;
  }
};

// ---- The plug-in glue -----------------------------------------------------------------------------------

// The outcome of looking for and checking a credential.
struct Identity {
  enum class Kind : uint8_t { Missing, Invalid, Consumer };
  Kind kind = Kind::Missing;
  std::string consumer;  // the consumer's name (Kind::Consumer)
  static Identity missing() { return {Kind::Missing, {}}; }
  static Identity invalid() { return {Kind::Invalid, {}}; }
  static Identity of(std::string name) { return {Kind::Consumer, std::move(name)}; }
};

// An auth plug-in `A` provides:
//   using Config = ...;                        // with static bool parse(ConfigReader&, Config&)
//   static constexpr std::string_view kScheme;  // `WWW-Authenticate` scheme, e.g. "Basic"
//   static constexpr std::string_view kMissingBody, kInvalidBody, kForbiddenBody;
//   static std::string_view realm(const Config&);
//   static Identity identify(const Config&);   // reads the request (host calls)
// and registers with   static pwsdk::auth::Register<A> registration("<name>");
template <class A>
class AuthPlugin : public RootContext {
 public:
  using RootContext::RootContext;

  bool onConfigure(size_t configuration_size) override {
    rules_.reset();
    ConfigError error;
    auto bytes = pwsdk::detail::readPluginConfiguration(configuration_size);
    if (!bytes) {
      logError("invalid configuration: cannot read it from the host");
      return false;
    }
    rules_ = AuthRules<typename A::Config>::parse(*bytes, error);
    if (!rules_) {
      pwsdk::detail::logInvalidConfiguration(error);
      return false;
    }
    return true;
  }

  const AuthRules<typename A::Config>* rules() const { return rules_ ? &*rules_ : nullptr; }

 private:
  std::optional<AuthRules<typename A::Config>> rules_;
};

template <class A>
class AuthFilter : public Context {
 public:
  using RootType = AuthPlugin<A>;
  using Context::Context;

  FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    const auto* plugin = static_cast<const AuthPlugin<A>*>(root());
    const auto* rules = plugin ? plugin->rules() : nullptr;
    if (!rules) return FilterHeadersStatus::Continue;
    Decision<typename A::Config> d = rules->decide(pwsdk::detail::readMatchInput(rules->needs()));
    if (d.skip()) return FilterHeadersStatus::Continue;
    Identity id = A::identify(*d.config);
    if (id.kind != Identity::Kind::Consumer) {
      std::string challenge = detail::cat(A::kScheme, " realm=\"", A::realm(*d.config), "\"");
      sendLocalResponse(401, id.kind == Identity::Kind::Missing ? A::kMissingBody : A::kInvalidBody,
                        {{"www-authenticate", challenge}, {"content-type", std::string(kTextPlain)}});
      return FilterHeadersStatus::StopIteration;
    }
    if (d.allow) {
      bool allowed = false;
      for (const auto& name : *d.allow) allowed = allowed || name == id.consumer;
      if (!allowed) {
        sendLocalResponse(403, A::kForbiddenBody, {{"content-type", std::string(kTextPlain)}});
        return FilterHeadersStatus::StopIteration;
      }
    }
    Status s = replaceHeader(MapType::RequestHeaders, kConsumerHeader, id.consumer);
    if (s != Status::Ok) {
      // fail closed: an auth check that could not run must not let the request through
      logError("on_request_headers failed: could not set ", kConsumerHeader, " (status ",
               static_cast<uint32_t>(s), ")");
      sendLocalResponse(500, "");
      return FilterHeadersStatus::StopIteration;
    }
    return FilterHeadersStatus::Continue;
  }
};

template <class A>
using Register = pwsdk::Register<AuthPlugin<A>, AuthFilter<A>>;

}  // namespace auth
}  // namespace v0
}  // namespace pwsdk
