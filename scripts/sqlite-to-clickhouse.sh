#!/usr/bin/env bash
# Copies a Causeway SQLite database (events, experiments with their phases,
# metrics, API keys, alert rules) into Causeway's tables on ClickHouse (docs/clickhouse.md).
#
#   scripts/sqlite-to-clickhouse.sh SQLITE_DB http://HOST:8123 [DATABASE]
#
# DATABASE defaults to causeway. With a ClickHouse user, set CLICKHOUSE_USER and
# CLICKHOUSE_PASSWORD_FILE (the password never appears on a command line).
# REQUIRES: the tables exist: run `causeway keys list --store clickhouse
# --clickhouse-url ... [--clickhouse-database ...]` once first (it creates them and
# no keys). Stop the SQLite server first, or events written meanwhile are missed.
# Rerunning is harmless: configuration rows replace themselves, and second copies
# of events are never counted (ids are distinct in every count and report).
# Needs sqlite3 and curl.
set -euo pipefail
if (($# < 2 || $# > 3)); then
  sed -n '5,8p' "$0" >&2
  exit 2
fi
db=$1
url=${2%/}
database=${3:-causeway}
[[ -r "$db" ]] || { echo "sqlite-to-clickhouse: cannot read $db" >&2; exit 1; }
[[ "$database" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "sqlite-to-clickhouse: bad database name" >&2; exit 1; }

# curl reads the credentials from a config on a pipe, not from its argv.
auth=()
if [[ -n "${CLICKHOUSE_USER:-}" ]]; then
  password=$(cat "${CLICKHOUSE_PASSWORD_FILE:?set CLICKHOUSE_PASSWORD_FILE with CLICKHOUSE_USER}")
  credentials="$CLICKHOUSE_USER:$password"
  credentials=${credentials//\\/\\\\}
  credentials=${credentials//\"/\\\"}
  exec 3< <(printf 'user = "%s"\n' "$credentials")
  auth=(-K /dev/fd/3)
fi

# ClickHouse query: the SQL in the URL, the rows (if any) on stdin.
clickhouse() {
  curl -sS --fail-with-body "${auth[@]}" --url-query "database=$database" --url-query "query=$1" \
    --data-binary @- "$url/"
}

if [[ "$(clickhouse 'EXISTS TABLE events' </dev/null)" != "1" ]]; then
  echo "sqlite-to-clickhouse: no table $database.events: run causeway keys list --store clickhouse ... first" >&2
  exit 1
fi

# A TabSeparated field from SQLite text: backslash, tab, newline, carriage return escaped.
esc() {
  echo "replace(replace(replace(replace($1, '\\', '\\\\'), char(9), '\\t'), char(10), '\\n'), char(13), '\\r')"
}

copy() {  # copy TABLE SQLITE_SELECT
  sqlite3 -readonly -batch -noheader -separator $'\t' -newline $'\n' "$db" "$2" |
    clickhouse "INSERT INTO $1 FORMAT TabSeparated"
  echo "sqlite-to-clickhouse: $1: $(sqlite3 -readonly "$db" "SELECT count(*) FROM ($2)") rows" >&2
}

# Versions of 1: anything Causeway writes later (microseconds since 1970) replaces them.
copy experiments "SELECT $(esc key), 0, $(esc config), phase, '', created_ms, updated_ms, 0, 1 FROM experiments
  UNION ALL SELECT $(esc experiment), phase, '', 0, $(esc seed), 0, 0, started_ms, 1 FROM phases"
copy metrics "SELECT $(esc key), $(esc config), created_ms, 1 FROM metrics"
# payload_key (issue 22) is absent from databases no Causeway since then has opened.
payload_key="''"
if [[ "$(sqlite3 -readonly "$db" "SELECT count(*) FROM pragma_table_info('api_keys') WHERE name = 'payload_key'")" == 1 ]]; then
  payload_key="COALESCE(payload_key, '')"
fi
copy api_keys "SELECT $(esc id), $(esc hash), $(esc prefix), scope, $(esc "COALESCE(name, '')"), created_ms,
  COALESCE(expires_ms, '\\N'), COALESCE(revoked_ms, '\\N'), 1,
  $(esc "$payload_key") FROM api_keys"
if [[ "$(sqlite3 -readonly "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'alert_rules'")" == 1 ]]; then
  copy alert_rules "SELECT $(esc key), $(esc config), created_ms, updated_ms, 0, 1 FROM alert_rules"
fi
if [[ "$(sqlite3 -readonly "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'features'")" == 1 ]]; then
  copy features "SELECT $(esc key), $(esc config), created_ms, updated_ms, 0, 1 FROM features"
fi
copy events "SELECT type, $(esc "CASE WHEN type = 0 THEN experiment ELSE name END"), $(esc uid), ts,
  $(esc id), $(esc "COALESCE(variant, '')"), CASE WHEN type = 0 THEN 0 ELSE printf('%!.17g', value) END,
  $(esc "COALESCE(attrs, '')") FROM events"
