// `_rules_` parsing and request matching (wasm-rust/README.md, "Configuration and rule matching").
#include "pwsdk/rules.h"

#include "pwsdk/detail/strings.h"

namespace pwsdk {
inline namespace v0 {

namespace {

bool isDigits(std::string_view s, size_t min_len, size_t max_len) {
  if (s.size() < min_len || s.size() > max_len) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool endsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

constexpr std::string_view kMatchKeys[] = {"_match_route_", "_match_route_prefix_", "_match_domain_",
                                           "_match_service_"};

}  // namespace

std::string hostFromAuthority(std::string_view authority) {
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close != std::string_view::npos) {
      std::string_view rest = authority.substr(close + 1);
      if (rest.empty() || (rest.front() == ':' && isDigits(rest.substr(1), 1, rest.size()))) {
        host = authority.substr(0, close + 1);
      }
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos && isDigits(authority.substr(colon + 1), 1, authority.size())) {
      host = authority.substr(0, colon);
    }
  }
  return detail::asciiLowercase(host);
}

bool DomainPattern::matches(std::string_view host) const {
  switch (kind) {
    case Kind::Any:
      return true;
    case Kind::Suffix:
      return endsWith(host, text);
    case Kind::Prefix:
      return startsWith(host, text);
    case Kind::Exact:
      return host == text;
  }
  return false;
}

bool ServiceEntry::matches(std::string_view cluster_name) const {
  std::string_view parts[4];
  size_t n = 0;
  size_t start = 0;
  for (;;) {
    size_t bar = cluster_name.find('|', start);
    if (n == 4) return false;  // more than 4 parts
    parts[n++] =
        cluster_name.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (n != 4) return false;
  if (parts[3] != fqdn) return false;
  return !port || parts[1] == *port;
}

bool RuleMatcher::matches(const MatchInput& in) const {
  switch (kind) {
    case Kind::Route:
      if (!in.route_name) return false;
      for (const auto& n : names) {
        if (*in.route_name == n) return true;
      }
      return false;
    case Kind::RoutePrefix:
      if (!in.route_name) return false;
      for (const auto& n : names) {
        if (startsWith(*in.route_name, n)) return true;
      }
      return false;
    case Kind::Domain: {
      if (!in.authority) return false;
      std::string host = hostFromAuthority(*in.authority);
      for (const auto& d : domains) {
        if (d.matches(host)) return true;
      }
      return false;
    }
    case Kind::Service:
      if (!in.cluster_name) return false;
      for (const auto& s : services) {
        if (s.matches(*in.cluster_name)) return true;
      }
      return false;
  }
  return false;
}

namespace detail {

namespace {

bool fail(ConfigError& error, std::string path, std::string reason) {
  error.path = std::move(path);
  error.reason = std::move(reason);
  return false;
}

bool parseDomain(std::string_view entry, DomainPattern& out) {
  std::string lower = asciiLowercase(entry);
  if (lower == "*") {
    out.kind = DomainPattern::Kind::Any;
    return true;
  }
  size_t stars = 0;
  for (char c : lower) stars += c == '*';
  if (stars == 0) {
    out.kind = DomainPattern::Kind::Exact;
    out.text = std::move(lower);
    return true;
  }
  if (stars == 1 && lower.front() == '*') {
    out.kind = DomainPattern::Kind::Suffix;
    out.text = lower.substr(1);
    return true;
  }
  if (stars == 1 && lower.back() == '*') {
    out.kind = DomainPattern::Kind::Prefix;
    out.text = lower.substr(0, lower.size() - 1);
    return true;
  }
  return false;
}

ServiceEntry parseService(std::string_view entry) {
  ServiceEntry s;
  size_t colon = entry.rfind(':');
  if (colon != std::string_view::npos && isDigits(entry.substr(colon + 1), 1, 5)) {
    s.fqdn = std::string(entry.substr(0, colon));
    s.port = std::string(entry.substr(colon + 1));
  } else {
    s.fqdn = std::string(entry);
  }
  return s;
}

}  // namespace

bool parseDocument(std::string_view bytes, RawConfiguration& out, ConfigError& error) {
  std::optional<json::Value> doc;
  if (bytes.empty()) {
    doc = json::Value::object({});
  } else {
    std::string why;
    doc = json::parse(bytes, &why);
    if (!doc) return fail(error, "", cat("not valid JSON: ", why));
  }
  if (!doc->isObject()) return fail(error, "", "must be a JSON object");
  std::vector<json::Member> global;
  bool has_rules = false;
  for (const auto& m : doc->members()) {
    if (m.key == "_rules_") {
      has_rules = true;
      out.rules = m.value;
    } else {
      global.push_back(m);
    }
  }
  out.has_rules = has_rules;
  if (!global.empty() || !has_rules) out.global = json::Value::object(std::move(global));
  return true;
}

bool checkRules(const RawConfiguration& raw, ConfigError& error) {
  if (raw.has_rules && !raw.rules.isArray())
    return fail(error, "_rules_", "must be an array of rule objects");
  return true;
}

bool parseRule(const json::Value& v, std::string path, RawRule& out, ConfigError& error) {
  if (!v.isObject()) return fail(error, path, "must be a JSON object");
  std::vector<std::string_view> present;
  for (auto k : kMatchKeys) {
    if (v.find(k)) present.push_back(k);
  }
  if (present.empty()) {
    return fail(error, path,
                "needs exactly one of _match_route_, _match_route_prefix_, _match_domain_, _match_service_");
  }
  if (present.size() > 1) {
    std::string list;
    for (auto k : present) list += cat(list.empty() ? "" : ", ", k);
    return fail(error, path,
                cat("has ", present.size(), " match keys (", list, "); a rule needs exactly one"));
  }
  std::string_view key = present[0];
  std::string mpath = cat(path, ".", key);
  const json::Value& list = *v.find(key);
  if (!list.isArray() || list.items().empty()) {
    return fail(error, mpath, "must be a non-empty array of non-empty strings");
  }
  std::vector<std::string> entries;
  for (size_t i = 0; i < list.items().size(); ++i) {
    const json::Value& item = list.items()[i];
    if (!item.isString() || item.asString().empty()) {
      return fail(error, cat(mpath, "[", i, "]"), "must be a non-empty string");
    }
    entries.push_back(item.asString());
  }
  RuleMatcher& m = out.matcher;
  m.kind = key == "_match_route_"          ? RuleMatcher::Kind::Route
           : key == "_match_route_prefix_" ? RuleMatcher::Kind::RoutePrefix
           : key == "_match_domain_"       ? RuleMatcher::Kind::Domain
                                           : RuleMatcher::Kind::Service;
  for (size_t i = 0; i < entries.size(); ++i) {
    switch (m.kind) {
      case RuleMatcher::Kind::Route:
      case RuleMatcher::Kind::RoutePrefix:
        m.names.push_back(entries[i]);
        break;
      case RuleMatcher::Kind::Domain: {
        DomainPattern d;
        if (!parseDomain(entries[i], d)) {
          return fail(error, cat(mpath, "[", i, "]"),
                      "`*` is only allowed once, at the start or the end of a domain pattern");
        }
        m.domains.push_back(std::move(d));
        break;
      }
      case RuleMatcher::Kind::Service:
        m.services.push_back(parseService(entries[i]));
        break;
    }
  }
  std::vector<json::Member> rest;
  for (const auto& mem : v.members()) {
    if (mem.key == "_disable_") {
      if (!mem.value.isBool()) return fail(error, cat(path, "._disable_"), "must be a boolean");
      out.disable = mem.value.asBool();
      continue;
    }
    if (mem.key != key) rest.push_back(mem);
  }
  out.config = json::Value::object(std::move(rest));
  out.path = std::move(path);
  return true;
}

}  // namespace detail

}  // namespace v0
}  // namespace pwsdk
