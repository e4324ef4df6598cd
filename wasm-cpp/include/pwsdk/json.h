// A small JSON reader for plug-in configuration: RFC 8259, UTF-8 validated, nesting limited to 128, no
// exceptions. Objects keep one member per key (the last one given wins) in key order, as serde_json's
// `Value` does, so both SDKs see the same document.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pwsdk {
inline namespace v0 {
namespace json {

enum class Type : uint8_t { Null, Bool, Number, String, Array, Object };

struct Member;

class Value {
 public:
  Value() = default;
  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value unsignedInteger(uint64_t u);
  static Value negativeInteger(int64_t i);
  static Value floating(double d, std::string text = {});
  static Value string(std::string s);
  static Value array(std::vector<Value> items);
  // Sorts the members by key; of equal keys the last one is kept.
  static Value object(std::vector<Member> members);

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::Null; }
  bool isBool() const { return type_ == Type::Bool; }
  bool isNumber() const { return type_ == Type::Number; }
  bool isString() const { return type_ == Type::String; }
  bool isArray() const { return type_ == Type::Array; }
  bool isObject() const { return type_ == Type::Object; }

  // Only meaningful for the matching type; otherwise false / 0 / empty.
  bool asBool() const { return type_ == Type::Bool && bool_; }
  // An integer-valued number written without fraction or exponent that fits the type.
  std::optional<uint64_t> asUint64() const;
  std::optional<int64_t> asInt64() const;
  double asDouble() const;
  const std::string& asString() const { return str_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }
  // The member named `key` of an object, or nullptr.
  const Value* find(std::string_view key) const;

  // serde-style description of the value, as used in "invalid type: <desc>, expected ..." messages:
  // `null`, `boolean \`true\``, `integer \`1\``, `floating point \`1.5\``, `string "x"`, `sequence`, `map`.
  std::string describe() const;

 private:
  enum class Num : uint8_t { Unsigned, Negative, Float };
  Type type_ = Type::Null;
  bool bool_ = false;
  Num num_ = Num::Unsigned;
  uint64_t u_ = 0;
  int64_t i_ = 0;
  double d_ = 0;
  std::string str_;
  std::string num_text_;  // a floating-point number's text, for messages
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct Member {
  std::string key;
  Value value;
};

// Parses one JSON document (surrounding whitespace allowed). On failure returns nullopt and, when `error` is
// given, sets it to a serde_json-style message such as "expected value at line 1 column 1".
std::optional<Value> parse(std::string_view text, std::string* error = nullptr);

}  // namespace json
}  // namespace v0
}  // namespace pwsdk
