// Reading the shared test tables (wasm-rust/tests/*.txt): TAB-separated fields, `#` comments, `%HH` escapes.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "check.h"

namespace table {

// `%HH` is that byte; everything else is itself.
inline std::string decode(const std::string& field, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out.push_back(field[i]);
      continue;
    }
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : -1;
    };
    int hi = i + 2 < field.size() ? hex(field[i + 1]) : -1,
        lo = i + 2 < field.size() ? hex(field[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      check::fail(where.c_str(), 0, "bad %HH escape in `" + field + "`");
      return out;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

struct Row {
  int line;
  std::vector<std::string> fields;
};

// The rows of a table with `fields` fields; a missing file or a malformed row is a test failure.
inline std::vector<Row> read(const std::string& path, size_t fields) {
  std::vector<Row> rows;
  std::ifstream in(path);
  if (!in) {
    check::fail(path.c_str(), 0,
                "cannot read the shared table (it lives in wasm-rust/tests/, with the Rust SDK)");
    return rows;
  }
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    if (raw.empty() || raw[0] == '#') continue;
    Row row{line, split(raw, '\t')};
    if (row.fields.size() != fields) {
      check::fail(path.c_str(), line, "expected " + std::to_string(fields) + " TAB-separated fields");
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace table
