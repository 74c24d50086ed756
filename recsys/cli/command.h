// The `recsys` command line: a registry of commands filled explicitly at start-up, and one option
// parser every command uses so that --help, --config FILE.ini and --log-level behave the same way
// everywhere (command line wins over the config file).
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace recsys::storage {
class Store;
}

namespace recsys::cli {

namespace po = boost::program_options;

// A command receives the arguments after its name ("recsys data prepare --x" gives the "data"
// command {"prepare", "--x"}) and returns the process exit code.
using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct CommandInfo {
  std::string name;
  std::string summary;
  CommandFn run;
};

class CommandRegistry {
 public:
  void add(CommandInfo info);
  const CommandInfo* find(const std::string& name) const;
  std::string usage() const;  // one line per command

 private:
  std::map<std::string, CommandInfo> commands_;
};

// Parses `args` against `desc` (plus --help, --config, --log-level, added here). Returns false
// when --help was printed (the caller returns 0). Throws recsys::Error(kInvalidArgument) on bad
// usage, with a one-line message.
bool parse_options(const std::string& usage, const std::vector<std::string>& args,
                   po::options_description& desc, po::variables_map& vm,
                   const po::positional_options_description* positional = nullptr);

// Throws recsys::Error(kNotFound) for an ID map `name` that `store` lacks, naming the maps it has;
// `why`, when given, ends the message (what wanted the map).
[[noreturn]] void throw_unknown_id_map(const storage::Store& store, const std::string& name,
                                       const std::string& why = "");

// Dispatches "<group> <sub> args..." to one of `subs` (e.g. data prepare|stats).
int dispatch_subcommand(const std::string& group, const std::vector<std::string>& args,
                        const std::vector<CommandInfo>& subs);

// Registration functions, one per command file, each called once: data, lookup and quickstart
// (which also registers pipeline) by main(); index, train and serve by the ML module when a
// LibTorch command is first used (ml_module.h).
void register_data_commands(CommandRegistry& registry);
void register_index_command(CommandRegistry& registry);
void register_lookup_command(CommandRegistry& registry);
void register_quickstart_command(CommandRegistry& registry);
void register_train_commands(CommandRegistry& registry);  // train, evaluate, recommend
void register_serve_command(CommandRegistry& registry);

}  // namespace recsys::cli
