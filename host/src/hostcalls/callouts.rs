//! `proxy_http_call`, `proxy_grpc_*` and foreign functions.
//!
//! Facts (Envoy `source/extensions/common/wasm/context.cc` `httpCall`/`grpcCall`, proxy-wasm-cpp-host
//! `src/exports.cc` and `include/proxy-wasm/wasm.h`):
//! - both calls are made on the **root** context, whatever context calls them; answers arrive there;
//! - tokens step by 4 with the callout type in the low two bits (http 4, 8, …; gRPC calls 5, 9, …);
//! - `proxy_http_call`: a negative timeout, an unknown cluster, or headers without `:path`, `:method` or
//!   `:authority` are BadArgument; a non-empty body gets `content-length`; timeout 0 means none;
//! - `proxy_grpc_call`: `grpc_service` is first parsed as a serialized `envoy.config.core.v3.GrpcService`;
//!   only if that fails is it taken as a cluster name, and an unknown cluster is then ParseFailure. A
//!   `GrpcService` without `envoy_grpc` or `google_grpc` cannot make a client (BadArgument). Beware: a
//!   plain name that happens to be valid protobuf wire format is read as a `GrpcService`.

use wasmtime::Linker;

use crate::abi::{self, Status};
use crate::hostcalls::{host_fn, read, st, text, write_u32, C, OK, R};
use crate::state::{Callout, HostState};
use crate::types::{GrpcCallRecord, Headers, HttpCallRecord};

/// Reads a protobuf varint.
fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// A protobuf field: its number and, for a length-delimited one, the payload.
type Field<'a> = (u64, Option<&'a [u8]>);

