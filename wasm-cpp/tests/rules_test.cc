// Rule parsing and matching: the same cases as wasm-rust/src/rules.rs's tests, with the same messages.
#include "pwsdk/rules.h"

#include <optional>
#include <string>

#include "check.h"

using namespace pwsdk;
using pwsdk::detail::cat;

namespace {

// The Rust tests' `Hello { name: Option<String>, urls: Vec<String> }` with deny_unknown_fields.
struct Hello {
  std::optional<std::string> name;
  std::vector<std::string> urls;
  static bool parse(ConfigReader& in, Hello& out) {
    in.field("name", out.name);
    in.field("urls", out.urls);
    if (!in.finish()) return false;
    if (out.name && *out.name == "forbidden") return in.fail("name", "must not be `forbidden`");
    for (size_t i = 0; i < out.urls.size(); ++i) {
      if (out.urls[i].empty()) return in.fail(cat("urls[", i, "]"), "must not be empty");
    }
    return true;
  }
};

std::optional<RuleSet<Hello>> parse(std::string_view text) {
  ConfigError e;
  return RuleSet<Hello>::parse(text, e);
}

std::string err(std::string_view text) {
  ConfigError e;
  if (RuleSet<Hello>::parse(text, e)) return "<accepted>";
  return "invalid configuration: " + e.message();
}

std::optional<std::string> opt(const char* s) { return s ? std::optional<std::string>(s) : std::nullopt; }

std::string nameFor(const RuleSet<Hello>& set, const char* authority, const char* route,
                    const char* cluster) {
  MatchInput in{opt(authority), opt(route), opt(cluster)};
  const Hello* h = set.select(in);
  return h ? "config:" + h->name.value_or("") : "none";
}

const char* kReadmeExample = R"({
  "name": "World",
  "_rules_": [
    { "_match_route_":        ["route-a", "route-b"], "name": "Route" },
    { "_match_route_prefix_": ["api-"],               "name": "Api" },
    { "_match_domain_":       ["*.example.com", "foo.com", "www.*", "[::1]"], "name": "Domain" },
    { "_match_service_":      ["svc.default.svc.cluster.local:8080", "backend.dns"], "name": "Service" },
    { "_match_domain_":       ["internal.local"], "_disable_": true }
  ]
})";

bool domain(const char* pattern, const char* host) {
  auto set = parse(cat(R"({"_rules_":[{"_match_domain_":[")", pattern, R"("]}]})"));
  if (!set) return false;
  MatchInput in{std::string(host), std::nullopt, std::nullopt};
  return set->select(in) != nullptr;
}

}  // namespace

