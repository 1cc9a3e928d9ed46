// The operations api/openapi.yaml documents, read line by line: the tests that walk
// the document (strict_fields_test.cc, and server_test.cc's comparison with the
// routes the server serves) share this reader. The document's validity itself is
// checked by a real validator (ctest `openapi_valid`, web/test/openapi_test.mjs).
#pragma once

#include <cctype>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace causeway::testing {

struct Operation {
  std::string method;      // GET, POST, PATCH, DELETE (upper case)
  std::string path;        // as documented, with {parameters}
  bool is_public = false;  // `security: []`: callable without an API key
};

struct OpenApiOperations {
  std::vector<Operation> operations;
  // Lines of the paths section this reader cannot read (a path item or an operation
  // written in flow style, say): a test must refuse them rather than skip routes.
  std::vector<std::string> unread;
};

// Under the top-level "paths:", path items are "  /path:" lines and their operations
// are "    get:" lines below them; any other top-level key ends the section.
inline OpenApiOperations ReadOpenApiOperations(const std::string& file = CAUSEWAY_SOURCE_DIR
                                               "/api/openapi.yaml") {
  std::ifstream in(file);
  OpenApiOperations out;
  std::string line, path;
  bool in_paths = false;
  const std::regex path_line("^  (/[^:]*):\\s*$");
  const std::regex op_line("^    (get|put|post|delete|options|head|patch|trace):\\s*$");
  const std::regex op_key("^    (get|put|post|delete|options|head|patch|trace):.*$");
  std::smatch m;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      in_paths = line.rfind("paths:", 0) == 0;  // a new top-level section
      path.clear();
      continue;
    }
    if (!in_paths) continue;
    const size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos || line[indent] == '#') continue;
    if (indent == 2) {
      if (std::regex_match(line, m, path_line)) {
        path = m[1];
      } else {
        out.unread.push_back(line);
        path.clear();
      }
    } else if (indent == 6 && line.substr(6) == "security: []" && !out.operations.empty() &&
               out.operations.back().path == path) {
      out.operations.back().is_public = true;
    } else if (indent == 4 && std::regex_match(line, m, op_key)) {
      if (!path.empty() && std::regex_match(line, m, op_line)) {
        std::string method = m[1];
        for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.operations.push_back({method, path});
      } else {
        out.unread.push_back(line);
      }
    }
  }
  return out;
}

}  // namespace causeway::testing
