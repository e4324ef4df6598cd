// The pure part of auth.h: base64, constant-time comparison, realm check, serde-like field readers and the
// allow list. No host calls (tested natively).
#include "pwsdk/auth.h"

namespace pwsdk {
inline namespace v0 {
namespace auth {

std::optional<std::string> base64Decode(std::string_view input) {
  std::string_view data = input;
  size_t eq = input.find('=');
  if (eq != std::string_view::npos) {
    std::string_view pad = input.substr(eq);
    if (pad.size() > 2 || pad.find_first_not_of('=') != std::string_view::npos || input.size() % 4 != 0) {
      return std::nullopt;
    }
    data = input.substr(0, eq);
  }
  if (data.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(data.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : data) {
    uint32_t v;
    if (ch >= 'A' && ch <= 'Z') {
      v = static_cast<uint32_t>(ch - 'A');
    } else if (ch >= 'a' && ch <= 'z') {
      v = static_cast<uint32_t>(ch - 'a' + 26);
    } else if (ch >= '0' && ch <= '9') {
      v = static_cast<uint32_t>(ch - '0' + 52);
    } else if (ch == '+') {
      v = 62;
    } else if (ch == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
      acc &= (1u << bits) - 1;
    }
  }
  return out;
}

bool constantTimeEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool checkRealm(ConfigReader& in, std::string_view realm) {
  if (realm.empty() || realm.size() > 256) return in.fail("realm", "must be 1 to 256 characters long");
  for (char c : realm) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f || c == '"' || c == '\\') {
      return in.fail("realm", "must be printable ASCII without `\"` and `\\`");
    }
  }
  return true;
}

std::string joinPath(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : detail::cat(path, ".", key);
}

bool readString(ConfigReader& in, std::string_view path, const json::Value& v, std::string& out) {
  if (!v.isString()) return in.fail(path, detail::cat("invalid type: ", v.describe(), ", expected a string"));
  out = v.asString();
  return true;
}

bool readOptionalString(ConfigReader& in, std::string_view path, const json::Value& v,
                        std::optional<std::string>& out) {
  if (v.isNull()) {
    out.reset();
    return true;
  }
  std::string s;
  if (!readString(in, path, v, s)) return false;
  out = std::move(s);
  return true;
}

bool readBool(ConfigReader& in, std::string_view path, const json::Value& v, bool& out) {
  if (!v.isBool()) return in.fail(path, detail::cat("invalid type: ", v.describe(), ", expected a boolean"));
  out = v.asBool();
  return true;
}

bool readU32(ConfigReader& in, std::string_view path, const json::Value& v, uint32_t& out) {
  if (v.isNumber()) {
    auto u = v.asUint64();
    if (u && *u <= UINT32_MAX) {
      out = static_cast<uint32_t>(*u);
      return true;
    }
    if (u || v.asInt64())
      return in.fail(path, detail::cat("invalid value: ", v.describe(), ", expected u32"));
  }
  return in.fail(path, detail::cat("invalid type: ", v.describe(), ", expected u32"));
}

bool readStringList(ConfigReader& in, std::string_view path, const json::Value& v,
                    std::vector<std::string>& out) {
  if (!v.isArray())
    return in.fail(path, detail::cat("invalid type: ", v.describe(), ", expected a sequence"));
  std::vector<std::string> items(v.items().size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!readString(in, detail::cat(path, "[", i, "]"), v.items()[i], items[i])) return false;
  }
  out = std::move(items);
  return true;
}

bool readOptionalStringList(ConfigReader& in, std::string_view path, const json::Value& v,
                            std::optional<std::vector<std::string>>& out) {
  if (v.isNull()) {
    out.reset();
    return true;
  }
  std::vector<std::string> list;
  if (!readStringList(in, path, v, list)) return false;
  out = std::move(list);
  return true;
}

std::string unknownFieldMessage(std::string_view key, std::initializer_list<std::string_view> fields) {
  if (fields.size() == 0) return detail::cat("unknown field `", key, "`, there are no fields");
  std::string list;
  size_t i = 0;
  for (std::string_view f : fields) {
    list += detail::cat(i == 0 ? "" : fields.size() == 2 ? " or " : ", ", "`", f, "`");
    ++i;
  }
  return detail::cat("unknown field `", key, "`, expected ", fields.size() > 2 ? "one of " : "", list);
}

bool readAllowList(ConfigReader& in, const json::Value& v, std::vector<std::string>& out) {
  if (!v.isArray()) return in.fail("allow", "must be a non-empty array of consumer names");
  if (v.items().empty()) {
    return in.fail("allow", "must not be empty (use `_disable_: true` or omit the rule instead)");
  }
  out.clear();
  for (size_t j = 0; j < v.items().size(); ++j) {
    const json::Value& item = v.items()[j];
    if (!item.isString() || item.asString().empty()) {
      return in.fail(detail::cat("allow[", j, "]"), "must be a non-empty consumer name");
    }
    out.push_back(item.asString());
  }
  return true;
}

}  // namespace auth
}  // namespace v0
}  // namespace pwsdk
