// The web page (docs/web.md): every page path serves the same embedded document,
// which renders what its path names; /static/{file} serves its scripts, styles and
// chart library. Public: the files hold no data, the page asks for an admin key and
// sends it to the /v1 endpoints itself.
#pragma once

#include "api/handler.h"

namespace causeway::api {

HandlerResult GetPage(Services& services, const Call& call);        // /, /experiments[/{key}]
HandlerResult GetStaticFile(Services& services, const Call& call);  // /static/{file}

}  // namespace causeway::api
