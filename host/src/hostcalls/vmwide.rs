//! Logs, time, ticks, properties, shared data and queues, metrics, the effective context, and ABI 0.1.0's
//! `proxy_get_configuration`.
//!
//! Facts (Envoy `source/extensions/common/wasm/context.cc`, proxy-wasm-cpp-host `src/shared_data.cc`):
//! - properties: a stream context sees the request, route and filter state; every context sees
//!   `plugin_name`, `plugin_root_id`, `plugin_vm_id` (`findValue`); `proxy_set_property` needs stream info
//!   (NotFound on the root context);
//! - shared data: a CAS is checked only when the key exists; every write takes the next global CAS;
//! - metrics: ids carry the type in their low two bits and step by 4; a counter only grows (increment by
//!   ≤ 0 is BadArgument, record adds), a gauge is set by record, a histogram only records (increment and get
//!   are BadArgument); unknown ids are NotFound;
//! - `proxy_get_configuration` (0.1.0) answers the plug-in configuration during `proxy_on_configure`, else
//!   the VM configuration.

use wasmtime::Linker;

use crate::abi::{AbiVersion, LogLevel, Status};
use crate::hostcalls::{copy_out, host_fn, read, st, text, write, write_u32, C, OK, R};
use crate::state::{HostState, MetricKind, Queue, Target};

fn property_name(path: &[u8]) -> String {
    path.split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect::<Vec<_>>()
        .join(".")
}

/// The metric an id names, if it exists.
fn metric(c: &mut C<'_>, id: i32) -> Option<(MetricKind, usize)> {
    let s = c.data();
    let i = *s.metric_ids.get(&(id as u32))?;
    Some((s.metrics[i].kind, i))
}

