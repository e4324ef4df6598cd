// State that outlives a request: shared data (with compare-and-swap), shared queues and metrics. Host
// errors are values (Status / std::optional), never traps. Rust twins: `pwsdk::shared_data`,
// `pwsdk::queue`, `pwsdk::metrics`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pwsdk/types.h"

namespace pwsdk {
inline namespace v0 {

// ---- Shared data -------------------------------------------------------------------------------------
// A key/value store shared by every VM of the plug-in on the host (per worker thread in Envoy: all VMs with
// the same vm_id). Each value carries a CAS token that changes on every write.
struct SharedValue {
  std::string value;
  uint32_t cas = 0;
};

// nullopt with *status NotFound when the key is absent, or with the host's failure.
std::optional<SharedValue> getSharedData(std::string_view key, Status* status = nullptr);
// cas 0 writes unconditionally; otherwise the write happens only if the value's CAS token is still `cas`,
// else Status::CasMismatch (nothing written).
Status setSharedData(std::string_view key, std::string_view value, uint32_t cas = 0);

namespace detail {
// The compare-and-swap retry loop of updateSharedData, over any get/set (pure: the native tests drive it
// with a fake store). get(Status*) -> std::optional<SharedValue>; set(value, cas) -> Status;
// compute(std::optional<std::string_view> current) -> std::optional<std::string> (nullopt: write nothing).
template <class Get, class Set, class Compute>
Status casUpdate(Get&& get, Set&& set, Compute&& compute, uint32_t max_tries,
                 std::optional<std::string>* written) {
  if (written) written->reset();
  if (max_tries == 0) max_tries = 1;
  for (uint32_t attempt = 0; attempt < max_tries; ++attempt) {
    Status status = Status::Ok;
    std::optional<SharedValue> current = get(&status);
    if (!current && status != Status::NotFound) return status;
    std::optional<std::string_view> view;
    if (current) view = std::string_view(current->value);
    std::optional<std::string> next = compute(view);
    if (!next) return Status::Ok;
    // An absent key has no CAS token: the write is then unconditional (proxy-wasm has no "create only").
    status = set(std::string_view(*next), current ? current->cas : 0);
    if (status == Status::Ok && written) *written = std::move(next);
    if (status != Status::CasMismatch) return status;
  }
  return Status::CasMismatch;
}
}  // namespace detail

// Read-modify-write with retries (Rust `shared_data::update`): up to max_tries rounds (0 counts as 1) of
// read the key -> compute(current value, nullopt when absent) -> write the result with the CAS token read
// -> on CasMismatch (another writer came in between) start again. compute returning nullopt writes nothing.
// Returns Ok (with the value written in *written, nullopt when nothing was written), CasMismatch after
// max_tries lost races, or the host's failure. compute may run several times: keep it free of side effects
// beyond its result. Two VMs creating the same absent key race and the last write wins.
template <class Compute>
Status updateSharedData(std::string_view key, uint32_t max_tries, Compute&& compute,
                        std::optional<std::string>* written = nullptr) {
  return detail::casUpdate(
      [key](Status* status) { return getSharedData(key, status); },
      [key](std::string_view value, uint32_t cas) { return setSharedData(key, value, cas); }, compute,
      max_tries, written);
}

// ---- Shared queues -----------------------------------------------------------------------------------
// Creates (or finds) this VM's queue `name`; its consumer gets RootContext::onQueueReady(id).
std::optional<uint32_t> registerSharedQueue(std::string_view name, Status* status = nullptr);
// Finds the queue `name` registered by VM `vm_id` (NotFound when there is none).
std::optional<uint32_t> resolveSharedQueue(std::string_view vm_id, std::string_view name,
                                           Status* status = nullptr);
Status enqueueSharedQueue(uint32_t queue_id, std::string_view data);
// The oldest item; nullopt with *status Empty when there is none.
std::optional<std::string> dequeueSharedQueue(uint32_t queue_id, Status* status = nullptr);

// ---- Metrics -----------------------------------------------------------------------------------------
// Envoy stores a metric named "x" as `wasmcustom.x` (its custom stat namespace; the Prometheus output
// strips it again). Define metrics once (e.g. in onConfigure); defining the same name again returns the same
// metric (the SDK remembers names, so the host is asked once per name and kind).
namespace detail {
std::optional<uint32_t> defineMetric(MetricType type, std::string_view name, Status* status);
Status incrementMetric(uint32_t id, int64_t delta);
Status recordMetric(uint32_t id, uint64_t value);
std::optional<uint64_t> getMetric(uint32_t id, Status* status);
}  // namespace detail

// A monotonically increasing count.
class Counter {
 public:
  static std::optional<Counter> define(std::string_view name, Status* status = nullptr) {
    auto id = detail::defineMetric(MetricType::Counter, name, status);
    return id ? std::optional<Counter>(Counter(*id)) : std::nullopt;
  }
  // A delta of 0 is Ok without asking the host (Envoy would answer BadArgument, other hosts Ok).
  Status increment(uint64_t delta = 1) const {
    return delta == 0 ? Status::Ok : detail::incrementMetric(id_, static_cast<int64_t>(delta));
  }
  std::optional<uint64_t> get(Status* status = nullptr) const { return detail::getMetric(id_, status); }
  uint32_t id() const { return id_; }

 private:
  explicit Counter(uint32_t id) : id_(id) {}
  uint32_t id_;
};

// A value that goes up and down.
class Gauge {
 public:
  static std::optional<Gauge> define(std::string_view name, Status* status = nullptr) {
    auto id = detail::defineMetric(MetricType::Gauge, name, status);
    return id ? std::optional<Gauge>(Gauge(*id)) : std::nullopt;
  }
  Status increment(int64_t delta) const { return detail::incrementMetric(id_, delta); }
  // Sets the value.
  Status record(uint64_t value) const { return detail::recordMetric(id_, value); }
  std::optional<uint64_t> get(Status* status = nullptr) const { return detail::getMetric(id_, status); }
  uint32_t id() const { return id_; }

 private:
  explicit Gauge(uint32_t id) : id_(id) {}
  uint32_t id_;
};

// A distribution of samples (Envoy cannot read a histogram back: no get()).
class Histogram {
 public:
  static std::optional<Histogram> define(std::string_view name, Status* status = nullptr) {
    auto id = detail::defineMetric(MetricType::Histogram, name, status);
    return id ? std::optional<Histogram>(Histogram(*id)) : std::nullopt;
  }
  Status record(uint64_t value) const { return detail::recordMetric(id_, value); }
  uint32_t id() const { return id_; }

 private:
  explicit Histogram(uint32_t id) : id_(id) {}
  uint32_t id_;
};

}  // namespace v0
}  // namespace pwsdk
