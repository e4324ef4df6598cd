// The shared server-sent events table (wasm-rust/tests/sse_cases.txt) at every chunking, plus the Rust
// SDK's unit checks of the parser, the events and the rewriter.
#include "pwsdk/sse.h"

#include <set>
#include <string>
#include <vector>

#include "check.h"
#include "table.h"

using pwsdk::sse::Event;
using pwsdk::sse::Line;
using pwsdk::sse::Parser;
using pwsdk::sse::Rewriter;
using pwsdk::sse::Verdict;

namespace {

// The table's escaping of names, values and texts in the `events` field.
std::string esc(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b >= 0x7f || ch == '%' || ch == '\t' || ch == ',' || ch == '|' || ch == '=') {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string describe(const Event& e) {
  if (e.empty()) return "()";
  std::string out;
  for (const Line& l : e.lines()) {
    if (!out.empty()) out += ',';
    out += l.kind == Line::Kind::Field ? "f:" + esc(l.name) + "=" + esc(l.value) : "c:" + esc(l.value);
  }
  return out;
}

// The table's fixed rewriting rule.
Verdict rule(Event& e) {
  auto type = e.eventType();
  if (type == "drop") return Verdict::drop();
  if (type == "dup") return Verdict::replace({e, e});
  if (type == "upper") {
    std::string d = e.data().value_or("");
    for (char& ch : d) {
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    }
    e.setData(d);
    return Verdict::keep();
  }
  if (type == "insert") {
    Event n;
    n.pushField("data", "inserted");
    return Verdict::replace({n, e});
  }
  if (type == "retry") {
    if (auto n = e.retry()) {
      e.setField("retry", std::to_string(*n + 1));
    } else {
      e.pushComment("no retry");
    }
  }
  return Verdict::keep();
}

// (events described, rewritten bytes) for a stream given in chunks.
std::pair<std::string, std::string> run(const std::vector<std::string_view>& chunks,
                                        const std::string& where) {
  Parser p;
  std::vector<std::string> described;
  std::string raw, whole;
  for (std::string_view c : chunks) {
    whole.append(c);
    for (const Event& e : p.push(c)) {
      raw += e.raw().value_or("<no raw>");
      described.push_back(describe(e));
    }
  }
  if (auto e = p.finish()) {
    raw += e->raw().value_or("<no raw>");
    described.push_back("end:" + describe(*e));
  }
  ++check::checks;
  if (raw != whole) check::fail(where.c_str(), 0, "the events' bytes are not the input");
  std::string events;
  for (const std::string& d : described) events += (events.empty() ? "" : "|") + d;
  if (events.empty()) events = "-";
  Rewriter r;
  std::string out;
  for (std::string_view c : chunks) out += r.push(c, rule);
  out += r.finish(rule);
  return {events, out};
}

void unitChecks() {
  // fields and accessors
  Parser p;
  auto ev = p.push("event: upd\ndata: a\ndata:b\nid: 1\nretry: 30\n: hi\n\n");
  CHECK(ev.size() == 1 && !p.finish());
  Event e = ev.at(0);
  CHECK(e.eventType() == "upd");
  CHECK(e.data() == "a\nb");
  CHECK(e.id() == "1");
  CHECK(e.retry() == uint64_t{30});
  CHECK(e.comments() == std::vector<std::string_view>{" hi"});
  CHECK(e.raw() && e.raw()->size() == 48 && e.toBytes() == *e.raw());
  e.setData("x\ny");
  CHECK(!e.raw());
  CHECK_EQ(e.serialize(), std::string("event: upd\ndata: x\ndata: y\nid: 1\nretry: 30\n: hi\n\n"));
  e.removeField("data");
  CHECK(!e.data());
  Event n;
  n.pushField("data", "");
  n.pushComment("");
  CHECK_EQ(n.serialize(), std::string("data:\n:\n\n"));
  CHECK(Line::parse("a:b: c") == Line::field("a", "b: c"));
  CHECK(Line::parse(": x") == Line::comment(" x"));

  // a held `\r` and finish
  Parser q;
  CHECK(q.push("data: a\r").empty() && q.pending() == 8);
  CHECK(q.push("\n\r").empty());
  ev = q.push("\n");
  CHECK(ev.size() == 1 && ev[0].raw() == "data: a\r\n\r\n" && q.pending() == 0 && !q.finish());
  Parser r;
  CHECK(r.push("data: a\r\r").empty());
  auto end = r.finish();
  CHECK(end && end->data() == "a" && end->raw() == "data: a\r\r");
  Parser partial;
  partial.push("data: a\n\ndat");
  end = partial.finish();
  CHECK(end && end->field("dat") == "");
  Parser cr;
  cr.push("\r");
  end = cr.finish();
  CHECK(end && end->empty());

  // splitLines keeps the line ends
  auto lines = pwsdk::sse::splitLines("a\r\nb\rc\n\nd");
  CHECK(lines.size() == 5);
  if (lines.size() == 5) {
    CHECK(lines[0].first == "a" && lines[0].second == "\r\n");
    CHECK(lines[1].first == "b" && lines[1].second == "\r");
    CHECK(lines[2].first == "c" && lines[2].second == "\n");
    CHECK(lines[3].first == "" && lines[3].second == "\n");
    CHECK(lines[4].first == "d" && lines[4].second == "");
  }
  CHECK(pwsdk::sse::splitLines("").empty());

  // the rewriter holds only the tail
  Rewriter w;
  std::string out = w.push("data: 1\n\nevent: drop\ndata: 2\n\ndata: 3", [](Event& x) {
    return x.eventType() == "drop" ? Verdict::drop() : Verdict::keep();
  });
  CHECK_EQ(out, std::string("data: 1\n\n"));
  CHECK(w.pending() == 7);
  out = w.finish([](Event& x) {
    x.setData("three");
    return Verdict::keep();
  });
  CHECK_EQ(out, std::string("data: three\n\n"));
  CHECK(w.pending() == 0);

  // after each push, what was emitted is the rewrite of exactly the events completed so far
  std::string_view stream = "data: a\n\nevent: upper\ndata: b\r\n\r\n: c\n\ndata: tail";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Rewriter a, b;
    std::string first = a.push(stream.substr(0, cut), rule);
    Parser counter;
    size_t complete = 0;
    for (const Event& x : counter.push(stream.substr(0, cut))) complete += x.raw()->size();
    CHECK(a.pending() == cut - complete);
    CHECK(first == b.push(stream.substr(0, complete), rule));
  }
}

}  // namespace

