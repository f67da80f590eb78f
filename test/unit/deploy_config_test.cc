// deploy/ can be neither run nor linted with Envoy, Docker or Kubernetes here, so this checks
// what would make them fail or misbehave on first use: YAML that does not parse, a route to a
// cluster that does not exist, a health check or probe on the wrong service, selectors that
// select nothing, pods that cannot pull or start, an autoscaler fought by its Deployment, an
// outlier detection that never ejects, a Docker context that breaks the build. The schemas
// themselves are checked by deploy_schemas_test.cc and test/deploy/.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <absl/strings/str_split.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include "user/v1/user.grpc.pb.h"

namespace usersvc {
namespace {

const std::filesystem::path kDeploy = std::filesystem::path(USERSVC_SOURCE_DIR) / "deploy";
const std::string kService = "user.v1.UserService";
// The RPCs that change nothing: the only ones a retry may repeat after they reached the service.
const std::set<std::string> kReads = {"GetUser",       "GetUserByEmail",     "ListUsers",
                                      "SearchUsers",   "HealthCheck",        "GetAddress",
                                      "ListAddresses", "GetUserPreferences", "WatchUserEvents"};

std::vector<YAML::Node> Documents(const std::filesystem::path& path) {
  INFO(path);
  std::vector<YAML::Node> documents;
  REQUIRE_NOTHROW(documents = YAML::LoadAllFromFile(path.string()));
  return documents;
}

/// Every node under `node` (itself included) that is a map holding `key`.
void FindMaps(const YAML::Node& node, const std::string& key, std::vector<YAML::Node>* found) {
  if (node.IsMap()) {
    if (node[key]) found->push_back(node);
    for (const auto& entry : node) FindMaps(entry.second, key, found);
  } else if (node.IsSequence()) {
    for (const auto& item : node) FindMaps(item, key, found);
  }
}

TEST_CASE("every YAML file in deploy/ parses") {
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kDeploy)) {
    const auto extension = entry.path().extension();
    if (extension != ".yaml" && extension != ".yml") continue;
    ++files;
    CHECK_FALSE(Documents(entry.path()).empty());
  }
  CHECK(files >= 8);
}

/// Envoy's route entries (match and route) of the listener, in order.
std::vector<YAML::Node> EnvoyRoutes(const YAML::Node& envoy) {
  std::vector<YAML::Node> virtual_hosts;
  FindMaps(envoy["static_resources"]["listeners"], "routes", &virtual_hosts);
  REQUIRE(virtual_hosts.size() == 1);
  std::vector<YAML::Node> routes;
  for (const auto& route : virtual_hosts[0]["routes"]) routes.push_back(route);
  return routes;
}

TEST_CASE("envoy.yaml routes only to clusters it defines, health-checks the service, retries") {
  const YAML::Node envoy = YAML::LoadFile((kDeploy / "envoy/envoy.yaml").string());
  std::map<std::string, YAML::Node> clusters;
  for (const auto& cluster : envoy["static_resources"]["clusters"]) {
    clusters[cluster["name"].as<std::string>()] = static_cast<const YAML::Node&>(cluster);
  }
  std::set<std::string> routed;
  for (const YAML::Node& entry : EnvoyRoutes(envoy)) {
    const YAML::Node route = entry["route"];
    const std::string cluster = route["cluster"].as<std::string>();
    INFO(cluster);
    CHECK(clusters.count(cluster) == 1);
    routed.insert(cluster);
    CHECK(route["max_stream_duration"]["grpc_timeout_header_max"]);
    // A per-try timeout would cap every call below the caller's deadline and repeat slow writes.
    CHECK_FALSE(route["retry_policy"]["per_try_timeout"]);
  }
  REQUIRE_FALSE(routed.empty());
  for (const std::string& name : routed) {
    const YAML::Node& cluster = clusters[name];
    const auto checks = cluster["health_checks"];
    REQUIRE(checks.IsSequence());
    CHECK(checks[0]["grpc_health_check"]["service_name"].as<std::string>() == kService);
    CHECK(cluster["circuit_breakers"]["thresholds"][0]["max_requests"]);
    const YAML::Node outliers = cluster["outlier_detection"];
    REQUIRE(outliers);
    // Envoy enforces consecutive 5xx ejections by default (100%) but gateway failures not at all
    // (0%): counted and never acted on unless enforcing is set.
    if (outliers["consecutive_gateway_failure"]) {
      REQUIRE(outliers["enforcing_consecutive_gateway_failure"]);
      CHECK(outliers["enforcing_consecutive_gateway_failure"].as<int>() > 0);
    }
  }
  CHECK(envoy["admin"]["address"]["socket_address"]["address"].as<std::string>() == "127.0.0.1");

  std::vector<YAML::Node> transcoders;
  FindMaps(envoy, "proto_descriptor", &transcoders);
  REQUIRE(transcoders.size() == 1);
  for (const auto& service : transcoders[0]["services"]) {
    CHECK(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
              service.as<std::string>()) != nullptr);
  }
}

