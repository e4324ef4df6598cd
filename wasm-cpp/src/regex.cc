// Regex: parser (pattern -> AST), compiler (AST -> NFA program), and a Thompson NFA simulation.
#include "pwsdk/regex.h"

#include <algorithm>
#include <memory>

#include "pwsdk/detail/strings.h"

namespace pwsdk {
inline namespace v0 {

namespace {

using ByteSet = Regex::ByteSet;

void setAdd(ByteSet& s, uint8_t b) { s[b >> 6] |= uint64_t{1} << (b & 63); }
bool setHas(const ByteSet& s, uint8_t b) { return (s[b >> 6] >> (b & 63)) & 1; }
void setRange(ByteSet& s, uint8_t lo, uint8_t hi) {
  for (unsigned b = lo; b <= hi; ++b) setAdd(s, static_cast<uint8_t>(b));
}
void setUnion(ByteSet& s, const ByteSet& o) {
  for (size_t i = 0; i < 4; ++i) s[i] |= o[i];
}
ByteSet setNegate(const ByteSet& s) {
  ByteSet out;
  for (size_t i = 0; i < 4; ++i) out[i] = ~s[i];
  return out;
}
// Adds the other ASCII case of every letter in the set.
void setFold(ByteSet& s) {
  for (unsigned b = 'a'; b <= 'z'; ++b) {
    auto lower = static_cast<uint8_t>(b);
    auto upper = static_cast<uint8_t>(b - 'a' + 'A');
    if (setHas(s, lower) || setHas(s, upper)) {
      setAdd(s, lower);
      setAdd(s, upper);
    }
  }
}

ByteSet digitSet() {
  ByteSet s{};
  setRange(s, '0', '9');
  return s;
}
ByteSet wordSet() {
  ByteSet s{};
  setRange(s, '0', '9');
  setRange(s, 'a', 'z');
  setRange(s, 'A', 'Z');
  setAdd(s, '_');
  return s;
}
ByteSet spaceSet() {
  // \s in ASCII: space, \t, \n, \v, \f, \r
  ByteSet s{};
  setAdd(s, ' ');
  setRange(s, '\t', '\r');
  return s;
}

struct Node {
  enum class Kind : uint8_t { Empty, Set, Concat, Alternate, Repeat, AssertStart, AssertEnd };
  Kind kind = Kind::Empty;
  ByteSet set{};  // Set: already case-folded and negated as the pattern asks
  std::vector<std::unique_ptr<Node>> children;
  uint32_t min = 0;
  uint32_t max = 0;  // kUnbounded for no upper bound
};
constexpr uint32_t kUnbounded = UINT32_MAX;

using NodePtr = std::unique_ptr<Node>;

NodePtr makeNode(Node::Kind k) {
  auto n = std::make_unique<Node>();
  n->kind = k;
  return n;
}

// How a byte is shown in messages: itself when printable, else \xHH.
std::string show(uint8_t b) {
  if (b > 0x20 && b < 0x7F) return std::string(1, static_cast<char>(b));
  const char* hex = "0123456789ABCDEF";
  return detail::cat("\\x", hex[b >> 4], hex[b & 15]);
}

enum class Shorthand : uint8_t { Digit, Word, Space };

ByteSet shorthandSet(Shorthand s) {
  switch (s) {
    case Shorthand::Digit:
      return digitSet();
    case Shorthand::Word:
      return wordSet();
    case Shorthand::Space:
      return spaceSet();
  }
  return ByteSet{};
}

// The parser follows wasm-rust/src/regex.rs rule for rule (same rejections, reasons and offsets), so both
// SDKs accept the same patterns and log the same messages.
class Parser {
 public:
  Parser(std::string_view p, bool ci) : p_(p), ci_(ci) {}

  // On failure returns nullptr with `offset`/`reason` set.
  NodePtr parse() {
    NodePtr n = alternation();
    if (n && pos_ < p_.size()) {
      // only an unmatched `)` stops the top-level alternation early
      return fail(pos_, "unmatched `)`");
    }
    return n;
  }

  size_t offset = 0;
  std::string reason;

 private:
  std::string_view p_;
  bool ci_;
  size_t pos_ = 0;
  size_t depth_ = 0;

  std::nullptr_t fail(size_t at, std::string why) {
    offset = at;
    reason = std::move(why);
    return nullptr;
  }
  int peekAt(size_t i) const { return i < p_.size() ? static_cast<uint8_t>(p_[i]) : -1; }
  int peek() const { return peekAt(pos_); }

  NodePtr setNode(ByteSet set, bool negated) {
    if (ci_) setFold(set);
    auto n = makeNode(Node::Kind::Set);
    n->set = negated ? setNegate(set) : set;
    return n;
  }
  NodePtr byteNode(uint8_t b) {
    ByteSet s{};
    setAdd(s, b);
    return setNode(s, false);
  }

  NodePtr alternation() {
    std::vector<NodePtr> branches;
    NodePtr first = concat();
    if (!first) return nullptr;
    branches.push_back(std::move(first));
    while (peek() == '|') {
      ++pos_;
      NodePtr b = concat();
      if (!b) return nullptr;
      branches.push_back(std::move(b));
    }
    if (branches.size() == 1) return std::move(branches[0]);
    auto n = makeNode(Node::Kind::Alternate);
    n->children = std::move(branches);
    return n;
  }

  NodePtr concat() {
    std::vector<NodePtr> items;
    for (int c = peek(); c >= 0 && c != '|' && c != ')'; c = peek()) {
      size_t atom_at = pos_;
      NodePtr a = atom();
      if (!a) return nullptr;
      NodePtr q = quantified(std::move(a), atom_at);
      if (!q) return nullptr;
      items.push_back(std::move(q));
    }
    if (items.empty()) return makeNode(Node::Kind::Empty);
    if (items.size() == 1) return std::move(items[0]);
    auto n = makeNode(Node::Kind::Concat);
    n->children = std::move(items);
    return n;
  }

  NodePtr atom() {
    size_t at = pos_;
    int c = peek();
    if (c < 0) return fail(at, "unexpected end of pattern");
    ++pos_;
    switch (c) {
      case '(': {
        if (peek() == '?') {
          if (peekAt(pos_ + 1) == ':') {
            pos_ += 2;
          } else {
            return fail(at, "unsupported group syntax `(?` (only `(?:` is allowed)");
          }
        }
        ++depth_;
        if (depth_ > Regex::kMaxNesting) {
          return fail(at, detail::cat("groups nested deeper than ", Regex::kMaxNesting));
        }
        NodePtr inner = alternation();
        if (!inner) return nullptr;
        if (peek() != ')') return fail(at, "unclosed group");
        ++pos_;
        --depth_;
        return inner;
      }
      case '[':
        return characterClass(at);
      case '.': {
        ByteSet s{};
        setAdd(s, '\n');
        return setNode(s, true);
      }
      case '^':
        return makeNode(Node::Kind::AssertStart);
      case '$':
        return makeNode(Node::Kind::AssertEnd);
      case '\\': {
        int byte = -1;
        Shorthand sh{};
        bool negated = false;
        if (!escape(at, false, byte, sh, negated)) return nullptr;
        if (byte >= 0) return byteNode(static_cast<uint8_t>(byte));
        return setNode(shorthandSet(sh), negated);
      }
      case '*':
      case '+':
      case '?':
      case '{':
        return fail(at, detail::cat("quantifier `", static_cast<char>(c), "` without a preceding item"));
      case ']':
      case '}':
        return fail(
            at, detail::cat("unescaped `", static_cast<char>(c), "` (write `\\", static_cast<char>(c), "`)"));
      default:
        return byteNode(static_cast<uint8_t>(c));
    }
  }

  NodePtr quantified(NodePtr atom, size_t atom_at) {
    uint32_t min = 0;
    uint32_t max = kUnbounded;
    switch (peek()) {
      case '*':
        break;
      case '+':
        min = 1;
        break;
      case '?':
        max = 1;
        break;
      case '{': {
        size_t end = 0;
        if (!counted(min, max, end)) return nullptr;
        pos_ = end - 1;  // the ++pos_ below moves past `}`
        break;
      }
      default:
        return atom;
    }
    ++pos_;
    if (atom->kind == Node::Kind::AssertStart || atom->kind == Node::Kind::AssertEnd) {
      return fail(atom_at, "an anchor cannot be repeated");
    }
    if (peek() == '?') ++pos_;  // lazy form: same result under a full match
    int c = peek();
    if (c == '*' || c == '+' || c == '?' || c == '{') {
      return fail(pos_, detail::cat("quantifier `", static_cast<char>(c), "` follows another quantifier"));
    }
    auto r = makeNode(Node::Kind::Repeat);
    r->min = min;
    r->max = max;
    r->children.push_back(std::move(atom));
    return r;
  }

  // Reads digits at `i`; false (with an error) when the value is over the limit. `present` tells whether
  // there were any digits.
  bool number(size_t& i, uint32_t& value, bool& present) {
    size_t start = i;
    uint64_t v = 0;
    while (peekAt(i) >= '0' && peekAt(i) <= '9') {
      v = std::min<uint64_t>(v * 10 + static_cast<uint64_t>(peekAt(i) - '0'), UINT32_MAX);
      ++i;
    }
    present = i != start;
    if (present && v > Regex::kMaxRepeat) {
      fail(start, detail::cat("repetition bound ", v, " is over ", Regex::kMaxRepeat));
      return false;
    }
    value = static_cast<uint32_t>(v);
    return true;
  }

  // Parses `{n}`, `{n,}` or `{n,m}` at pos_; `end` is the offset just after `}`.
  bool counted(uint32_t& min, uint32_t& max, size_t& end) {
    size_t at = pos_;
    auto bad = [&] {
      fail(at, "invalid counted repetition (expected `{n}`, `{n,}` or `{n,m}`)");
      return false;
    };
    size_t i = at + 1;
    bool present = false;
    if (!number(i, min, present)) return false;
    if (!present) return bad();
    if (peekAt(i) == '}') {
      max = min;
    } else if (peekAt(i) == ',') {
      ++i;
      uint32_t m = 0;
      if (!number(i, m, present)) return false;
      if (peekAt(i) != '}') return bad();
      max = present ? m : kUnbounded;
    } else {
      return bad();
    }
    if (max != kUnbounded && max < min) {
      fail(at, detail::cat("invalid counted repetition {", min, ",", max, "} (min is over max)"));
      return false;
    }
    end = i + 1;
    return true;
  }

  // Parses the escape after a `\` (already consumed; `at` is its offset). Sets `byte` for a literal, or
  // `sh`/`negated` (byte = -1) for a shorthand class.
  bool escape(size_t at, bool in_class, int& byte, Shorthand& sh, bool& negated) {
    int c = peek();
    if (c < 0) {
      fail(at, "trailing backslash");
      return false;
    }
    ++pos_;
    byte = -1;
    negated = false;
    switch (c) {
      case '\\':
      case '.':
      case '*':
      case '+':
      case '?':
      case '(':
      case ')':
      case '[':
      case ']':
      case '{':
      case '}':
      case '|':
      case '^':
      case '$':
      case '/':
      case '-':
        byte = c;
        return true;
      case 'n':
        byte = '\n';
        return true;
      case 't':
        byte = '\t';
        return true;
      case 'r':
        byte = '\r';
        return true;
      case 'd':
        sh = Shorthand::Digit;
        return true;
      case 'w':
        sh = Shorthand::Word;
        return true;
      case 's':
        sh = Shorthand::Space;
        return true;
      case 'D':
      case 'W':
      case 'S':
        if (in_class) {
          fail(at, detail::cat("`\\", static_cast<char>(c), "` is not allowed inside a class"));
          return false;
        }
        negated = true;
        sh = c == 'D' ? Shorthand::Digit : c == 'W' ? Shorthand::Word : Shorthand::Space;
        return true;
      default:
        fail(at, detail::cat("unsupported escape `\\", show(static_cast<uint8_t>(c)), "`"));
        return false;
    }
  }

  // A `-` at pos_ that starts a range (is not the last thing before `]`).
  bool rangeDashAhead() const { return peek() == '-' && peekAt(pos_ + 1) >= 0 && peekAt(pos_ + 1) != ']'; }

  // Parses a class; `at` points to its `[` (already consumed).
  NodePtr characterClass(size_t at) {
    bool negated = peek() == '^';
    if (negated) ++pos_;
    ByteSet set{};
    bool first = true;
    for (;;) {
      size_t item_at = pos_;
      int c = peek();
      if (c < 0) return fail(at, "unclosed class");
      ++pos_;
      int lo = c;
      if (c == ']') {
        if (first) return fail(at, "empty class (write `\\]` for a literal `]`)");
        break;
      }
      if (c == '[') return fail(item_at, "unescaped `[` inside a class (write `\\[`)");
      if (c == '-' && !first && peek() != ']') {
        return fail(item_at, "`-` must be first or last in a class, or escaped as `\\-`");
      }
      if (c == '\\') {
        Shorthand sh{};
        bool neg = false;
        if (!escape(item_at, true, lo, sh, neg)) return nullptr;
        if (lo < 0) {
          setUnion(set, shorthandSet(sh));
          if (rangeDashAhead()) return fail(item_at, "a class shorthand cannot start a range");
          first = false;
          continue;
        }
      }
      first = false;
      if (rangeDashAhead()) {
        ++pos_;
        size_t hi_at = pos_;
        int h = peek();
        if (h < 0) return fail(at, "unclosed class");
        ++pos_;
        int hi = h;
        if (h == '[') return fail(hi_at, "unescaped `[` inside a class (write `\\[`)");
        if (h == '\\') {
          Shorthand sh{};
          bool neg = false;
          if (!escape(hi_at, true, hi, sh, neg)) return nullptr;
          if (hi < 0) return fail(hi_at, "a class shorthand cannot end a range");
        }
        if (hi < lo) {
          return fail(item_at, detail::cat("invalid class range `", show(static_cast<uint8_t>(lo)), "-",
                                           show(static_cast<uint8_t>(hi)), "`"));
        }
        setRange(set, static_cast<uint8_t>(lo), static_cast<uint8_t>(hi));
      } else {
        setAdd(set, static_cast<uint8_t>(lo));
      }
    }
    return setNode(set, negated);
  }
};

uint64_t satAdd(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
uint64_t satMul(uint64_t a, uint64_t b) { return (a != 0 && b > UINT64_MAX / a) ? UINT64_MAX : a * b; }

// The pattern cost bounded by Regex::kMaxCost, counted as wasm-rust/src/regex.rs counts it.
uint64_t patternCost(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Empty:
      return 0;
    case Node::Kind::Set:
    case Node::Kind::AssertStart:
    case Node::Kind::AssertEnd:
      return 1;
    case Node::Kind::Concat: {
      uint64_t c = 0;
      for (const auto& ch : n.children) c = satAdd(c, patternCost(*ch));
      return c;
    }
    case Node::Kind::Alternate: {
      uint64_t c = 0;
      for (const auto& ch : n.children) c = satAdd(c, patternCost(*ch));
      return satAdd(c, n.children.size() - 1);
    }
    case Node::Kind::Repeat: {
      uint64_t c = patternCost(*n.children[0]);
      uint64_t min = n.min;
      if (n.max == kUnbounded) {
        if (min <= 1) return satAdd(c, 1);            // e*, e+, e{0,}, e{1,}
        return satAdd(satAdd(satMul(min, c), c), 1);  // e{n,}: n copies and a star
      }
      if (n.min == 0 && n.max == 1) return satAdd(c, 1);  // e?
      uint64_t max = n.max;
      return satAdd(satMul(max, c), max - min);  // e{n,m}: m copies, m - n of them optional
    }
  }
  return 0;
}

}  // namespace

class RegexCompiler {
 public:
  explicit RegexCompiler(Regex& re) : re_(re) {}

  bool compile(const Node& root) {
    if (!node(root)) return false;
    return emit({Regex::Inst::Op::Match, 0, 0});
  }

 private:
  Regex& re_;

  bool emit(Regex::Inst inst) {
    if (re_.program_.size() >= Regex::kMaxProgramSize) return false;
    re_.program_.push_back(inst);
    return true;
  }
  uint32_t here() const { return static_cast<uint32_t>(re_.program_.size()); }

  bool node(const Node& n) {
    using Op = Regex::Inst::Op;
    switch (n.kind) {
      case Node::Kind::Empty:
        return true;
      case Node::Kind::Set: {
        // Reuse identical sets (literal runs repeat the same few).
        uint32_t idx = 0;
        for (; idx < re_.sets_.size(); ++idx) {
          if (re_.sets_[idx] == n.set) break;
        }
        if (idx == re_.sets_.size()) re_.sets_.push_back(n.set);
        return emit({Op::ByteSet, idx, 0});
      }
      case Node::Kind::AssertStart:
        return emit({Op::AssertStart, 0, 0});
      case Node::Kind::AssertEnd:
        return emit({Op::AssertEnd, 0, 0});
      case Node::Kind::Concat:
        for (const auto& c : n.children) {
          if (!node(*c)) return false;
        }
        return true;
      case Node::Kind::Alternate: {
        // split L1, next; L1: a; jmp end; next: split L2, next2 ... last branch without split.
        std::vector<uint32_t> jumps;
        for (size_t i = 0; i < n.children.size(); ++i) {
          bool last = i + 1 == n.children.size();
          uint32_t split = here();
          if (!last && !emit({Op::Split, 0, 0})) return false;
          if (!node(*n.children[i])) return false;
          if (!last) {
            jumps.push_back(here());
            if (!emit({Op::Jump, 0, 0})) return false;
            re_.program_[split].x = split + 1;
            re_.program_[split].y = here();
          }
        }
        for (uint32_t j : jumps) re_.program_[j].x = here();
        return true;
      }
      case Node::Kind::Repeat: {
        const Node& body = *n.children[0];
        for (uint32_t i = 0; i < n.min; ++i) {
          if (!node(body)) return false;
        }
        if (n.max == kUnbounded) {
          // L: split body, end; body; jmp L
          uint32_t loop = here();
          if (!emit({Op::Split, 0, 0})) return false;
          if (!node(body)) return false;
          if (!emit({Op::Jump, loop, 0})) return false;
          re_.program_[loop].x = loop + 1;
          re_.program_[loop].y = here();
          return true;
        }
        // (body (body (...)?)?)? for the optional copies.
        std::vector<uint32_t> splits;
        for (uint32_t i = n.min; i < n.max; ++i) {
          splits.push_back(here());
          if (!emit({Op::Split, 0, 0})) return false;
          if (!node(body)) return false;
        }
        for (uint32_t s : splits) {
          re_.program_[s].x = s + 1;
          re_.program_[s].y = here();
        }
        return true;
      }
    }
    return false;
  }
};

std::optional<uint64_t> Regex::cost(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > kMaxPatternBytes) return std::nullopt;
  Parser parser(pattern, false);
  NodePtr ast = parser.parse();
  if (!ast) return std::nullopt;
  return patternCost(*ast);
}

std::optional<Regex> Regex::compile(std::string_view pattern, bool case_insensitive, std::string* error) {
  auto reject = [&](size_t offset, std::string_view reason) -> std::optional<Regex> {
    if (error) *error = detail::cat("invalid regex: ", reason, " (at byte ", offset, ")");
    return std::nullopt;
  };
  if (pattern.empty()) return reject(0, "empty pattern");
  if (pattern.size() > kMaxPatternBytes) {
    return reject(kMaxPatternBytes, detail::cat("pattern longer than ", kMaxPatternBytes, " bytes"));
  }
  Parser parser(pattern, case_insensitive);
  NodePtr ast = parser.parse();
  if (!ast) return reject(parser.offset, parser.reason);
  uint64_t c = patternCost(*ast);
  if (c > kMaxCost) {
    return reject(0, detail::cat("pattern too complex (cost ", c, " is over ", kMaxCost, ")"));
  }
  Regex re;
  RegexCompiler compiler(re);
  if (!compiler.compile(*ast)) {
    return reject(0, detail::cat("pattern too large (more than ", kMaxProgramSize, " states)"));
  }
  return re;
}

namespace {

// A set of program counters with O(1) insert/test/clear (Briggs-Torczon sparse set).
class SparseSet {
 public:
  explicit SparseSet(size_t n) : dense_(n), sparse_(n) {}
  bool contains(uint32_t pc) const {
    uint32_t i = sparse_[pc];
    return i < size_ && dense_[i] == pc;
  }
  void insert(uint32_t pc) {
    sparse_[pc] = static_cast<uint32_t>(size_);
    dense_[size_++] = pc;
  }
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  uint32_t operator[](size_t i) const { return dense_[i]; }