int sseTableCases = 0;
int sseTableRuns = 0;

void sseTests(const std::string& dir) {
  unitChecks();
  std::string path = dir + "/sse_cases.txt";
  std::set<std::string> names;
  for (const table::Row& row : table::read(path, 4)) {
    std::string where = path + ":" + std::to_string(row.line) + " `" + row.fields[0] + "`";
    ++check::checks;
    if (!names.insert(row.fields[0]).second) check::fail(where.c_str(), 0, "duplicate name");
    std::string stream = table::decode(row.fields[1], where);
    const std::string& events = row.fields[2];
    std::string rewritten = table::decode(row.fields[3], where);
    ++sseTableCases;
    std::vector<std::vector<std::string_view>> chunkings;
    std::string_view s = stream;
    chunkings.push_back({s});
    for (size_t cut = 0; cut <= s.size(); ++cut) chunkings.push_back({s.substr(0, cut), s.substr(cut)});
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
    chunkings.push_back(bytes);
    for (const auto& chunks : chunkings) {
      ++sseTableRuns;
      auto [got_events, got_out] = run(chunks, where);
      std::string lens;
      for (std::string_view c : chunks) lens += (lens.empty() ? "" : ",") + std::to_string(c.size());
      ++check::checks;
      if (got_events != events) {
        check::fail(where.c_str(), 0, "chunks [" + lens + "]: events " + got_events + ", expected " + events);
      }
      ++check::checks;
      if (got_out != rewritten) {
        check::fail(where.c_str(), 0,
                    "chunks [" + lens + "]: rewritten `" + got_out + "`, expected `" + rewritten + "`");
      }
    }
  }
  CHECK(sseTableCases >= 30);
}
