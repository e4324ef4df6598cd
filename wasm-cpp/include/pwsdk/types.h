// ABI enums of proxy-wasm 0.2.1, with the values the host sends and expects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pwsdk {
inline namespace v0 {

// Result of every host call (`proxy_*` import).
enum class Status : uint32_t {
  Ok = 0,                    // success
  NotFound = 1,              // the header, property, buffer or context does not exist
  BadArgument = 2,           // an argument is out of range (e.g. a log level > 5)
  SerializationFailure = 3,  // a value could not be serialised
  ParseFailure = 4,          // a value (e.g. a property path) could not be parsed
  BadExpression = 5,         // an expression was rejected
  InvalidMemoryAccess = 6,   // a pointer/length pair lies outside linear memory
  Empty = 7,                 // the queue or buffer is empty
  CasMismatch = 8,           // shared data changed since it was read
  ResultMismatch = 9,        // the host returned a result of the wrong kind
  InternalFailure = 10,      // the host failed, or the call is not allowed here
  BrokenConnection = 11,     // the callout's connection broke
  Unimplemented = 12,        // the host does not implement this call
};

// The name of a status ("NotFound"; "unknown status" for values outside the ABI), and the text of a failed
// host call as the Rust SDK's HostError writes it: "host call <call> failed with status 1 (NotFound)".
std::string_view statusName(Status status);
std::string hostCallError(std::string_view call, Status status);

// Which header map a header call addresses.
enum class MapType : uint32_t {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcInitialMetadata = 4,
  GrpcTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
};

// Which byte buffer a buffer call addresses.
enum class BufferType : uint32_t {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
};

enum class LogLevel : uint32_t {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
};

enum class StreamType : uint32_t {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
};

// What a request/response headers callback tells the host. The host treats StopIteration (1) like
// StopAllIterationAndWatermark under ABI 0.2.x; plug-ins that answer locally return StopIteration.
enum class FilterHeadersStatus : uint32_t {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
};

// What a body callback tells the host.
enum class FilterDataStatus : uint32_t {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
};

enum class FilterTrailersStatus : uint32_t {
  Continue = 0,
  StopIteration = 1,
};

enum class PeerType : uint32_t {
  Unknown = 0,
  Local = 1,
  Remote = 2,
};

// What a callout's answer callback tells the SDK: Continue resumes the stream the callback paused (once no
// other callout of that stream is in flight); Stop keeps it paused (resume later with resumeRequest() /
// resumeResponse() or answer with sendLocalResponse). Rust: `Flow`.
enum class Flow : uint32_t {
  Continue = 0,
  Stop = 1,
};

// The kind of a metric (proxy_define_metric).
enum class MetricType : uint32_t {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
};

// gRPC status passed to send_local_response; -1 means "not a gRPC reply".
enum class GrpcStatus : int32_t {
  None = -1,
  Ok = 0,
};

}  // namespace v0
}  // namespace pwsdk