 private:
  std::vector<uint32_t> dense_;
  std::vector<uint32_t> sparse_;
  size_t size_ = 0;
};

}  // namespace

bool Regex::fullMatch(std::string_view text) const {
  if (program_.empty()) return false;
  const size_t n = program_.size();
  SparseSet current(n);
  SparseSet next(n);
  std::vector<uint32_t> stack;
  stack.reserve(n);

  // Adds pc and everything reachable from it without consuming a byte, at text offset `at`.
  auto closure = [&](SparseSet& set, uint32_t start, size_t at) {
    stack.push_back(start);
    while (!stack.empty()) {
      uint32_t pc = stack.back();
      stack.pop_back();
      if (set.contains(pc)) continue;
      set.insert(pc);
      const Inst& inst = program_[pc];
      switch (inst.op) {
        case Inst::Op::Jump:
          stack.push_back(inst.x);
          break;
        case Inst::Op::Split:
          stack.push_back(inst.y);
          stack.push_back(inst.x);
          break;
        case Inst::Op::AssertStart:
          if (at == 0) stack.push_back(pc + 1);
          break;
        case Inst::Op::AssertEnd:
          if (at == text.size()) stack.push_back(pc + 1);
          break;
        case Inst::Op::ByteSet:
        case Inst::Op::Match:
          break;
      }
    }
  };

  closure(current, 0, 0);
  for (size_t i = 0; i < text.size(); ++i) {
    if (current.size() == 0) return false;
    auto byte = static_cast<uint8_t>(text[i]);
    next.clear();
    for (size_t k = 0; k < current.size(); ++k) {
      const Inst& inst = program_[current[k]];
      if (inst.op == Inst::Op::ByteSet && setHas(sets_[inst.x], byte)) closure(next, current[k] + 1, i + 1);
    }
    std::swap(current, next);
  }
  for (size_t k = 0; k < current.size(); ++k) {
    if (program_[current[k]].op == Inst::Op::Match) return true;
  }
  return false;
}

}  // namespace v0
}  // namespace pwsdk
