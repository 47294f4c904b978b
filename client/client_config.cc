#include "client/client_config.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace simclr::client {
namespace {

// `value` as a path: "~/" expanded, relative paths taken from `dir`.
std::string ResolvePath(const std::string& value, const std::filesystem::path& dir) {
  if (value.empty()) return value;
  if (value.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return (std::filesystem::path(home == nullptr ? "" : home) / value.substr(2)).string();
  }
  const std::filesystem::path p(value);
  return p.is_absolute() ? value : (dir / p).string();
}

}  // namespace

Connection Layer(const Connection& low, const Connection& high) {
  auto pick = [](const std::string& l, const std::string& h) { return h.empty() ? l : h; };
  return Connection{pick(low.coordinator, high.coordinator), pick(low.token_file, high.token_file),
                    pick(low.ca, high.ca), pick(low.cert, high.cert), pick(low.key, high.key)};
}

Connection ResolveConnection(const Connection& flags, const Connection& context) {
  Connection fallback;
  fallback.coordinator = "localhost:50051";
  return Layer(Layer(fallback, context), flags);
}

std::string DefaultConfigPath() {
  if (const char* path = std::getenv("SIMCLR_CONFIG"); path != nullptr && *path != '\0') {
    return path;
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return absl::StrCat(home, "/.config/simclr/config.yaml");
}

absl::StatusOr<Connection> LoadContext(const std::string& path, const std::string& name) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) {
    if (!name.empty()) {
      return absl::NotFoundError(absl::StrCat("--context=", name, ": no config file at ",
                                              path.empty() ? "$HOME/.config/simclr" : path));
    }
    return Connection{};
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": YAML syntax error at line ",
                                                   e.mark.line + 1, ": ", e.msg));
  }
  if (!root || root.IsNull()) return Connection{};
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a map"));
  std::string wanted = name;
  std::vector<std::string> names;
  YAML::Node chosen;
  bool found = false;
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (key != "current-context" && key != "contexts") {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": unknown key \"", key, "\"; expected current-context or contexts"));
      }
    }
    if (wanted.empty() && root["current-context"]) {
      wanted = root["current-context"].as<std::string>();
    }
    if (wanted.empty()) return Connection{};
    for (const YAML::Node& context : root["contexts"]) {
      const std::string context_name = context["name"].as<std::string>("");
      names.push_back(context_name);
      if (context_name == wanted && !found) {
        chosen = context;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": no context \"", wanted, "\"; it has ",
                       names.empty() ? "none" : absl::StrJoin(names, ", ")));
    }
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    Connection connection;
    for (const auto& field : chosen) {
      const std::string key = field.first.as<std::string>();
      const std::string value = field.second.as<std::string>();
      if (key == "name") {
      } else if (key == "coordinator") {
        connection.coordinator = value;
      } else if (key == "token-file") {
        connection.token_file = ResolvePath(value, dir);
      } else if (key == "ca") {
        connection.ca = ResolvePath(value, dir);
      } else if (key == "cert") {
        connection.cert = ResolvePath(value, dir);
      } else if (key == "key") {
        connection.key = ResolvePath(value, dir);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": context \"", wanted, "\": unknown key \"", key,
            "\"; expected name, coordinator, token-file, ca, cert or key"));
      }
    }
    return connection;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": line ", e.mark.line + 1, ": ", e.msg));
  }
}

}  // namespace simclr::client
