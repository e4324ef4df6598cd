// Server-sent events (`text/event-stream`): a parser that works across arbitrary chunk boundaries, events
// that keep their original bytes, and a rewriter that emits everything but the incomplete tail. Pure logic
// (no host calls). Twin of the Rust `pwsdk::sse`; the contract is wasm-rust/README.md, "Server-sent events",
// and both SDKs run the shared table wasm-rust/tests/sse_cases.txt at every chunking.
//
// Lines end with `\r\n`, `\n` or `\r` (the SSE spec); an event ends at a blank line. Values are bytes.
// Hand-written: a few hundred bytes of wasm, where a general parser library would cost far more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pwsdk {
inline namespace v0 {
namespace sse {

// One line of an event: a field `name: value` (split at the first `:`, one space after it dropped; a line
// without `:` is a field with an empty value) or a comment (a line starting with `:`; `value` is the bytes
// after the colon, `name` is empty).
struct Line {
  enum class Kind : uint8_t { Field, Comment };
  Kind kind = Kind::Field;
  std::string name;
  std::string value;

  static Line field(std::string_view name, std::string_view value) {
    return Line{Kind::Field, std::string(name), std::string(value)};
  }
  static Line comment(std::string_view text) { return Line{Kind::Comment, std::string(), std::string(text)}; }
  // Parses one line (without its line end).
  static Line parse(std::string_view line);

  bool isField(std::string_view field_name) const { return kind == Kind::Field && name == field_name; }
  bool operator==(const Line& o) const { return kind == o.kind && name == o.name && value == o.value; }
};

// One event: its lines in order and, while untouched, the bytes it came as (blank line included).
class Event {
 public:
  Event() = default;  // an empty event to build (it has no original bytes)

  const std::vector<Line>& lines() const { return lines_; }
  // The lines, for changing them (the original bytes are dropped).
  std::vector<Line>& linesMut() {
    raw_.reset();
    return lines_;
  }
  // No lines (a lone blank line between events).
  bool empty() const { return lines_.empty(); }
  // The original bytes while the event is untouched; nullopt once changed (or for a built event).
  const std::optional<std::string>& raw() const { return raw_; }

  // The value of the last field called `name`.
  std::optional<std::string_view> field(std::string_view name) const;
  std::optional<std::string_view> eventType() const { return field("event"); }
  std::optional<std::string_view> id() const { return field("id"); }
  // The last `retry` field when it is all ASCII digits and fits in 64 bits.
  std::optional<uint64_t> retry() const;
  // Every `data` value joined with `\n`; nullopt when there is no `data` line.
  std::optional<std::string> data() const;
  // The comments' texts in order.
  std::vector<std::string_view> comments() const;

  // Replaces the `data` lines by one line per `\n`-separated piece, at the place of the first one (appended
  // when there was none).
  void setData(std::string_view data) { setField("data", data); }
  // The same for any field name.
  void setField(std::string_view name, std::string_view value);
  // Removes every `name` field.
  void removeField(std::string_view name);
  void pushField(std::string_view name, std::string_view value);
  // Appends a comment line (`:` + text).
  void pushComment(std::string_view text);

  // The canonical bytes: `name: value\n` (`name:\n` for an empty value), `:text\n`, then the blank `\n`.
  std::string serialize() const;
  // Appends the bytes to emit: the original ones while untouched, else serialize().
  void writeTo(std::string& out) const;
  std::string toBytes() const {
    std::string out;
    writeTo(out);
    return out;
  }

 private:
  friend class Parser;
  std::vector<Line> lines_;
  std::optional<std::string> raw_;
};

// Splits bytes into lines: (content, line end) with the parser's line ends; the last line's end is empty
// when the bytes do not end with one.
std::vector<std::pair<std::string_view, std::string_view>> splitLines(std::string_view bytes);

// Collects body chunks and hands out whole events. The bytes of all events (raw) plus the held tail are
// exactly the input. A `\r` at the end of a chunk is held until the next byte shows whether `\n` follows.
class Parser {
 public:
  // Appends a chunk and returns the events it completed, in order.
  std::vector<Event> push(std::string_view chunk);
  // Bytes received but not yet part of an event handed out.
  size_t pending() const { return buf_.size(); }
  // The end of the stream: what is left as one last event (an event without its blank line, or one that a
  // held `\r` completes), nullopt when nothing is left. The parser is then empty.
  std::optional<Event> finish();

 private:
  std::string buf_;          // bytes of the current (incomplete) event
  size_t line_start_ = 0;    // where, in buf_, the first line not yet complete starts
  std::vector<Line> lines_;  // the complete lines of the current event
};

// What the rewriter does with one event.
struct Verdict {
  enum class Kind : uint8_t { Keep, Drop, Replace };
  Kind kind = Kind::Keep;
  std::vector<Event>
      events;  // Replace: emitted instead (zero or more; include the event to insert around it)

  static Verdict keep() { return Verdict{}; }
  static Verdict drop() { return Verdict{Kind::Drop, {}}; }
  static Verdict replace(std::vector<Event> events) { return Verdict{Kind::Replace, std::move(events)}; }
};

// Rewrites an event stream chunk by chunk, holding back only the incomplete tail. `f` is called as
// `Verdict f(Event&)` for each completed event with lines (events without lines pass through as they came);
// Keep emits the event's bytes: as they came while untouched, else as changed.
class Rewriter {
 public:
  // Feeds a chunk; returns the bytes to emit now.
  template <class F>
  std::string push(std::string_view chunk, F&& f) {
    std::string out;
    out.reserve(chunk.size());
    for (Event& event : parser_.push(chunk)) emit(event, f, out);
    return out;
  }
  // The end of the stream: the tail, given to `f` as one last event; returns the bytes to emit.
  template <class F>
  std::string finish(F&& f) {
    std::string out;
    if (auto event = parser_.finish()) emit(*event, f, out);
    return out;
  }
  // Bytes held back (the incomplete tail).
  size_t pending() const { return parser_.pending(); }

 private:
  template <class F>
  static void emit(Event& event, F& f, std::string& out) {
    if (event.empty()) return event.writeTo(out);
    Verdict verdict = f(event);
    switch (verdict.kind) {
      case Verdict::Kind::Keep:
        event.writeTo(out);
        break;
      case Verdict::Kind::Drop:
        break;
      case Verdict::Kind::Replace:
        for (const Event& e : verdict.events) e.writeTo(out);
        break;
    }
  }
  Parser parser_;
};

}  // namespace sse
}  // namespace v0
}  // namespace pwsdk
