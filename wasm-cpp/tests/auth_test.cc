// Native tests of auth.h (base64, the auth rule layer, the serde-like readers) and crypto.h (SHA-1, MD5,
// MD5-crypt, bcrypt). The hashes were made by other tools (htpasswd, passlib, Python's bcrypt; the same ones
// as extensions/basic-auth/rust/src/tests.rs) or are the published test vectors of the algorithms.
#include "pwsdk/auth.h"

#include <string>

#include "check.h"
#include "pwsdk/crypto.h"

namespace {

using namespace pwsdk;
namespace crypto = pwsdk::crypto;

// ---- crypto ----

std::string sha1Hex(std::string_view s) { return crypto::hex(crypto::bytes(crypto::sha1(s))); }
std::string md5Hex(std::string_view s) { return crypto::hex(crypto::bytes(crypto::md5(s))); }

void digestTests() {
  CHECK_EQ(sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK_EQ(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK_EQ(sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
           "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK_EQ(sha1Hex("The quick brown fox jumps over the lazy dog"),
           "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
  {
    crypto::Sha1 h;  // one million `a`, fed in uneven pieces
    std::string chunk(997, 'a');
    size_t left = 1000000;
    while (left > 0) {
      size_t n = left < chunk.size() ? left : chunk.size();
      h.update(std::string_view(chunk).substr(0, n));
      left -= n;
    }
    CHECK_EQ(crypto::hex(crypto::bytes(h.finish())), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  }
  CHECK_EQ(md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  CHECK_EQ(md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  CHECK_EQ(md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK_EQ(md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
           "57edf4a22be3c955ac49da2e2107b67a");
  CHECK_EQ(md5Hex("The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
  // Lengths around the padding boundary (55, 56, 63, 64 bytes) against each other's incremental form.
  for (size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    std::string s(n, 'x');
    crypto::Md5 m;
    crypto::Sha1 h;
    for (char c : s) {
      m.update(std::string_view(&c, 1));
      h.update(std::string_view(&c, 1));
    }
    CHECK_EQ(crypto::hex(crypto::bytes(m.finish())), md5Hex(s));
    CHECK_EQ(crypto::hex(crypto::bytes(h.finish())), sha1Hex(s));
  }
  CHECK_EQ(md5Hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  CHECK_EQ(sha1Hex(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

void md5CryptTests() {
  // htpasswd -nbm alice secret; passlib apr_md5_crypt / md5_crypt
  CHECK_EQ(crypto::md5Crypt("secret", "$apr1$", "svI3h0Hc"), "oiSIo3SCN0NIfXQCUyqmw0");
  CHECK_EQ(crypto::md5Crypt("", "$apr1$", "x"), "tMwYqBfQwi3FYAr0aJc8M/");
  CHECK_EQ(crypto::md5Crypt(std::string(40, 'a'), "$apr1$", "12345678"), "ZB1vyDV5V.sOKjJ6rQyTE1");
  CHECK_EQ(crypto::md5Crypt("secret", "$1$", "saltsalt"), "9xy1btjgzLYfb7hivXtC//");
  CHECK(crypto::md5Crypt("secrets", "$1$", "saltsalt") != "9xy1btjgzLYfb7hivXtC//");
}

std::string bcryptOf(std::string_view hash, std::string_view password) {
  std::string salt;
  if (!crypto::bcryptDecode64(hash.substr(7, 22), salt) || salt.size() != 16) return "bad salt";
  std::array<uint8_t, 16> s{};
  for (size_t i = 0; i < 16; ++i) s[i] = static_cast<uint8_t>(salt[i]);
  uint32_t cost = static_cast<uint32_t>((hash[4] - '0') * 10 + (hash[5] - '0'));
  return crypto::bcrypt(cost, s, password);
}

void bcryptTests() {
  struct Case {
    const char* hash;
    std::string password;
    bool ok;
  };
  const Case cases[] = {
      // htpasswd -nbB -C 4 carol 'p@ss:word'; -C 10 dave pw10; Python bcrypt
      {"$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa", "p@ss:word", true},
      {"$2y$04$fpyPPwFCA7jNgGSWCc5W9eul2wMJqFCilB11QTRvb3L4dj6aHWdRa", "p@ss:wore", false},
      {"$2y$10$ukxmqihrTQMnFdtW01QRtey7iERCeqcm2WWSAk/o5qB2gHxEbelqi", "pw10", true},
      {"$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui", std::string(72, 'x'), true},
      {"$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui", std::string(80, 'x'),
       true},  // 72 bytes count
      {"$2a$04$JIGgqr3HUG66m6DOI46gBOfGqEQqRQN/7kQ7SXqH7q2mbA97RZ7ui", std::string(71, 'x'), false},
      {"$2b$05$uRuFzJf9YeA73XyXqRYDV.d8dnqW.Fz7ZGvshNTWB3ZFLwvC6AP/q", "", true},
      {"$2b$04$RGqSgnXTLpSLvYORtZi5KOG1oGp6YfOt7I0XYnMgijcLB1e9HwaAu", "p\xc3\xa4sisw\xc3\xb6rd", false},
      {"$2b$04$RGqSgnXTLpSLvYORtZi5KOG1oGp6YfOt7I0XYnMgijcLB1e9HwaAu", "p\xc3\xa4ssw\xc3\xb6rd", true},
  };
  for (const auto& c : cases) {
    std::string_view hash(c.hash);
    bool match = bcryptOf(hash, c.password) == hash.substr(29);
    CHECK(match == c.ok);
  }
  std::string out;
  CHECK(!crypto::bcryptDecode64("ab+c", out));
  CHECK(crypto::bcryptDecode64("", out) && out.empty());
  CHECK_EQ(crypto::bcryptEncode64(std::string("\x00\x01\xff", 3)), "..F9");
}

// ---- auth ----

void base64Tests() {
  CHECK_EQ(auth::base64Decode("YWxpY2U6cHc=").value_or("?"), "alice:pw");
  CHECK_EQ(auth::base64Decode("YWxpY2U6cHc").value_or("?"), "alice:pw");
  CHECK_EQ(auth::base64Decode("").value_or("?"), "");
  CHECK_EQ(auth::base64Decode("Ym9iOnNlY3JldB==").value_or("?"), "bob:secret");  // non-zero unused bits
  CHECK(!auth::base64Decode("YWxpY2U6cHc=="));
  CHECK(!auth::base64Decode("YW=xp"));
  CHECK(!auth::base64Decode("Y"));
  CHECK(!auth::base64Decode("YW-x"));
  CHECK(!auth::base64Decode("YQ=a"));
  CHECK(!auth::base64Decode("===="));
  CHECK(auth::constantTimeEq("ab", "ab"));
  CHECK(!auth::constantTimeEq("ab", "ac"));
  CHECK(!auth::constantTimeEq("a", "ab"));
}

// A small plug-in configuration for the rule layer: {"users": [..]} (like auth.rs's tests).
struct Users {
  std::vector<std::string> users;
  static bool parse(ConfigReader& in, Users& out) {
    return auth::readStruct(in, "", in.object(), "Users", {"users"},
                            [&](std::string_view key, const json::Value& v, const std::string& p) {
                              if (key != "users") return auth::FieldResult::Unknown;
                              return auth::readStringList(in, p, v, out.users) ? auth::FieldResult::Ok
                                                                               : auth::FieldResult::Failed;
                            });
  }
};

std::string rulesError(std::string_view json) {
  ConfigError error;
  auto r = auth::AuthRules<Users>::parse(json, error);
  return r ? std::string("ok") : "invalid configuration: " + error.message();
}

std::string decide(std::string_view json, std::string route) {
  ConfigError error;
  auto r = auth::AuthRules<Users>::parse(json, error);
  if (!r) return "error: " + error.message();
  MatchInput in;
  in.route_name = std::move(route);
  auto d = r->decide(in);
  if (d.skip()) return "skip";
  std::string out;
  for (const auto& u : d.config->users) out += (out.empty() ? "" : ",") + u;
  out += "/";
  if (!d.allow) return out + "*";
  std::string allow;
  for (const auto& a : *d.allow) allow += (allow.empty() ? "" : ",") + a;
  return out + allow;
}

bool startsWith(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

void authRulesTests() {
  CHECK_EQ(decide(R"({"users": ["a", "b"]})", "x"), "a,b/*");
  const char* allow = R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": ["a"]}]})";
  CHECK_EQ(decide(allow, "r"), "a/a");
  CHECK_EQ(decide(allow, "x"), "skip");
  CHECK_EQ(
      decide(
          R"({"users": ["a"], "global_auth": true, "_rules_": [{"_match_route_": ["r"], "allow": ["a"]}]})",
          "x"),
      "a/*");
  CHECK_EQ(decide(R"({"users": ["a"], "global_auth": false})", "x"), "skip");
  const char* own = R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "users": ["b"], "allow": ["c"]},
                        {"_match_route_": ["d"], "_disable_": true}]})";
  CHECK_EQ(decide(own, "r"), "b/c");
  CHECK_EQ(decide(own, "d"), "skip");
  CHECK_EQ(decide(R"({"_rules_": [{"_match_route_": ["r"], "users": ["b"]}]})", "r"), "b/*");
  CHECK_EQ(decide(R"({"_rules_": [{"_match_route_": ["r"], "users": ["b"]}]})", "x"), "skip");
  CHECK_EQ(decide(R"({"users": ["a"], "_rules_": []})", "x"), "a/*");

  // The rejections of auth.rs's tests, with the whole messages.
  CHECK_EQ(rulesError("{}"),
           "invalid configuration: no consumers: configure consumers at the top level or in a rule");
  CHECK_EQ(rulesError(""),
           "invalid configuration: no consumers: configure consumers at the top level or in a rule");
  CHECK_EQ(rulesError(R"({"global_auth": false})"),
           "invalid configuration: no consumers: configure consumers at the top level or in a rule");
  CHECK_EQ(rulesError(R"({"users": ["a"], "allow": ["a"]})"),
           "invalid configuration: allow: is allowed only inside _rules_ entries");
  CHECK_EQ(rulesError(R"({"users": ["a"], "global_auth": 1})"),
           "invalid configuration: global_auth: must be a boolean");
  CHECK_EQ(
      rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": []}]})"),
      "invalid configuration: _rules_[0].allow: must not be empty (use `_disable_: true` or omit the rule "
      "instead)");
  CHECK_EQ(rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": "a"}]})"),
           "invalid configuration: _rules_[0].allow: must be a non-empty array of consumer names");
  CHECK_EQ(rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "allow": ["a", ""]}]})"),
           "invalid configuration: _rules_[0].allow[1]: must be a non-empty consumer name");
  CHECK_EQ(rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "global_auth": true}]})"),
           "invalid configuration: _rules_[0].global_auth: is allowed only at the top level");
  CHECK_EQ(
      rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"]}]})"),
      "invalid configuration: _rules_[0]: needs `allow` or its own consumers configuration (or `_disable_: "
      "true`)");
  CHECK_EQ(
      rulesError(
          R"({"_rules_": [{"_match_route_": ["r"], "allow": ["a"]}, {"_match_route_": ["s"], "users": []}]})"),
      "invalid configuration: _rules_[0].allow: an allow-only rule needs consumers in the top-level "
      "configuration");
  CHECK_EQ(rulesError(R"({"global_auth": true, "_rules_": [{"_match_route_": ["s"], "users": []}]})"),
           "invalid configuration: global_auth: `true` needs consumers in the top-level configuration");
  CHECK_EQ(rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": ["r"], "user": []}]})"),
           "invalid configuration: _rules_[0].user: unknown field `user`, expected `users`");
  CHECK_EQ(rulesError(R"({"users": [1]})"),
           "invalid configuration: users[0]: invalid type: integer `1`, expected a string");
  // Entries are parsed (global first, then each rule) before the cross checks, as in Rust.
  CHECK_EQ(
      rulesError(R"({"users": ["a"], "allow": ["a"], "_rules_": [{"_match_route_": ["r"], "users": 5}]})"),
      "invalid configuration: _rules_[0].users: invalid type: integer `5`, expected a sequence");
  CHECK(startsWith(rulesError(R"({"users": ["a"], "_rules_": [{"_match_route_": [], "allow": ["a"]}]})"),
                   "invalid configuration: _rules_[0]._match_route_: "));
  CHECK(startsWith(rulesError("[]"), "invalid configuration: "));
  CHECK(startsWith(rulesError(R"({"_rules_": 5})"), "invalid configuration: _rules_: "));
}