TEST_CASE("envoy.yaml checks callers' tokens at the edge, forwards them, and leaves health open") {
  const YAML::Node envoy = YAML::LoadFile((kDeploy / "envoy/envoy.yaml").string());
  std::vector<YAML::Node> jwt_filters;
  FindMaps(envoy, "providers", &jwt_filters);
  REQUIRE(jwt_filters.size() == 1);
  const YAML::Node& jwt = jwt_filters[0];
  REQUIRE(jwt["providers"].size() == 1);
  const YAML::Node provider = jwt["providers"].begin()->second;
  const std::string provider_name = jwt["providers"].begin()->first.as<std::string>();
  CHECK_FALSE(provider["issuer"].as<std::string>().empty());
  CHECK(provider["audiences"][0].as<std::string>() == "usersvc");
  CHECK(provider["forward"].as<bool>());  // usersvc checks it again and reads its scopes
  std::set<std::string> clusters;
  for (const auto& cluster : envoy["static_resources"]["clusters"]) {
    clusters.insert(cluster["name"].as<std::string>());
  }
  CHECK(clusters.count(provider["remote_jwks"]["http_uri"]["cluster"].as<std::string>()) == 1);
  // The filter runs before the transcoder, so REST calls are checked too.
  std::vector<YAML::Node> managers;
  FindMaps(envoy, "http_filters", &managers);
  REQUIRE(managers.size() == 1);
  std::vector<std::string> order;
  for (const auto& filter : managers[0]["http_filters"])
    order.push_back(filter["name"].as<std::string>());
  REQUIRE(order.size() >= 2);
  CHECK(order[0] == "envoy.filters.http.jwt_authn");
  CHECK(std::find(order.begin(), order.end(), "envoy.filters.http.grpc_json_transcoder") >
        order.begin());
  // The first matching rule decides: health without a token, everything else with one.
  auto rule_for = [&](const std::string& path) -> YAML::Node {
    for (const auto& rule : jwt["rules"]) {
      if (path.rfind(rule["match"]["prefix"].as<std::string>(), 0) == 0) return rule;
    }
    return YAML::Node();
  };
  CHECK_FALSE(rule_for("/grpc.health.v1.Health/Check")["requires"]);
  for (const char* path :
       {"/user.v1.UserService/GetUser", "/user.v1.UserService/DeleteUser", "/v1/users/123",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"}) {
    INFO(path);
    CHECK(rule_for(path)["requires"]["provider_name"].as<std::string>() == provider_name);
  }
}

TEST_CASE("envoy.yaml retries a change only when nothing of it reached the service") {
  const YAML::Node envoy = YAML::LoadFile((kDeploy / "envoy/envoy.yaml").string());
  const std::vector<YAML::Node> routes = EnvoyRoutes(envoy);
  // The route each method takes, as Envoy picks it: the first that matches its path.
  auto route_of = [&](const std::string& path) -> YAML::Node {
    for (const auto& route : routes) {
      const auto& match = route["match"];
      if (match["path"] && path == match["path"].as<std::string>()) return route;
      if (match["prefix"] && path.rfind(match["prefix"].as<std::string>(), 0) == 0) return route;
      if (match["safe_regex"] &&
          std::regex_match(path, std::regex(match["safe_regex"]["regex"].as<std::string>()))) {
        return route;
      }
    }
    return YAML::Node();
  };
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kService);
  REQUIRE(service != nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string name = service->method(i)->name();
    INFO(name);
    const YAML::Node route = route_of("/" + std::string(kService) + "/" + name);
    REQUIRE(route);
    const std::vector<std::string> retry_on =
        absl::StrSplit(route["route"]["retry_policy"]["retry_on"].as<std::string>(), ',');
    auto retries_on = [&](const char* condition) {
      return std::find(retry_on.begin(), retry_on.end(), condition) != retry_on.end();
    };
    // Always: nothing reached the service, or it refused before doing anything.
    for (const char* safe : {"connect-failure", "refused-stream", "reset-before-request",
                             "unavailable", "resource-exhausted"}) {
      INFO(safe);
      CHECK((retries_on(safe) ||
             (std::string(safe) == "reset-before-request" && retries_on("reset"))));
    }
    // A reset (after the request went out), a cancellation or a 5xx may come after a change
    // committed: only reads retry on them.
    const bool retries_unknown = retries_on("reset") || retries_on("cancelled") ||
                                 retries_on("5xx") || retries_on("gateway-error");
    CHECK(retries_unknown == (kReads.count(name) == 1));
  }
}

