// key-auth: authenticates requests by an API key in a header or a query parameter; names the consumer for the
// upstream in `x-mse-consumer`; per-rule `allow` lists restrict which consumers may pass.
#include <unordered_map>

#include "pwsdk/auth.h"
#include "pwsdk/pwsdk.h"

namespace {

using pwsdk::cat;
using pwsdk::ConfigReader;
using pwsdk::auth::FieldResult;
namespace json = pwsdk::json;

struct Consumer {
  std::string name;
  std::optional<std::string> credential;
  std::optional<std::vector<std::string>> credentials;
};

struct Config {
  std::optional<std::vector<Consumer>> consumers;
  std::optional<std::vector<std::string>> keys;
  bool in_query = true;
  bool in_header = true;
  std::string realm = "MSE Gateway";
  std::unordered_map<std::string, std::string> by_credential;  // credential -> consumer name
  std::vector<std::string> header_names;                       // `keys`, lower-cased

  static bool readConsumers(ConfigReader& in, std::string_view path, const json::Value& v,
                            std::optional<std::vector<Consumer>>& out) {
    using namespace pwsdk::auth;
    if (v.isNull()) return out.reset(), true;
    if (!v.isArray()) return in.fail(path, cat("invalid type: ", v.describe(), ", expected a sequence"));
    std::vector<Consumer> list(v.items().size());
    for (size_t i = 0; i < list.size(); ++i) {
      Consumer& c = list[i];
      bool ok = readStruct(in, cat(path, "[", i, "]"), v.items()[i], "Consumer",
                           {"name", "credential", "credentials"},
                           [&](std::string_view key, const json::Value& value, const std::string& p) {
                             bool r;
                             if (key == "name") {
                               r = readString(in, p, value, c.name);
                             } else if (key == "credential") {
                               r = readOptionalString(in, p, value, c.credential);
                             } else if (key == "credentials") {
                               r = readOptionalStringList(in, p, value, c.credentials);
                             } else {
                               return FieldResult::Unknown;
                             }
                             return r ? FieldResult::Ok : FieldResult::Failed;
                           });
      if (!ok) return false;
    }
    out = std::move(list);
    return true;
  }

  static bool parse(ConfigReader& in, Config& out) {
    using namespace pwsdk::auth;
    bool ok =
        readStruct(in, "", in.object(), "Config", {"consumers", "keys", "in_query", "in_header", "realm"},
                   [&](std::string_view key, const json::Value& value, const std::string& p) {
                     bool r;
                     if (key == "consumers") {
                       r = readConsumers(in, p, value, out.consumers);
                     } else if (key == "keys") {
                       r = readOptionalStringList(in, p, value, out.keys);
                     } else if (key == "in_query") {
                       r = readBool(in, p, value, out.in_query);
                     } else if (key == "in_header") {
                       r = readBool(in, p, value, out.in_header);
                     } else if (key == "realm") {
                       r = readString(in, p, value, out.realm);
                     } else {
                       return FieldResult::Unknown;
                     }
                     return r ? FieldResult::Ok : FieldResult::Failed;
                   });
    return ok && out.validate(in);
  }

