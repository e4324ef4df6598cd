//! Upstream clusters for callouts, named as Higress names them (facts: alibaba/higress
//! `plugins/wasm-go/pkg/wrapper/cluster_wrapper.go` and `plugins/wasm-rust/src/cluster_wrapper.rs`). The naming
//! is pure ([`Cluster::name_with`], [`Cluster::authority_with`], tested against `tests/cluster_cases.txt`, the
//! table shared with the C++ SDK); [`Cluster::name`] and [`Cluster::authority`] read the request for a
//! [`Cluster::Route`]. Empty strings mean "not given".

use crate::host::{self, HostError, MapType};

/// Where a callout goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// The current request's own upstream cluster (the `cluster_name` property).
    Route { host: String },
    /// A Kubernetes service.
    K8s {
        service: String,
        namespace: String,
        port: u16,
        version: String,
        host: String,
    },
    /// A Nacos service (`ext_registry`: EDAS/SAE registries, `nacos-ext`).
    Nacos {
        service: String,
        group: String,
        namespace_id: String,
        port: u16,
        ext_registry: bool,
        version: String,
        host: String,
    },
    /// A static-IP service registered in Higress.
    StaticIp {
        service: String,
        port: u16,
        host: String,
    },
    /// A DNS service registered in Higress; the authority is its domain.
    Dns {
        service: String,
        domain: String,
        port: u16,
    },
    /// A Consul service.
    Consul {
        service: String,
        datacenter: String,
        port: u16,
        host: String,
    },
    /// Any service by its fully qualified name (e.g. `auth.default.svc.cluster.local`, `api.example.com`).
    Fqdn {
        fqdn: String,
        port: u16,
        host: String,
    },
    /// An Envoy cluster by its exact name.
    Named { name: String, authority: String },
}

fn or<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.is_empty() {
        default
    } else {
        value
    }
}

impl Cluster {
    pub fn route(host: &str) -> Cluster {
        Cluster::Route { host: host.into() }
    }

    pub fn k8s(service: &str, namespace: &str, port: u16, version: &str, host: &str) -> Cluster {
        Cluster::K8s {
            service: service.into(),
            namespace: namespace.into(),
            port,
            version: version.into(),
            host: host.into(),
        }
    }

    pub fn nacos(
        service: &str,
        group: &str,
        namespace_id: &str,
        port: u16,
        ext_registry: bool,
        version: &str,
        host: &str,
    ) -> Cluster {
        Cluster::Nacos {
            service: service.into(),
            group: group.into(),
            namespace_id: namespace_id.into(),
            port,
            ext_registry,
            version: version.into(),
            host: host.into(),
        }
    }

    pub fn static_ip(service: &str, port: u16, host: &str) -> Cluster {
        Cluster::StaticIp {
            service: service.into(),
            port,
            host: host.into(),
        }
    }

    pub fn dns(service: &str, domain: &str, port: u16) -> Cluster {
        Cluster::Dns {
            service: service.into(),
            domain: domain.into(),
            port,
        }
    }

    pub fn consul(service: &str, datacenter: &str, port: u16, host: &str) -> Cluster {
        Cluster::Consul {
            service: service.into(),
            datacenter: datacenter.into(),
            port,
            host: host.into(),
        }
    }

    pub fn fqdn(fqdn: &str, port: u16, host: &str) -> Cluster {
        Cluster::Fqdn {
            fqdn: fqdn.into(),
            port,
            host: host.into(),
        }
    }

    pub fn named(name: &str, authority: &str) -> Cluster {
        Cluster::Named {
            name: name.into(),
            authority: authority.into(),
        }
    }

