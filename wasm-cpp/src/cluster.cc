// Higress's cluster naming (see cluster.h). Pure: no host calls (Cluster::name / authority, which read the
// request, are in hostcalls.cc).
#include "pwsdk/cluster.h"

#include <vector>

#include "pwsdk/callout.h"
#include "pwsdk/detail/strings.h"

namespace pwsdk {
inline namespace v0 {

namespace {
std::string_view orDefault(std::string_view value, std::string_view fallback) {
  return value.empty() ? fallback : value;
}
}  // namespace

Cluster Cluster::route(std::string_view host) {
  Cluster c;
  c.kind_ = Kind::Route;
  c.host_ = host;
  return c;
}

Cluster Cluster::k8s(std::string_view service, std::string_view namespace_name, uint16_t port,
                     std::string_view version, std::string_view host) {
  Cluster c;
  c.kind_ = Kind::K8s;
  c.service_ = service;
  c.namespace_ = namespace_name;
  c.port_ = port;
  c.version_ = version;
  c.host_ = host;
  return c;
}

Cluster Cluster::nacos(std::string_view service, std::string_view group, std::string_view namespace_id,
                       uint16_t port, bool ext_registry, std::string_view version, std::string_view host) {
  Cluster c;
  c.kind_ = Kind::Nacos;
  c.service_ = service;
  c.group_ = group;
  c.namespace_ = namespace_id;
  c.port_ = port;
  c.ext_registry_ = ext_registry;
  c.version_ = version;
  c.host_ = host;
  return c;
}

Cluster Cluster::staticIp(std::string_view service, uint16_t port, std::string_view host) {
  Cluster c;
  c.kind_ = Kind::StaticIp;
  c.service_ = service;
  c.port_ = port;
  c.host_ = host;
  return c;
}

Cluster Cluster::dns(std::string_view service, std::string_view domain, uint16_t port) {
  Cluster c;
  c.kind_ = Kind::Dns;
  c.service_ = service;
  c.host_ = domain;
  c.port_ = port;
  return c;
}

Cluster Cluster::consul(std::string_view service, std::string_view datacenter, uint16_t port,
                        std::string_view host) {
  Cluster c;
  c.kind_ = Kind::Consul;
  c.service_ = service;
  c.datacenter_ = datacenter;
  c.port_ = port;
  c.host_ = host;
  return c;
}

Cluster Cluster::fqdn(std::string_view fqdn, uint16_t port, std::string_view host) {
  Cluster c;
  c.kind_ = Kind::Fqdn;
  c.service_ = fqdn;
  c.port_ = port;
  c.host_ = host;
  return c;
}

Cluster Cluster::named(std::string_view name, std::string_view authority) {
  Cluster c;
  c.kind_ = Kind::Named;
  c.service_ = name;
  c.host_ = authority;
  return c;
}

std::optional<std::string> Cluster::nameWith(std::optional<std::string_view> route_cluster) const {
  using detail::cat;
  switch (kind_) {
    case Kind::Route:
      if (!route_cluster || route_cluster->empty()) return std::nullopt;
      return std::string(*route_cluster);
    case Kind::K8s:
      return cat("outbound|", port_, "|", version_, "|", service_, ".", orDefault(namespace_, "default"),
                 ".svc.cluster.local");
    case Kind::Nacos: {
      std::string group = group_.empty() ? std::string("DEFAULT-GROUP") : group_;
      for (char& ch : group) {
        if (ch == '_') ch = '-';
      }
      return cat("outbound|", port_, "|", version_, "|", service_, ".", group, ".", namespace_, ".",
                 ext_registry_ ? "nacos-ext" : "nacos");
    }
    case Kind::StaticIp:
      return cat("outbound|", port_, "||", service_, ".static");
    case Kind::Dns:
      return cat("outbound|", port_, "||", service_, ".dns");
    case Kind::Consul:
      return cat("outbound|", port_, "||", service_, ".", datacenter_, ".consul");
    case Kind::Fqdn:
      return cat("outbound|", port_, "||", service_);
    case Kind::Named:
      return service_;
  }
  return std::nullopt;
}

std::optional<std::string> Cluster::authorityWith(std::optional<std::string_view> request_authority) const {
  switch (kind_) {
    case Kind::Route:
      if (!host_.empty()) return host_;
      if (!request_authority || request_authority->empty()) return std::nullopt;
      return std::string(*request_authority);
    case Kind::K8s:
      // Higress writes `<service>.<namespace>.svc.cluster.local` even for an empty namespace; we use
      // `default` as the cluster name does (wasm-rust/README.md, "Clusters").
      if (!host_.empty()) return host_;
      return detail::cat(service_, ".", orDefault(namespace_, "default"), ".svc.cluster.local");
    case Kind::Nacos:
    case Kind::StaticIp:
    case Kind::Consul:
    case Kind::Fqdn:
      return std::string(orDefault(host_, service_));
    case Kind::Dns:
    case Kind::Named:
      return host_;
  }
  return std::nullopt;
}

namespace {
// A protobuf varint at `pos` (at most 10 bytes).
bool varint(std::string_view b, size_t& pos, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (pos >= b.size()) return false;
    auto byte = static_cast<uint8_t>(b[pos++]);
    if (shift < 64) v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}
}  // namespace

// Lives here, beside the cluster names it is asked about; declared in callout.h.
bool parsesAsProtobuf(std::string_view b) {
  size_t pos = 0;
  std::vector<uint64_t> groups;
  while (pos < b.size()) {
    uint64_t tag = 0, n = 0, skip = 0;
    if (!varint(b, pos, tag)) return false;
    uint64_t field = tag >> 3;
    if (field == 0 || field > (uint64_t{1} << 29) - 1) return false;
    switch (tag & 7) {
      case 0:
        if (!varint(b, pos, n)) return false;
        break;
      case 1:
        skip = 8;
        break;
      case 2:
        if (!varint(b, pos, skip)) return false;
        break;
      case 3:
        groups.push_back(field);
        break;
      case 4:
        if (groups.empty() || groups.back() != field) return false;
        groups.pop_back();
        break;
      case 5:
        skip = 4;
        break;
      default:
        return false;
    }
    if (skip > b.size() - pos) return false;
    pos += static_cast<size_t>(skip);
  }
  return groups.empty();
}

}  // namespace v0
}  // namespace pwsdk
