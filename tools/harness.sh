#!/usr/bin/env bash
# crm_extended development harness, driven by the Makefile.
#
#   harness.sh run     install/upgrade the demo database and serve Odoo on 127.0.0.1:8069
#   harness.sh test    build a fresh test database and run the whole suite (pytest-odoo)
#   harness.sh lint    ruff, ruff format --check and pylint-odoo on the addon
#   harness.sh bench   build (once) the benchmark database and run the measurements
#   harness.sh i18n    export crm_extended.pot and merge it into the .po files
#   harness.sh db-start start PostgreSQL (the private cluster when no server answers)
#   harness.sh db-stop stop the private PostgreSQL cluster, if this project started one
#
# Odoo 18.0 is a prerequisite: ODOO_PATH may point at its source tree, otherwise `odoo` must be
# importable by python3. PostgreSQL is the one in PGHOST/PGPORT/PGUSER if it answers, otherwise a
# private cluster kept in .local/ (ignored by git).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/.local"
PYTHON=${PYTHON:-python3}
ADDON=crm_extended
DEMO_DB=${DEMO_DB:-crm_extended_demo}
TEST_DB=${TEST_DB:-crm_extended_test}
BENCH_DB=${BENCH_DB:-crm_extended_bench}
HTTP_PORT=${HTTP_PORT:-8069}
PRIVATE_PG_PORT=${PRIVATE_PG_PORT:-54329}

