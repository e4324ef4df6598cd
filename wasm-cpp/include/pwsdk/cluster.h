// Upstream clusters for callouts, named as Higress names them (facts: alibaba/higress
// plugins/wasm-go/pkg/wrapper/cluster_wrapper.go and plugins/wasm-rust/src/cluster_wrapper.rs). Twin of the
// Rust `pwsdk::cluster::Cluster` (wasm-rust/README.md, "Clusters"); both SDKs run the shared table
// wasm-rust/tests/cluster_cases.txt. Empty strings mean "not given".
//
// The naming is pure (nameWith / authorityWith); name() and authority() read the request for a route
// cluster (the `cluster_name` property, the request's `:authority`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {

class Cluster {
 public:
  enum class Kind : uint8_t { Route, K8s, Nacos, StaticIp, Dns, Consul, Fqdn, Named };

  // The current request's own upstream cluster (the `cluster_name` property); authority `host`, else the
  // request's `:authority`.
  static Cluster route(std::string_view host);
  // outbound|<port>|<version>|<service>.<namespace or default>.svc.cluster.local
  static Cluster k8s(std::string_view service, std::string_view namespace_name, uint16_t port,
                     std::string_view version, std::string_view host);
  // outbound|<port>|<version>|<service>.<group with _ as -, or
  // DEFAULT-GROUP>.<namespace_id>.<nacos|nacos-ext>
  static Cluster nacos(std::string_view service, std::string_view group, std::string_view namespace_id,
                       uint16_t port, bool ext_registry, std::string_view version, std::string_view host);
  // outbound|<port>||<service>.static
  static Cluster staticIp(std::string_view service, uint16_t port, std::string_view host);
  // outbound|<port>||<service>.dns; authority: the domain
  static Cluster dns(std::string_view service, std::string_view domain, uint16_t port);
  // outbound|<port>||<service>.<datacenter>.consul
  static Cluster consul(std::string_view service, std::string_view datacenter, uint16_t port,
                        std::string_view host);
  // outbound|<port>||<fqdn>
  static Cluster fqdn(std::string_view fqdn, uint16_t port, std::string_view host);
  // An Envoy cluster by its exact name.
  static Cluster named(std::string_view name, std::string_view authority);

  // The Envoy cluster name; `route_cluster` is the request's `cluster_name` property (used by Route only).
  // nullopt: a route cluster without one.
  std::optional<std::string> nameWith(std::optional<std::string_view> route_cluster) const;
  // The default `:authority` of a callout; `request_authority` is the request's `:authority` (used by Route
  // without a host only). nullopt: a route cluster with neither.
  std::optional<std::string> authorityWith(std::optional<std::string_view> request_authority) const;

  // The same, reading the request for a route cluster (nullopt with *status NotFound when it has none).
  std::optional<std::string> name(Status* status = nullptr) const;
  std::optional<std::string> authority(Status* status = nullptr) const;

  Kind kind() const { return kind_; }

 private:
  // Only the fields of the kind are set (the constructors above are the API).
  Kind kind_ = Kind::Named;
  std::string service_;    // every kind but Route; Fqdn: the FQDN; Named: the cluster name
  std::string namespace_;  // K8s: the namespace; Nacos: the namespace id
  std::string group_;      // Nacos
  uint16_t port_ = 0;
  bool ext_registry_ = false;  // Nacos: EDAS/SAE registries (`nacos-ext`)
  std::string version_;        // K8s, Nacos
  std::string host_;           // the authority when given; Dns: the domain; Named: the authority
  std::string datacenter_;     // Consul
};

}  // namespace v0
}  // namespace pwsdk
