// String helpers shared by the SDK (no iostreams, no printf).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace pwsdk {
inline namespace v0 {
namespace detail {

inline void appendOne(std::string& out, std::string_view s) { out.append(s.data(), s.size()); }
inline void appendOne(std::string& out, const char* s) { appendOne(out, std::string_view(s)); }
inline void appendOne(std::string& out, const std::string& s) { out.append(s); }
inline void appendOne(std::string& out, char c) { out.push_back(c); }

void appendUnsigned(std::string& out, uint64_t v);
void appendSigned(std::string& out, int64_t v);

template <
    class T,
    std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, bool>, int> = 0>
void appendOne(std::string& out, T v) {
  if constexpr (std::is_signed_v<T>) {
    appendSigned(out, static_cast<int64_t>(v));
  } else {
    appendUnsigned(out, static_cast<uint64_t>(v));
  }
}

// Concatenates strings, characters and integers: cat("code ", 403) == "code 403".
template <class... Args>
std::string cat(const Args&... args) {
  std::string out;
  (appendOne(out, args), ...);
  return out;
}

inline bool isAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline char asciiLower(char c) { return isAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
std::string asciiLowercase(std::string_view s);

}  // namespace detail
}  // namespace v0
}  // namespace pwsdk
