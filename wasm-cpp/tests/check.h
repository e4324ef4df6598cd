// A minimal test harness: CHECK/CHECK_EQ record failures with file:line and keep going.
#pragma once

#include <cstdio>
#include <string>

namespace check {
inline int failures = 0;
inline int checks = 0;
inline void fail(const char* file, int line, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "%s:%d: FAILED %s\n", file, line, what.c_str());
}
}  // namespace check

#define CHECK(cond)                                      \
  do {                                                   \
    ++check::checks;                                     \
    if (!(cond)) check::fail(__FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_EQ(got, want)                                                     \
  do {                                                                          \
    ++check::checks;                                                            \
    auto got_ = (got);                                                          \
    auto want_ = (want);                                                        \
    if (!(got_ == want_)) {                                                     \
      check::fail(__FILE__, __LINE__,                                           \
                  std::string(#got) + "\n    expected: " + std::string(want_) + \
                      "\n    got:      " + std::string(got_));                  \
    }                                                                           \
  } while (0)
