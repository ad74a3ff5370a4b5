#include <exception>
#include <memory>
#include <ostream>

#include "app/cli.h"
#include "config/builder.h"
#include "config/static_config.h"
#include "sources/read_once.h"

namespace intake::app {

int check_config(const CheckConfigOptions& options, const std::vector<config::EnvOverride>& overrides,
                 std::ostream& out, std::ostream& err) {
  config::StaticConfig file;
  try {
    file = config::load_static_config(options.config_path, overrides);
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    return kExitBadConfig;
  }
  out << options.config_path << ": ok (" << file.key_count << " keys";
  if (!overrides.empty()) out << ", " << overrides.size() << " environment overrides";
  out << ")\n";
  if (options.print) out << config::effective_yaml(options.config_path, overrides);
  if (!options.source) return kExitOk;

  std::unique_ptr<sources::Source> source;
  try {
    source = sources::make_tree_source(file.registry);
  } catch (const std::exception& e) {
    err << options.config_path << ": " << e.what() << "\n";
    return kExitBadConfig;
  }
  if (!source) {
    err << options.config_path << ": config.source is none: there is no registry for --source to read\n";
    return kExitBadConfig;
  }
  auto tree = sources::read_tree_once(*source, options.source_timeout);
  if (!tree) {
    err << "cannot read the registry: " << tree.error().message << "\n";
    return kExitRegistryUnreadable;
  }
  const auto report = config::check_tree(tree.value());
  for (const auto& problem : report.problems) out << problem.key << ": " << problem.reason << "\n";
  out << tree->source << " " << tree->prefix << " (revision " << tree->revision << "): " << report.entries_ok
      << " keys ok, " << report.problems.size() << " bad\n";
  if (!report.problems.empty()) {
    out << "a tree with any bad key is rejected as a whole: the gateway keeps its last good config until they are "
           "fixed\n";
  }
  return report.problems.empty() ? kExitOk : kExitBadRegistryKeys;
}

}  // namespace intake::app
