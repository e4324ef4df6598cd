//! `env.proxy_*` host functions (ABI 0.2.1).

use wasmtime::{Caller, Linker};

use crate::abi::{self, buffer, map, Status};
use crate::state::{HostState, PendingCall, Queue};
use crate::types::{Headers, HttpCallRecord, LocalResponse, LogLevel};

pub(crate) type C<'a> = Caller<'a, HostState>;
type R = wasmtime::Result<i32>;

const OK: R = Ok(0);

fn st(s: Status) -> R {
    Ok(s.code())
}

pub(crate) fn read(c: &C<'_>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let mem = c.data().memory?;
    let (p, l) = (ptr as u32 as usize, len as u32 as usize);
    mem.data(c).get(p..p.checked_add(l)?).map(<[u8]>::to_vec)
}

pub(crate) fn write(c: &mut C<'_>, ptr: i32, bytes: &[u8]) -> bool {
    let Some(mem) = c.data().memory else {
        return false;
    };
    let p = ptr as u32 as usize;
    match p
        .checked_add(bytes.len())
        .and_then(|end| mem.data_mut(&mut *c).get_mut(p..end))
    {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

pub(crate) fn write_u32(c: &mut C<'_>, ptr: i32, v: u32) -> bool {
    write(c, ptr, &v.to_le_bytes())
}

/// Copies `bytes` into guest memory allocated with the plug-in's allocator and stores (ptr, len).
/// Empty data is returned as (0, 0) without allocating.
pub(crate) fn copy_out(c: &mut C<'_>, bytes: &[u8], ret_ptr: i32, ret_len: i32) -> R {
    let mut ptr = 0i32;
    if !bytes.is_empty() {
        let Some(alloc) = c.data().alloc.clone() else {
            return st(Status::InternalFailure);
        };
        let Ok(len) = i32::try_from(bytes.len()) else {
            return st(Status::BadArgument);
        };
        ptr = alloc.call(&mut *c, len)?;
        if ptr == 0 || !write(c, ptr, bytes) {
            return st(Status::InternalFailure);
        }
    }
    if !write_u32(c, ret_ptr, ptr as u32) || !write_u32(c, ret_len, bytes.len() as u32) {
        return st(Status::BadArgument);
    }
    OK
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn map_ref(s: &HostState, t: i32) -> Result<Option<&Headers>, Status> {
    match t {
        map::HTTP_CALL_RESPONSE_HEADERS => return Ok(s.call_answer.as_ref().map(|a| &a.headers)),
        map::HTTP_CALL_RESPONSE_TRAILERS => {
            return Ok(s.call_answer.as_ref().and_then(|a| a.trailers.as_ref()))
        }
        _ => {}
    }
    let stream = s.stream.as_ref();
    match t {
        map::REQUEST_HEADERS => Ok(stream.map(|x| &x.request_headers)),
        map::REQUEST_TRAILERS => Ok(stream.and_then(|x| x.request_trailers.as_ref())),
        map::RESPONSE_HEADERS => Ok(stream.and_then(|x| x.response_headers.as_ref())),
        map::RESPONSE_TRAILERS => Ok(stream.and_then(|x| x.response_trailers.as_ref())),
        _ => Err(Status::BadArgument),
    }
}

fn map_mut(s: &mut HostState, t: i32) -> Result<&mut Headers, Status> {
    let stream = s.stream.as_mut().ok_or(Status::NotFound)?;
    match t {
        map::REQUEST_HEADERS => Ok(&mut stream.request_headers),
        map::REQUEST_TRAILERS => Ok(stream.request_trailers.get_or_insert_with(Headers::default)),
        map::RESPONSE_HEADERS => stream.response_headers.as_mut().ok_or(Status::NotFound),
        map::RESPONSE_TRAILERS => Ok(stream
            .response_trailers
            .get_or_insert_with(Headers::default)),
        map::HTTP_CALL_RESPONSE_HEADERS | map::HTTP_CALL_RESPONSE_TRAILERS => {
            Err(Status::BadArgument)
        }
        _ => Err(Status::BadArgument),
    }
}

fn buffer_ref(s: &HostState, t: i32) -> Result<Option<&[u8]>, Status> {
    Ok(match t {
        buffer::HTTP_REQUEST_BODY => s.stream.as_ref().and_then(|x| x.request_body.as_deref()),
        buffer::HTTP_RESPONSE_BODY => s.stream.as_ref().and_then(|x| x.response_body.as_deref()),
        buffer::HTTP_CALL_RESPONSE_BODY => s.call_answer.as_ref().map(|a| a.body.as_slice()),
        buffer::VM_CONFIGURATION => Some(s.vm_config.as_slice()),
        buffer::PLUGIN_CONFIGURATION => Some(s.plugin_config.as_slice()),
        t if (0..=8).contains(&t) => None,
        _ => return Err(Status::BadArgument),
    })
}

fn buffer_mut(s: &mut HostState, t: i32) -> Result<&mut Vec<u8>, Status> {
    let stream = s.stream.as_mut().ok_or(Status::NotFound)?;
    match t {
        buffer::HTTP_REQUEST_BODY => stream.request_body.as_mut().ok_or(Status::NotFound),
        buffer::HTTP_RESPONSE_BODY => stream.response_body.as_mut().ok_or(Status::NotFound),
        t if (0..=8).contains(&t) => Err(Status::NotFound),
        _ => Err(Status::BadArgument),
    }
}

fn property_name(path: &[u8]) -> String {
    path.split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect::<Vec<_>>()
        .join(".")
}

/// Defines every `env.proxy_*` import of ABI 0.2.1.
pub(crate) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let env = "env";

    linker.func_wrap(
        env,
        "proxy_log",
        |mut c: C<'_>, level: i32, ptr: i32, len: i32| -> R {
            let Some(level) = LogLevel::from_i32(level) else {
                return st(Status::BadArgument);
            };
            let Some(msg) = read(&c, ptr, len) else {
                return st(Status::BadArgument);
            };
            c.data_mut().log(level, text(&msg));
            OK
        },
    )?;
    linker.func_wrap(env, "proxy_get_log_level", |mut c: C<'_>, ret: i32| -> R {
        let level = c.data().log_level as u32;
        if !write_u32(&mut c, ret, level) {
            return st(Status::BadArgument);
        }
        OK
    })?;
    linker.func_wrap(
        env,
        "proxy_get_current_time_nanoseconds",
        |mut c: C<'_>, ret: i32| -> R {
            let now = c.data().clock_ns;
            if !write(&mut c, ret, &now.to_le_bytes()) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_tick_period_milliseconds",
        |mut c: C<'_>, ms: i32| -> R {
            c.data_mut().tick_period_ms = ms as u32;
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_effective_context",
        |mut c: C<'_>, ctx: i32| -> R {
            let s = c.data_mut();
            let ctx = ctx as u32;
            if ctx == s.root_id || s.stream.as_ref().is_some_and(|x| x.id == ctx) {
                s.effective = ctx;
                OK
            } else {
                st(Status::BadArgument)
            }
        },
    )?;
    linker.func_wrap(env, "proxy_done", |_c: C<'_>| -> R { OK })?;

    // --- buffers
    linker.func_wrap(
        env,
        "proxy_get_buffer_bytes",
        |mut c: C<'_>, t: i32, start: i32, max: i32, ret_ptr: i32, ret_len: i32| -> R {
            let data = match buffer_ref(c.data(), t) {
                Err(e) => return st(e),
                Ok(None) => return st(Status::NotFound),
                Ok(Some(b)) => {
                    let (start, max) = (start as u32 as usize, max as u32 as usize);
                    if start >= b.len() {
                        Vec::new()
                    } else {
                        b[start..start.saturating_add(max).min(b.len())].to_vec()
                    }
                }
            };
            copy_out(&mut c, &data, ret_ptr, ret_len)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_buffer_status",
        |mut c: C<'_>, t: i32, ret_len: i32, ret_flags: i32| -> R {
            let len = match buffer_ref(c.data(), t) {
                Err(e) => return st(e),
                Ok(None) => return st(Status::NotFound),
                Ok(Some(b)) => b.len() as u32,
            };
            if !write_u32(&mut c, ret_len, len) || !write_u32(&mut c, ret_flags, 0) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_buffer_bytes",
        |mut c: C<'_>, t: i32, start: i32, size: i32, ptr: i32, len: i32| -> R {
            let Some(data) = read(&c, ptr, len) else {
                return st(Status::BadArgument);
            };
            let buf = match buffer_mut(c.data_mut(), t) {
                Ok(b) => b,
                Err(e) => return st(e),
            };
            let start = (start as u32 as usize).min(buf.len());
            let end = start.saturating_add(size as u32 as usize).min(buf.len());
            buf.splice(start..end, data);
            OK
        },
    )?;

    // --- header maps
    linker.func_wrap(
        env,
        "proxy_get_header_map_pairs",
        |mut c: C<'_>, t: i32, ret_ptr: i32, ret_len: i32| -> R {
            let bytes = match map_ref(c.data(), t) {
                Err(e) => return st(e),
                Ok(m) => m.map(Headers::wire).unwrap_or_default(),
            };
            copy_out(&mut c, &bytes, ret_ptr, ret_len)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_header_map_size",
        |mut c: C<'_>, t: i32, ret: i32| -> R {
            let n = match map_ref(c.data(), t) {
                Err(e) => return st(e),
                Ok(m) => m.map_or(0, |m| m.len() as u32),
            };
            if !write_u32(&mut c, ret, n) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_header_map_pairs",
        |mut c: C<'_>, t: i32, ptr: i32, len: i32| -> R {
            let Some(bytes) = read(&c, ptr, len) else {
                return st(Status::BadArgument);
            };
            let Some(pairs) = abi::deserialize_pairs(&bytes) else {
                return st(Status::BadArgument);
            };
            match map_mut(c.data_mut(), t) {
                Ok(m) => *m = Headers::from_pairs(pairs),
                Err(e) => return st(e),
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32, ret_ptr: i32, ret_len: i32| -> R {
            let Some(key) = read(&c, kp, kl) else {
                return st(Status::BadArgument);
            };
            let key = text(&key);
            let value = match map_ref(c.data(), t) {
                Err(e) => return st(e),
                Ok(None) => return st(Status::NotFound),
                Ok(Some(m)) => {
                    let all = m.get_all(&key);
                    if all.is_empty() {
                        return st(Status::NotFound);
                    }
                    all.join(&b","[..])
                }
            };
            copy_out(&mut c, &value, ret_ptr, ret_len)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_add_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32, vp: i32, vl: i32| -> R {
            let (Some(k), Some(v)) = (read(&c, kp, kl), read(&c, vp, vl)) else {
                return st(Status::BadArgument);
            };
            match map_mut(c.data_mut(), t) {
                Ok(m) => m.add(&text(&k), v),
                Err(e) => return st(e),
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_replace_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32, vp: i32, vl: i32| -> R {
            let (Some(k), Some(v)) = (read(&c, kp, kl), read(&c, vp, vl)) else {
                return st(Status::BadArgument);
            };
            match map_mut(c.data_mut(), t) {
                Ok(m) => m.set(&text(&k), v),
                Err(e) => return st(e),
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_remove_header_map_value",
        |mut c: C<'_>, t: i32, kp: i32, kl: i32| -> R {
            let Some(k) = read(&c, kp, kl) else {
                return st(Status::BadArgument);
            };
            match map_mut(c.data_mut(), t) {
                Ok(m) => m.remove(&text(&k)),
                Err(e) => return st(e),
            }
            OK
        },
    )?;

    // --- stream control
    linker.func_wrap(
        env,
        "proxy_continue_stream",
        |mut c: C<'_>, which: i32| -> R {
            let Some(s) = c.data_mut().stream.as_mut() else {
                return st(Status::NotFound);
            };
            match which {
                0 => s.continue_request = true,
                1 => s.continue_response = true,
                _ => return st(Status::BadArgument),
            }
            OK
        },
    )?;
    linker.func_wrap(env, "proxy_close_stream", |mut c: C<'_>, which: i32| -> R {
        let Some(s) = c.data_mut().stream.as_mut() else {
            return st(Status::NotFound);
        };
        if !(0..=1).contains(&which) {
            return st(Status::BadArgument);
        }
        s.closed = true;
        OK
    })?;
    linker.func_wrap(
        env,
        "proxy_send_local_response",
        |mut c: C<'_>,
         code: i32,
         dp: i32,
         dl: i32,
         bp: i32,
         bl: i32,
         hp: i32,
         hl: i32,
         grpc: i32|
         -> R {
            let (Some(details), Some(body), Some(hdrs)) =
                (read(&c, dp, dl), read(&c, bp, bl), read(&c, hp, hl))
            else {
                return st(Status::BadArgument);
            };
            let Some(pairs) = abi::deserialize_pairs(&hdrs) else {
                return st(Status::BadArgument);
            };
            let callback = c.data().callback;
            let Some(s) = c.data_mut().stream.as_mut() else {
                return st(Status::NotFound);
            };
            if s.local_response.is_some() {
                s.extra_local_responses += 1;
                return OK;
            }
            s.local_response = Some(LocalResponse {
                status: code as u32,
                headers: Headers::from_pairs(pairs),
                body,
                details: text(&details).replace(' ', "_"),
                grpc_status: grpc,
                sent_in: callback,
            });
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_status",
        |mut c: C<'_>, ret_code: i32, ret_ptr: i32, ret_len: i32| -> R {
            let (code, msg) = c.data().status.clone();
            if !write_u32(&mut c, ret_code, code as u32) {
                return st(Status::BadArgument);
            }
            copy_out(&mut c, &msg, ret_ptr, ret_len)
        },
    )?;

    // --- callouts
    linker.func_wrap(
        env,
        "proxy_http_call",
        |mut c: C<'_>,
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
            let (Some(upstream), Some(h), Some(body), Some(t)) =
                (read(&c, up, ul), read(&c, hp, hl), read(&c, bp, bl), read(&c, tp, tl))
            else {
                return st(Status::BadArgument);
            };
            let (Some(h), Some(t)) = (abi::deserialize_pairs(&h), abi::deserialize_pairs(&t)) else {
                return st(Status::BadArgument);
            };
            let headers = Headers::from_pairs(h);
            let missing: Vec<&str> =
                [":method", ":path", ":authority"].into_iter().filter(|k| !headers.contains(k)).collect();
            if !missing.is_empty() {
                let note = format!(
                    "proxy_http_call to {} refused: missing {} (Envoy requires :method, :path and :authority)",
                    text(&upstream),
                    missing.join(", ")
                );
                c.data_mut().note(note);
                return st(Status::BadArgument);
            }
            let s = c.data_mut();
            s.next_token += 1;
            let token = s.next_token;
            s.calls.push(HttpCallRecord {
                upstream: text(&upstream),
                headers,
                body,
                trailers: Headers::from_pairs(t),
                timeout_ms: timeout as u32,
                answered: false,
            });
            let record = s.calls.len() - 1;
            s.pending_calls.push_back(PendingCall { token, record });
            if !write_u32(&mut c, ret_token, token) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_grpc_call",
        |mut c: C<'_>,
         up: i32,
         ul: i32,
         _sp: i32,
         _sl: i32,
         _mp: i32,
         _ml: i32,
         _mdp: i32,
         _mdl: i32,
         _gp: i32,
         _gl: i32,
         _timeout: i32,
         _ret: i32|
         -> R {
            let up = read(&c, up, ul).map(|u| text(&u)).unwrap_or_default();
            c.data_mut().note(format!(
                "proxy_grpc_call to {up} refused: this host has no gRPC services"
            ));
            st(Status::BadArgument)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_grpc_stream",
        |mut c: C<'_>,
         up: i32,
         ul: i32,
         _sp: i32,
         _sl: i32,
         _mp: i32,
         _ml: i32,
         _mdp: i32,
         _mdl: i32,
         _ret: i32|
         -> R {
            let up = read(&c, up, ul).map(|u| text(&u)).unwrap_or_default();
            c.data_mut().note(format!(
                "proxy_grpc_stream to {up} refused: this host has no gRPC services"
            ));
            st(Status::BadArgument)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_grpc_send",
        |_c: C<'_>, _t: i32, _p: i32, _l: i32, _e: i32| -> R { st(Status::NotFound) },
    )?;
    linker.func_wrap(env, "proxy_grpc_cancel", |_c: C<'_>, _t: i32| -> R {
        st(Status::NotFound)
    })?;
    linker.func_wrap(env, "proxy_grpc_close", |_c: C<'_>, _t: i32| -> R {
        st(Status::NotFound)
    })?;
    linker.func_wrap(
        env,
        "proxy_call_foreign_function",
        |mut c: C<'_>, np: i32, nl: i32, _ap: i32, _al: i32, _rp: i32, _rl: i32| -> R {
            let name = read(&c, np, nl).map(|n| text(&n)).unwrap_or_default();
            c.data_mut().note(format!(
                "proxy_call_foreign_function({name}): no such function in this host"
            ));
            st(Status::NotFound)
        },
    )?;

    // --- properties
    linker.func_wrap(
        env,
        "proxy_get_property",
        |mut c: C<'_>, pp: i32, pl: i32, ret_ptr: i32, ret_len: i32| -> R {
            let Some(path) = read(&c, pp, pl) else {
                return st(Status::BadArgument);
            };
            let Some(value) = c.data().property(&property_name(&path)) else {
                return st(Status::NotFound);
            };
            copy_out(&mut c, &value, ret_ptr, ret_len)
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_property",
        |mut c: C<'_>, pp: i32, pl: i32, vp: i32, vl: i32| -> R {
            let (Some(path), Some(value)) = (read(&c, pp, pl), read(&c, vp, vl)) else {
                return st(Status::BadArgument);
            };
            let name = property_name(&path);
            let s = c.data_mut();
            let props = match s.stream.as_mut() {
                Some(x) => &mut x.properties,
                None => &mut s.properties,
            };
            props.retain(|(k, _)| *k != name);
            props.push((name, value));
            OK
        },
    )?;

    // --- shared data
    linker.func_wrap(
        env,
        "proxy_get_shared_data",
        |mut c: C<'_>, kp: i32, kl: i32, ret_ptr: i32, ret_len: i32, ret_cas: i32| -> R {
            let Some(key) = read(&c, kp, kl) else {
                return st(Status::BadArgument);
            };
            let Some((value, cas)) = c.data().shared.get(&key).cloned() else {
                return st(Status::NotFound);
            };
            let r = copy_out(&mut c, &value, ret_ptr, ret_len)?;
            if r != 0 {
                return Ok(r);
            }
            if !write_u32(&mut c, ret_cas, cas) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_set_shared_data",
        |mut c: C<'_>, kp: i32, kl: i32, vp: i32, vl: i32, cas: i32| -> R {
            let (Some(key), Some(value)) = (read(&c, kp, kl), read(&c, vp, vl)) else {
                return st(Status::BadArgument);
            };
            let shared = &mut c.data_mut().shared;
            let current = shared.get(&key).map_or(0, |(_, cas)| *cas);
            if cas != 0 && cas as u32 != current {
                return st(Status::CasMismatch);
            }
            shared.insert(key, (value, current.wrapping_add(1).max(1)));
            OK
        },
    )?;

    // --- shared queues
    linker.func_wrap(
        env,
        "proxy_register_shared_queue",
        |mut c: C<'_>, np: i32, nl: i32, ret_id: i32| -> R {
            let Some(name) = read(&c, np, nl) else {
                return st(Status::BadArgument);
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
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_resolve_shared_queue",
        |mut c: C<'_>, vp: i32, vl: i32, np: i32, nl: i32, ret_id: i32| -> R {
            let (Some(vm), Some(name)) = (read(&c, vp, vl), read(&c, np, nl)) else {
                return st(Status::BadArgument);
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
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_enqueue_shared_queue",
        |mut c: C<'_>, id: i32, p: i32, l: i32| -> R {
            let Some(data) = read(&c, p, l) else {
                return st(Status::BadArgument);
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
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_dequeue_shared_queue",
        |mut c: C<'_>, id: i32, ret_ptr: i32, ret_len: i32| -> R {
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
        },
    )?;

    // --- metrics
    linker.func_wrap(
        env,
        "proxy_define_metric",
        |mut c: C<'_>, kind: i32, np: i32, nl: i32, ret_id: i32| -> R {
            if !(0..=2).contains(&kind) {
                return st(Status::BadArgument);
            }
            let Some(name) = read(&c, np, nl) else {
                return st(Status::BadArgument);
            };
            let name = text(&name);
            let s = c.data_mut();
            let id = match s.metrics.iter().position(|m| m.name == name) {
                Some(i) => i + 1,
                None => {
                    s.metrics.push(crate::state::Metric {
                        name,
                        kind,
                        value: 0,
                    });
                    s.metrics.len()
                }
            };
            if !write_u32(&mut c, ret_id, id as u32) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_increment_metric",
        |mut c: C<'_>, id: i32, delta: i64| -> R {
            let s = c.data_mut();
            let Some(m) = (id as u32 as usize)
                .checked_sub(1)
                .and_then(|i| s.metrics.get_mut(i))
            else {
                return st(Status::NotFound);
            };
            if m.kind == 0 && delta < 0 {
                return st(Status::BadArgument);
            }
            m.value = m.value.wrapping_add(delta);
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_record_metric",
        |mut c: C<'_>, id: i32, value: i64| -> R {
            let s = c.data_mut();
            let Some(m) = (id as u32 as usize)
                .checked_sub(1)
                .and_then(|i| s.metrics.get_mut(i))
            else {
                return st(Status::NotFound);
            };
            m.value = value;
            OK
        },
    )?;
    linker.func_wrap(
        env,
        "proxy_get_metric",
        |mut c: C<'_>, id: i32, ret: i32| -> R {
            let s = c.data();
            let Some(m) = (id as u32 as usize)
                .checked_sub(1)
                .and_then(|i| s.metrics.get(i))
            else {
                return st(Status::NotFound);
            };
            let v = m.value as u64;
            if !write(&mut c, ret, &v.to_le_bytes()) {
                return st(Status::BadArgument);
            }
            OK
        },
    )?;
    Ok(())
}