    /// The Envoy cluster name; `route_cluster` is the request's `cluster_name` property (used by
    /// [`Cluster::Route`] only). `None`: a route cluster without one.
    pub fn name_with(&self, route_cluster: Option<&str>) -> Option<String> {
        Some(match self {
            Cluster::Route { .. } => route_cluster.filter(|c| !c.is_empty())?.to_owned(),
            Cluster::K8s {
                service,
                namespace,
                port,
                version,
                ..
            } => format!(
                "outbound|{port}|{version}|{service}.{}.svc.cluster.local",
                or(namespace, "default")
            ),
            Cluster::Nacos {
                service,
                group,
                namespace_id,
                port,
                ext_registry,
                version,
                ..
            } => {
                let group = if group.is_empty() {
                    "DEFAULT-GROUP".to_owned()
                } else {
                    group.replace('_', "-")
                };
                let tail = if *ext_registry { "nacos-ext" } else { "nacos" };
                format!("outbound|{port}|{version}|{service}.{group}.{namespace_id}.{tail}")
            }
            Cluster::StaticIp { service, port, .. } => format!("outbound|{port}||{service}.static"),
            Cluster::Dns { service, port, .. } => format!("outbound|{port}||{service}.dns"),
            Cluster::Consul {
                service,
                datacenter,
                port,
                ..
            } => format!("outbound|{port}||{service}.{datacenter}.consul"),
            Cluster::Fqdn { fqdn, port, .. } => format!("outbound|{port}||{fqdn}"),
            Cluster::Named { name, .. } => name.clone(),
        })
    }

    /// The default `:authority` of a callout; `request_authority` is the request's `:authority` (used by
    /// [`Cluster::Route`] without a `host` only). `None`: a route cluster with neither.
    pub fn authority_with(&self, request_authority: Option<&str>) -> Option<String> {
        Some(match self {
            Cluster::Route { host } if !host.is_empty() => host.clone(),
            Cluster::Route { .. } => request_authority.filter(|a| !a.is_empty())?.to_owned(),
            Cluster::K8s {
                service,
                namespace,
                host,
                ..
            } => {
                if host.is_empty() {
                    format!("{service}.{}.svc.cluster.local", or(namespace, "default"))
                } else {
                    host.clone()
                }
            }
            Cluster::Nacos { service, host, .. }
            | Cluster::StaticIp { service, host, .. }
            | Cluster::Consul { service, host, .. } => or(host, service).to_owned(),
            Cluster::Dns { domain, .. } => domain.clone(),
            Cluster::Fqdn { fqdn, host, .. } => or(host, fqdn).to_owned(),
            Cluster::Named { authority, .. } => authority.clone(),
        })
    }

    /// The Envoy cluster name, reading the `cluster_name` property for a [`Cluster::Route`] (an `Err` when the
    /// request has none).
    pub fn name(&self) -> Result<String, HostError> {
        let route = match self {
            Cluster::Route { .. } => {
                host::property(&["cluster_name"])?.map(|b| String::from_utf8_lossy(&b).into_owned())
            }
            _ => None,
        };
        self.name_with(route.as_deref())
            .ok_or(HostError::new("proxy_get_property", host::NOT_FOUND))
    }

    /// The default `:authority`, reading the request's `:authority` for a [`Cluster::Route`] without `host` (an
    /// `Err` when there is none).
    pub fn authority(&self) -> Result<String, HostError> {
        let request = match self {
            Cluster::Route { host } if host.is_empty() => {
                host::header(MapType::RequestHeaders, ":authority")?
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            }
            _ => None,
        };
        self.authority_with(request.as_deref())
            .ok_or(HostError::new(
                "proxy_get_header_map_value",
                host::NOT_FOUND,
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let c = Cluster::k8s("auth", "", 80, "", "");
        assert_eq!(
            c.name_with(None).unwrap(),
            "outbound|80||auth.default.svc.cluster.local"
        );
        assert_eq!(
            c.authority_with(None).unwrap(),
            "auth.default.svc.cluster.local"
        );
        assert_eq!(Cluster::route("").name_with(None), None);
        assert_eq!(Cluster::route("h").authority_with(None).unwrap(), "h");
        assert_eq!(
            Cluster::nacos("s", "a_b", "ns", 1, true, "v", "")
                .name_with(None)
                .unwrap(),
            "outbound|1|v|s.a-b.ns.nacos-ext"
        );
    }
}
