#include "recsys/cli/command.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <typeinfo>

#include "recsys/error.h"
#include "recsys/logging.h"
#include "storage/store.h"

namespace recsys::cli {

void CommandRegistry::add(CommandInfo info) {
  const std::string name = info.name;
  commands_[name] = std::move(info);
}

const CommandInfo* CommandRegistry::find(const std::string& name) const {
  auto it = commands_.find(name);
  return it == commands_.end() ? nullptr : &it->second;
}

std::string CommandRegistry::usage() const {
  std::ostringstream os;
  os << "usage: recsys <command> [options]   (recsys <command> --help for details)\n\ncommands:\n";
  for (const auto& [name, info] : commands_) {
    os << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << info.summary
       << "\n";
  }
  return os.str();
}

namespace {
// Boost reads "-1" into an unsigned option as its largest value (lexical_cast): a negative number
// given to one is an error instead.
void reject_negative_unsigned(const po::parsed_options& parsed, const po::variables_map& vm) {
  for (const auto& o : parsed.options) {
    const auto it = vm.find(o.string_key);
    if (it == vm.end() || it->second.empty()) continue;
    const std::type_info& t = it->second.value().type();
    if (t != typeid(unsigned char) && t != typeid(unsigned short) && t != typeid(unsigned int) &&
        t != typeid(unsigned long) && t != typeid(unsigned long long)) {
      continue;
    }
    for (const auto& v : o.value) {
      const auto first = v.find_first_not_of(" \t");
      if (first != std::string::npos && v[first] == '-')
        RECSYS_THROW(ErrorCode::kInvalidArgument, "--", o.string_key, " must not be negative, got ",
                     v, " (see --help)");
    }
  }
}
}  // namespace

bool parse_options(const std::string& usage, const std::vector<std::string>& args,
                   po::options_description& desc, po::variables_map& vm,
                   const po::positional_options_description* positional) {
  po::options_description common("Common options");
  std::string config_file;
  std::string level;
  common.add_options()("help,h", "show this help")("config", po::value<std::string>(&config_file),
                                                   "read options from an INI file")(
      "log-level", po::value<std::string>(&level)->default_value("info"),
      "debug|info|warning|error|off");
  po::options_description all;
  all.add(desc).add(common);
  // A switch may also be given a value, --name=true or --name=false (as pipeline files and scripts
  // write them): true turns it on, false leaves it off.
  std::vector<std::string> argv;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      const std::string name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
      const po::option_description* option = all.find_nothrow(name, false);
      if (option && option->semantic()->max_tokens() == 0 &&
          (value == "true" || value == "false")) {
        if (value == "true") argv.push_back("--" + name);
        continue;
      }
    }
    argv.push_back(arg);
  }
  try {
    po::command_line_parser parser(argv);
    parser.options(all);
    if (positional) parser.positional(*positional);
    const po::parsed_options parsed = parser.run();
    po::store(parsed, vm);
    reject_negative_unsigned(parsed, vm);
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << all << std::endl;
      return false;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      RECSYS_CHECK(in.good(), "cannot read config file '", path, "'");
      // Options stored first win, so the command line (stored above) overrides the file.
      const po::parsed_options from_file =
          po::parse_config_file(in, all, /*allow_unregistered=*/false);
      po::store(from_file, vm);
      reject_negative_unsigned(from_file, vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    RECSYS_THROW(ErrorCode::kInvalidArgument, e.what(), " (see --help)");
  }
  set_log_level(parse_log_level(level));
  return true;
}

void throw_unknown_id_map(const storage::Store& store, const std::string& name,
                          const std::string& why) {
  std::string names;
  for (const auto& m : store.list_id_maps()) names += (names.empty() ? "" : ", ") + m.name;
  RECSYS_THROW(ErrorCode::kNotFound, "no ID map '", name, "' in '", store.path(),
               "' (maps: ", names.empty() ? "none" : names, ")", why.empty() ? "" : ": ", why);
}

int dispatch_subcommand(const std::string& group, const std::vector<std::string>& args,
                        const std::vector<CommandInfo>& subs) {
  auto print_usage = [&](std::ostream& os) {
    os << "usage: recsys " << group << " <subcommand> [options]\n\nsubcommands:\n";
    for (const auto& s : subs) os << "  " << s.name << "\t" << s.summary << "\n";
  };
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    print_usage(std::cout);
    return args.empty() ? 2 : 0;
  }
  for (const auto& s : subs) {
    if (s.name == args[0]) return s.run({args.begin() + 1, args.end()});
  }
  std::string valid;
  for (const auto& s : subs) valid += (valid.empty() ? "" : ", ") + s.name;
  RECSYS_THROW(ErrorCode::kInvalidArgument, "unknown subcommand 'recsys ", group, " ", args[0],
               "' (valid: ", valid, ")");
}

}  // namespace recsys::cli
