// Typed reading of a plug-in's configuration object, with field paths for error messages.
//
// A plug-in's configuration type provides
//     static bool parse(pwsdk::ConfigReader& in, Config& out);
// which fills `out` (whose members hold the defaults) and returns false after recording an error with
// `in.fail(...)` or through a failing getter. The SDK turns the error into the log line
//     [<plugin>] invalid configuration: <field path>: <reason>
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pwsdk/detail/strings.h"
#include "pwsdk/json.h"

namespace pwsdk {
inline namespace v0 {

struct ConfigError {
  std::string path;    // e.g. "block_regexp_urls[0]", "_rules_[1]._match_domain_"; "" for the whole object
  std::string reason;  // e.g. "invalid type: integer `1`, expected a string"
  // "<path>: <reason>", or just the reason when the error concerns the document as a whole (path "").
  std::string message() const { return path.empty() ? reason : detail::cat(path, ": ", reason); }
};

class ConfigReader {
 public:
  // `object` must be a JSON object; `prefix` is the path of the object ("" for the top level, or e.g.
  // "_rules_[1]"), prepended to every field path.
  ConfigReader(const json::Value& object, std::string prefix, ConfigError& error);

  const json::Value& object() const { return object_; }
  // The path of `field` below this object: "name" or "_rules_[1].name" ("" / "_rules_[1]" for the object).
  std::string pathOf(std::string_view field) const;

  // Records an error at `path` (a path relative to this object, e.g. "header_name" or "block_urls[2]"; ""
  // names the object itself) and returns false. Only the first error is kept.
  bool fail(std::string_view path, std::string reason);

  // The member `key`, or nullptr; the key counts as known for denyUnknownFields.
  const json::Value* get(std::string_view key);

  // Typed getters. `optional` leaves `out` untouched when the key is absent; `required` fails with
  // "missing field `key`". A null value is a type error, as for a serde field without Option.
  bool required(std::string_view key, std::string& out);
  bool optional(std::string_view key, std::string& out);
  // Like a serde Option<String>: absent and null both leave `out` empty.
  bool optional(std::string_view key, std::optional<std::string>& out);
  bool optional(std::string_view key, bool& out);
  bool optional(std::string_view key, uint32_t& out);
  bool optional(std::string_view key, std::vector<std::string>& out);
  // A list that may be spelt under several names (the first is the canonical one); giving two of them
  // fails with "duplicate field".
  bool optional(std::initializer_list<std::string_view> names, std::vector<std::string>& out);

  // Fails on the first member (in key order) that no getter asked for: "unknown field `x`, expected one of
  // `a`, `b`", listing `expected`.
  bool denyUnknownFields(std::initializer_list<std::string_view> expected);

  // Declarative reading, the way serde's derive does it (use this for exact parity with the Rust SDK):
  // declare every field with field()/requiredField() (aliases after the name), then call finish(), which
  // visits the object's members in key order: the first type error or unknown key (in key order) wins,
  // then the first missing required field (in declaration order). Returns false with the error recorded.
  void field(std::string_view name, std::string& out, std::initializer_list<std::string_view> aliases = {});
  void field(std::string_view name, std::optional<std::string>& out);
  void field(std::string_view name, bool& out);
  void field(std::string_view name, uint32_t& out);
  void field(std::string_view name, std::vector<std::string>& out,
             std::initializer_list<std::string_view> aliases = {});
  void requiredField(std::string_view name, std::string& out);
  bool finish(bool deny_unknown_fields = true);

  bool ok() const { return !failed_; }

 private:
  const json::Value& object_;
  std::string prefix_;
  ConfigError& error_;
  std::vector<std::string> known_;
  bool failed_ = false;

  bool readString(std::string_view path, const json::Value& v, std::string& out);
  bool readList(std::string_view key, const json::Value& v, std::vector<std::string>& out);

  struct Binding {
    enum class Kind : uint8_t { String, OptString, Bool, U32, List };
    std::vector<std::string_view> names;  // the name, then its aliases
    Kind kind;
    void* target;
    bool required = false;
    bool seen = false;
  };
  std::vector<Binding> bindings_;
  void bind(std::string_view name, std::initializer_list<std::string_view> aliases, Binding::Kind kind,
            void* target, bool required);
  bool readBinding(const Binding& b, std::string_view key, const json::Value& v);
};

}  // namespace v0
}  // namespace pwsdk
