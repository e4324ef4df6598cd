//! Shared queues: one VM registers a queue, others (or itself) resolve it and enqueue; the registering root
//! context is told with `RootPlugin::on_queue_ready` and dequeues.

use crate::host::{self, HostError};

/// Registers (or finds again) this VM's queue `name`; returns its id.
pub fn register(name: &str) -> Result<u32, HostError> {
    host::register_shared_queue(name)
}

/// The id of queue `name` registered by VM `vm_id`; `Ok(None)` when there is none.
pub fn resolve(vm_id: &str, name: &str) -> Result<Option<u32>, HostError> {
    host::resolve_shared_queue(vm_id, name)
}

pub fn enqueue(queue_id: u32, data: &[u8]) -> Result<(), HostError> {
    host::enqueue_shared_queue(queue_id, data)
}

/// The next item; `Ok(None)` when the queue is empty.
pub fn dequeue(queue_id: u32) -> Result<Option<Vec<u8>>, HostError> {
    host::dequeue_shared_queue(queue_id)
}
