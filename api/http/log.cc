#include "api/http/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace causeway::api {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void Log(std::string_view level, std::string_view msg, const nlohmann::json& fields) {
  nlohmann::json line = {{"ts", IsoTime(NowMs())}, {"level", level}, {"msg", msg}};
  if (fields.is_object()) line.update(fields);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace causeway::api
