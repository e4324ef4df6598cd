// The standard proxy-wasm C++ SDK API (Envoy's / Istio's `proxy-wasm-cpp-sdk`), for plug-ins written against
// it:
//
//     #include "proxy_wasm_intrinsics.h"
//     class MyRoot : public RootContext { ... };
//     class MyContext : public Context { ... };
//     static RegisterContextFactory r(CONTEXT_FACTORY(MyContext), ROOT_FACTORY(MyRoot));
//
// `cargo xtask build --lang cpp <name>` sees this include in a plug-in's sources and links the compat runtime
// (wasm-cpp/compat/src) instead of pwsdk's dispatcher. Implemented in this repository on pwsdk's ABI layer,
// with clang for wasm32-wasi (no Emscripten, no Bazel, no protobuf); wasm-cpp/README.md ("The standard C++
// SDK API") lists what is offered and what is not.
#pragma once

#ifndef PROXY_WASM_KEEPALIVE
#define PROXY_WASM_KEEPALIVE __attribute__((used)) __attribute__((visibility("default")))
#endif
// Defines an export of the module (wasm-ld needs export_name; `used` alone does not export).
#define WASM_EXPORT(_return_type, _function_name, _function_args)               \
  extern "C" PROXY_WASM_KEEPALIVE __attribute__((export_name(#_function_name))) \
  _return_type _function_name _function_args
#define START_WASM_PLUGIN(_x)
#define END_WASM_PLUGIN

#if defined(PROXY_WASM_PROTOBUF_FULL) || defined(PROXY_WASM_PROTOBUF_LITE) || defined(PROXY_WASM_PROTOBUF)
#error \
    "proxy_wasm_intrinsics.h: protobuf is not available in this build; pass gRPC messages and property values as bytes (std::string_view / WasmData), see wasm-cpp/README.md"
#endif

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy_wasm_api.h"
#include "proxy_wasm_common.h"
#include "proxy_wasm_enums.h"
#include "proxy_wasm_externs.h"
