// Native tests of the SDK's pure logic (JSON, regex, rules, auth rules and password hashes, SSE, cluster
// naming, shared-data CAS retries). Build and run from the repository root:
//   c++ -std=c++17 -fno-exceptions -fno-rtti -Wall -Wextra -I wasm-cpp/include
//     wasm-cpp/src/{strings,json,config,regex,rules,auth,crypto,sse,cluster}.cc wasm-cpp/tests/*.cc
//     -o /tmp/pwsdk-tests && /tmp/pwsdk-tests wasm-rust/tests
// The argument is the folder of the tables shared with the Rust SDK (regex, cluster and SSE cases).
#include <cstdio>
#include <string>

#include "check.h"

void jsonTests();
void regexTests(const char* table_path);
void rulesTests();
void authTests();
void sseTests(const std::string& dir);
void clusterTests(const std::string& dir);
void stateTests();
extern int regexTableCases;
extern int sseTableCases;
extern int sseTableRuns;
extern int clusterTableCases;

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "wasm-rust/tests";
  jsonTests();
  regexTests((dir + "/regex_cases.txt").c_str());
  rulesTests();
  authTests();
  sseTests(dir);
  clusterTests(dir);
  stateTests();
  std::printf(
      "%d checks (%d regex table cases, %d SSE table cases in %d chunkings, %d cluster table cases), %d "
      "failed\n",
      check::checks, regexTableCases, sseTableCases, sseTableRuns, clusterTableCases, check::failures);
  return check::failures == 0 ? 0 : 1;
}
