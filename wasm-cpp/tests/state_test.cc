// The compare-and-swap retry decisions of updateSharedData (detail::casUpdate) over a fake store.
#include "pwsdk/state.h"

#include <map>
#include <string>

#include "check.h"

using pwsdk::SharedValue;
using pwsdk::Status;

namespace {

// A shared-data store with the host's CAS rules; `race` writes by another VM before each of our writes.
struct FakeStore {
  std::map<std::string, SharedValue> data;
  int races = 0;  // how many of our next writes another writer beats
  int gets = 0, sets = 0;
  Status get_fails = Status::Ok;
  Status set_fails = Status::Ok;

  std::optional<SharedValue> get(const std::string& key, Status* status) {
    ++gets;
    if (get_fails != Status::Ok) return *status = get_fails, std::nullopt;
    auto it = data.find(key);
    if (it == data.end()) return *status = Status::NotFound, std::nullopt;
    *status = Status::Ok;
    return it->second;
  }
  Status rawSet(const std::string& key, std::string_view value, uint32_t cas) {
    auto it = data.find(key);
    uint32_t current = it == data.end() ? 0 : it->second.cas;
    if (cas != 0 && cas != current) return Status::CasMismatch;
    data[key] = SharedValue{std::string(value), current + 1};
    return Status::Ok;
  }
  Status set(const std::string& key, std::string_view value, uint32_t cas) {
    ++sets;
    if (set_fails != Status::Ok) return set_fails;
    if (races > 0) {
      --races;
      rawSet(key, "other", 0);
    }
    return rawSet(key, value, cas);
  }
  Status update(const std::string& key, uint32_t tries, std::optional<std::string>* written,
                std::optional<std::string> (*compute)(std::optional<std::string_view>)) {
    return pwsdk::detail::casUpdate([&](Status* st) { return get(key, st); },
                                    [&](std::string_view v, uint32_t cas) { return set(key, v, cas); },
                                    compute, tries, written);
  }
};

std::optional<std::string> append(std::optional<std::string_view> current) {
  return std::string(current.value_or("")) + "+";
}
std::optional<std::string> nothing(std::optional<std::string_view>) { return std::nullopt; }

}  // namespace

void stateTests() {
  std::optional<std::string> written;
  {  // absent key: written unconditionally (cas 0)
    FakeStore s;
    CHECK(s.update("k", 3, &written, append) == Status::Ok);
    CHECK(written && *written == "+");
    CHECK(s.data["k"].value == "+" && s.data["k"].cas == 1);
    CHECK(s.gets == 1 && s.sets == 1);
  }
  {  // lost races are retried with the new value
    FakeStore s;
    s.rawSet("k", "a", 0);
    s.races = 2;
    CHECK(s.update("k", 3, &written, append) == Status::Ok);
    CHECK(written && *written == "other+");
    CHECK(s.data["k"].value == "other+");
    CHECK(s.gets == 3 && s.sets == 3);
  }
  {  // too many lost races: CasMismatch, our value never written
    FakeStore s;
    s.rawSet("k", "a", 0);
    s.races = 5;
    CHECK(s.update("k", 3, &written, append) == Status::CasMismatch);
    CHECK(!written);
    CHECK(s.data["k"].value == "other");
    CHECK(s.sets == 3);
  }
  {  // 0 tries counts as 1
    FakeStore s;
    s.rawSet("k", "a", 0);
    CHECK(s.update("k", 0, &written, append) == Status::Ok);
    CHECK(written && *written == "a+");
    s.races = 1;
    CHECK(s.update("k", 0, &written, append) == Status::CasMismatch);
  }
  {  // compute returning nullopt writes nothing
    FakeStore s;
    s.rawSet("k", "a", 0);
    CHECK(s.update("k", 3, &written, nothing) == Status::Ok);
    CHECK(!written && s.sets == 0 && s.data["k"].value == "a");
  }
  {  // host failures come back as they are, without retries
    FakeStore s;
    s.get_fails = Status::InternalFailure;
    CHECK(s.update("k", 3, &written, append) == Status::InternalFailure);
    CHECK(s.gets == 1 && s.sets == 0);
    FakeStore t;
    t.set_fails = Status::BadArgument;
    CHECK(t.update("k", 3, &written, append) == Status::BadArgument);
    CHECK(t.sets == 1 && !written);
  }
}
