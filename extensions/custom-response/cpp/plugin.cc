// custom-response: answers requests with a configured status, headers and body, either always (at request
// headers) or in place of upstream responses whose status is in `enable_on_status`.
#include "pwsdk/pwsdk.h"

namespace {

using pwsdk::cat;
using pwsdk::ConfigReader;
namespace json = pwsdk::json;

// RFC 9110 `tchar`.
bool isTchar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Parses one `"name=value"` entry: split at the first `=`; the name must be a non-empty token (it is
// lower-cased); the value is trimmed of spaces and tabs and must not contain control bytes other than tab.
bool parseHeader(std::string_view entry, std::pair<std::string, std::string>& out, std::string& error) {
  size_t eq = entry.find('=');
  if (eq == std::string_view::npos) {
    error = "must be `name=value`";
    return false;
  }
  std::string_view name = entry.substr(0, eq), value = entry.substr(eq + 1);
  bool token = !name.empty();
  for (char c : name) token = token && isTchar(c);
  if (!token) {
    error = cat("header name `", name,
                "` is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)");
    return false;
  }
  size_t start = value.find_first_not_of(" \t");
  value = start == std::string_view::npos ? std::string_view() : value.substr(start);
  value = value.substr(0, value.find_last_not_of(" \t") + 1);
  for (char c : value) {
    auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && b != '\t') || b == 0x7f) {
      error = "header value must not contain control characters";
      return false;
    }
  }
  out = {pwsdk::detail::asciiLowercase(name), std::string(value)};
  return true;
}

// Whether `text` is one JSON value (RFC 8259; any value type, surrounded by optional whitespace). Syntax
// only: numbers of any size, no nesting limit (an explicit stack), no check of `\u` surrogate pairing.
class JsonSyntax {
 public:
  explicit JsonSyntax(std::string_view s) : s_(s) {}

  bool document() {
    std::string stack;  // the closing bytes of the open containers
    while (true) {
      // a value is expected here
      ws();
      if (i_ == s_.size()) return false;
      if (s_[i_] == '{') {
        ++i_;
        ws();
        if (!eat('}')) {
          stack.push_back('}');
          if (!memberKey()) return false;
          continue;
        }
      } else if (s_[i_] == '[') {
        ++i_;
        ws();
        if (!eat(']')) {
          stack.push_back(']');
          continue;
        }
      } else if (!scalar()) {
        return false;
      }
      // a value is complete: close containers until a `,` asks for the next value
      while (true) {
        ws();
        if (stack.empty()) return i_ == s_.size();
        char close = stack.back();
        if (eat(close)) {
          stack.pop_back();
          continue;
        }
        if (!eat(',')) return false;
        if (close == '}') {
          ws();
          if (!memberKey()) return false;
        }
        break;
      }
    }
  }

 private:
  std::string_view s_;
  size_t i_ = 0;

