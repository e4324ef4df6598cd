// basic-auth: authenticates requests by HTTP Basic credentials (RFC 7617) against configured consumers; names
// the consumer for the upstream in `x-mse-consumer`; per-rule `allow` lists restrict which consumers may
// pass. Passwords may be stored hashed (`encrypted: true`): {PLAIN}, {SHA}, {SSHA}, $apr1$, $1$ and bcrypt.
#include <unordered_map>

#include "pwsdk/auth.h"
#include "pwsdk/crypto.h"
#include "pwsdk/pwsdk.h"

namespace {

using pwsdk::cat;
using pwsdk::ConfigReader;
using pwsdk::auth::FieldResult;
namespace crypto = pwsdk::crypto;
namespace json = pwsdk::json;

// Highest accepted bcrypt cost: each step doubles the work, and the check runs on every request.
constexpr uint32_t kMaxBcryptCost = 10;
constexpr uint32_t kMinBcryptCost = 4;

bool allIn(std::string_view s, const char* alphabet) {
  for (char c : s) {
    if (c == '\0' || std::string_view(alphabet).find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A stored password.
struct Password {
  enum class Kind : uint8_t { Plain, Sha, Ssha, Md5Crypt, Bcrypt };
  Kind kind = Kind::Plain;
  std::string secret;      // Plain: the password; Sha/Ssha: the digest; Md5Crypt/Bcrypt: the hash characters
  std::string salt;        // Ssha: salt bytes; Md5Crypt: salt characters
  std::string_view magic;  // Md5Crypt: "$apr1$" or "$1$"
  uint32_t cost = 0;       // Bcrypt
  std::array<uint8_t, 16> bcrypt_salt{};  // Bcrypt

  static Password plain(std::string p) {
    Password pw;
    pw.secret = std::move(p);
    return pw;
  }

  // Parses a hashed password (`encrypted: true`); on failure sets `error`.
  static std::optional<Password> parseHashed(std::string_view s, std::string& error) {
    Password pw;
    if (startsWith(s, "{PLAIN}")) return plain(std::string(s.substr(7)));
    if (startsWith(s, "{SHA}")) {
      auto d = pwsdk::auth::base64Decode(s.substr(5));
      if (!d || d->size() != 20) {
        error = "{SHA} must be followed by the base64 of a 20-byte SHA-1 digest";
        return std::nullopt;
      }
      pw.kind = Kind::Sha;
      pw.secret = std::move(*d);
      return pw;
    }
    if (startsWith(s, "{SSHA}")) {
      auto d = pwsdk::auth::base64Decode(s.substr(6));
      if (!d || d->size() <= 20) {
        error = "{SSHA} must be followed by the base64 of a SHA-1 digest and a salt of at least one byte";
        return std::nullopt;
      }
      pw.kind = Kind::Ssha;
      pw.secret = d->substr(0, 20);
      pw.salt = d->substr(20);
      return pw;
    }
    for (std::string_view magic : {std::string_view("$apr1$"), std::string_view("$1$")}) {
      if (!startsWith(s, magic)) continue;
      std::string_view rest = s.substr(magic.size());
      size_t dollar = rest.find('$');
      if (dollar == std::string_view::npos) {
        error = cat(magic, " hash must be ", magic, "<salt>$<22 characters>");
        return std::nullopt;
      }
      std::string_view salt = rest.substr(0, dollar), hash = rest.substr(dollar + 1);
      if (salt.empty() || salt.size() > 8 || !allIn(salt, crypto::kCryptAlphabet)) {
        error = cat(magic, " salt must be 1 to 8 characters of ./0-9A-Za-z");
        return std::nullopt;
      }
      if (hash.size() != 22 || !allIn(hash, crypto::kCryptAlphabet)) {
        error = cat(magic, " hash must end with 22 characters of ./0-9A-Za-z");
        return std::nullopt;
      }
      pw.kind = Kind::Md5Crypt;
      pw.magic = magic;
      pw.salt = std::string(salt);
      pw.secret = std::string(hash);
      return pw;
    }
    if (startsWith(s, "$2")) return parseBcrypt(s, error);
    error = "unsupported password hash: use {PLAIN}, {SHA}, {SSHA}, $apr1$, $1$ or bcrypt ($2a$, $2b$, $2y$)";
    return std::nullopt;
  }

  static std::optional<Password> parseBcrypt(std::string_view s, std::string& error) {
    bool version_ok = startsWith(s, "$2a$") || startsWith(s, "$2b$") || startsWith(s, "$2y$");
    if (!version_ok || s.size() != 60 || s[6] != '$') {
      error = "bcrypt hash must be $2a$, $2b$ or $2y$, a 2-digit cost, $ and 53 characters";
      return std::nullopt;
    }
    if (s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9') {
      error = "bcrypt cost must be two digits";
      return std::nullopt;
    }
    uint32_t cost = static_cast<uint32_t>((s[4] - '0') * 10 + (s[5] - '0'));
    if (cost < kMinBcryptCost || cost > kMaxBcryptCost) {
      error = cat("bcrypt cost ", cost, " is outside ", kMinBcryptCost, "..=", kMaxBcryptCost,
                  " (every request pays for it)");
      return std::nullopt;
    }
    std::string_view tail = s.substr(7);
    std::string salt;
    if (!allIn(tail, crypto::kBcryptAlphabet) || !crypto::bcryptDecode64(tail.substr(0, 22), salt)) {
      error = "bcrypt salt and hash must be characters of ./A-Za-z0-9";
      return std::nullopt;
    }
    Password pw;
    pw.kind = Kind::Bcrypt;
    pw.cost = cost;
    for (size_t i = 0; i < 16; ++i) pw.bcrypt_salt[i] = static_cast<uint8_t>(salt[i]);
    pw.secret = std::string(tail.substr(22));
    return pw;
  }

  bool verify(std::string_view password) const {
    using pwsdk::auth::constantTimeEq;
    switch (kind) {
      case Kind::Plain:
        return constantTimeEq(secret, password);
      case Kind::Sha:
        return constantTimeEq(secret, crypto::bytes(crypto::sha1(password)));
      case Kind::Ssha: {
        crypto::Sha1 h;
        h.update(password);
        h.update(salt);
        return constantTimeEq(secret, crypto::bytes(h.finish()));
      }
      case Kind::Md5Crypt:
        return constantTimeEq(secret, crypto::md5Crypt(password, magic, salt));
      case Kind::Bcrypt:
        return constantTimeEq(secret, crypto::bcrypt(cost, bcrypt_salt, password));
    }
    return false;
  }
};

struct Consumer {
  std::string name;
  std::optional<std::string> credential;
};

struct User {
  std::string consumer;
  Password password;
};

// Splits a configured credential into user and password: `user:password` (at the first `:`), or, without a
// `:` and only when not `encrypted`, the base64 of `user:password`. On failure sets `error`.
bool splitCredential(std::string_view credential, bool encrypted, std::string& user, std::string& password,
                     std::string& error) {
  std::string bytes;
  if (credential.find(':') != std::string_view::npos) {
    bytes = std::string(credential);
  } else if (encrypted) {
    error = "must be `user:hash`";
    return false;
  } else {
    auto d = pwsdk::auth::base64Decode(credential);
    if (!d || d->find(':') == std::string::npos) {
      error = "must be `user:password` or its base64";
      return false;
    }
    bytes = std::move(*d);
  }
  size_t colon = bytes.find(':');
  user = bytes.substr(0, colon);
  password = bytes.substr(colon + 1);
  if (user.empty()) {
    error = "the user name must not be empty";
    return false;
  }
  return true;
}

struct Config {
  std::optional<std::vector<Consumer>> consumers;
  bool encrypted = false;
  std::string realm = "MSE Gateway";
  std::unordered_map<std::string, User> users;  // user name -> consumer and password

  static bool readConsumers(ConfigReader& in, std::string_view path, const json::Value& v,
                            std::optional<std::vector<Consumer>>& out) {
    using namespace pwsdk::auth;
    if (v.isNull()) return out.reset(), true;
    if (!v.isArray()) return in.fail(path, cat("invalid type: ", v.describe(), ", expected a sequence"));
    std::vector<Consumer> list(v.items().size());
    for (size_t i = 0; i < list.size(); ++i) {
      Consumer& c = list[i];
      bool ok = readStruct(in, cat(path, "[", i, "]"), v.items()[i], "Consumer", {"name", "credential"},
                           [&](std::string_view key, const json::Value& value, const std::string& p) {
                             bool r;
                             if (key == "name") {
                               r = readString(in, p, value, c.name);
                             } else if (key == "credential") {
                               r = readOptionalString(in, p, value, c.credential);
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
    bool ok = readStruct(in, "", in.object(), "Config", {"consumers", "encrypted", "realm"},
                         [&](std::string_view key, const json::Value& value, const std::string& p) {
                           bool r;
                           if (key == "consumers") {
                             r = readConsumers(in, p, value, out.consumers);
                           } else if (key == "encrypted") {
                             r = readBool(in, p, value, out.encrypted);
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
      std::string cpath = path + ".credential";
      if (!c.credential) return in.fail(cpath, "is required: `user:password`");
      std::string user, password, error;
      if (!splitCredential(*c.credential, encrypted, user, password, error)) return in.fail(cpath, error);
      std::optional<Password> pw;
      if (encrypted) {
        // (Rust checks the password is UTF-8 here; it always is: an encrypted credential is a JSON string
        // split at an ASCII `:`.)
        pw = Password::parseHashed(password, error);
        if (!pw) return in.fail(cpath, error);
      } else {
        pw = Password::plain(std::move(password));
      }
      auto it = users.find(user);
      if (it != users.end()) {
        return in.fail(cpath,
                       cat("duplicate user (already the user of consumer `", it->second.consumer, "`)"));
      }
      users.emplace(std::move(user), User{c.name, std::move(*pw)});
    }
    return pwsdk::auth::checkRealm(in, realm);
  }

  // Checks an `authorization` header value.
  pwsdk::auth::Identity identifyValue(const std::optional<std::string>& value) const;
};

// The token68 of a `Basic` authorization value: the scheme (ASCII case-insensitive), one or more spaces, then
// the token up to trailing spaces or tabs. nullopt when the value is not of the Basic scheme.
std::optional<std::string_view> basicToken(std::string_view value) {
  if (value.size() < 6 || pwsdk::detail::asciiLowercase(value.substr(0, 5)) != "basic" || value[5] != ' ') {
    return std::nullopt;
  }
  std::string_view rest = value.substr(5);
  size_t start = rest.find_first_not_of(' ');
  rest = start == std::string_view::npos ? std::string_view() : rest.substr(start);
  size_t end = rest.find_last_not_of(" \t");
  return end == std::string_view::npos ? std::string_view() : rest.substr(0, end + 1);
}

pwsdk::auth::Identity Config::identifyValue(const std::optional<std::string>& value) const {
  using pwsdk::auth::Identity;
  auto token = value ? basicToken(*value) : std::nullopt;
  if (!token) return Identity::missing();
  auto decoded = pwsdk::auth::base64Decode(*token);
  if (!decoded) return Identity::invalid();
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return Identity::invalid();
  auto it = users.find(decoded->substr(0, colon));
  if (it != users.end() && it->second.password.verify(std::string_view(*decoded).substr(colon + 1))) {
    return Identity::of(it->second.consumer);
  }
  return Identity::invalid();
}

struct BasicAuth {
  using Config = ::Config;
  static constexpr std::string_view kScheme = "Basic";
  static constexpr std::string_view kMissingBody =
      "Request denied by Basic Auth check. No Basic Authentication information found";
  static constexpr std::string_view kInvalidBody =
      "Request denied by Basic Auth check. Invalid username and/or password";
  static constexpr std::string_view kForbiddenBody =
      "Request denied by Basic Auth check. Unauthorized consumer";

  static std::string_view realm(const Config& c) { return c.realm; }
  static pwsdk::auth::Identity identify(const Config& c) {
    return c.identifyValue(pwsdk::getHeader(pwsdk::MapType::RequestHeaders, "authorization"));
  }
};

pwsdk::auth::Register<BasicAuth> registration("basic-auth");

}  // namespace
