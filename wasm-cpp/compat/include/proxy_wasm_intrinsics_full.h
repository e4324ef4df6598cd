// Upstream's protobuf-full variant of proxy_wasm_intrinsics.h. This build has no protobuf: include
// "proxy_wasm_intrinsics.h" and pass gRPC messages and property values as bytes (wasm-cpp/README.md).
#pragma once

#error \
    "proxy_wasm_intrinsics_full.h needs protobuf, which this build does not offer; include \"proxy_wasm_intrinsics.h\" and use the bytes forms (see wasm-cpp/README.md, The standard C++ SDK API)"
