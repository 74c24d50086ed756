// A pipeline is an INI file whose sections are recsys commands run in order; each key = value
// becomes --key value for that command ("true" becomes a bare --key switch, "false" leaves it out).
// Section names map to commands: [prepare] -> data prepare, [stats] -> data stats, [index] ->
// index, [index_report] -> index report, [train] -> train, [evaluate] -> evaluate, [recommend] ->
// recommend, [lookup] -> lookup; a suffix after a dot tells repeated steps apart ([index.rqvae],
// [index.rkmeans]). Keys of the optional [pipeline] section (e.g. store = runs/x/store) are passed
// to every step that does not set them itself.
#pragma once

#include <string>
#include <vector>

#include "recsys/cli/command.h"

namespace recsys::cli {

struct PipelineStep {
  std::string section;            // as written, e.g. "index.rqvae"
  std::vector<std::string> argv;  // command words then options, e.g. {"data", "prepare", ...}
};

// Parses pipeline INI text; `origin` names it in errors. Throws kInvalidArgument on bad syntax or
// unknown sections.
std::vector<PipelineStep> parse_pipeline(const std::string& text, const std::string& origin);

// Runs the steps through the registry, printing each as a shell line first. Throws on the first
// step that fails.
void run_pipeline(const CommandRegistry& registry, const std::vector<PipelineStep>& steps);

}  // namespace recsys::cli
