#include "pwsdk/detail/strings.h"

#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {
namespace detail {

void appendUnsigned(std::string& out, uint64_t v) {
  char buf[20];
  size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

void appendSigned(std::string& out, int64_t v) {
  if (v < 0) {
    out.push_back('-');
    appendUnsigned(out, 0 - static_cast<uint64_t>(v));
  } else {
    appendUnsigned(out, static_cast<uint64_t>(v));
  }
}

std::string asciiLowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = asciiLower(c);
  return out;
}

}  // namespace detail

std::string_view statusName(Status status) {
  static constexpr std::string_view kNames[] = {
      "Ok",
      "NotFound",
      "BadArgument",
      "SerializationFailure",
      "ParseFailure",
      "BadExpression",
      "InvalidMemoryAccess",
      "Empty",
      "CasMismatch",
      "ResultMismatch",
      "InternalFailure",
      "BrokenConnection",
      "Unimplemented",
  };
  auto i = static_cast<uint32_t>(status);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "unknown status";
}

std::string hostCallError(std::string_view call, Status status) {
  return detail::cat("host call ", call, " failed with status ", static_cast<uint32_t>(status), " (",
                     statusName(status), ")");
}

}  // namespace v0
}  // namespace pwsdk
