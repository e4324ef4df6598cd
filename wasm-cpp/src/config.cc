#include "pwsdk/config.h"

#include <algorithm>

namespace pwsdk {
inline namespace v0 {

ConfigReader::ConfigReader(const json::Value& object, std::string prefix, ConfigError& error)
    : object_(object), prefix_(std::move(prefix)), error_(error) {}

std::string ConfigReader::pathOf(std::string_view field) const {
  if (prefix_.empty()) return std::string(field);
  if (field.empty()) return prefix_;
  if (field.front() == '[') return detail::cat(prefix_, field);
  return detail::cat(prefix_, ".", field);
}

bool ConfigReader::fail(std::string_view path, std::string reason) {
  if (!failed_) {
    failed_ = true;
    error_.path = pathOf(path);
    error_.reason = std::move(reason);
  }
  return false;
}

const json::Value* ConfigReader::get(std::string_view key) {
  const json::Value* v = object_.find(key);
  if (v) known_.emplace_back(key);
  return v;
}

bool ConfigReader::readString(std::string_view path, const json::Value& v, std::string& out) {
  if (!v.isString()) return fail(path, detail::cat("invalid type: ", v.describe(), ", expected a string"));
  out = v.asString();
  return true;
}

bool ConfigReader::required(std::string_view key, std::string& out) {
  const json::Value* v = get(key);
  if (!v) return fail("", detail::cat("missing field `", key, "`"));
  return readString(key, *v, out);
}

bool ConfigReader::optional(std::string_view key, std::string& out) {
  const json::Value* v = get(key);
  return v ? readString(key, *v, out) : true;
}

bool ConfigReader::optional(std::string_view key, std::optional<std::string>& out) {
  const json::Value* v = get(key);
  if (!v || v->isNull()) {
    out.reset();
    return true;
  }
  std::string s;
  if (!readString(key, *v, s)) return false;
  out = std::move(s);
  return true;
}

bool ConfigReader::optional(std::string_view key, bool& out) {
  const json::Value* v = get(key);
  if (!v) return true;
  if (!v->isBool()) return fail(key, detail::cat("invalid type: ", v->describe(), ", expected a boolean"));
  out = v->asBool();
  return true;
}

bool ConfigReader::optional(std::string_view key, uint32_t& out) {
  const json::Value* v = get(key);
  if (!v) return true;
  if (v->isNumber()) {
    auto u = v->asUint64();
    if (u && *u <= UINT32_MAX) {
      out = static_cast<uint32_t>(*u);
      return true;
    }
    if (u || v->asInt64()) return fail(key, detail::cat("invalid value: ", v->describe(), ", expected u32"));
  }
  return fail(key, detail::cat("invalid type: ", v->describe(), ", expected u32"));
}

bool ConfigReader::readList(std::string_view key, const json::Value& v, std::vector<std::string>& out) {
  if (!v.isArray()) return fail(key, detail::cat("invalid type: ", v.describe(), ", expected a sequence"));
  std::vector<std::string> items;
  items.reserve(v.items().size());
  for (size_t i = 0; i < v.items().size(); ++i) {
    std::string s;
    if (!readString(detail::cat(key, "[", i, "]"), v.items()[i], s)) return false;
    items.push_back(std::move(s));
  }
  out = std::move(items);
  return true;
}

bool ConfigReader::optional(std::string_view key, std::vector<std::string>& out) {
  const json::Value* v = get(key);
  return v ? readList(key, *v, out) : true;
}

bool ConfigReader::optional(std::initializer_list<std::string_view> names, std::vector<std::string>& out) {
  const json::Value* found = nullptr;
  std::string_view found_name;
  // serde reports the second spelling met in key order as a duplicate of the canonical field.
  std::vector<std::string_view> present;
  for (std::string_view n : names) {
    if (object_.find(n)) present.push_back(n);
  }
  std::sort(present.begin(), present.end());
  for (std::string_view n : present) {
    const json::Value* v = get(n);
    if (found) return fail("", detail::cat("duplicate field `", *names.begin(), "`"));
    found = v;
    found_name = n;
  }
  return found ? readList(found_name, *found, out) : true;
}

bool ConfigReader::denyUnknownFields(std::initializer_list<std::string_view> expected) {
  for (const auto& m : object_.members()) {
    if (std::find(known_.begin(), known_.end(), m.key) != known_.end()) continue;
    if (std::find(expected.begin(), expected.end(), m.key) != expected.end()) continue;
    std::string list;
    for (std::string_view e : expected) {
      if (!list.empty()) list += ", ";
      list += detail::cat("`", e, "`");
    }
    // serde's wording: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
    if (expected.size() == 0)
      return fail(m.key, detail::cat("unknown field `", m.key, "`, there are no fields"));
    if (expected.size() == 2)
      list = detail::cat("`", *expected.begin(), "` or `", *(expected.begin() + 1), "`");
    return fail(m.key, detail::cat("unknown field `", m.key, "`, expected ",
                                   expected.size() > 2 ? "one of " : "", list));
  }
  return true;
}

void ConfigReader::bind(std::string_view name, std::initializer_list<std::string_view> aliases,
                        Binding::Kind kind, void* target, bool required) {
  Binding b;
  b.names.push_back(name);
  b.names.insert(b.names.end(), aliases.begin(), aliases.end());
  b.kind = kind;
  b.target = target;
  b.required = required;
  bindings_.push_back(std::move(b));
}

void ConfigReader::field(std::string_view name, std::string& out,
                         std::initializer_list<std::string_view> aliases) {
  bind(name, aliases, Binding::Kind::String, &out, false);
}
void ConfigReader::field(std::string_view name, std::optional<std::string>& out) {
  bind(name, {}, Binding::Kind::OptString, &out, false);
}
void ConfigReader::field(std::string_view name, bool& out) {
  bind(name, {}, Binding::Kind::Bool, &out, false);
}
void ConfigReader::field(std::string_view name, uint32_t& out) {
  bind(name, {}, Binding::Kind::U32, &out, false);
}
void ConfigReader::field(std::string_view name, std::vector<std::string>& out,
                         std::initializer_list<std::string_view> aliases) {
  bind(name, aliases, Binding::Kind::List, &out, false);
}
void ConfigReader::requiredField(std::string_view name, std::string& out) {
  bind(name, {}, Binding::Kind::String, &out, true);
}

bool ConfigReader::readBinding(const Binding& b, std::string_view key, const json::Value& v) {
  switch (b.kind) {
    case Binding::Kind::String:
      return readString(key, v, *static_cast<std::string*>(b.target));
    case Binding::Kind::OptString: {
      auto& out = *static_cast<std::optional<std::string>*>(b.target);
      if (v.isNull()) {
        out.reset();
        return true;
      }
      std::string str;
      if (!readString(key, v, str)) return false;
      out = std::move(str);
      return true;
    }
    case Binding::Kind::Bool:
      if (!v.isBool()) return fail(key, detail::cat("invalid type: ", v.describe(), ", expected a boolean"));
      *static_cast<bool*>(b.target) = v.asBool();
      return true;
    case Binding::Kind::U32: {
      if (v.isNumber()) {
        auto u = v.asUint64();
        if (u && *u <= UINT32_MAX) {
          *static_cast<uint32_t*>(b.target) = static_cast<uint32_t>(*u);
          return true;
        }
        if (u || v.asInt64())
          return fail(key, detail::cat("invalid value: ", v.describe(), ", expected u32"));
      }
      return fail(key, detail::cat("invalid type: ", v.describe(), ", expected u32"));
    }
    case Binding::Kind::List:
      return readList(key, v, *static_cast<std::vector<std::string>*>(b.target));
  }
  return false;
}

bool ConfigReader::finish(bool deny_unknown_fields) {
  // Members are in key order (json::Value keeps objects sorted), as serde visits a serde_json Map.
  for (const auto& m : object_.members()) {
    Binding* match = nullptr;
    for (auto& b : bindings_) {
      for (std::string_view n : b.names) {
        if (n == m.key) match = &b;
      }
    }
    if (!match) {
      if (!deny_unknown_fields) continue;
      std::vector<std::string_view> expected;
      for (const auto& b : bindings_) expected.insert(expected.end(), b.names.begin(), b.names.end());
      std::string list;
      for (size_t i = 0; i < expected.size(); ++i) {
        list += detail::cat(i == 0 ? "" : expected.size() == 2 ? " or " : ", ", "`", expected[i], "`");
      }
      if (expected.empty())
        return fail(m.key, detail::cat("unknown field `", m.key, "`, there are no fields"));
      return fail(m.key, detail::cat("unknown field `", m.key, "`, expected ",
                                     expected.size() > 2 ? "one of " : "", list));
    }
    if (match->seen) return fail("", detail::cat("duplicate field `", match->names.front(), "`"));
    match->seen = true;
    known_.emplace_back(m.key);
    if (!readBinding(*match, m.key, m.value)) return false;
  }
  for (const auto& b : bindings_) {
    if (b.required && !b.seen) return fail("", detail::cat("missing field `", b.names.front(), "`"));
  }
  return ok();
}

}  // namespace v0
}  // namespace pwsdk