/// Walks protobuf wire format; `None` when it is not valid.
fn fields(b: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let tag = varint(b, &mut pos)?;
        let (field, wire) = (tag >> 3, tag & 7);
        if field == 0 {
            return None;
        }
        match wire {
            0 => {
                varint(b, &mut pos)?;
                out.push((field, None));
            }
            1 | 5 => {
                pos = pos.checked_add(if wire == 1 { 8 } else { 4 })?;
                if pos > b.len() {
                    return None;
                }
                out.push((field, None));
            }
            2 => {
                let len = usize::try_from(varint(b, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                let payload = b.get(pos..end)?;
                pos = end;
                out.push((field, Some(payload)));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The first string field `n` of a message, validated as UTF-8 (proto3 strings); `Err` when the message or
/// the string is not valid.
fn string_field(msg: &[u8], n: u64) -> Result<Option<String>, ()> {
    let fs = fields(msg).ok_or(())?;
    let mut found = None;
    for (f, payload) in fs {
        if f == n {
            let p = payload.ok_or(())?;
            found = Some(String::from_utf8(p.to_vec()).map_err(|_| ())?);
        }
    }
    Ok(found)
}

/// How Envoy reads `proxy_grpc_call`'s `grpc_service` argument: `Err(())` when it is not a serialized
/// `GrpcService` (it is then a cluster name), `Ok(Some(cluster))` for `envoy_grpc.cluster_name` (or
/// `google_grpc.target_uri`), `Ok(None)` for a `GrpcService` naming neither.
pub(crate) fn parse_grpc_service(bytes: &[u8]) -> Result<Option<String>, ()> {
    let fs = fields(bytes).ok_or(())?;
    let mut target = None;
    for (f, payload) in fs {
        match (f, payload) {
            // envoy_grpc: EnvoyGrpc { cluster_name = 1 }
            (1, Some(p)) => target = string_field(p, 1)?.or(target),
            // google_grpc: GoogleGrpc { target_uri = 1 }
            (2, Some(p)) => target = string_field(p, 1)?.or(target),
            _ => {}
        }
    }
    Ok(target.filter(|t| !t.is_empty()))
}

fn cluster_known(s: &HostState, name: &str) -> bool {
    s.clusters
        .as_ref()
        .is_none_or(|cs| cs.iter().any(|c| c == name))
}

pub(crate) fn link(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let env = "env";
    host_fn!(l, env, "proxy_http_call", |c,
                                         up: i32,
                                         ul: i32,
                                         hp: i32,
                                         hl: i32,
                                         bp: i32,
                                         bl: i32,
                                         tp: i32,
                                         tl: i32,
                                         timeout: i32,
                                         ret_token: i32|
     -> R {
        let (Some(upstream), Some(h), Some(body), Some(t)) = (
            read(&c, up, ul),
            read(&c, hp, hl),
            read(&c, bp, bl),
            read(&c, tp, tl),
        ) else {
            return st(Status::InvalidMemoryAccess);
        };
        // cpp-host writes the token first to check the pointer
        if !write_u32(&mut c, ret_token, 0) {
            return st(Status::InvalidMemoryAccess);
        }
        let upstream = text(&upstream);
        let mut headers = Headers::from_pairs(abi::deserialize_pairs(&h).unwrap_or_default());
        let trailers = Headers::from_pairs(abi::deserialize_pairs(&t).unwrap_or_default());
        let refuse = |c: &mut C<'_>, why: String| {
            c.data_mut().note(format!(
                "proxy_http_call to {upstream} refused (BadArgument): {why}"
            ));
            st(Status::BadArgument)
        };
        if timeout < 0 {
            return refuse(&mut c, format!("negative timeout {timeout}"));
        }
        if !cluster_known(c.data(), &upstream) {
            return refuse(&mut c, "no such cluster".into());
        }
        let missing: Vec<&str> = [":path", ":method", ":authority"]
            .into_iter()
            .filter(|k| !headers.contains(k))
            .collect();
        if !missing.is_empty() {
            return refuse(
                &mut c,
                format!(
                    "missing {} (Envoy requires :method, :path and :authority)",
                    missing.join(", ")
                ),
            );
        }
        if !body.is_empty() {
            headers.set("content-length", body.len().to_string());
        }
        let s = c.data_mut();
        s.next_http_token += 4;
        let token = s.next_http_token;
        s.http_calls.push(HttpCallRecord {
            upstream,
            headers,
            body,
            trailers,
            timeout_ms: timeout as u32,
            answered: false,
        });
        let record = s.http_calls.len() - 1;
        s.pending.push_back(Callout::Http { token, record });
        write_u32(&mut c, ret_token, token);
        OK
    })?;
    host_fn!(l, env, "proxy_grpc_call", |c,
                                         sp: i32,
                                         sl: i32,
                                         np: i32,
                                         nl: i32,
                                         mp: i32,
                                         ml: i32,
                                         mdp: i32,
                                         mdl: i32,
                                         rp: i32,
                                         rl: i32,
                                         timeout: i32,
                                         ret_token: i32|
     -> R {
        let (Some(grpc_service), Some(service), Some(method), Some(md), Some(message)) = (
            read(&c, sp, sl),
            read(&c, np, nl),
            read(&c, mp, ml),
            read(&c, mdp, mdl),
            read(&c, rp, rl),
        ) else {
            return st(Status::InvalidMemoryAccess);
        };
        let cluster = match parse_grpc_service(&grpc_service) {
            Err(()) => {
                let name = text(&grpc_service);
                if !cluster_known(c.data(), &name) {
                    c.data_mut().note(format!(
                        "proxy_grpc_call to {name} refused (ParseFailure): no such cluster"
                    ));
                    return st(Status::ParseFailure);
                }
                name
            }
            Ok(Some(cluster)) => cluster,
            Ok(None) => {
                c.data_mut().note(
                    "proxy_grpc_call refused (BadArgument): grpc_service is a serialized GrpcService \
                     with neither envoy_grpc.cluster_name nor google_grpc.target_uri"
                        .into(),
                );
                return st(Status::BadArgument);
            }
        };
        let s = c.data_mut();
        s.next_grpc_token += 4;
        let token = s.next_grpc_token;
        s.grpc_calls.push(GrpcCallRecord {
            cluster,
            grpc_service,
            service: text(&service),
            method: text(&method),
            metadata: Headers::from_pairs(abi::deserialize_pairs(&md).unwrap_or_default()),
            message,
            timeout_ms: timeout as u32,
            answer: None,
        });
        let record = s.grpc_calls.len() - 1;
        s.pending.push_back(Callout::Grpc { token, record });
        if !write_u32(&mut c, ret_token, token) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_grpc_stream", |c,
                                           sp: i32,
                                           sl: i32,
                                           _np: i32,
                                           _nl: i32,
                                           _mp: i32,
                                           _ml: i32,
                                           _mdp: i32,
                                           _mdl: i32,
                                           _ret: i32|
     -> R {
        let service = read(&c, sp, sl).map(|u| text(&u)).unwrap_or_default();
        c.data_mut().note(format!(
            "proxy_grpc_stream to {service:?} refused (BadArgument): pwhost does not emulate gRPC streams"
        ));
        st(Status::BadArgument)
    })?;
    host_fn!(l, env, "proxy_grpc_send", |c,
                                         token: i32,
                                         _p: i32,
                                         _l: i32,
                                         _end: i32|
     -> R {
        // only streams take messages, and no stream exists
        st(if token & 3 == 2 {
            Status::NotFound
        } else {
            Status::BadArgument
        })
    })?;
    for name in ["proxy_grpc_cancel", "proxy_grpc_close"] {
        host_fn!(l, env, name, |c, token: i32| -> R {
            let token = token as u32;
            match token & 3 {
                1 => {
                    let s = c.data_mut();
                    let before = s.pending.len();
                    s.pending
                        .retain(|p| !matches!(p, Callout::Grpc { token: t, .. } if *t == token));
                    st(if s.pending.len() < before {
                        Status::Ok
                    } else {
                        Status::NotFound
                    })
                }
                2 => st(Status::NotFound),
                _ => st(Status::BadArgument),
            }
        })?;
    }
    host_fn!(l, env, "proxy_call_foreign_function", |c,
                                                     np: i32,
                                                     nl: i32,
                                                     _ap: i32,
                                                     _al: i32,
                                                     _rp: i32,
                                                     _rl: i32|
     -> R {
        let name = read(&c, np, nl).map(|n| text(&n)).unwrap_or_default();
        c.data_mut().note(format!(
            "proxy_call_foreign_function({name}): NotFound (pwhost emulates no foreign functions)"
        ));
        st(Status::NotFound)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cluster_names_are_not_grpc_services() {
        assert_eq!(parse_grpc_service(b"outbound|443||ext-authz.svc"), Err(()));
        assert_eq!(parse_grpc_service(b"ext_authz"), Err(()));
    }

    #[test]
    fn serialized_grpc_service_names_its_cluster() {
        // GrpcService { envoy_grpc { cluster_name: "authz" } }
        let svc = [0x0a, 0x07, 0x0a, 0x05, b'a', b'u', b't', b'h', b'z'];
        assert_eq!(parse_grpc_service(&svc), Ok(Some("authz".into())));
        // GrpcService { timeout { seconds: 1 } } names no target
        assert_eq!(parse_grpc_service(&[0x1a, 0x02, 0x08, 0x01]), Ok(None));
        // the empty string is a valid (empty) message
        assert_eq!(parse_grpc_service(b""), Ok(None));
    }
}
