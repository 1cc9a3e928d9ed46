#include "store/clickhouse_client.h"

#include <httplib.h>

#include <cctype>

namespace causeway::store::ch {
namespace {

// Percent-encodes a URL query component (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The server's error text on one line, without trailing whitespace.
std::string ErrorText(const std::string& body) {
  std::string t = body.substr(0, body.find('\n'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  return t.empty() ? "empty error reply" : t;
}

// Connect fast (an unreachable server is an error at once); reads may wait for
// long report queries.
constexpr time_t kConnectSeconds = 5;
constexpr time_t kReadSeconds = 600;

}  // namespace

Client::Client(Endpoint e) : endpoint_(std::move(e)) {}

StatusOr<std::string> Client::Query(
    std::string_view sql, std::string_view data,
    const std::vector<std::pair<std::string, std::string>>& settings) {
  std::string path = "/?wait_end_of_query=1";
  if (!endpoint_.database.empty()) path += "&database=" + UrlEncode(endpoint_.database);
  for (const auto& [name, value] : settings) {
    path += "&" + UrlEncode(name) + "=" + UrlEncode(value);
  }
  std::string body(sql);
  if (!data.empty()) {
    body += '\n';
    body.append(data);
  }
  httplib::Client http(endpoint_.host, endpoint_.port);
  http.set_connection_timeout(kConnectSeconds, 0);
  http.set_read_timeout(kReadSeconds, 0);
  http.set_write_timeout(kReadSeconds, 0);
  if (!endpoint_.user.empty()) http.set_basic_auth(endpoint_.user, endpoint_.password);
  httplib::Result r = http.Post(path, body, "text/plain; charset=UTF-8");
  if (!r) {
    const std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
    if (r.error() == httplib::Error::Connection || r.error() == httplib::Error::ConnectionTimeout) {
      return Status::Unavailable("clickhouse: cannot connect to " + where);
    }
    return Status::Unavailable("clickhouse: " + where + ": " + httplib::to_string(r.error()));
  }
  if (r->status != 200) {
    return Status::Internal("clickhouse: " + ErrorText(r->body) + " (HTTP " +
                            std::to_string(r->status) + ")");
  }
  return std::move(r->body);
}

StatusOr<std::vector<std::vector<std::string>>> Client::Rows(
    std::string_view sql, const std::vector<std::pair<std::string, std::string>>& settings) {
  StatusOr<std::string> body = Query(std::string(sql) + " FORMAT TabSeparated", {}, settings);
  if (!body.ok()) return body.status();
  return ParseTsv(*body);
}

namespace {

// Appends `s` with ClickHouse's backslash escapes (the same in a string literal
// and in a TabSeparated field); `quote` also escapes the single quote.
void AppendEscaped(std::string_view s, bool quote, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\'':
        *out += quote ? "\\'" : "'";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\0':
        *out += "\\0";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        *out += c;
    }
  }
}

}  // namespace

std::string Quote(std::string_view s) {
  std::string out = "'";
  AppendEscaped(s, /*quote=*/true, &out);
  out += '\'';
  return out;
}

std::string EscapeTsv(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscaped(s, /*quote=*/false, &out);
  return out;
}

std::vector<std::vector<std::string>> ParseTsv(std::string_view body) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_row = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\t') {
      row.push_back(std::move(field));
      field.clear();
      in_row = true;
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      in_row = false;
    } else if (c == '\\' && i + 1 < body.size()) {
      const char e = body[++i];
      switch (e) {
        case 'n':
          field += '\n';
          break;
        case 't':
          field += '\t';
          break;
        case 'r':
          field += '\r';
          break;
        case '0':
          field += '\0';
          break;
        case 'b':
          field += '\b';
          break;
        case 'f':
          field += '\f';
          break;
        case 'N':
          break;  // NULL
        default:
          field += e;  // \\ \' and any other escaped character
      }
      in_row = true;
    } else {
      field += c;
      in_row = true;
    }
  }
  if (in_row) {  // no final newline
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

bool IsIdentifier(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool ok =
        c == '_' || (c < 128 && std::isalpha(c)) || (i > 0 && c < 128 && std::isdigit(c));
    if (!ok) return false;
  }
  return true;
}

}  // namespace causeway::store::ch
