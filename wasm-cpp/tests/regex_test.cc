// The shared regex dialect table (wasm-rust/tests/regex_cases.txt) plus limit checks.
#include "pwsdk/regex.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"

using pwsdk::Regex;

namespace {

std::string decode(const std::string& field, int line) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '%') {
      if (i + 2 >= field.size()) {
        check::fail(__FILE__, line, "bad %HH escape");
        return out;
      }
      out.push_back(static_cast<char>(std::stoi(field.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

}  // namespace

int regexTableCases = 0;

void regexTests(const char* table_path) {
  std::ifstream in(table_path);
  if (!in) {
    check::fail(__FILE__, __LINE__, std::string("cannot read ") + table_path);
    return;
  }
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    if (raw.empty() || raw[0] == '#') continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      size_t tab = raw.find('\t', start);
      fields.push_back(raw.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 4) {
      check::fail(table_path, line, "expected 4 TAB-separated fields");
      continue;
    }
    ++regexTableCases;
    ++check::checks;
    const std::string& expect = fields[0];
    bool ci = fields[1] == "i";
    std::string pattern = decode(fields[2], line);
    std::string input = decode(fields[3], line);
    std::string error;
    auto re = Regex::compile(pattern, ci, &error);
    std::string got = !re ? "error (" + error + ")" : re->fullMatch(input) ? "match" : "nomatch";
    if (got.rfind(expect, 0) != 0 || (expect == "match" && got.rfind("nomatch", 0) == 0)) {
      check::fail(table_path, line,
                  expect + " " + fields[1] + " `" + fields[2] + "` on `" + fields[3] + "`: got " + got);
    }
  }

  // Limits and messages (same as wasm-rust/src/regex.rs's tests).
  std::string error;
  CHECK(!Regex::compile("ab\\bc", false, &error));
  CHECK_EQ(error, std::string("invalid regex: unsupported escape `\\b` (at byte 2)"));
  CHECK(!Regex::compile("a(?=b)", false, &error));
  CHECK_EQ(error,
           std::string("invalid regex: unsupported group syntax `(?` (only `(?:` is allowed) (at byte 1)"));
  CHECK(!Regex::compile("(?:a{1000}){2}", false, &error));
  CHECK_EQ(error, std::string("invalid regex: pattern too complex (cost 2000 is over 1000) (at byte 0)"));
  CHECK(!Regex::compile("a{0,1000}", false, &error));
  CHECK(Regex::compile("a{1000}").has_value());
  auto big = Regex::compile("(?:(?:[^a]|b){333}){1,1}", false, &error);
  CHECK(big.has_value());
  CHECK(Regex::cost("(?:(?:[^a]|b){333}){1,1}") == uint64_t{999});
  if (big) {
    CHECK(big->fullMatch(std::string(333, 'x')));
    CHECK(!big->fullMatch(std::string(332, 'x')));
  }
  const std::pair<const char*, uint64_t> costs[] = {
      {"abc", 3},  {"a|bc", 4},      {"(a|b|c)", 5},  {"a*", 2},    {"a+?", 2},      {"(ab)?", 3},
      {"a{5}", 5}, {"(ab){0,3}", 9}, {"a{2,}", 4},    {"a{0,}", 2}, {"(ab){1,}", 3}, {"a?", 2},
      {"a{0}", 0}, {"a{3,3}", 3},    {"(ab){2,}", 7}, {"^$", 2},    {"()", 0},       {"[a-z]{1000}", 1000},
  };
  for (const auto& [p, c] : costs) {
    ++check::checks;
    if (Regex::cost(p) != c) check::fail(__FILE__, __LINE__, std::string("cost of ") + p);
  }
  CHECK(!Regex::compile(std::string(Regex::kMaxPatternBytes + 1, 'a')));
  std::string pairs;
  for (size_t i = 0; i < Regex::kMaxPatternBytes / 2; ++i) pairs += "()";
  CHECK(Regex::compile(pairs).has_value());
  CHECK(!Regex::compile(pairs + "()", false, &error));
  CHECK(error.find("longer than 4096") != std::string::npos);
  std::string deep = std::string(Regex::kMaxNesting, '(') + "a" + std::string(Regex::kMaxNesting, ')');
  CHECK(Regex::compile(deep).has_value());
  std::string deeper =
      std::string(Regex::kMaxNesting + 1, '(') + "a" + std::string(Regex::kMaxNesting + 1, ')');
  CHECK(!Regex::compile(deeper, false, &error));
  CHECK(error.find("nested deeper") != std::string::npos);
  // Linear time: a pattern that makes backtracking engines explode.
  auto evil = Regex::compile("(a*)*b");
  CHECK(evil && !evil->fullMatch(std::string(100000, 'a')));
  auto evil2 = Regex::compile("(a|a)*(a|a)*(a|a)*c");
  CHECK(evil2 && !evil2->fullMatch(std::string(50000, 'a')));
}
