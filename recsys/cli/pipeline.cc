#include "recsys/cli/pipeline.h"

#include <iostream>
#include <map>
#include <sstream>

#include "recsys/error.h"
#include "recsys/strings.h"

namespace recsys::cli {

namespace {

const std::map<std::string, std::vector<std::string>>& section_commands() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"prepare", {"data", "prepare"}},
      {"stats", {"data", "stats"}},
      {"index", {"index"}},
      {"index_report", {"index", "report"}},
      {"train", {"train"}},
      {"evaluate", {"evaluate"}},
      {"recommend", {"recommend"}},
      {"lookup", {"lookup"}}};
  return m;
}

}  // namespace

std::vector<PipelineStep> parse_pipeline(const std::string& text, const std::string& origin) {
  std::vector<PipelineStep> steps;
  std::vector<std::pair<std::string, std::string>> shared;
  std::vector<std::vector<std::pair<std::string, std::string>>> options;
  bool in_pipeline = false;
  std::istringstream in(text);
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      RECSYS_CHECK(line.back() == ']', origin, ":", lineno, ": expected [section]");
      const std::string section = trim(line.substr(1, line.size() - 2));
      in_pipeline = section == "pipeline";
      if (in_pipeline) continue;
      const std::string kind = section.substr(0, section.find('.'));
      auto it = section_commands().find(kind);
      if (it == section_commands().end()) {
        std::string valid = "pipeline";
        for (const auto& [k, v] : section_commands()) valid += ", " + k;
        RECSYS_THROW(ErrorCode::kInvalidArgument, origin, ":", lineno, ": unknown section [",
                     section, "] (valid: ", valid, ")");
      }
      steps.push_back({section, it->second});
      options.emplace_back();
      continue;
    }
    const size_t eq = line.find('=');
    RECSYS_CHECK(eq != std::string::npos, origin, ":", lineno, ": expected key = value");
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    RECSYS_CHECK(!key.empty(), origin, ":", lineno, ": empty key");
    if (in_pipeline) {
      shared.emplace_back(key, value);
    } else {
      RECSYS_CHECK(!steps.empty(), origin, ":", lineno, ": option outside a section");
      options.back().emplace_back(key, value);
    }
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    auto opts = options[i];
    for (const auto& [key, value] : shared) {
      bool present = false;
      for (const auto& o : opts) present = present || o.first == key;
      if (!present) opts.emplace_back(key, value);
    }
    for (const auto& [key, value] : opts) {
      if (value == "true" || value == "false") {  // a switch, or an option taking true / false
        steps[i].argv.push_back("--" + key + "=" + value);
      } else {
        steps[i].argv.push_back("--" + key);
        steps[i].argv.push_back(value);
      }
    }
  }
  return steps;
}

void run_pipeline(const CommandRegistry& registry, const std::vector<PipelineStep>& steps) {
  for (const auto& step : steps) {
    std::cout << "\n$ recsys";
    for (const auto& a : step.argv) std::cout << " " << a;
    std::cout << std::endl;
    const CommandInfo* cmd = registry.find(step.argv[0]);
    RECSYS_CHECK(cmd != nullptr, "pipeline step [", step.section, "] needs the command '",
                 step.argv[0], "', which this build does not have");
    const int rc = cmd->run({step.argv.begin() + 1, step.argv.end()});
    if (rc != 0)
      RECSYS_THROW(ErrorCode::kInternal, "pipeline step [", step.section, "] exited with ", rc);
  }
}

}  // namespace recsys::cli