TEST_CASE("the Kubernetes objects select each other and probe the right health names") {
  std::map<std::string, YAML::Node> by_kind_and_name;
  for (const auto& entry : std::filesystem::directory_iterator(kDeploy / "k8s")) {
    for (const auto& document : Documents(entry.path())) {
      by_kind_and_name[document["kind"].as<std::string>() + "/" +
                       document["metadata"]["name"].as<std::string>()] = document;
    }
  }
  REQUIRE(by_kind_and_name.count("Deployment/usersvc") == 1);
  const YAML::Node deployment = by_kind_and_name["Deployment/usersvc"];
  const std::string app =
      deployment["spec"]["template"]["metadata"]["labels"]["app"].as<std::string>();
  CHECK(deployment["spec"]["selector"]["matchLabels"]["app"].as<std::string>() == app);
  const YAML::Node container = deployment["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["readinessProbe"]["grpc"]["service"].as<std::string>() == kService);
  CHECK(container["livenessProbe"]["grpc"]["service"].as<std::string>() == "liveness");
  CHECK(container["lifecycle"]["preStop"]);

  CHECK(by_kind_and_name["Service/usersvc"]["spec"]["selector"]["app"].as<std::string>() == app);
  CHECK(by_kind_and_name["PodDisruptionBudget/usersvc"]["spec"]["selector"]["matchLabels"]["app"]
            .as<std::string>() == app);
  const YAML::Node target =
      by_kind_and_name["HorizontalPodAutoscaler/usersvc"]["spec"]["scaleTargetRef"];
  CHECK(by_kind_and_name.count(target["kind"].as<std::string>() + "/" +
                               target["name"].as<std::string>()) == 1);

  const YAML::Node kustomization = YAML::LoadFile((kDeploy / "kustomization.yaml").string());
  for (const auto& resource : kustomization["resources"]) {
    CHECK(std::filesystem::exists(kDeploy / resource.as<std::string>()));
  }
  for (const auto& file : kustomization["configMapGenerator"][0]["files"]) {
    CHECK(std::filesystem::exists(kDeploy / file.as<std::string>()));
  }
}

std::vector<YAML::Node> PodTemplates() {
  std::vector<YAML::Node> templates;
  for (const auto& entry : std::filesystem::directory_iterator(kDeploy / "k8s")) {
    for (const auto& document : Documents(entry.path())) {
      if (document["kind"].as<std::string>() == "Deployment") {
        templates.push_back(document["spec"]["template"]);
      }
    }
  }
  REQUIRE(templates.size() == 2);
  return templates;
}

TEST_CASE("pods pull an image they can find and pass the restricted Pod Security level") {
  for (const YAML::Node& pod_template : PodTemplates()) {
    const YAML::Node pod = pod_template["spec"];
    const YAML::Node pod_security = pod["securityContext"];
    for (const auto& container : pod["containers"]) {
      const std::string image = container["image"].as<std::string>();
      INFO(image);
      // ":latest" (or no tag) makes Kubernetes pull on every start, from a registry that has no
      // such image unless one was pushed; a pinned tag with IfNotPresent uses the loaded one.
      const auto colon = image.rfind(':');
      REQUIRE(colon != std::string::npos);
      CHECK(image.substr(colon + 1) != "latest");
      CHECK(container["imagePullPolicy"].as<std::string>() == "IfNotPresent");
      // "restricted": non-root, no privilege escalation, every capability dropped, the runtime's
      // seccomp profile (at the pod or the container level).
      const YAML::Node security = container["securityContext"];
      auto either = [&](const char* key) {
        return security[key] ? security[key] : pod_security[key];
      };
      CHECK(either("runAsNonRoot").as<bool>());
      CHECK(either("runAsUser").as<int>() != 0);
      CHECK(either("seccompProfile")["type"].as<std::string>() == "RuntimeDefault");
      CHECK_FALSE(security["allowPrivilegeEscalation"].as<bool>());
      std::set<std::string> dropped;
      for (const auto& capability : security["capabilities"]["drop"]) {
        dropped.insert(capability.as<std::string>());
      }
      CHECK(dropped.count("ALL") == 1);
    }
  }
}

TEST_CASE("the autoscaler alone sets how many usersvc replicas run") {
  const YAML::Node deployment = Documents(kDeploy / "k8s/deployment.yaml").front();
  // Every `kubectl apply -k` would reset the count the HorizontalPodAutoscaler chose.
  CHECK_FALSE(deployment["spec"]["replicas"]);
  const YAML::Node hpa = Documents(kDeploy / "k8s/hpa.yaml").front();
  CHECK(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>() ==
        deployment["metadata"]["name"].as<std::string>());
}

TEST_CASE("the Docker build context leaves out build trees, the local cluster and .git") {
  std::ifstream in(kDeploy / ".." / ".dockerignore");
  REQUIRE(in.good());
  std::set<std::string> ignored;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') ignored.insert(line);
  }
  for (const char* path : {".git", "build/", ".data/"}) {
    INFO(path);
    CHECK(ignored.count(path) == 1);
  }
}

