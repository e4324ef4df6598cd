// JSON reader: recursive descent over bytes with serde_json-compatible limits and messages.
#include "pwsdk/json.h"

#include <algorithm>
#include <cstdlib>

#include "pwsdk/detail/strings.h"

namespace pwsdk {
inline namespace v0 {
namespace json {

Value Value::boolean(bool b) {
  Value v;
  v.type_ = Type::Bool;
  v.bool_ = b;
  return v;
}

Value Value::unsignedInteger(uint64_t u) {
  Value v;
  v.type_ = Type::Number;
  v.num_ = Num::Unsigned;
  v.u_ = u;
  return v;
}

Value Value::negativeInteger(int64_t i) {
  Value v;
  v.type_ = Type::Number;
  v.num_ = i < 0 ? Num::Negative : Num::Unsigned;
  v.i_ = i;
  v.u_ = i < 0 ? 0 : static_cast<uint64_t>(i);
  return v;
}

Value Value::floating(double d, std::string text) {
  Value v;
  v.type_ = Type::Number;
  v.num_ = Num::Float;
  v.d_ = d;
  // Shown as Rust shows an f64 where the text allows it: "403.50" -> "403.5", "4" -> "4.0".
  if (text.find_first_of("eE") == std::string::npos) {
    if (text.find('.') == std::string::npos) text += ".0";
    while (text.size() > 2 && text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  }
  v.num_text_ = std::move(text);
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.type_ = Type::String;
  v.str_ = std::move(s);
  return v;
}

Value Value::array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::Array;
  v.items_ = std::move(items);
  return v;
}

Value Value::object(std::vector<Member> members) {
  // Stable sort keeps the given order among equal keys; then keep the last of each run.
  std::stable_sort(members.begin(), members.end(),
                   [](const Member& a, const Member& b) { return a.key < b.key; });
  std::vector<Member> unique;
  unique.reserve(members.size());
  for (auto& m : members) {
    if (!unique.empty() && unique.back().key == m.key) {
      unique.back() = std::move(m);
    } else {
      unique.push_back(std::move(m));
    }
  }
  Value v;
  v.type_ = Type::Object;
  v.members_ = std::move(unique);
  return v;
}

std::optional<uint64_t> Value::asUint64() const {
  if (type_ != Type::Number || num_ != Num::Unsigned) return std::nullopt;
  return u_;
}

std::optional<int64_t> Value::asInt64() const {
  if (type_ != Type::Number) return std::nullopt;
  if (num_ == Num::Negative) return i_;
  if (num_ == Num::Unsigned && u_ <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u_);
  return std::nullopt;
}

double Value::asDouble() const {
  if (type_ != Type::Number) return 0;
  switch (num_) {
    case Num::Unsigned:
      return static_cast<double>(u_);
    case Num::Negative:
      return static_cast<double>(i_);
    case Num::Float:
      return d_;
  }
  return 0;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  auto it = std::lower_bound(members_.begin(), members_.end(), key,
                             [](const Member& m, std::string_view k) { return m.key < k; });
  if (it == members_.end() || it->key != key) return nullptr;
  return &it->value;
}

std::string Value::describe() const {
  switch (type_) {
    case Type::Null:
      return "null";
    case Type::Bool:
      return bool_ ? "boolean `true`" : "boolean `false`";
    case Type::Number:
      if (num_ == Num::Unsigned) return detail::cat("integer `", u_, "`");
      if (num_ == Num::Negative) return detail::cat("integer `", i_, "`");
      return num_text_.empty() ? std::string("floating point")
                               : detail::cat("floating point `", num_text_, "`");
    case Type::String:
      return detail::cat("string \"", str_, "\"");
    case Type::Array:
      return "sequence";
    case Type::Object:
      return "map";
  }
  return "value";
}

namespace {

constexpr int kMaxDepth = 128;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<Value> document(std::string* error) {
    skipWs();
    auto v = value(kMaxDepth);
    if (v) {
      skipWs();
      if (pos_ < s_.size()) {
        v.reset();
        fail("trailing characters", pos_ + 1);
      }
    }
    if (!v && error) *error = error_;
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;

  // Records "<msg> at line L column C", where `at` is the 1-based byte offset of the error (0: before
  // the first byte), counted like serde_json does.
  void fail(std::string_view msg, size_t at) {
    if (!error_.empty()) return;
    size_t end = std::min(at, s_.size());
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < end; ++i) {
      if (s_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    error_ = detail::cat(msg, " at line ", line, " column ", end - line_start);
  }

  bool eof() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }

  void skipWs() {
    while (!eof() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  std::optional<Value> value(int depth) {
    if (eof()) {
      fail("EOF while parsing a value", pos_);
      return std::nullopt;
    }
    char c = peek();
    switch (c) {
      case 'n':
        if (!literal("null")) return std::nullopt;
        return Value::null();
      case 't':
        if (!literal("true")) return std::nullopt;
        return Value::boolean(true);
      case 'f':
        if (!literal("false")) return std::nullopt;
        return Value::boolean(false);
      case '"': {
        std::string str;
        if (!string(str)) return std::nullopt;
        return Value::string(std::move(str));
      }
      case '[':
        return array(depth);
      case '{':
        return object(depth);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        fail("expected value", pos_ + 1);
        return std::nullopt;
    }
  }

  bool literal(std::string_view word) {
    for (size_t i = 0; i < word.size(); ++i) {
      if (eof()) {
        fail("EOF while parsing a value", pos_);
        return false;
      }
      if (peek() != word[i]) {
        fail("expected ident", pos_ + 1);
        return false;
      }
      ++pos_;
    }
    return true;
  }

  std::optional<Value> number() {
    size_t start = pos_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (eof()) {
      fail("EOF while parsing a value", pos_);
      return std::nullopt;
    }
    if (peek() == '0') {
      ++pos_;
      if (!eof() && peek() >= '0' && peek() <= '9') {
        fail("invalid number", pos_ + 1);
        return std::nullopt;
      }
    } else if (peek() >= '1' && peek() <= '9') {
      while (!eof() && peek() >= '0' && peek() <= '9') ++pos_;
    } else {
      fail("invalid number", pos_ + 1);
      return std::nullopt;
    }
    bool integral = true;
    if (!eof() && peek() == '.') {
      integral = false;
      ++pos_;
      if (eof() || peek() < '0' || peek() > '9') {
        fail(eof() ? "EOF while parsing a value" : "invalid number", eof() ? pos_ : pos_ + 1);
        return std::nullopt;
      }
      while (!eof() && peek() >= '0' && peek() <= '9') ++pos_;
    }
    if (!eof() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!eof() && (peek() == '+' || peek() == '-')) ++pos_;
      if (eof() || peek() < '0' || peek() > '9') {
        fail(eof() ? "EOF while parsing a value" : "invalid number", eof() ? pos_ : pos_ + 1);
        return std::nullopt;
      }
      while (!eof() && peek() >= '0' && peek() <= '9') ++pos_;
    }
    std::string_view text = s_.substr(start, pos_ - start);
    if (integral) {
      uint64_t u = 0;
      bool overflow = false;
      for (char d : text.substr(negative ? 1 : 0)) {
        uint64_t digit = static_cast<uint64_t>(d - '0');
        if (u > (UINT64_MAX - digit) / 10) {
          overflow = true;
          break;
        }
        u = u * 10 + digit;
      }
      if (!overflow) {
        if (!negative) return Value::unsignedInteger(u);
        if (u == 0) return Value::unsignedInteger(0);  // serde_json reads -0 as the integer 0
        if (u <= static_cast<uint64_t>(INT64_MAX) + 1) {
          return Value::negativeInteger(static_cast<int64_t>(0 - u));
        }
      }
    }
    std::string owned(text);
    double d = std::strtod(owned.c_str(), nullptr);
    if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
      fail("number out of range", pos_);
      return std::nullopt;
    }
    return Value::floating(d, owned);
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads 4 hex digits after "\u".
  bool hex4(uint32_t& out) {
    out = 0;
    for (int i = 0; i < 4; ++i) {
      if (eof()) {
        fail("EOF while parsing a string", pos_);
        return false;
      }
      int h = hexDigit(peek());
      if (h < 0) {
        fail("invalid escape", pos_ + 1);
        return false;
      }
      out = out * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    return true;
  }

  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Length of the valid UTF-8 sequence starting at pos_ (lead byte >= 0x80), or 0.
  size_t utf8Length() const {
    auto b = [&](size_t i) { return static_cast<uint8_t>(s_[pos_ + i]); };
    size_t left = s_.size() - pos_;
    uint8_t c = b(0);
    auto cont = [&](size_t i) { return i < left && (b(i) & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
      if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
      if (c == 0xF4 && b(1) >= 0x90) return 0;  // > U+10FFFF
      return 4;
    }
    return 0;
  }

  bool string(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      if (eof()) {
        fail("EOF while parsing a string", pos_);
        return false;
      }
      auto c = static_cast<uint8_t>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        fail("control character (\\u0000-\\u001F) found while parsing a string", pos_ + 1);
        return false;
      }
      if (c == '\\') {
        ++pos_;
        if (eof()) {
          fail("EOF while parsing a string", pos_);
          return false;
        }
        char e = peek();
        ++pos_;
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            uint32_t cp = 0;
            if (!hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail("lone leading surrogate in hex escape", pos_);
              return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (pos_ + 1 >= s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
                fail("unexpected end of hex escape", pos_ + 1);
                return false;
              }
              pos_ += 2;
              uint32_t low = 0;
              if (!hex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) {
                fail("lone leading surrogate in hex escape", pos_);
                return false;
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            appendUtf8(out, cp);
            break;
          }
          default:
            fail("invalid escape", pos_);
            return false;
        }
        continue;
      }
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      size_t n = utf8Length();
      if (n == 0) {
        fail("invalid unicode code point", pos_ + 1);
        return false;
      }
      out.append(s_.data() + pos_, n);
      pos_ += n;
    }
  }

  std::optional<Value> array(int depth) {
    if (depth == 0) {
      fail("recursion limit exceeded", pos_);
      return std::nullopt;
    }
    ++pos_;
    std::vector<Value> items;
    skipWs();
    if (!eof() && peek() == ']') {
      ++pos_;
      return Value::array(std::move(items));
    }
    for (;;) {
      skipWs();
      auto v = value(depth - 1);
      if (!v) return std::nullopt;
      items.push_back(std::move(*v));
      skipWs();
      if (eof()) {
        fail("EOF while parsing a list", pos_);
        return std::nullopt;
      }
      if (peek() == ',') {
        ++pos_;
        skipWs();
        if (!eof() && peek() == ']') {
          fail("trailing comma", pos_ + 1);
          return std::nullopt;
        }
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return Value::array(std::move(items));
      }
      fail("expected `,` or `]`", pos_ + 1);
      return std::nullopt;
    }
  }

  std::optional<Value> object(int depth) {
    if (depth == 0) {
      fail("recursion limit exceeded", pos_);
      return std::nullopt;
    }
    ++pos_;
    std::vector<Member> members;
    skipWs();
    if (!eof() && peek() == '}') {
      ++pos_;
      return Value::object(std::move(members));
    }
    for (;;) {
      skipWs();
      if (eof()) {
        fail("EOF while parsing an object", pos_);
        return std::nullopt;
      }
      if (peek() != '"') {
        fail("key must be a string", pos_ + 1);
        return std::nullopt;
      }
      Member m;
      if (!string(m.key)) return std::nullopt;
      skipWs();
      if (eof()) {
        fail("EOF while parsing an object", pos_);
        return std::nullopt;
      }
      if (peek() != ':') {
        fail("expected `:`", pos_ + 1);
        return std::nullopt;
      }
      ++pos_;
      skipWs();
      auto v = value(depth - 1);
      if (!v) return std::nullopt;
      m.value = std::move(*v);
      members.push_back(std::move(m));
      skipWs();
      if (eof()) {
        fail("EOF while parsing an object", pos_);
        return std::nullopt;
      }
      if (peek() == ',') {
        ++pos_;
        skipWs();
        if (!eof() && peek() == '}') {
          fail("trailing comma", pos_ + 1);
          return std::nullopt;
        }
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return Value::object(std::move(members));
      }
      fail("expected `,` or `}`", pos_ + 1);
      return std::nullopt;
    }
  }
};

}  // namespace

std::optional<Value> parse(std::string_view text, std::string* error) {
  Parser p(text);
  return p.document(error);
}

}  // namespace json
}  // namespace v0
}  // namespace pwsdk
