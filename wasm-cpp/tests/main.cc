// Native tests of the SDK's pure logic (JSON, regex, rules, auth rules and password hashes). Build and run
// from the repository root:
//   c++ -std=c++17 -fno-exceptions -fno-rtti -Wall -Wextra -I wasm-cpp/include
//   wasm-cpp/src/{strings,json,config,regex,rules,auth,crypto}.cc wasm-cpp/tests/*.cc -o /tmp/pwsdk-tests &&
//   /tmp/pwsdk-tests wasm-rust/tests/regex_cases.txt
#include <cstdio>

#include "check.h"

void jsonTests();
void regexTests(const char* table_path);
void rulesTests();
void authTests();
extern int regexTableCases;

int main(int argc, char** argv) {
  const char* table = argc > 1 ? argv[1] : "wasm-rust/tests/regex_cases.txt";
  jsonTests();
  regexTests(table);
  rulesTests();
  authTests();
  std::printf("%d checks (%d regex table cases), %d failed\n", check::checks, regexTableCases,
              check::failures);
  return check::failures == 0 ? 0 : 1;
}