TEST_CASE("the Envoy image is the supported release line the API schema comes from") {
  std::ifstream in(kDeploy / "Dockerfile");
  std::string dockerfile((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch found;
  REQUIRE(std::regex_search(dockerfile, found, std::regex(R"(FROM envoyproxy/envoy:v1\.(\d+))")));
  // ../shared/schemas/envoy-api-v3.pb is Envoy's API of 2026-01 (1.37); 1.31 and older are out of
  // support. A newer line is fine once the schema moves with it.
  CHECK(std::stoi(found[1].str()) >= 37);
}

TEST_CASE("the clients' service config retries reads only and bounds every unary call's timeout") {
  std::ifstream in(kDeploy / "grpc-service-config.json");
  REQUIRE(in.good());
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  google::protobuf::Struct config;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &config).ok());
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kService);
  REQUIRE(service != nullptr);
  std::set<std::string> retried;
  bool has_service_default = false;
  for (const auto& entry : config.fields().at("methodConfig").list_value().values()) {
    const auto& method_config = entry.struct_value().fields();
    const auto& names = method_config.at("name").list_value().values();
    // A stream (WatchUserEvents) lives as long as its caller wants: it alone may go without.
    const bool streams_only = std::all_of(names.begin(), names.end(), [&](const auto& name) {
      const auto& fields = name.struct_value().fields();
      if (fields.count("method") == 0) return false;
      const auto* method = service->FindMethodByName(fields.at("method").string_value());
      return method != nullptr && method->server_streaming();
    });
    if (!streams_only || method_config.count("timeout") == 1) {
      // A timeout in seconds, at most Envoy's 30 s cap (envoy.yaml grpc_timeout_header_max).
      const std::string timeout = method_config.at("timeout").string_value();
      REQUIRE(timeout.back() == 's');
      CHECK(std::stod(timeout.substr(0, timeout.size() - 1)) <= 30);
    }
    const bool retries = method_config.count("retryPolicy") == 1;
    for (const auto& name : names) {
      const auto& fields = name.struct_value().fields();
      CHECK(fields.at("service").string_value() == kService);
      if (fields.count("method") == 0) {
        has_service_default = true;
        CHECK_FALSE(retries);  // the default covers the writes
        continue;
      }
      const std::string method = fields.at("method").string_value();
      INFO(method);
      CHECK(service->FindMethodByName(method) != nullptr);
      if (retries) retried.insert(method);
    }
  }
  CHECK(has_service_default);
  CHECK(retried == kReads);
}

TEST_CASE("compose.yaml depends only on services it defines and builds from deploy/Dockerfile") {
  const YAML::Node compose = YAML::LoadFile((kDeploy / "compose.yaml").string());
  std::set<std::string> services;
  for (const auto& service : compose["services"]) services.insert(service.first.as<std::string>());
  CHECK(services == std::set<std::string>{"postgres", "usersvc", "envoy"});
  for (const auto& service : compose["services"]) {
    const YAML::Node depends_on = service.second["depends_on"];
    if (!depends_on) {
      // nothing to check
    } else if (depends_on.IsSequence()) {
      for (const auto& name : depends_on) CHECK(services.count(name.as<std::string>()) == 1);
    } else if (depends_on.IsMap()) {
      for (const auto& name : depends_on) CHECK(services.count(name.first.as<std::string>()) == 1);
    }
    if (service.second["build"]) {
      CHECK(std::filesystem::exists(kDeploy / ".." /
                                    service.second["build"]["dockerfile"].as<std::string>()));
    }
  }
}

}  // namespace
}  // namespace usersvc