die() { printf 'crm_extended: %s\n' "$*" >&2; exit 1; }
note() { printf '==> %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

# --------------------------------------------------------------------------------------------
# Odoo discovery
# --------------------------------------------------------------------------------------------
find_odoo() {
    if [ -n "${ODOO_PATH:-}" ]; then
        [ -f "$ODOO_PATH/odoo/release.py" ] && [ -f "$ODOO_PATH/odoo-bin" ] \
            || die "ODOO_PATH=$ODOO_PATH is not an Odoo source tree (no odoo/release.py and odoo-bin there)."
        ODOO_ROOT=$(cd "$ODOO_PATH" && pwd)
    else
        ODOO_ROOT=$("$PYTHON" - 2>/dev/null <<'EOF'
import importlib.util, os
spec = importlib.util.find_spec("odoo")
if spec and spec.submodule_search_locations:
    print(os.path.dirname(list(spec.submodule_search_locations)[0]))
EOF
) || true
        [ -n "$ODOO_ROOT" ] && [ -f "$ODOO_ROOT/odoo/release.py" ] \
            || die "Odoo 18.0 was not found: set ODOO_PATH to an Odoo 18.0 source tree or make 'odoo' importable by $PYTHON (see README, 'Prerequisite')."
    fi
    local version
    # release.py stands alone: reading it does not need Odoo's requirements installed yet.
    version=$("$PYTHON" -c 'import runpy, sys; v = runpy.run_path(sys.argv[1])["version_info"]; print(v[0], v[1])' \
        "$ODOO_ROOT/odoo/release.py" 2>/dev/null) || die "Odoo's release file $ODOO_ROOT/odoo/release.py cannot be read."
    [ "$version" = "18 0" ] || die "Odoo at $ODOO_ROOT is version ${version/ /.}, crm_extended needs Odoo 18.0."
    [ -f "$ODOO_ROOT/odoo-bin" ] || die "Odoo at $ODOO_ROOT has no odoo-bin: crm_extended runs Odoo from its source tree."
    ADDONS_PATH="$ODOO_ROOT/odoo/addons"
    [ -d "$ODOO_ROOT/addons" ] && ADDONS_PATH="$ODOO_ROOT/addons,$ADDONS_PATH"
    ADDONS_PATH="$ADDONS_PATH,$ROOT"
    export PYTHONPATH="$ODOO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
    select_python
}

# --------------------------------------------------------------------------------------------
# Python packages
# --------------------------------------------------------------------------------------------
# Python packages go where $PYTHON can write them; a user who cannot write there (a system
# Python, PEP 668) gets a virtual environment in .local/venv that still sees the system's
# packages, so an Odoo installed there stays importable.
select_python() {
    local purelib
    purelib=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    if "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' || [ -w "$purelib" ]; then
        return 0
    fi
    if [ ! -x "$LOCAL/venv/bin/python" ]; then
        note "$PYTHON cannot install packages here: creating a virtual environment in .local/venv"
        mkdir -p "$LOCAL"
        "$PYTHON" -m venv --system-site-packages "$LOCAL/venv" \
            || die "creating a virtual environment failed: install Debian's python3-venv package."
    fi
    PYTHON="$LOCAL/venv/bin/python"
}

pip_install() {
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check "$@"
}

ensure_build_libraries() {
    # psycopg2 and python-ldap build from source and need these headers.
    local missing=()
    command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
    [ -f /usr/include/ldap.h ] || missing+=(libldap2-dev)
    [ -f /usr/include/sasl/sasl.h ] || missing+=(libsasl2-dev)
    [ ${#missing[@]} -eq 0 ] && return 0
    if is_root && command -v apt-get >/dev/null 2>&1; then
        note "installing ${missing[*]} (needed to build psycopg2 and python-ldap)"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "building Odoo's Python requirements needs the system packages ${missing[*]}: install them (apt-get install ${missing[*]})."
    fi
}

# Installs a requirements list once per content of the list and per interpreter; runs the
# optional preparation step (a function name) only when something is to be installed.
pip_install_once() {
    local name=$1 file=$2 prepare=${3:-} stamp
    stamp="$LOCAL/pip-$name-$( (cat "$file"; "$PYTHON" -V; echo "$PYTHON") | sha1sum | cut -c1-12).ok"
    [ -f "$stamp" ] && return 0
    [ -n "$prepare" ] && "$prepare"
    note "installing $name Python requirements"
    pip_install -r "$file"
    rm -f "$LOCAL"/pip-"$name"-*.ok
    touch "$stamp"
}

# Odoo's requirements (from its source tree), then crm_extended's for run, test or lint.
ensure_python_packages() {
    local kind=$1
    mkdir -p "$LOCAL"
    if [ "$kind" != lint ]; then
        # Odoo 18.0 pins cbor2==5.4.2, which no longer builds on Python 3.11: 5.4.6 is the same API.
        sed -e 's/^cbor2==5\.4\.2\b/cbor2==5.4.6/' "$ODOO_ROOT/requirements.txt" \
            >"$LOCAL/odoo-requirements.txt"
        pip_install_once odoo "$LOCAL/odoo-requirements.txt" ensure_build_libraries
    fi
    pip_install_once "$kind" "$ROOT/tools/requirements-$kind.txt"
}

# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------
pg_bin() {
    local name=$1 dir
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        [ -x "$dir/$name" ] && { echo "$dir/$name"; return; }
    done
    die "PostgreSQL's $name was not found: install the PostgreSQL server (apt-get install postgresql)."
}

pg_answers() {
    # The server in PGHOST/PGPORT/PGUSER answers and lets us create databases.
    [ "${PGUSER:-$(id -un)}" = postgres ] && return 1  # Odoo refuses to run as 'postgres'
    "$(pg_bin psql)" -X -Atq -d postgres -c \
        "SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreatedb)" \
        2>/dev/null | grep -q 1
}

as_pg_owner() {
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_postgres() {
    if [ -z "${CRM_EXT_PRIVATE_PG:-}" ] && pg_answers; then
        note "using the PostgreSQL server at ${PGHOST:-default socket}:${PGPORT:-5432} as ${PGUSER:-$(id -un)}"
        return 0
    fi
    local pgdata="$LOCAL/pgdata" sockdir="$LOCAL/pgrun"
    # Unix socket paths are limited to ~107 bytes; long checkouts put the socket in /tmp.
    if [ ${#sockdir} -gt 80 ]; then
        sockdir="/tmp/crm_extended-pg-$(printf '%s' "$ROOT" | sha1sum | cut -c1-10)"
    fi
    export PGHOST="$sockdir" PGPORT="$PRIVATE_PG_PORT" PGUSER=odoo PGDATABASE=postgres
    unset PGPASSWORD
    if pg_answers; then return 0; fi
    local initdb pg_ctl
    initdb=$(pg_bin initdb)
    pg_ctl=$(pg_bin pg_ctl)
    mkdir -p "$LOCAL/pg" "$sockdir"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user to run PostgreSQL: install the postgresql package."
        chown postgres: "$LOCAL/pg" "$sockdir"
        as_pg_owner test -x "$LOCAL" \
            || die "the postgres user cannot enter $LOCAL: make the checkout's parent folders world-traversable (chmod o+x)."
    fi
    chmod 700 "$sockdir"
    if [ ! -f "$pgdata/PG_VERSION" ]; then
        note "creating a private PostgreSQL cluster in $pgdata"
        mkdir -p "$pgdata"
        is_root && chown postgres: "$pgdata"
        as_pg_owner "$initdb" -D "$pgdata" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOCAL/pg/initdb.log" 2>&1 \
            || die "initdb failed, see $LOCAL/pg/initdb.log."
    fi
    note "starting the private PostgreSQL cluster (socket $sockdir, port $PGPORT)"
    as_pg_owner "$pg_ctl" -D "$pgdata" -l "$LOCAL/pg/server.log" -w -t 60 \
        -o "-k $sockdir -p $PGPORT -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || die "PostgreSQL did not start, see $LOCAL/pg/server.log."
    pg_answers || die "the private PostgreSQL cluster does not answer, see $LOCAL/pg/server.log."
}

db_exists() {
    "$(pg_bin psql)" -X -Atq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1
}

# --------------------------------------------------------------------------------------------
# Odoo
# --------------------------------------------------------------------------------------------
write_config() {
    local file=$1 db=$2
    cat >"$file" <<EOF
[options]
addons_path = $ADDONS_PATH
db_host = ${PGHOST:-False}
db_port = ${PGPORT:-False}
db_user = ${PGUSER:-$(id -un)}
db_password = ${PGPASSWORD:-False}
db_name = $db
dbfilter = ^$db\$
data_dir = $LOCAL/filestore
admin_passwd = admin
http_interface = 127.0.0.1
http_port = $HTTP_PORT
gevent_port = $((HTTP_PORT + 3))
list_db = False
without_demo = False
max_cron_threads = 1
EOF
}

odoo_bin() {
    "$PYTHON" "$ODOO_ROOT/odoo-bin" "$@"
}

install_or_upgrade() {
    local conf=$1 db=$2
    shift 2
    if db_exists "$db"; then
        note "upgrading $ADDON in $db"
        odoo_bin -c "$conf" -d "$db" -u "$ADDON" --stop-after-init --log-level=warn "$@"
    else
        note "creating $db with $ADDON and its demo data (a few minutes)"
        odoo_bin -c "$conf" -d "$db" -i "$ADDON" --load-language=vi_VN --stop-after-init --log-level=warn "$@"
    fi
}

ensure_chromium() {
    local bin
    for bin in chromium chromium-browser google-chrome google-chrome-stable; do
        command -v "$bin" >/dev/null 2>&1 && return 0
    done
    if is_root && command -v apt-get >/dev/null 2>&1; then
        note "installing Debian's chromium for the browser tours"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        die "the browser tours need Chromium: install Debian's chromium package (apt-get install chromium)."
    fi
}

ensure_wkhtmltopdf() {
    command -v wkhtmltopdf >/dev/null 2>&1 && return 0
    if is_root && command -v apt-get >/dev/null 2>&1; then
        note "installing Debian's wkhtmltopdf for the PDF letters and statements"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wkhtmltopdf >/dev/null
    else
        die "the PDF reminder letters and statements need wkhtmltopdf: install Debian's wkhtmltopdf package (apt-get install wkhtmltopdf)."
    fi
}

cmd_run() {
    find_odoo
    ensure_python_packages run
    ensure_wkhtmltopdf
    ensure_postgres
    local conf="$LOCAL/odoo-run.conf"
    write_config "$conf" "$DEMO_DB"
    install_or_upgrade "$conf" "$DEMO_DB"
    cat >&2 <<EOF

  crm_extended demo is served at  http://127.0.0.1:$HTTP_PORT/web
  database: $DEMO_DB    login: admin    password: admin
  (Ctrl-C stops the server; 'make db-stop' stops the private PostgreSQL)

EOF
    exec "$PYTHON" "$ODOO_ROOT/odoo-bin" -c "$conf" -d "$DEMO_DB"
}

cmd_test() {
    find_odoo
    ensure_python_packages test
    ensure_chromium
    ensure_wkhtmltopdf
    ensure_postgres
    local conf="$LOCAL/odoo-test.conf" psql dropdb
    psql=$(pg_bin psql)
    dropdb=$(pg_bin dropdb)
    write_config "$conf" "$TEST_DB"
    "$dropdb" --if-exists --force "$TEST_DB"
    "$dropdb" --if-exists --force "${TEST_DB}_upgrade"
    rm -rf "$LOCAL/filestore/filestore/$TEST_DB" "$LOCAL/filestore/filestore/${TEST_DB}_upgrade"
    note "building a fresh test database $TEST_DB"
    odoo_bin -c "$conf" -d "$TEST_DB" -i "$ADDON" --load-language=vi_VN --stop-after-init --log-level=warn
    # A copy for the upgrade test, taken before pytest holds connections to the original.
    "$psql" -X -q -d postgres -c "CREATE DATABASE \"${TEST_DB}_upgrade\" TEMPLATE \"$TEST_DB\"" >/dev/null
    if [ -d "$LOCAL/filestore/filestore/$TEST_DB" ]; then
        cp -a "$LOCAL/filestore/filestore/$TEST_DB" "$LOCAL/filestore/filestore/${TEST_DB}_upgrade"
    fi
    note "running the test suite"
    export CRM_EXT_ODOO_ROOT="$ODOO_ROOT" CRM_EXT_ODOO_CONF="$conf" CRM_EXT_UPGRADE_DB="${TEST_DB}_upgrade"
    cd "$ROOT"
    "$PYTHON" -m pytest "$ADDON/tests" \
        --odoo-config="$conf" --odoo-database="$TEST_DB" --odoo-http --odoo-log-level=warn \
        -p no:cacheprovider -o addopts="" "$@"
}

cmd_lint() {
    find_odoo
    ensure_python_packages lint
    cd "$ROOT"
    local targets=("$ADDON" tools)
    [ -d bench ] && targets+=(bench)
    note "ruff"
    "$PYTHON" -m ruff check "${targets[@]}"
    note "ruff format"
    "$PYTHON" -m ruff format --check "${targets[@]}"
    note "pylint-odoo"
    "$PYTHON" -m pylint --rcfile="$ROOT/.pylintrc-mandatory" "$ADDON"
}

cmd_bench() {
    find_odoo
    ensure_python_packages test
    ensure_postgres
    local conf="$LOCAL/odoo-bench.conf"
    write_config "$conf" "$BENCH_DB"
    export CRM_EXT_ODOO_ROOT="$ODOO_ROOT" CRM_EXT_ODOO_CONF="$conf"
    "$PYTHON" "$ROOT/bench/bench.py" --config "$conf" --database "$BENCH_DB" --scale "${SCALE:-1}" "$@"
}

cmd_i18n() {
    find_odoo
    ensure_python_packages run
    ensure_postgres
    local conf="$LOCAL/odoo-i18n.conf" db=crm_extended_i18n i18n="$ROOT/$ADDON/i18n"
    write_config "$conf" "$db"
    install_or_upgrade "$conf" "$db"
    note "exporting $ADDON/i18n/$ADDON.pot and merging it into every .po"
    odoo_bin -c "$conf" -d "$db" --i18n-export="$i18n/$ADDON.pot" --modules="$ADDON" --log-level=warn
    local po
    for po in "$i18n"/*.po; do
        msgmerge --quiet --update --no-fuzzy-matching --backup=none "$po" "$i18n/$ADDON.pot"
        msgfmt --check-format -o /dev/null "$po"
    done
    note "untranslated entries are empty msgstr in the .po files: translate them before committing"
}

cmd_db_stop() {
    local pgdata="$LOCAL/pgdata"
    [ -f "$pgdata/postmaster.pid" ] || { note "no private PostgreSQL is running"; return 0; }
    as_pg_owner "$(pg_bin pg_ctl)" -D "$pgdata" -m fast stop >/dev/null
    note "private PostgreSQL stopped"
}

case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    test) shift; cmd_test "$@" ;;
    lint) shift; cmd_lint "$@" ;;
    bench) shift; cmd_bench "$@" ;;
    i18n) shift; cmd_i18n "$@" ;;
    db-start) shift; ensure_postgres ;;
    db-stop) shift; cmd_db_stop "$@" ;;
    deps) shift; find_odoo; for kind in run test lint; do ensure_python_packages "$kind"; done ;;
    *) die "usage: harness.sh run|test|lint|bench|i18n|deps|db-start|db-stop" ;;
esac
