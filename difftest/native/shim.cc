// pwdiff native shim: see shim.h. Compiled with the C++ SDK's pure sources by build.rs.
#include "shim.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pwsdk/config.h"
#include "pwsdk/regex.h"
#include "pwsdk/rules.h"

namespace {

using pwsdk::ConfigError;
using pwsdk::ConfigReader;

pwd_buf toBuf(std::string_view s) {
  pwd_buf b{nullptr, s.size()};
  if (!s.empty()) {
    b.data = static_cast<uint8_t*>(std::malloc(s.size()));
    if (b.data == nullptr) {
      b.len = 0;
      return b;
    }
    std::memcpy(b.data, s.data(), s.size());
  }
  return b;
}

std::string_view view(const uint8_t* p, size_t n) {
  return n == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(p), n);
}

std::optional<std::string> opt(pwd_input in) {
  if (!in.present) return std::nullopt;
  return std::string(view(in.data, in.len));
}

// The test configuration type (the Rust twin is in tests/native.rs).
struct TestConfig {
  std::optional<std::string> name;
  std::vector<std::string> urls;
  uint32_t code = 0;
  bool flag = false;

  static bool parse(ConfigReader& in, TestConfig& out) {
    in.field("name", out.name);
    in.field("urls", out.urls);
    in.field("code", out.code);
    in.field("flag", out.flag);
    if (!in.finish()) return false;
    if (out.name && out.name->empty()) return in.fail("name", "must not be empty");
    for (size_t i = 0; i < out.urls.size(); ++i) {
      if (out.urls[i].empty()) return in.fail(pwsdk::detail::cat("urls[", i, "]"), "must not be empty");
    }
    return true;
  }

  std::string canonical() const {
    std::string s = name ? pwsdk::detail::cat("=", *name) : std::string("-");
    s += "|";
    for (size_t i = 0; i < urls.size(); ++i) {
      if (i) s += '\x1f';
      s += urls[i];
    }
    return pwsdk::detail::cat(s, "|", code, "|", flag ? "true" : "false");
  }
};

}  // namespace

struct pwd_regex {
  pwsdk::Regex re;
};

struct pwd_rules {
  pwsdk::RuleSet<TestConfig> set;
  // The matchers again, in order, so the index of the first matching rule can be reported.
  std::vector<std::pair<pwsdk::RuleMatcher, bool>> matchers;
};

extern "C" {

void pwd_buf_free(pwd_buf* buf) {
  if (buf && buf->data) std::free(buf->data);
  if (buf) {
    buf->data = nullptr;
    buf->len = 0;
  }
}

pwd_regex* pwd_regex_compile(const uint8_t* pattern, size_t pattern_len, int case_insensitive, pwd_buf* error) {
  std::string err;
  auto re = pwsdk::Regex::compile(view(pattern, pattern_len), case_insensitive != 0, &err);
  if (!re) {
    if (error) *error = toBuf(err);
    return nullptr;
  }
  return new pwd_regex{std::move(*re)};
}

int pwd_regex_full_match(const pwd_regex* re, const uint8_t* input, size_t input_len) {
  return re->re.fullMatch(view(input, input_len)) ? 1 : 0;
}

void pwd_regex_free(pwd_regex* re) { delete re; }

int pwd_regex_cost(const uint8_t* pattern, size_t pattern_len, uint64_t* cost) {
  auto c = pwsdk::Regex::cost(view(pattern, pattern_len));
  if (!c) return 0;
  if (cost) *cost = *c;
  return 1;
}

pwd_buf pwd_host_from_authority(const uint8_t* authority, size_t len) {
  return toBuf(pwsdk::hostFromAuthority(view(authority, len)));
}

pwd_rules* pwd_rules_parse(const uint8_t* bytes, size_t len, pwd_buf* error) {
  ConfigError err;
  auto set = pwsdk::RuleSet<TestConfig>::parse(view(bytes, len), err);
  if (!set) {
    if (error) *error = toBuf(pwsdk::detail::cat("invalid configuration: ", err.message()));
    return nullptr;
  }
  auto* out = new pwd_rules{std::move(*set), {}};
  // Re-read the rules' matchers with the SDK's own parser (the document already parsed once).
  pwsdk::detail::RawConfiguration raw;
  ConfigError ignored;
  if (pwsdk::detail::parseDocument(view(bytes, len), raw, ignored) && raw.has_rules) {
    for (size_t i = 0; i < raw.rules.items().size(); ++i) {
      pwsdk::detail::RawRule r;
      if (!pwsdk::detail::parseRule(raw.rules.items()[i], pwsdk::detail::cat("_rules_[", i, "]"), r, ignored)) break;
      out->matchers.emplace_back(std::move(r.matcher), r.disable);
    }
  }
  return out;
}

void pwd_rules_free(pwd_rules* rules) { delete rules; }

int pwd_rules_select(const pwd_rules* rules, pwd_input authority, pwd_input route_name, pwd_input cluster_name,
                     int64_t* rule_index, pwd_buf* config) {
  pwsdk::MatchInput in;
  in.authority = opt(authority);
  in.route_name = opt(route_name);
  in.cluster_name = opt(cluster_name);
  bool disabled = false;
  const TestConfig* selected = rules->set.select(in, &disabled);
  int64_t index = -1;
  for (size_t i = 0; i < rules->matchers.size(); ++i) {
    if (rules->matchers[i].first.matches(in)) {
      index = static_cast<int64_t>(i);
      break;
    }
  }
  if (rule_index) *rule_index = index;
  if (disabled) return PWD_DISABLED;
  if (selected == nullptr) return PWD_NONE;
  if (config) *config = toBuf(selected->canonical());
  return index >= 0 ? PWD_RULE : PWD_GLOBAL;
}

}  // extern "C"
