#include "app/config_refresher.h"

namespace causeway::app {

Status ConfigRefresher::Load() {
  StatusOr<int64_t> version = store_->ConfigVersion();
  if (!version.ok()) return version.status();
  return LoadAt(*version);
}

StatusOr<bool> ConfigRefresher::Poll() {
  StatusOr<int64_t> version = store_->ConfigVersion();
  if (!version.ok()) return version.status();
  if (loaded_version_ == *version) return false;
  if (Status s = LoadAt(*version); !s.ok()) return s;
  return true;
}

// `version` was read before the rows: a change that commits while they are read
// may or may not be in them, but it raises the version past the recorded one, so
// the next Poll loads again. Recording a version read after the rows could mark a
// change as loaded that they missed.
Status ConfigRefresher::LoadAt(int64_t version) {
  loaded_version_.reset();
  if (Status s = metrics_->Load(); !s.ok()) return s;
  if (Status s = experiments_->Load(); !s.ok()) return s;
  if (features_ != nullptr) {
    if (Status s = features_->Load(); !s.ok()) return s;
  }
  loaded_version_ = version;
  return Status::Ok();
}

}  // namespace causeway::app
