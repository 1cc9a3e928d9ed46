#include "api/resources/pages.h"

#include <string>

#include "web/assets.h"

namespace causeway::api {
namespace {

// The page's files allow scripts, styles, images and requests from this origin
// only: no inline script or style, no CDN, no framing (docs/web.md).
constexpr const char* kPageSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// An embedded file, revalidated by its ETag on every load (Cache-Control:
// no-cache), so a new binary's page is never mixed with an old one.
HandlerResult Asset(const Call& call, const web::WebAsset& a) {
  const bool fresh = call.if_none_match == a.etag;
  HandlerResult r = fresh ? HandlerResult(RawBody{"", ""}, 304)
                          : HandlerResult(RawBody{std::string(a.body()), a.content_type});
  r.Header("Content-Security-Policy", kPageSecurityPolicy)
      .Header("X-Content-Type-Options", "nosniff")
      .Header("Referrer-Policy", "no-referrer")
      .Header("Cache-Control", "no-cache")
      .Header("ETag", a.etag);
  return r;
}

}  // namespace

HandlerResult GetPage(Services&, const Call& call) {
  return Asset(call, *web::FindWebAsset("index.html"));
}

HandlerResult GetStaticFile(Services&, const Call& call) {
  const web::WebAsset* a = web::FindWebAsset(call.path[0]);
  if (!a || std::string_view(a->name) == "index.html") {
    return Status::NotFound("no such file", "file");
  }
  return Asset(call, *a);
}

}  // namespace causeway::api
