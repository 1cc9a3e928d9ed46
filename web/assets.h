// The web page's files (web/src plus the chart library from web/node_modules),
// embedded into the binary at build time by cmake/EmbedWebAssets.cmake, so the
// server needs no file on disk and no network to serve its pages (docs/web.md).
#pragma once

#include <cstddef>
#include <string_view>

namespace causeway::web {

struct WebAsset {
  const char* name;          // "app.js": the path under /static/
  const char* content_type;  // "text/javascript; charset=utf-8"
  const char* etag;          // quoted, from the SHA-256 of the bytes: "\"1f2e…\""
  const unsigned char* data;
  size_t size;

  std::string_view body() const { return {reinterpret_cast<const char*>(data), size}; }
};

// The asset called `name` ("index.html", "app.js", …), or nullptr.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace causeway::web