// readStruct: the serde-like struct reader.
std::string readPair(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return "bad json";
  ConfigError error;
  json::Value holder = json::Value::object({});
  ConfigReader in(holder, "", error);
  std::string a;
  std::optional<std::string> b;
  bool ok = auth::readStruct(in, "x[0]", *doc, "Pair", {"a", "b"},
                             [&](std::string_view key, const json::Value& v, const std::string& p) {
                               bool r;
                               if (key == "a") {
                                 r = auth::readString(in, p, v, a);
                               } else if (key == "b") {
                                 r = auth::readOptionalString(in, p, v, b);
                               } else {
                                 return auth::FieldResult::Unknown;
                               }
                               return r ? auth::FieldResult::Ok : auth::FieldResult::Failed;
                             });
  if (!ok) return error.message();
  return a + "|" + b.value_or("-");
}

void readStructTests() {
  CHECK_EQ(readPair(R"({"a": "1", "b": "2"})"), "1|2");
  CHECK_EQ(readPair(R"({"b": null})"), "|-");
  CHECK_EQ(readPair(R"(["1", "2"])"), "1|2");
  CHECK_EQ(readPair(R"(["1"])"), "1|-");
  CHECK_EQ(readPair(R"(["1", "2", "3"])"), "x[0]: invalid length 3, expected fewer elements in array");
  CHECK_EQ(readPair(R"([1])"), "x[0][0]: invalid type: integer `1`, expected a string");
  CHECK_EQ(readPair(R"({"c": 1, "a": 1})"), "x[0].a: invalid type: integer `1`, expected a string");
  CHECK_EQ(readPair(R"({"a": "1", "c": 1})"), "x[0].c: unknown field `c`, expected `a` or `b`");
  CHECK_EQ(readPair("5"), "x[0]: invalid type: integer `5`, expected struct Pair");
  CHECK_EQ(auth::unknownFieldMessage("k", {"a", "b", "c"}),
           "unknown field `k`, expected one of `a`, `b`, `c`");
  CHECK_EQ(auth::unknownFieldMessage("k", {"a"}), "unknown field `k`, expected `a`");
}

}  // namespace

void authTests() {
  digestTests();
  md5CryptTests();
  bcryptTests();
  base64Tests();
  authRulesTests();
  readStructTests();
}
