// Standard proxy-wasm C++ SDK API (compat layer): the ABI's shared enumerations, with the upstream SDK's
// names and values. Part of `proxy_wasm_intrinsics.h`; see wasm-cpp/README.md ("The standard C++ SDK API").
#pragma once

#include <cstdint>
#include <string>

// What every hostcall returns (proxy-wasm `proxy_status_t`).
enum class WasmResult : uint32_t {
  Ok = 0,
  NotFound = 1,              // no such key, header, property, queue, buffer or context
  BadArgument = 2,           // an argument is out of range
  SerializationFailure = 3,  // a value could not be serialised
  ParseFailure = 4,          // a value could not be parsed
  BadExpression = 5,         // an expression (e.g. a property path) was not understood
  InvalidMemoryAccess = 6,   // a pointer/length pair lies outside the module's memory
  Empty = 7,                 // nothing to take (an empty queue)
  CasMismatch = 8,           // shared data changed since it was read
  ResultMismatch = 9,        // the host returned a result of the wrong kind
  InternalFailure = 10,      // the host failed, or the call is not allowed in this callback
  BrokenConnection = 11,     // a callout's connection broke
  Unimplemented = 12,        // the host does not implement this call
};

// The enumerator's name, e.g. "NotFound" ("Unknown" for a value outside the enumeration).
inline std::string toString(WasmResult r) {
  static const char* const kNames[] = {
      "Ok",           "NotFound",       "BadArgument",         "SerializationFailure",
      "ParseFailure", "BadExpression",  "InvalidMemoryAccess", "Empty",
      "CasMismatch",  "ResultMismatch", "InternalFailure",     "BrokenConnection",
      "Unimplemented"};
  auto i = static_cast<uint32_t>(r);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "Unknown";
}

// Which header map a header call addresses (proxy-wasm `proxy_map_type_t`).
enum class WasmHeaderMapType : int32_t {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,   // of a gRPC callout's answer; read-only
  GrpcReceiveTrailingMetadata = 5,  // of a gRPC callout's answer; read-only
  HttpCallResponseHeaders = 6,      // of an HTTP callout's answer; read-only
  HttpCallResponseTrailers = 7,     // of an HTTP callout's answer; read-only
  MAX = 7,
};

// Which byte buffer a buffer call addresses (proxy-wasm `proxy_buffer_type_t`).
enum class WasmBufferType : int32_t {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  NetworkDownstreamData = 2,
  NetworkUpstreamData = 3,
  HttpCallResponseBody = 4,  // read-only
  GrpcReceiveBuffer = 5,     // read-only
  VmConfiguration = 6,       // read-only
  PluginConfiguration = 7,   // read-only
  CallData = 8,              // a foreign function's arguments; read-only
  MAX = 8,
};

// Flags of getBufferStatus (powers of two).
enum class WasmBufferFlags : int32_t {
  EndOfStream = 1,
};

// Which stream continueStream/closeStream address (proxy-wasm `proxy_stream_type_t`).
enum class WasmStreamType : int32_t {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
  MAX = 3,
};
