// add-header: sets one configured request header on the request sent upstream.
#include "pwsdk/pwsdk.h"

namespace {

// RFC 9110 token characters.
bool isTchar(unsigned char b) {
  if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')) return true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
    if (b == static_cast<unsigned char>(c)) return true;
  }
  return false;
}

// A byte shown as Rust's `{:?}` of `char::from(b)` does, e.g. ' ', '\n', '\u{1}'.
std::string debugChar(unsigned char b) {
  switch (b) {
    case '\0':
      return "'\\0'";
    case '\t':
      return "'\\t'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\'':
      return "'\\''";
    case '\\':
      return "'\\\\'";
    default:
      break;
  }
  if (b < 0x20 || (b >= 0x7F && b < 0xA0) || b == 0xAD) {
    const char* hex = "0123456789abcdef";
    std::string digits;
    if (b >= 16) digits.push_back(hex[b >> 4]);
    digits.push_back(hex[b & 15]);
    return pwsdk::cat("'\\u{", digits, "}'");
  }
  if (b < 0x80) return pwsdk::cat("'", static_cast<char>(b), "'");
  // U+0080..U+00FF as UTF-8
  return pwsdk::cat("'", static_cast<char>(0xC0 | (b >> 6)), static_cast<char>(0x80 | (b & 0x3F)), "'");
}

struct Config {
  std::string header_name;   // an HTTP token; stored lower-cased
  std::string header_value;  // any string without CR, LF or NUL; may be empty

  static bool parse(pwsdk::ConfigReader& in, Config& out) {
    in.requiredField("header_name", out.header_name);
    in.requiredField("header_value", out.header_value);
    if (!in.finish()) return false;
    if (out.header_name.empty()) return in.fail("header_name", "must not be empty");
    if (out.header_name.front() == ':') {
      return in.fail("header_name", "must not be a pseudo-header (starting with `:`)");
    }
    for (char c : out.header_name) {
      auto b = static_cast<unsigned char>(c);
      if (!isTchar(b)) {
        return in.fail("header_name", pwsdk::cat("must be an HTTP token; ", debugChar(b), " is not allowed"));
      }
    }
    for (char c : out.header_value) {
      if (c == '\r' || c == '\n' || c == '\0')
        return in.fail("header_value", "must not contain CR, LF or NUL");
    }
    for (char& c : out.header_name) c = pwsdk::detail::asciiLower(c);
    return true;
  }
};

class AddHeader : public pwsdk::Filter<Config> {
 public:
  using Filter::Filter;

  pwsdk::FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    // replace: the upstream sees exactly one value, ours
    pwsdk::replaceHeader(pwsdk::MapType::RequestHeaders, config().header_name, config().header_value);
    return pwsdk::FilterHeadersStatus::Continue;
  }
};

pwsdk::Register<pwsdk::Plugin<Config>, AddHeader> registration("add-header");

}  // namespace
