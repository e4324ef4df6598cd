// Standard proxy-wasm C++ SDK API (compat layer): callback results and other enumerations, with the upstream
// SDK's names and values. Part of `proxy_wasm_intrinsics.h`.
#pragma once

#include <cstdint>

enum class LogLevel : int32_t { trace, debug, info, warn, error, critical, Max = critical };

// Result of a TCP data callback.
enum class FilterStatus : int32_t {
  Continue = 0,
  StopIteration = 1,  // until continueDownstream()/continueUpstream()
};

// Result of a headers callback. Under ABI 0.2.x hosts treat StopIteration like StopAllIterationAndWatermark:
// body and trailers wait until continueRequest()/continueResponse().
enum class FilterHeadersStatus : int32_t {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
};

// Result of a metadata callback (hosts do not deliver metadata today).
enum class FilterMetadataStatus : int32_t { Continue = 0 };

// Result of a trailers callback.
enum class FilterTrailersStatus : int32_t {
  Continue = 0,
  StopIteration = 1,
};

// Result of a body callback.
enum class FilterDataStatus : int32_t {
  Continue = 0,
  StopIterationAndBuffer = 1,     // hold this chunk back and deliver the buffered body with the next one
  StopIterationAndWatermark = 2,  // also stop reading more data
  StopIterationNoBuffer = 3,      // hold back without buffering
};

// gRPC status codes (also the grpc_status of sendLocalResponse; InvalidCode = not a gRPC reply).
enum class GrpcStatus : int32_t {
  Ok = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
  MaximumValid = Unauthenticated,
  InvalidCode = -1,
};

enum class MetricType : int32_t {
  Counter = 0,    // only grows
  Gauge = 1,      // a current value
  Histogram = 2,  // a distribution of recorded values
  Max = 2,
};

// Who closed a TCP connection.
enum class CloseType : int32_t {
  Unknown = 0,
  Local = 1,
  Remote = 2,
};
