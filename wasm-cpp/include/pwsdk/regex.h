// A linear-time regular expression engine over bytes (Thompson NFA simulation, no backtracking) with the
// dialect described in wasm-rust/README.md ("Regex dialect"). Matching is always a full match over the whole
// text; case-insensitive matching folds ASCII letters only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pwsdk {
inline namespace v0 {

class Regex {
 public:
  // Limits that keep compile and match time bounded.
  static constexpr size_t kMaxPatternBytes = 4096;  // longer patterns are rejected
  static constexpr size_t kMaxNesting = 64;         // groups nested deeper are rejected
  static constexpr uint32_t kMaxRepeat = 1000;      // the largest n or m of {n}, {n,}, {n,m}
  static constexpr uint64_t kMaxCost = 1000;  // pattern cost (README "Limits"); costlier ones are rejected
  // Compiled NFA states; a pattern within kMaxCost always fits (at most ~2 states per unit of cost).
  static constexpr size_t kMaxProgramSize = 4 * kMaxCost + 16;

  // Compiles `pattern`. On failure returns nullopt and, if given, sets `error` to a reason such as
  // "invalid regex: unsupported escape `\b` (at byte 2)" (the same text as the Rust SDK).
  static std::optional<Regex> compile(std::string_view pattern, bool case_insensitive = false,
                                      std::string* error = nullptr);

  // The cost of a pattern that parses (README "Limits"), for tests and diagnostics.
  static std::optional<uint64_t> cost(std::string_view pattern);

  // True when the whole of `text` matches.
  bool fullMatch(std::string_view text) const;

  // Number of NFA states (for tests and size limits).
  size_t programSize() const { return program_.size(); }

  struct Inst {
    enum class Op : uint8_t { ByteSet, Split, Jump, AssertStart, AssertEnd, Match };
    Op op;
    uint32_t x;  // ByteSet: index into sets_; Split/Jump: target
    uint32_t y;  // Split: second target
  };
  using ByteSet = std::array<uint64_t, 4>;

 private:
  std::vector<Inst> program_;
  std::vector<ByteSet> sets_;
  friend class RegexCompiler;
};

}  // namespace v0
}  // namespace pwsdk