  bool validate(ConfigReader& in) {
    if (!consumers || consumers->empty()) {
      return in.fail("consumers", "is required: a non-empty array of {name, credential}");
    }
    std::unordered_map<std::string_view, size_t> names;
    for (size_t i = 0; i < consumers->size(); ++i) {
      const Consumer& c = (*consumers)[i];
      std::string path = cat("consumers[", i, "]");
      if (c.name.empty()) return in.fail(path + ".name", "is required and must not be empty");
      if (!names.emplace(c.name, i).second) {
        return in.fail(path + ".name", cat("duplicate consumer name `", c.name, "`"));
      }
      std::vector<std::pair<std::string, const std::string*>> list;
      if (c.credential && !c.credentials) {
        list.emplace_back(path + ".credential", &*c.credential);
      } else if (!c.credential && c.credentials && !c.credentials->empty()) {
        for (size_t j = 0; j < c.credentials->size(); ++j) {
          list.emplace_back(cat(path, ".credentials[", j, "]"), &(*c.credentials)[j]);
        }
      } else if (!c.credential && c.credentials) {
        return in.fail(path + ".credentials", "must not be empty");
      } else {
        return in.fail(path, "needs exactly one of `credential` and `credentials`");
      }
      for (const auto& [p, credential] : list) {
        if (credential->empty()) return in.fail(p, "must not be empty");
        auto [it, inserted] = by_credential.emplace(*credential, c.name);
        if (!inserted) {
          std::string other = it->second;
          it->second = c.name;  // as a HashMap insert replaces the value
          return in.fail(p, cat("duplicate credential (already a credential of consumer `", other, "`)"));
        }
      }
    }
    if (!keys || keys->empty()) {
      return in.fail("keys", "is required: a non-empty array of header or query parameter names");
    }
    for (size_t j = 0; j < keys->size(); ++j) {
      if ((*keys)[j].empty()) return in.fail(cat("keys[", j, "]"), "must not be empty");
    }
    for (const auto& k : *keys) header_names.push_back(pwsdk::detail::asciiLowercase(k));
    if (!in_query && !in_header) {
      return in.fail("in_header", "at least one of in_query and in_header must be true");
    }
    return pwsdk::auth::checkRealm(in, realm);
  }
};

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `%XX` (two hex digits) -> byte; anything else, `+` and malformed `%` included, is kept as is.
std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int h = hexValue(s[i + 1]), l = hexValue(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out.push_back(static_cast<char>(h << 4 | l));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The decoded value of the first query parameter of `path` named `name` (names compared after decoding,
// case-sensitively). The query follows the first `?` up to a `#`; parameters are split on `&`; a parameter
// without `=` has an empty value.
std::optional<std::string> queryParam(std::string_view path, std::string_view name) {
  size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (true) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    size_t eq = param.find('=');
    std::string_view n = param.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (percentDecode(n) == name) return percentDecode(v);
    if (amp == std::string_view::npos) return std::nullopt;
    query = query.substr(amp + 1);
  }
}

struct KeyAuth {
  using Config = ::Config;
  static constexpr std::string_view kScheme = "Key";
  static constexpr std::string_view kMissingBody = "Request denied by Key Auth check. No API key found";
  static constexpr std::string_view kInvalidBody = "Request denied by Key Auth check. Invalid API key";
  static constexpr std::string_view kForbiddenBody =
      "Request denied by Key Auth check. Unauthorized consumer";

  static std::string_view realm(const Config& c) { return c.realm; }

  static pwsdk::auth::Identity identify(const Config& c) {
    std::optional<std::optional<std::string>> path;  // `:path`, read once when the query is first needed
    bool seen = false;
    for (size_t i = 0; i < c.header_names.size(); ++i) {
      std::optional<std::string> value;
      if (c.in_header) {
        auto h = pwsdk::getHeader(pwsdk::MapType::RequestHeaders, c.header_names[i]);
        if (h && !h->empty()) value = std::move(h);
      }
      if (!value && c.in_query) {
        if (!path) path = pwsdk::getHeader(pwsdk::MapType::RequestHeaders, ":path");
        if (*path) {
          auto v = queryParam(**path, (*c.keys)[i]);
          if (v && !v->empty()) value = std::move(v);
        }
      }
      if (!value) continue;
      auto it = c.by_credential.find(*value);
      if (it != c.by_credential.end()) return pwsdk::auth::Identity::of(it->second);
      seen = true;
    }
    return seen ? pwsdk::auth::Identity::invalid() : pwsdk::auth::Identity::missing();
  }
};

pwsdk::auth::Register<KeyAuth> registration("key-auth");

}  // namespace
