// request-block: answers requests whose URL, headers or body match a block rule with a fixed response.
#include "pwsdk/pwsdk.h"

namespace {

using pwsdk::cat;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

struct Config {
  std::vector<std::string> block_urls;         // block when the URL (`:path` with query) contains one
  std::vector<std::string> block_exact_urls;   // block when the URL equals one
  std::vector<std::string> block_regexp_urls;  // block when the whole URL matches one (pwsdk regex)
  std::vector<std::string> block_headers;      // block when a header line `name: value` contains one
  std::vector<std::string> block_bodies;       // block when the body contains one (alias `block_bodys`)
  uint32_t blocked_code = 403;
  std::string blocked_message;
  bool case_sensitive = true;
  std::vector<pwsdk::Regex> regexes;

  static bool checkList(pwsdk::ConfigReader& in, std::string_view field, std::vector<std::string>& list,
                        bool lower) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].empty()) return in.fail(cat(field, "[", i, "]"), "must not be empty");
      if (lower) list[i] = pwsdk::detail::asciiLowercase(list[i]);
    }
    return true;
  }

  static bool parse(pwsdk::ConfigReader& in, Config& out) {
    in.field("block_urls", out.block_urls);
    in.field("block_exact_urls", out.block_exact_urls);
    in.field("block_regexp_urls", out.block_regexp_urls);
    in.field("block_headers", out.block_headers);
    in.field("block_bodies", out.block_bodies, {"block_bodys"});
    in.field("blocked_code", out.blocked_code);
    in.field("blocked_message", out.blocked_message);
    in.field("case_sensitive", out.case_sensitive);
    if (!in.finish()) return false;
    bool lower = !out.case_sensitive;
    if (out.block_urls.empty() && out.block_exact_urls.empty() && out.block_regexp_urls.empty() &&
        out.block_headers.empty() && out.block_bodies.empty()) {
      return in.fail("",
                     "no block rule: set at least one of block_urls, block_exact_urls, block_regexp_urls, "
                     "block_headers, block_bodies");
    }
    if (out.blocked_code < 100 || out.blocked_code > 599) {
      return in.fail("blocked_code", "must be an HTTP status between 100 and 599");
    }
    if (!checkList(in, "block_urls", out.block_urls, lower) ||
        !checkList(in, "block_exact_urls", out.block_exact_urls, lower) ||
        !checkList(in, "block_headers", out.block_headers, lower) ||
        !checkList(in, "block_bodies", out.block_bodies, lower)) {
      return false;
    }
    for (size_t i = 0; i < out.block_regexp_urls.size(); ++i) {
      std::string error;
      auto re = pwsdk::Regex::compile(out.block_regexp_urls[i], lower, &error);
      if (!re) return in.fail(cat("block_regexp_urls[", i, "]"), error);
      out.regexes.push_back(std::move(*re));
    }
    return true;
  }

  std::string fold(std::string s) const { return case_sensitive ? s : pwsdk::detail::asciiLowercase(s); }

  bool urlBlocked(std::string_view url) const {
    for (const auto& e : block_exact_urls) {
      if (url == e) return true;
    }
    for (const auto& e : block_urls) {
      if (contains(url, e)) return true;
    }
    for (const auto& r : regexes) {
      if (r.fullMatch(url)) return true;
    }
    return false;
  }

  bool anyIn(std::string_view text, const std::vector<std::string>& needles) const {
    for (const auto& e : needles) {
      if (contains(text, e)) return true;
    }
    return false;
  }
};

class RequestBlock : public pwsdk::Filter<Config> {
 public:
  using Filter::Filter;

  pwsdk::FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    const Config& c = config();
    if (!c.block_urls.empty() || !c.block_exact_urls.empty() || !c.regexes.empty()) {
      if (auto path = requestHeader(":path")) {
        if (c.urlBlocked(c.fold(std::move(*path)))) return block();
      }
    }
    if (!c.block_headers.empty()) {
      for (auto& [name, value] :
           pwsdk::getHeaderPairs(pwsdk::MapType::RequestHeaders).value_or(pwsdk::HeaderList{})) {
        if (c.anyIn(c.fold(cat(name, ": ", value)), c.block_headers)) return block();
      }
    }
    if (!c.block_bodies.empty()) bufferRequestBody();
    return pwsdk::FilterHeadersStatus::Continue;
  }

  pwsdk::FilterDataStatus onRequestBodyBuffered(std::string_view body) override {
    const Config& c = config();
    if (c.anyIn(c.fold(std::string(body)), c.block_bodies)) {
      block();
      return pwsdk::FilterDataStatus::StopIterationNoBuffer;
    }
    return pwsdk::FilterDataStatus::Continue;
  }

 private:
  pwsdk::FilterHeadersStatus block() {
    pwsdk::sendLocalResponse(config().blocked_code, config().blocked_message);
    return pwsdk::FilterHeadersStatus::StopIteration;
  }
};

pwsdk::Register<pwsdk::Plugin<Config>, RequestBlock> registration("request-block");

}  // namespace
