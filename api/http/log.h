// Structured one-line JSON logs to stderr:
//   {"ts":"2026-11-23T18:47:00.123Z","level":"info","msg":"listening","port":8080}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/codec/time_text.h"

namespace causeway::api {

// Thread-safe: each call writes one whole line.
void Log(std::string_view level, std::string_view msg, const nlohmann::json& fields = {});

int64_t NowMs();

}  // namespace causeway::api