void rulesTests() {
  {
    auto set = parse(kReadmeExample);
    CHECK(set.has_value());
    CHECK(set->ruleCount() == 5);
    CHECK_EQ(nameFor(*set, "x.org", "route-b", nullptr), "config:Route");
    CHECK_EQ(nameFor(*set, "x.org", "route-c", nullptr), "config:World");
    CHECK_EQ(nameFor(*set, "x.org", "api-v1", nullptr), "config:Api");
    CHECK_EQ(nameFor(*set, "x.org", "v1-api", nullptr), "config:World");
    CHECK_EQ(nameFor(*set, "a.example.com", nullptr, nullptr), "config:Domain");
    CHECK_EQ(nameFor(*set, "example.com", nullptr, nullptr), "config:World");
    CHECK_EQ(nameFor(*set, "www.test.org", nullptr, nullptr), "config:Domain");
    CHECK_EQ(nameFor(*set, "[::1]:443", nullptr, nullptr), "config:Domain");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|8080||svc.default.svc.cluster.local"),
             "config:Service");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|9090||svc.default.svc.cluster.local"), "config:World");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|1||backend.dns"), "config:Service");
    CHECK_EQ(nameFor(*set, "internal.local:80", nullptr, nullptr), "none");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, nullptr), "config:World");
  }
  {
    auto set =
        parse(R"({"_rules_":[{"_match_domain_":["*"],"name":"A"},{"_match_route_":["r"],"name":"B"}]})");
    CHECK_EQ(nameFor(*set, "x", "r", nullptr), "config:A");
    CHECK_EQ(nameFor(*set, nullptr, "r", nullptr), "config:B");
  }
  // authority host extraction
  CHECK_EQ(hostFromAuthority("foo.com:8080"), "foo.com");
  CHECK_EQ(hostFromAuthority("FOO.com"), "foo.com");
  CHECK_EQ(hostFromAuthority("[::1]:443"), "[::1]");
  CHECK_EQ(hostFromAuthority("[::1]"), "[::1]");
  CHECK_EQ(hostFromAuthority("[::1]x"), "[::1]x");
  CHECK_EQ(hostFromAuthority("[::1"), "[::1");
  CHECK_EQ(hostFromAuthority("::1"), "::1");
  CHECK_EQ(hostFromAuthority("a:b:80"), "a:b:80");
  CHECK_EQ(hostFromAuthority("foo.com:"), "foo.com:");
  CHECK_EQ(hostFromAuthority("foo.com:http"), "foo.com:http");
  CHECK_EQ(hostFromAuthority(""), "");
  // domain patterns
  CHECK(domain("foo.com", "foo.com:8080"));
  CHECK(domain("foo.com", "FOO.com"));
  CHECK(domain("FOO.COM", "foo.com"));
  CHECK(domain("*.example.com", "a.example.com"));
  CHECK(domain("*.example.com", "a.b.example.com:1"));
  CHECK(!domain("*.example.com", "example.com"));
  CHECK(domain("www.*", "www.test.org"));
  CHECK(!domain("www.*", "wwx.test.org"));
  CHECK(domain("[::1]", "[::1]:443"));
  CHECK(domain("::1", "::1"));
  CHECK(domain("*", "anything:1"));
  CHECK(domain("*", ""));
  CHECK(!domain("foo.com", "foo.com.evil"));
  for (const char* bad : {"a*b", "*a*", "**", "a**", "*.*.com"}) {
    CHECK_EQ(err(cat(R"({"_rules_":[{"_match_domain_":[")", bad, R"("]}]})")),
             "invalid configuration: _rules_[0]._match_domain_[0]: `*` is only allowed once, at the start or "
             "the end of a domain pattern");
  }
  // service entries
  {
    ServiceEntry s{"svc.default.svc.cluster.local", std::string("8080")};
    CHECK(s.matches("outbound|8080||svc.default.svc.cluster.local"));
    CHECK(!s.matches("outbound|9090||svc.default.svc.cluster.local"));
    ServiceEntry t{"svc.default.svc.cluster.local", std::nullopt};
    CHECK(t.matches("outbound|8080||svc.default.svc.cluster.local"));
    CHECK(t.matches("outbound|1|v1|svc.default.svc.cluster.local"));
    CHECK(!t.matches("outbound|8080||svc.default.svc.cluster.local|x"));
    CHECK(!(ServiceEntry{"svc.default", std::nullopt}.matches("svc.default")));
    auto set = parse(R"({"_rules_":[{"_match_service_":["a:123456"],"name":"six"},
                                    {"_match_service_":["a:http"],"name":"http"},
                                    {"_match_service_":["b:80"],"name":"port"}]})");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|1||a:123456"), "config:six");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|1||a:http"), "config:http");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|80||b"), "config:port");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|81||b"), "none");
  }
  // empty and trivial configurations
  for (const char* text : {"", "{}"}) {
    auto set = parse(text);
    CHECK(set && set->hasGlobal() && set->ruleCount() == 0);
  }
  CHECK_EQ(err("not json"), "invalid configuration: not valid JSON: expected ident at line 1 column 2");
  CHECK_EQ(err("[1]"), "invalid configuration: must be a JSON object");
  CHECK_EQ(err("\"x\""), "invalid configuration: must be a JSON object");
  CHECK_EQ(err("null"), "invalid configuration: must be a JSON object");
  CHECK(err("{").rfind("invalid configuration: not valid JSON: ", 0) == 0);
  CHECK(err(" ").rfind("invalid configuration: not valid JSON: ", 0) == 0);
  // global only and rules only
  {
    auto set = parse(R"({"name":"G"})");
    CHECK_EQ(nameFor(*set, "a", "r", "c"), "config:G");
    set = parse(R"({"_rules_":[{"_match_route_":["r"],"name":"R"}]})");
    CHECK(!set->hasGlobal());
    CHECK_EQ(nameFor(*set, "a", "r", nullptr), "config:R");
    CHECK_EQ(nameFor(*set, "a", "x", nullptr), "none");
    set = parse(R"({"_rules_":[]})");
    CHECK(!set->hasGlobal() && set->ruleCount() == 0);
    set = parse(R"({"_rules_":[{"_match_route_":["r"]}]})");
    CHECK_EQ(nameFor(*set, nullptr, "r", nullptr), "config:");
  }
  // global errors
  CHECK_EQ(err(R"({"name": 3})"),
           "invalid configuration: name: invalid type: integer `3`, expected a string");
  CHECK_EQ(err(R"({"urls": ["a", 1]})"),
           "invalid configuration: urls[1]: invalid type: integer `1`, expected a string");
  CHECK_EQ(err(R"({"nme": "x"})"),
           "invalid configuration: nme: unknown field `nme`, expected `name` or `urls`");
  CHECK_EQ(err(R"({"name": "forbidden"})"), "invalid configuration: name: must not be `forbidden`");
  CHECK_EQ(err(R"({"urls": ["a", ""]})"), "invalid configuration: urls[1]: must not be empty");
  CHECK(err(R"({"name": 1, "_rules_": [{"_match_route_":["r"]}]})").find("name: invalid type") !=
        std::string::npos);
  // the global configuration is checked before `_rules_` (as in the Rust SDK)
  CHECK_EQ(err(R"({"name": 1, "_rules_": {}})"),
           "invalid configuration: name: invalid type: integer `1`, expected a string");
  CHECK_EQ(err(R"({"name": null})"), "<accepted>");  // Option<String>: null is None
  CHECK_EQ(err(R"({"urls": null})"), "invalid configuration: urls: invalid type: null, expected a sequence");
  // field errors come in key order, as serde visits a serde_json Map
  CHECK_EQ(err(R"({"urls": 1, "aaa": 1})"),
           "invalid configuration: aaa: unknown field `aaa`, expected `name` or `urls`");
  CHECK_EQ(err(R"({"zzz": 1, "urls": 1})"),
           "invalid configuration: urls: invalid type: integer `1`, expected a sequence");
  CHECK_EQ(err(R"({"name": 1.50})"),
           "invalid configuration: name: invalid type: floating point `1.5`, expected a string");
  // rules errors
  CHECK_EQ(err(R"({"_rules_": {}})"), "invalid configuration: _rules_: must be an array of rule objects");
  CHECK_EQ(err(R"({"_rules_": "x"})"), "invalid configuration: _rules_: must be an array of rule objects");
  CHECK_EQ(err(R"({"_rules_": [1]})"), "invalid configuration: _rules_[0]: must be a JSON object");
  CHECK_EQ(err(R"({"_rules_": [{"_match_route_":["r"]}, {"name":"x"}]})"),
           "invalid configuration: _rules_[1]: needs exactly one of _match_route_, _match_route_prefix_, "
           "_match_domain_, _match_service_");
  CHECK_EQ(
      err(R"({"_rules_": [{"_match_route_":["r"], "_match_domain_":["d"]}]})"),
      "invalid configuration: _rules_[0]: has 2 match keys (_match_route_, _match_domain_); a rule needs "
      "exactly one");
  CHECK_EQ(
      err(R"({"_rules_": [{"_match_domain_":[]}]})"),
      "invalid configuration: _rules_[0]._match_domain_: must be a non-empty array of non-empty strings");
  CHECK_EQ(err(R"({"_rules_": [{"_match_route_":"r"}]})"),
           "invalid configuration: _rules_[0]._match_route_: must be a non-empty array of non-empty strings");
  CHECK_EQ(err(R"({"_rules_": [{"_match_service_":["a", ""]}]})"),
           "invalid configuration: _rules_[0]._match_service_[1]: must be a non-empty string");
  CHECK_EQ(err(R"({"_rules_": [{"_match_route_prefix_":[7]}]})"),
           "invalid configuration: _rules_[0]._match_route_prefix_[0]: must be a non-empty string");
  CHECK_EQ(
      err(R"({"_rules_": [{"_match_route_":["r"]}, {"_match_route_":["r"]}, {"_match_domain_":["a*b"]}]})"),
      "invalid configuration: _rules_[2]._match_domain_[0]: `*` is only allowed once, at the start or the "
      "end of a domain pattern");
  CHECK_EQ(err(R"({"_rules_": [{"_match_route_":["r"], "_disable_": "yes"}]})"),
           "invalid configuration: _rules_[0]._disable_: must be a boolean");
  CHECK_EQ(err(R"({"_rules_": [{"_match_route_":["r"], "name": 5}]})"),
           "invalid configuration: _rules_[0].name: invalid type: integer `5`, expected a string");
  CHECK_EQ(err(R"({"_rules_": [{"_match_route_":["r"]}, {"_match_route_":["s"], "urls": ["ok", ""]}]})"),
           "invalid configuration: _rules_[1].urls[1]: must not be empty");
  CHECK(err(R"({"_rules_": [{"_match_route_":["r"], "nam": "x"}]})")
            .rfind("invalid configuration: _rules_[0].nam: unknown field `nam`", 0) == 0);
  // disable rules
  {
    auto set = parse(R"({"name":"G","_rules_":[{"_match_route_":["r"],"_disable_":true,"name":5}]})");
    CHECK(set.has_value());
    CHECK_EQ(nameFor(*set, nullptr, "r", nullptr), "none");
    CHECK_EQ(nameFor(*set, nullptr, "s", nullptr), "config:G");
    set = parse(R"({"_rules_":[{"_match_route_":["r"],"_disable_":false,"name":"R"}]})");
    CHECK_EQ(nameFor(*set, nullptr, "r", nullptr), "config:R");
  }
  // route and service are exact (case-sensitive)
  {
    auto set = parse(R"({"_rules_":[{"_match_route_":["Route"]},{"_match_service_":["Svc.dns"]}]})");
    CHECK_EQ(nameFor(*set, nullptr, "route", nullptr), "none");
    CHECK_EQ(nameFor(*set, nullptr, "Route", nullptr), "config:");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|1||svc.dns"), "none");
    CHECK_EQ(nameFor(*set, nullptr, nullptr, "outbound|1||Svc.dns"), "config:");
  }
}
