// Binding a cpp-httplib server with a listen backlog that absorbs connection bursts.
//
// cpp-httplib 0.11.4 calls listen(fd, 5) inside bind_to_port(); its
// CPPHTTPLIB_LISTEN_BACKLOG macro is compiled into Debian's shared library, so
// defining it here changes nothing. With 5, a burst of new connections (clients
// that send `Connection: close`, serverless callers) overflows the accept queue:
// the kernel drops the SYNs and clients retry after 1 s, 3 s, ... (see
// docs/running.md, "Listen backlog").
#pragma once

#include <sys/socket.h>

#include <string>

namespace httplib {
class Server;
}

namespace causeway::api {

// Binds `http` to host:port (port 0: any free port) exactly as
// bind_to_port / bind_to_any_port do, with SO_REUSEADDR (not cpp-httplib's
// default SO_REUSEPORT: a port already in use fails with EADDRINUSE), then calls listen(fd,
// backlog) again on the bound socket: on Linux that updates the backlog of a socket that is already
// listening (the kernel caps it at net.core.somaxconn). Returns the bound port, or -1 with errno
// set. REQUIRES: `http` is not running; call once, before listen_after_bind().
int BindWithBacklog(httplib::Server& http, const std::string& host, int port,
                    int backlog = SOMAXCONN);

}  // namespace causeway::api