pub(crate) fn link(l: &mut Linker<HostState>, abi: AbiVersion) -> wasmtime::Result<()> {
    let env = "env";

    host_fn!(l, env, "proxy_log", |c,
                                   level: i32,
                                   ptr: i32,
                                   len: i32|
     -> R {
        let Some(level) = LogLevel::from_i32(level) else {
            return st(Status::BadArgument);
        };
        let Some(msg) = read(&c, ptr, len) else {
            return st(Status::InvalidMemoryAccess);
        };
        c.data_mut().log(level, text(&msg));
        OK
    })?;
    if abi == AbiVersion::V0_2_1 {
        host_fn!(l, env, "proxy_get_log_level", |c, ret: i32| -> R {
            let level = c.data().log_level as u32;
            if !write_u32(&mut c, ret, level) {
                return st(Status::InvalidMemoryAccess);
            }
            OK
        })?;
    }
    if abi == AbiVersion::V0_1_0 {
        host_fn!(l, env, "proxy_get_configuration", |c,
                                                     ret_ptr: i32,
                                                     ret_len: i32|
         -> R {
            let s = c.data();
            let value = if s.configuring {
                s.plugin_config.clone()
            } else {
                s.vm_config.clone()
            };
            copy_out(&mut c, &value, ret_ptr, ret_len)
        })?;
    }
    host_fn!(l, env, "proxy_get_current_time_nanoseconds", |c,
                                                            ret: i32|
     -> R {
        let now = c.data().clock.now_ns();
        if !write(&mut c, ret, &now.to_le_bytes()) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_set_tick_period_milliseconds", |c,
                                                            ms: i32|
     -> R {
        c.data_mut().tick_period_ms = ms as u32;
        OK
    })?;
    host_fn!(l, env, "proxy_set_effective_context", |c, ctx: i32| -> R {
        let s = c.data_mut();
        let ctx = ctx as u32;
        if ctx == s.root_id || s.stream.as_ref().is_some_and(|x| x.id == ctx) {
            s.effective = ctx;
            OK
        } else {
            st(Status::BadArgument)
        }
    })?;
    // cpp-host `WasmBase::done`: only a root context whose proxy_on_done returned false may call it; pwhost
    // never shuts a VM down, so there is none
    host_fn!(l, env, "proxy_done", |c| -> R {
        let callback = c.data().callback;
        c.data_mut().note(format!(
            "proxy_done in {callback}: NotFound (only a root context that answered proxy_on_done with false              may call it, while the VM shuts down)"
        ));
        st(Status::NotFound)
    })?;
    host_fn!(l, env, "proxy_get_status", |c,
                                          ret_code: i32,
                                          ret_ptr: i32,
                                          ret_len: i32|
     -> R {
        let (code, msg) = c.data().status.clone();
        if !write_u32(&mut c, ret_code, code) {
            return st(Status::InvalidMemoryAccess);
        }
        copy_out(&mut c, &msg, ret_ptr, ret_len)
    })?;

    // --- properties
    host_fn!(l, env, "proxy_get_property", |c,
                                            pp: i32,
                                            pl: i32,
                                            ret_ptr: i32,
                                            ret_len: i32|
     -> R {
        let Some(path) = read(&c, pp, pl) else {
            return st(Status::InvalidMemoryAccess);
        };
        let Some(value) = c.data().property(&property_name(&path)) else {
            return st(Status::NotFound);
        };
        copy_out(&mut c, &value, ret_ptr, ret_len)
    })?;
    host_fn!(l, env, "proxy_set_property", |c,
                                            pp: i32,
                                            pl: i32,
                                            vp: i32,
                                            vl: i32|
     -> R {
        let (Some(path), Some(value)) = (read(&c, pp, pl), read(&c, vp, vl)) else {
            return st(Status::InvalidMemoryAccess);
        };
        let name = property_name(&path);
        let s = c.data_mut();
        if s.target() != Target::Stream {
            return st(Status::NotFound);
        }
        let Some(x) = s.stream.as_mut() else {
            return st(Status::NotFound);
        };
        x.properties.retain(|(k, _)| *k != name);
        x.properties.push((name, value));
        OK
    })?;

    // --- shared data
    host_fn!(l, env, "proxy_get_shared_data", |c,
                                               kp: i32,
                                               kl: i32,
                                               ret_ptr: i32,
                                               ret_len: i32,
                                               ret_cas: i32|
     -> R {
        let Some(key) = read(&c, kp, kl) else {
            return st(Status::InvalidMemoryAccess);
        };
        let Some((value, cas)) = c.data().shared.get(&key).cloned() else {
            return st(Status::NotFound);
        };
        let r = copy_out(&mut c, &value, ret_ptr, ret_len)?;
        if r != 0 {
            return Ok(r);
        }
        if !write_u32(&mut c, ret_cas, cas) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_set_shared_data", |c,
                                               kp: i32,
                                               kl: i32,
                                               vp: i32,
                                               vl: i32,
                                               cas: i32|
     -> R {
        let (Some(key), Some(value)) = (read(&c, kp, kl), read(&c, vp, vl)) else {
            return st(Status::InvalidMemoryAccess);
        };
        let s = c.data_mut();
        if let Some((_, current)) = s.shared.get(&key) {
            if cas != 0 && cas as u32 != *current {
                return st(Status::CasMismatch);
            }
        }
        s.next_cas = s.next_cas.wrapping_add(1).max(1);
        let next = s.next_cas;
        s.shared.insert(key, (value, next));
        OK
    })?;

    // --- shared queues
    host_fn!(l, env, "proxy_register_shared_queue", |c,
                                                     np: i32,
                                                     nl: i32,
                                                     ret_id: i32|
     -> R {
        let Some(name) = read(&c, np, nl) else {
            return st(Status::InvalidMemoryAccess);
        };
        let name = text(&name);
        let s = c.data_mut();
        let vm_id = s.vm_id.clone();
        let id = match s
            .queues
            .iter()
            .position(|q| q.name == name && q.vm_id == vm_id)
        {
            Some(i) => i + 1,
            None => {
                s.queues.push(Queue {
                    name,
                    vm_id,
                    items: Default::default(),
                });
                s.queues.len()
            }
        };
        if !write_u32(&mut c, ret_id, id as u32) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_resolve_shared_queue", |c,
                                                    vp: i32,
                                                    vl: i32,
                                                    np: i32,
                                                    nl: i32,
                                                    ret_id: i32|
     -> R {
        let (Some(vm), Some(name)) = (read(&c, vp, vl), read(&c, np, nl)) else {
            return st(Status::InvalidMemoryAccess);
        };
        let (vm, name) = (text(&vm), text(&name));
        let s = c.data();
        let vm = if vm.is_empty() { s.vm_id.clone() } else { vm };
        let Some(i) = s
            .queues
            .iter()
            .position(|q| q.name == name && q.vm_id == vm)
        else {
            return st(Status::NotFound);
        };
        if !write_u32(&mut c, ret_id, i as u32 + 1) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_enqueue_shared_queue", |c,
                                                    id: i32,
                                                    p: i32,
                                                    len: i32|
     -> R {
        let Some(data) = read(&c, p, len) else {
            return st(Status::InvalidMemoryAccess);
        };
        let s = c.data_mut();
        let Some(q) = (id as u32 as usize)
            .checked_sub(1)
            .and_then(|i| s.queues.get_mut(i))
        else {
            return st(Status::NotFound);
        };
        q.items.push_back(data);
        s.ready_queues.push_back(id as u32);
        OK
    })?;
    host_fn!(l, env, "proxy_dequeue_shared_queue", |c,
                                                    id: i32,
                                                    ret_ptr: i32,
                                                    ret_len: i32|
     -> R {
        let s = c.data_mut();
        let Some(q) = (id as u32 as usize)
            .checked_sub(1)
            .and_then(|i| s.queues.get_mut(i))
        else {
            return st(Status::NotFound);
        };
        let Some(item) = q.items.pop_front() else {
            return st(Status::Empty);
        };
        copy_out(&mut c, &item, ret_ptr, ret_len)
    })?;

    // --- metrics
    host_fn!(l, env, "proxy_define_metric", |c,
                                             kind: i32,
                                             np: i32,
                                             nl: i32,
                                             ret_id: i32|
     -> R {
        let kind = match kind {
            0 => MetricKind::Counter,
            1 => MetricKind::Gauge,
            2 => MetricKind::Histogram,
            _ => return st(Status::BadArgument),
        };
        let Some(name) = read(&c, np, nl) else {
            return st(Status::InvalidMemoryAccess);
        };
        let name = text(&name);
        let s = c.data_mut();
        let index = match s
            .metrics
            .iter()
            .position(|m| m.name == name && m.kind == kind)
        {
            Some(i) => i,
            None => {
                s.metrics.push(crate::state::Metric {
                    name,
                    kind,
                    value: 0,
                    samples: Vec::new(),
                });
                s.metrics.len() - 1
            }
        };
        s.next_metric_id += 4;
        let id = s.next_metric_id | kind as u32;
        s.metric_ids.insert(id, index);
        if !write_u32(&mut c, ret_id, id) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    host_fn!(l, env, "proxy_increment_metric", |c,
                                                id: i32,
                                                delta: i64|
     -> R {
        let Some((kind, i)) = metric(&mut c, id) else {
            return st(Status::NotFound);
        };
        let m = &mut c.data_mut().metrics[i];
        match kind {
            MetricKind::Counter if delta > 0 => m.value = m.value.wrapping_add(delta),
            MetricKind::Gauge => m.value = m.value.wrapping_add(delta),
            _ => return st(Status::BadArgument),
        }
        OK
    })?;
    host_fn!(l, env, "proxy_record_metric", |c,
                                             id: i32,
                                             value: i64|
     -> R {
        let Some((kind, i)) = metric(&mut c, id) else {
            return st(Status::NotFound);
        };
        let m = &mut c.data_mut().metrics[i];
        match kind {
            MetricKind::Counter => m.value = m.value.wrapping_add(value),
            MetricKind::Gauge => m.value = value,
            MetricKind::Histogram => {
                if m.samples.len() < 100_000 {
                    m.samples.push(value as u64);
                }
            }
        }
        OK
    })?;
    host_fn!(l, env, "proxy_get_metric", |c, id: i32, ret: i32| -> R {
        let Some((kind, i)) = metric(&mut c, id) else {
            return st(Status::NotFound);
        };
        if kind == MetricKind::Histogram {
            return st(Status::BadArgument);
        }
        let v = c.data().metrics[i].value as u64;
        if !write(&mut c, ret, &v.to_le_bytes()) {
            return st(Status::InvalidMemoryAccess);
        }
        OK
    })?;
    Ok(())
}
