// The shared cluster naming table (wasm-rust/tests/cluster_cases.txt) plus a few direct checks.
#include "pwsdk/cluster.h"

#include <map>
#include <set>
#include <string>

#include "check.h"
#include "pwsdk/callout.h"
#include "table.h"

using pwsdk::Cluster;

int clusterTableCases = 0;

void clusterTests(const std::string& dir) {
  std::string path = dir + "/cluster_cases.txt";
  std::set<std::string> kinds;
  for (const table::Row& row : table::read(path, 4)) {
    std::string where = path + ":" + std::to_string(row.line);
    std::map<std::string, std::string> args;
    if (row.fields[1] != "-") {
      for (const std::string& pair : table::split(row.fields[1], ' ')) {
        size_t eq = pair.find('=');
        if (eq == std::string::npos) {
          check::fail(where.c_str(), 0, "`" + pair + "` is not key=value");
          continue;
        }
        args[pair.substr(0, eq)] = table::decode(pair.substr(eq + 1), where);
      }
    }
    auto s = [&](const char* k) { return args.count(k) ? args[k] : std::string(); };
    auto port = [&](const char* k) { return static_cast<uint16_t>(std::stoul(s(k))); };
    const std::string& kind = row.fields[0];
    std::optional<Cluster> c;
    if (kind == "route") c = Cluster::route(s("host"));
    if (kind == "k8s") c = Cluster::k8s(s("service"), s("namespace"), port("port"), s("version"), s("host"));
    if (kind == "nacos") {
      c = Cluster::nacos(s("service"), s("group"), s("namespace_id"), port("port"), s("ext") == "true",
                         s("version"), s("host"));
    }
    if (kind == "static") c = Cluster::staticIp(s("service"), port("port"), s("host"));
    if (kind == "dns") c = Cluster::dns(s("service"), s("domain"), port("port"));
    if (kind == "consul") c = Cluster::consul(s("service"), s("datacenter"), port("port"), s("host"));
    if (kind == "fqdn") c = Cluster::fqdn(s("fqdn"), port("port"), s("host"));
    if (kind == "named") c = Cluster::named(s("name"), s("authority"));
    ++check::checks;
    if (!c) {
      check::fail(where.c_str(), 0, "unknown kind `" + kind + "`");
      continue;
    }
    kinds.insert(kind);
    ++clusterTableCases;
    auto arg = [&](const char* k) -> std::optional<std::string_view> {
      auto it = args.find(k);
      if (it == args.end()) return std::nullopt;
      return std::string_view(it->second);
    };
    std::string name = c->nameWith(arg("property")).value_or("!error");
    std::string authority = c->authorityWith(arg("request")).value_or("!error");
    std::string want_name = table::decode(row.fields[2], where);
    std::string want_authority = table::decode(row.fields[3], where);
    if (name != want_name || authority != want_authority) {
      check::fail(where.c_str(), 0,
                  "got name `" + name + "` authority `" + authority + "`, expected `" + want_name + "` `" +
                      want_authority + "`");
    }
  }
  CHECK(kinds.size() == 8);  // every kind is covered
  CHECK(clusterTableCases >= 25);

  // Cluster names Envoy's proxy_grpc_call would read as a GrpcService (the Rust SDK's cases).
  using pwsdk::parsesAsProtobuf;
  CHECK(!parsesAsProtobuf("outbound|9000||grpc.dns"));  // `o`: field 13, wire type 7
  CHECK(!parsesAsProtobuf("ext_authz"));
  CHECK(!parsesAsProtobuf("grpc"));
  CHECK(parsesAsProtobuf(""));           // an empty message
  CHECK(parsesAsProtobuf("a12345678"));  // `a`: field 12 fixed64 + 8 bytes
  CHECK(!parsesAsProtobuf("a1234567"));
  CHECK(parsesAsProtobuf(
      std::string("\x0a\x03\x0a\x01x", 5)));            // GrpcService { envoy_grpc { cluster_name: "x" } }
  CHECK(!parsesAsProtobuf("\"abc"));                    // length 0x61 runs past the end
  CHECK(parsesAsProtobuf(std::string("\x0b\x0c", 2)));  // a group that closes
  CHECK(!parsesAsProtobuf(std::string("\x0b", 1)));
  CHECK(!parsesAsProtobuf(std::string("\x0c", 1)));
  CHECK(!parsesAsProtobuf(
      std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)));  // varint too long

  CHECK(Cluster::k8s("auth", "", 80, "", "").kind() == Cluster::Kind::K8s);
  CHECK_EQ(*Cluster::nacos("s", "a_b", "ns", 1, true, "v", "").nameWith(std::nullopt),
           std::string("outbound|1|v|s.a-b.ns.nacos-ext"));
  CHECK(!Cluster::route("").nameWith(std::nullopt));
  CHECK_EQ(*Cluster::route("h").authorityWith(std::nullopt), std::string("h"));
}
