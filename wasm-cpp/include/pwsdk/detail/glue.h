// Internals shared by the glue sources (hostcalls.cc, callouts.cc): thin host calls the public API builds
// on. Not for plug-ins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pwsdk/callout.h"
#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {
namespace detail {

// proxy_http_call with serialised headers (pseudo-headers included) and no trailers.
Status startHttpCall(std::string_view cluster, const HeaderList& headers, std::string_view body,
                     uint32_t timeout_ms, uint32_t* token);
// proxy_grpc_call with the cluster name as the `grpc_service` argument.
Status startGrpcCall(std::string_view cluster, const GrpcCall& call, uint32_t* token);

// proxy_get_status: the status of the callout being answered (`call`: how proxy_get_status itself went).
struct HostStatus {
  Status call = Status::Ok;
  uint32_t code = 0;
  std::string message;
};
HostStatus lastStatus();

Status setEffectiveContext(uint32_t context_id);

}  // namespace detail
}  // namespace v0
}  // namespace pwsdk
