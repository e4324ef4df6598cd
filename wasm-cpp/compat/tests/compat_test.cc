// Native tests of the standard API's pure logic (header-pair (de)serialisation, property paths, metric names,
// toString). Built and run by `cargo xtask test` (C++ SDK stage); by hand from the repository root:
//   c++ -std=c++17 -fno-exceptions -fno-rtti -Wall -Wextra -I wasm-cpp/compat/include
//     wasm-cpp/compat/tests/compat_test.cc -o /tmp/compat-tests && /tmp/compat-tests
// Only header-inline code runs here; the host is not involved.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../tests/check.h"
#include "proxy_wasm_intrinsics.h"

// The one hostcall this test can reach (MetricBase aborts through logCritical on a misuse the test does not
// make): print the line instead.
WasmResult proxy_log(LogLevel, const char* message, size_t size) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(size), message);
  return WasmResult::Ok;
}

namespace {

// A WasmData owning a malloc'ed copy of `bytes`, as the host would hand it over.
WasmDataPtr hostData(const std::string& bytes) {
  char* p = static_cast<char*>(::malloc(bytes.size() + 1));
  std::memcpy(p, bytes.data(), bytes.size());
  return std::make_unique<WasmData>(p, bytes.size());
}

std::string marshal(const HeaderStringPairs& pairs) {
  std::string out(pairsSize(pairs), '\0');
  marshalPairs(pairs, out.data());
  return out;
}

std::string joined(std::vector<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out;
  for (auto& p : pairs) out += std::string(p.first) + "=" + std::string(p.second) + ";";
  return out;
}

void pairsTests() {
  HeaderStringPairs h = {{":method", "GET"}, {"x-empty", ""}, {"x-a", "1"}};
  std::string bytes = marshal(h);
  // u32 count, 3 x (u32, u32), then key\0value\0 for each
  CHECK(bytes.size() == size_t{4 + 3 * 8 + 12 + 9 + 6});
  CHECK_EQ(std::string(bytes.data() + 28, 12), std::string(":method\0GET\0", 12));
  CHECK_EQ(joined(hostData(bytes)->pairs()), std::string(":method=GET;x-empty=;x-a=1;"));

  // exportPairs: a malloc'ed copy, or nothing for no pairs
  const char* ptr = nullptr;
  size_t size = 0;
  exportPairs(h, &ptr, &size);
  CHECK_EQ(std::string(ptr, size), bytes);
  ::free(const_cast<char*>(ptr));
  exportPairs(HeaderStringPairs{}, &ptr, &size);
  CHECK(ptr == nullptr && size == 0);
  void* buffer = nullptr;
  MakeHeaderStringPairsBuffer(h, &buffer, &size);
  CHECK_EQ(std::string(static_cast<char*>(buffer), size), bytes);
  ::free(buffer);

  // string_view pairs serialise the same
  std::vector<std::pair<std::string_view, std::string_view>> views = {
      {":method", "GET"}, {"x-empty", ""}, {"x-a", "1"}};
  std::string again(pairsSize(views), '\0');
  marshalPairs(views, again.data());
  CHECK_EQ(again, bytes);

  // malformed buffers give no pairs instead of reading past the end
  CHECK(hostData("")->pairs().empty());
  CHECK(hostData(std::string("\x01\0\0", 3))->pairs().empty());
  CHECK(hostData(bytes.substr(0, bytes.size() - 1))->pairs().empty());
  std::string huge_count = bytes;
  huge_count[0] = '\x7f';
  CHECK(hostData(huge_count)->pairs().empty());
  std::string long_key = bytes;
  long_key[4] = '\x50';  // first key claims 80 bytes
  CHECK(hostData(long_key)->pairs().empty());
  CHECK(hostData(std::string("\0\0\0\0", 4))->pairs().empty());
  WasmData none(nullptr, 0);
  CHECK(none.pairs().empty());
  CHECK_EQ(none.toString(), std::string());
}

void propertyPathTests() {
  using proxy_wasm_compat::propertyPath;
  CHECK_EQ(propertyPath(std::initializer_list<std::string_view>{"request", "path"}),
           std::string("request\0path", 12));
  CHECK_EQ(propertyPath(std::vector<std::string>{"plugin_root_id"}), std::string("plugin_root_id"));
  CHECK_EQ(propertyPath(std::vector<std::string_view>{"", "x"}), std::string("\0x", 2));
  CHECK_EQ(propertyPath(std::vector<std::string>{}), std::string());
}

void metricNameTests() {
  MetricBase m(MetricType::Counter, "requests",
               {{"method", MetricTag::TagType::String}, {"code", MetricTag::TagType::Int}});
  CHECK_EQ(m.prefixWithFields({"GET", "200"}) + m.name, std::string("method.GET.code.200.requests"));
  m.partiallyResolveWithFields({"POST"});
  CHECK_EQ(m.prefix, std::string("method.POST."));
  CHECK(m.tags.size() == 1);
  CHECK_EQ(m.prefixWithFields({"503"}) + m.name, std::string("method.POST.code.503.requests"));
  MetricBase custom(MetricType::Gauge, "g", {{"zone", MetricTag::TagType::String}}, ";", "=");
  CHECK_EQ(custom.prefixWithFields({"eu"}), std::string("zone=eu;"));

  CHECK_EQ(toString(std::string("s")), std::string("s"));
  CHECK_EQ(toString(std::string_view("v")), std::string("v"));
  CHECK_EQ(toString(static_cast<const char*>("c")), std::string("c"));
  CHECK_EQ(toString(true), std::string("true"));
  CHECK_EQ(toString(42), std::string("42"));
  CHECK_EQ(toString(WasmResult::Ok), std::string("Ok"));
  CHECK_EQ(toString(WasmResult::CasMismatch), std::string("CasMismatch"));
  CHECK_EQ(toString(WasmResult::Unimplemented), std::string("Unimplemented"));
  CHECK_EQ(toString(static_cast<WasmResult>(99)), std::string("Unknown"));
  CHECK(toMetricTag(MetricTagDescriptor<int>("code")).tagType == MetricTag::TagType::Int);
  CHECK(toMetricTag(MetricTagDescriptor<std::string>("m")).tagType == MetricTag::TagType::String);
  CHECK(toMetricTag(MetricTagDescriptor<bool>("b")).tagType == MetricTag::TagType::Bool);
}

void enumTests() {
  // the ABI values the host sends and expects
  CHECK(static_cast<int>(FilterHeadersStatus::StopIteration) == 1);
  CHECK(static_cast<int>(FilterHeadersStatus::StopAllIterationAndWatermark) == 4);
  CHECK(static_cast<int>(FilterDataStatus::StopIterationAndBuffer) == 1);
  CHECK(static_cast<int>(FilterDataStatus::StopIterationNoBuffer) == 3);
  CHECK(static_cast<int>(WasmHeaderMapType::HttpCallResponseHeaders) == 6);
  CHECK(static_cast<int>(WasmBufferType::PluginConfiguration) == 7);
  CHECK(static_cast<int>(WasmStreamType::Response) == 1);
  CHECK(static_cast<int>(LogLevel::critical) == 5);
  CHECK(static_cast<int>(GrpcStatus::InvalidCode) == -1);
  CHECK(static_cast<int>(MetricType::Histogram) == 2);
}

}  // namespace

int main() {
  pairsTests();
  propertyPathTests();
  metricNameTests();
  enumTests();
  std::printf("standard C++ SDK API: %d checks, %d failed\n", check::checks, check::failures);
  return check::failures == 0 ? 0 : 1;
}
