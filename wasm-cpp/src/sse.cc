// Server-sent events (see sse.h). Pure: no host calls.
#include "pwsdk/sse.h"

namespace pwsdk {
inline namespace v0 {
namespace sse {

Line Line::parse(std::string_view line) {
  if (!line.empty() && line[0] == ':') return comment(line.substr(1));
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return field(line, {});
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  return field(line.substr(0, colon), value);
}

std::optional<std::string_view> Event::field(std::string_view name) const {
  for (auto it = lines_.rbegin(); it != lines_.rend(); ++it) {
    if (it->isField(name)) return std::string_view(it->value);
  }
  return std::nullopt;
}

std::optional<uint64_t> Event::retry() const {
  auto v = field("retry");
  if (!v || v->empty()) return std::nullopt;
  uint64_t n = 0;
  for (char ch : *v) {
    if (ch < '0' || ch > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  return n;
}

std::optional<std::string> Event::data() const {
  std::optional<std::string> out;
  for (const Line& l : lines_) {
    if (!l.isField("data")) continue;
    if (out) {
      out->push_back('\n');
      out->append(l.value);
    } else {
      out = l.value;
    }
  }
  return out;
}

std::vector<std::string_view> Event::comments() const {
  std::vector<std::string_view> out;
  for (const Line& l : lines_) {
    if (l.kind == Line::Kind::Comment) out.emplace_back(l.value);
  }
  return out;
}

void Event::setField(std::string_view name, std::string_view value) {
  size_t at = lines_.size();
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].isField(name)) {
      at = i;
      break;
    }
  }
  removeField(name);  // every removed line is at or after `at`
  std::vector<Line> pieces;
  size_t start = 0;
  while (true) {
    size_t nl = value.find('\n', start);
    pieces.push_back(Line::field(name, value.substr(start, nl == std::string_view::npos ? nl : nl - start)));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(at), pieces.begin(), pieces.end());
}

void Event::removeField(std::string_view name) {
  raw_.reset();
  std::vector<Line> kept;
  kept.reserve(lines_.size());
  for (Line& l : lines_) {
    if (!l.isField(name)) kept.push_back(std::move(l));
  }
  lines_ = std::move(kept);
}

void Event::pushField(std::string_view name, std::string_view value) {
  raw_.reset();
  lines_.push_back(Line::field(name, value));
}

void Event::pushComment(std::string_view text) {
  raw_.reset();
  lines_.push_back(Line::comment(text));
}

std::string Event::serialize() const {
  std::string out;
  for (const Line& l : lines_) {
    if (l.kind == Line::Kind::Comment) {
      out.push_back(':');
      out.append(l.value);
    } else {
      out.append(l.name);
      out.push_back(':');
      if (!l.value.empty()) {
        out.push_back(' ');
        out.append(l.value);
      }
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  return out;
}

void Event::writeTo(std::string& out) const {
  if (raw_) {
    out.append(*raw_);
  } else {
    out.append(serialize());
  }
}

std::vector<std::pair<std::string_view, std::string_view>> splitLines(std::string_view bytes) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  size_t start = 0, i = 0;
  while (i < bytes.size()) {
    if (bytes[i] == '\n' || bytes[i] == '\r') {
      size_t end = i + 1;
      if (bytes[i] == '\r' && end < bytes.size() && bytes[end] == '\n') ++end;
      out.emplace_back(bytes.substr(start, i - start), bytes.substr(i, end - i));
      i = start = end;
    } else {
      ++i;
    }
  }
  if (start < bytes.size()) out.emplace_back(bytes.substr(start), bytes.substr(bytes.size()));
  return out;
}

std::vector<Event> Parser::push(std::string_view chunk) {
  std::vector<Event> events;
  if (chunk.empty()) return events;
  buf_.append(chunk.data(), chunk.size());
  size_t event_start = 0;
  size_t i = line_start_;
  while (i < buf_.size()) {
    char ch = buf_[i];
    if (ch != '\n' && ch != '\r') {
      ++i;
      continue;
    }
    size_t end = i + 1;
    if (ch == '\r') {
      if (end == buf_.size()) break;  // wait for the next byte: it may be the `\n` of `\r\n`
      if (buf_[end] == '\n') ++end;
    }
    if (i == line_start_) {  // a blank line ends the event
      Event e;
      e.lines_ = std::move(lines_);
      lines_.clear();
      e.raw_ = buf_.substr(event_start, end - event_start);
      events.push_back(std::move(e));
      event_start = end;
    } else {
      lines_.push_back(Line::parse(std::string_view(buf_).substr(line_start_, i - line_start_)));
    }
    line_start_ = end;
    i = end;
  }
  if (event_start > 0) {
    buf_.erase(0, event_start);
    line_start_ -= event_start;
  }
  return events;
}

std::optional<Event> Parser::finish() {
  std::string buf = std::move(buf_);
  buf_.clear();
  size_t line_start = line_start_;
  line_start_ = 0;
  std::vector<Line> lines = std::move(lines_);
  lines_.clear();
  if (buf.empty()) return std::nullopt;
  size_t content_end = buf.back() == '\r' ? buf.size() - 1 : buf.size();
  // A held `\r` ends the last line (a blank one completes the event); bytes without a line end are one.
  if (line_start < content_end) {
    lines.push_back(Line::parse(std::string_view(buf).substr(line_start, content_end - line_start)));
  }
  Event e;
  e.lines_ = std::move(lines);
  e.raw_ = std::move(buf);
  return e;
}

}  // namespace sse
}  // namespace v0
}  // namespace pwsdk
