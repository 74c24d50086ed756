#include "sequential_rec/internal/checkpoint_commit.h"

#include <filesystem>
#include <fstream>

#include "recsys/error.h"
#include "recsys/hash.h"
#include "recsys/logging.h"
#include "sequential_rec/internal/model_adapter.h"

namespace recsys::seqrec::internal {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStagedSuffix = ".next";
constexpr const char* kFingerprintKey = "fingerprint.";
constexpr const char* kTrainLogBytesKey = "train_log_bytes";

std::string fingerprint_key(const std::string& name) { return kFingerprintKey + name; }

}  // namespace

std::string staged_path(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / (name + kStagedSuffix)).string();
}

void commit_checkpoint(const std::string& dir, const std::vector<std::string>& files,
                       ConfigMap state) {
  for (const auto& name : files)
    state[fingerprint_key(name)] = file_fingerprint(staged_path(dir, name));
  const fs::path log = fs::path(dir) / kTrainLog;
  std::error_code ec;
  const auto log_bytes = fs::file_size(log, ec);
  state[kTrainLogBytesKey] = std::to_string(ec ? 0 : log_bytes);
  write_text_file((fs::path(dir) / kStateFile).string(), write_config_lines(state));  // the commit
  for (const auto& name : files) fs::rename(staged_path(dir, name), fs::path(dir) / name);
}

ConfigMap recover_checkpoint(const std::string& dir, const std::vector<std::string>& files) {
  const fs::path state_path = fs::path(dir) / kStateFile;
  const ConfigMap state =
      read_config_lines(read_text_file(state_path.string()), state_path.string());
  for (const auto& name : files) {
    const fs::path file = fs::path(dir) / name;
    const fs::path staged = staged_path(dir, name);
    const auto want = state.find(fingerprint_key(name));
    if (fs::exists(staged)) {
      if (want != state.end() && file_fingerprint(staged.string()) == want->second) {
        RECSYS_LOG(Warning) << dir << ": the last checkpoint save was cut short after its commit; "
                            << "completing it (" << name << ")";
        fs::rename(staged, file);
      } else {
        RECSYS_LOG(Warning) << dir << ": dropping " << staged.filename().string()
                            << " of a checkpoint save that was cut short before its commit";
        fs::remove(staged);
      }
    }
    if (want == state.end()) continue;  // written before checkpoints had fingerprints
    if (!fs::exists(file))
      RECSYS_THROW(ErrorCode::kCorruption, "checkpoint '", dir, "' has no ", name, " although ",
                   kStateFile, " names one");
    if (file_fingerprint(file.string()) != want->second)
      RECSYS_THROW(ErrorCode::kCorruption, "checkpoint '", dir, "': ", name,
                   " is not the file its ", kStateFile,
                   " was saved with (changed or replaced since); it cannot be resumed");
  }
  const auto log_bytes = state.find(kTrainLogBytesKey);
  const fs::path log = fs::path(dir) / kTrainLog;
  std::error_code ec;
  const auto size = fs::file_size(log, ec);
  if (log_bytes != state.end() && !ec) {
    const uintmax_t committed = std::stoull(log_bytes->second);
    if (size > committed) {
      fs::resize_file(log, committed);
      RECSYS_LOG(Info) << dir << ": dropped " << (size - committed) << " bytes of " << kTrainLog
                       << " written after the last checkpoint";
    }
  }
  return state;
}

std::string remove_checkpoint(const std::string& dir, const std::vector<std::string>& names) {
  std::string removed;
  for (const auto& name : names) {
    for (const fs::path& p : {fs::path(dir) / name, fs::path(staged_path(dir, name))}) {
      if (!fs::is_regular_file(p)) continue;
      fs::remove(p);
      removed += (removed.empty() ? "" : ", ") + p.filename().string();
    }
  }
  return removed;
}

}  // namespace recsys::seqrec::internal