  int peek() const { return i_ < s_.size() ? static_cast<unsigned char>(s_[i_]) : -1; }
  void ws() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') ++i_;
  }
  bool eat(char c) {
    if (peek() != static_cast<unsigned char>(c)) return false;
    ++i_;
    return true;
  }
  static bool isDigit(int c) { return c >= '0' && c <= '9'; }
  size_t digits() {
    size_t start = i_;
    while (isDigit(peek())) ++i_;
    return i_ - start;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool number() {
    eat('-');
    if (!eat('0')) {
      if (peek() < '1' || peek() > '9') return false;
      digits();
    }
    if (eat('.') && digits() == 0) return false;
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (!eat('+')) eat('-');
      if (digits() == 0) return false;
    }
    return true;
  }
  static bool isHex(int c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  bool string() {
    if (!eat('"')) return false;
    while (true) {
      int c = peek();
      if (c < 0) return false;
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        ++i_;
        int e = peek();
        if (e < 0) return false;
        if (std::string_view("\"\\/bfnrt").find(static_cast<char>(e)) != std::string_view::npos) {
          ++i_;
        } else if (e == 'u') {
          ++i_;
          for (int k = 0; k < 4; ++k) {
            if (!isHex(peek())) return false;
            ++i_;
          }
        } else {
          return false;
        }
      } else if (c < 0x20) {
        return false;
      } else {
        ++i_;
      }
    }
  }
  bool scalar() {
    switch (peek()) {
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  // `"key" :` (with whitespace around the colon).
  bool memberKey() {
    if (!string()) return false;
    ws();
    return eat(':');
  }
};

bool isJson(std::string_view text) { return JsonSyntax(text).document(); }

// A u32 at `path` (serde's messages).
bool readU32(ConfigReader& in, std::string_view path, const json::Value& v, uint32_t& out) {
  if (v.isNumber()) {
    auto u = v.asUint64();
    if (u && *u <= UINT32_MAX) {
      out = static_cast<uint32_t>(*u);
      return true;
    }
    if (u || v.asInt64()) return in.fail(path, cat("invalid value: ", v.describe(), ", expected u32"));
  }
  return in.fail(path, cat("invalid type: ", v.describe(), ", expected u32"));
}

bool validStatus(uint32_t code) { return code >= 100 && code <= 599; }

struct Config {
  uint32_t status_code = 200;
  std::vector<std::string> headers;  // `"name=value"` entries
  std::string body;
  std::vector<uint32_t> enable_on_status;
  // The response headers to send: parsed `headers`, lower-cased names, `content-length` dropped,
  // `content-type` added when inferred.
  pwsdk::HeaderList response_headers;

  static bool parse(ConfigReader& in, Config& out) {
    // serde's derive: members in key order, the first problem wins.
    for (const auto& m : in.object().members()) {
      if (m.key == "status_code") {
        if (!in.optional("status_code", out.status_code)) return false;
      } else if (m.key == "headers") {
        if (!in.optional("headers", out.headers)) return false;
      } else if (m.key == "body") {
        if (!in.optional("body", out.body)) return false;
      } else if (m.key == "enable_on_status") {
        in.get("enable_on_status");
        const json::Value& v = m.value;
        if (!v.isArray()) {
          return in.fail("enable_on_status", cat("invalid type: ", v.describe(), ", expected a sequence"));
        }
        out.enable_on_status.assign(v.items().size(), 0);
        for (size_t i = 0; i < v.items().size(); ++i) {
          if (!readU32(in, cat("enable_on_status[", i, "]"), v.items()[i], out.enable_on_status[i]))
            return false;
        }
      } else {
        return in.denyUnknownFields({"status_code", "headers", "body", "enable_on_status"});
      }
    }
    return out.validate(in);
  }

  bool validate(ConfigReader& in) {
    if (!validStatus(status_code))
      return in.fail("status_code", "must be an HTTP status between 100 and 599");
    for (size_t i = 0; i < enable_on_status.size(); ++i) {
      if (!validStatus(enable_on_status[i])) {
        return in.fail(cat("enable_on_status[", i, "]"), "must be an HTTP status between 100 and 599");
      }
    }
    for (size_t i = 0; i < headers.size(); ++i) {
      std::pair<std::string, std::string> h;
      std::string error;
      if (!parseHeader(headers[i], h, error)) return in.fail(cat("headers[", i, "]"), error);
      if (h.first != "content-length") response_headers.push_back(std::move(h));
    }
    bool has_type = false;
    for (const auto& h : response_headers) has_type = has_type || h.first == "content-type";
    if (!body.empty() && !has_type) {
      response_headers.emplace_back(
          "content-type", isJson(body) ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
    }
    return true;
  }
};

// Rust's `str::parse::<u32>`: an optional `+`, then one or more ASCII digits, no overflow.
std::optional<uint32_t> parseStatus(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > UINT32_MAX) return std::nullopt;
  }
  return static_cast<uint32_t>(v);
}

class CustomResponse : public pwsdk::Filter<Config> {
 public:
  using Filter::Filter;

  pwsdk::FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    if (config().enable_on_status.empty()) return respond();
    return pwsdk::FilterHeadersStatus::Continue;
  }

  pwsdk::FilterHeadersStatus onResponseHeaders(uint32_t, bool) override {
    const Config& c = config();
    if (c.enable_on_status.empty() || responded_) return pwsdk::FilterHeadersStatus::Continue;
    auto text = responseHeader(":status");
    auto status = text ? parseStatus(*text) : std::nullopt;
    if (!status) return pwsdk::FilterHeadersStatus::Continue;
    for (uint32_t code : c.enable_on_status) {
      if (code == *status) return respond();
    }
    return pwsdk::FilterHeadersStatus::Continue;
  }

 private:
  bool responded_ = false;

  pwsdk::FilterHeadersStatus respond() {
    responded_ = true;
    pwsdk::sendLocalResponse(config().status_code, config().body, config().response_headers);
    return pwsdk::FilterHeadersStatus::StopIteration;
  }
};

// Requests that match no rule and have no global configuration pass untouched (no fallback): `{}` and empty
// bytes still make a global configuration (a 200 for every request).
pwsdk::Register<pwsdk::Plugin<Config>, CustomResponse> registration("custom-response");

}  // namespace
