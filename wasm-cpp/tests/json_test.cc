// JSON reader: values, serde_json-compatible errors, limits.
#include "pwsdk/json.h"

#include <string>

#include "check.h"

using namespace pwsdk;

namespace {
std::string errorOf(std::string_view text) {
  std::string e;
  auto v = json::parse(text, &e);
  return v ? "<ok>" : e;
}
}  // namespace

void jsonTests() {
  auto v =
      json::parse(R"( {"b": [1, -2, 3.5, true, null, "x\u00e9\ud83d\ude00"], "a": {"k": "v"}, "b": 7} )");
  CHECK(v.has_value());
  if (v) {
    CHECK(v->isObject());
    CHECK(v->members().size() == 2);
    CHECK_EQ(v->members()[0].key, std::string("a"));  // key order, as serde_json's Map
    const json::Value* b = v->find("b");
    CHECK(b && b->asUint64() == uint64_t{7});  // the last duplicate wins
    CHECK(v->find("a")->find("k")->asString() == "v");
  }
  auto arr = json::parse(
      R"([1, -2, 3.5, true, null, "x\u00e9\ud83d\ude00", 18446744073709551615, -9223372036854775808])");
  CHECK(arr && arr->items().size() == 8);
  if (arr && arr->items().size() == 8) {
    const auto& it = arr->items();
    CHECK(it[0].asUint64() == uint64_t{1});
    CHECK(it[1].asInt64() == int64_t{-2} && !it[1].asUint64());
    CHECK(it[2].asDouble() == 3.5 && !it[2].asUint64());
    CHECK(it[3].asBool());
    CHECK(it[4].isNull());
    CHECK_EQ(it[5].asString(), std::string("x\xC3\xA9\xF0\x9F\x98\x80"));
    CHECK(it[6].asUint64() == UINT64_MAX);
    CHECK(it[7].asInt64() == INT64_MIN);
    CHECK_EQ(it[0].describe(), std::string("integer `1`"));
    CHECK_EQ(it[1].describe(), std::string("integer `-2`"));
    CHECK_EQ(it[3].describe(), std::string("boolean `true`"));
    CHECK_EQ(it[4].describe(), std::string("null"));
    CHECK_EQ(json::Value::string("x").describe(), std::string("string \"x\""));
  }
  CHECK_EQ(errorOf("not json"), std::string("expected ident at line 1 column 2"));
  CHECK_EQ(errorOf("x"), std::string("expected value at line 1 column 1"));
  CHECK_EQ(errorOf(""), std::string("EOF while parsing a value at line 1 column 0"));
  CHECK_EQ(errorOf("{\"a\":1} x"), std::string("trailing characters at line 1 column 9"));
  CHECK_EQ(errorOf("{\"a\":1,}"), std::string("trailing comma at line 1 column 8"));
  CHECK_EQ(errorOf("{\n\"a\" 1}"), std::string("expected `:` at line 2 column 5"));
  CHECK(errorOf("\"a\x01\"") != "<ok>");
  CHECK(errorOf("\"\xff\"") != "<ok>");     // invalid UTF-8
  CHECK(errorOf("\"\\ud800\"") != "<ok>");  // lone surrogate
  CHECK(errorOf("01") != "<ok>");
  CHECK(errorOf("1.") != "<ok>");
  CHECK(errorOf(std::string(128, '[') + std::string(128, ']')) == "<ok>");
  CHECK(errorOf(std::string(129, '[') + std::string(129, ']')).find("recursion limit") != std::string::npos);
  CHECK(errorOf(std::string(100000, '[')).find("recursion limit") != std::string::npos);
}
