"""Benchmark of crm_extended on a large generated database (``make bench``).

1. Makes sure the benchmark database exists at the requested scale: otherwise creates it with
   odoo-bin (crm_extended installed, no demo data) and fills it with ``generate.py``. The scale and
   a fingerprint of the addon's source are kept in ``ir.config_parameter``: the next run reuses
   the database, and only upgrades crm_extended in it when the addon's source changed.
2. Runs the named measurements of ``measures/`` in-process through the Odoo registry, prints one
   JSON line per measurement, then all of them as a Markdown table.

Usage (``make bench`` passes the first three)::

    bench.py --config odoo.conf --database crm_extended_bench --scale 0.01
             [--rebuild] [--only NAME ...] [--runs 5] [--list]
"""

import argparse
import hashlib
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import time
from pathlib import Path

import generate
import measurements
import psycopg2
import psycopg2.sql

import odoo
from odoo.modules.registry import Registry
from odoo.sql_db import connection_info_for

BENCH_DIR = Path(__file__).resolve().parent
ADDON = "crm_extended"
ADDON_DIR = BENCH_DIR.parent / ADDON
SCALE_KEY = "crm_extended.bench_scale"
ADDON_HASH_KEY = "crm_extended.bench_addon_hash"
GENERATION_KEY = "crm_extended.bench_generation_seconds"


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument("--database", required=True, help="benchmark database name")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data size factor (1 = 100,000 customers)"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="drop and regenerate the database first"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this measurement (repeatable)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (best)")
    parser.add_argument("--list", action="store_true", help="list the measurements and exit")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def odoo_root():
    root = os.environ.get("CRM_EXT_ODOO_ROOT")
    if root:
        return Path(root)
    return Path(odoo.__path__[0]).parent


def addon_fingerprint():
    """Hash of the addon files that shape the database (tests excluded)."""
    digest = hashlib.sha1()
    for path in sorted(ADDON_DIR.rglob("*")):
        relative = path.relative_to(ADDON_DIR)
        if not path.is_file() or "__pycache__" in relative.parts or "tests" in relative.parts:
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------
# database
# ----------------------------------------------------------------------------------------
def connect(dbname):
    _name, info = connection_info_for(dbname)
    connection = psycopg2.connect(**info)
    connection.autocommit = True
    return connection


def database_markers(dbname):
    """The benchmark markers of ``dbname``, or None when it does not exist."""
    if not database_exists(dbname):
        return None
    connection = connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT key, value FROM ir_config_parameter WHERE key IN %s",
                [(SCALE_KEY, ADDON_HASH_KEY, GENERATION_KEY)],
            )
            return dict(cursor.fetchall())
    except psycopg2.Error as error:  # a half-created database is rebuilt
        log(f"{dbname} cannot be read ({error}), it will be rebuilt")
        return {}
    finally:
        connection.close()


def database_exists(dbname):
    connection = connect("postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
            return bool(cursor.fetchone())
    finally:
        connection.close()


def drop_database(dbname):
    """Drop ``dbname`` (ending its other sessions) and its filestore, if they exist."""
    if database_exists(dbname):
        log(f"dropping {dbname}")
        connection = connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    psycopg2.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                        psycopg2.sql.Identifier(dbname)
                    )
                )
        finally:
            connection.close()
    shutil.rmtree(odoo.tools.config.filestore(dbname), ignore_errors=True)


def run_odoo_bin(args, *options):
    command = [
        sys.executable,
        str(odoo_root() / "odoo-bin"),
        "-c",
        args.config,
        "-d",
        args.database,
        "--stop-after-init",
        "--log-level=warn",
        *options,
    ]
    log(" ".join(command))
    subprocess.run(command, check=True)


def build_database(args):
    fingerprint = addon_fingerprint()  # before the install: the source may change meanwhile
    drop_database(args.database)
    started = time.perf_counter()
    log(f"creating {args.database} with {ADDON} (no demo data)")
    run_odoo_bin(args, "-i", ADDON, "--without-demo=all")
    install_seconds = time.perf_counter() - started
    log(f"generating the data set at scale {args.scale}")
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        seconds = generate.generate(env, args.scale)
        parameters = env["ir.config_parameter"]
        parameters.set_param(SCALE_KEY, repr(args.scale))
        parameters.set_param(ADDON_HASH_KEY, fingerprint)
        parameters.set_param(GENERATION_KEY, f"{seconds:.1f}")
    connection = connect(args.database)
    try:
        generate.vacuum(connection)
    finally:
        connection.close()
    log(
        f"database ready: install {install_seconds:.0f}s, generation {seconds:.0f}s, "
        f"total {time.perf_counter() - started:.0f}s"
    )


def upgrade_addon(args):
    log(f"{ADDON}'s source changed since the last run: upgrading it in {args.database}")
    fingerprint = addon_fingerprint()
    run_odoo_bin(args, "-u", ADDON)
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param(ADDON_HASH_KEY, fingerprint)


def ensure_database(args):
    markers = None if args.rebuild else database_markers(args.database)
    if markers is None or SCALE_KEY not in markers:
        reason = "--rebuild" if args.rebuild else "no generated database"
        log(f"building {args.database} ({reason})")
        build_database(args)
    elif float(markers[SCALE_KEY]) != args.scale:
        log(f"{args.database} was generated at scale {markers[SCALE_KEY]}: rebuilding")
        build_database(args)
    else:
        log(
            f"reusing {args.database} (scale {markers[SCALE_KEY]}, "
            f"generated in {markers.get(GENERATION_KEY, '?')}s)"
        )
        if markers.get(ADDON_HASH_KEY) != addon_fingerprint():
            upgrade_addon(args)


# ----------------------------------------------------------------------------------------
# measurements
# ----------------------------------------------------------------------------------------
def load_measurements():
    """Import every module of measures/, which registers its measurements."""
    for module in pkgutil.iter_modules([str(BENCH_DIR / "measures")]):
        importlib.import_module(f"measures.{module.name}")


def select(registry_, names):
    if not names:
        return list(registry_.values())
    unknown = [name for name in names if name not in registry_]
    if unknown:
        known = ", ".join(registry_)
        raise SystemExit(f"unknown measurement(s) {', '.join(unknown)}; known: {known}")
    return [registry_[name] for name in names]


def run_measurements(args, selected):
    registry = Registry(args.database)
    results = []
    with registry.cursor() as cr:
        bench = measurements.Bench(cr, runs=args.runs)
        for item in selected:
            line = {"name": item.name}
            try:
                result = item.func(bench)
                line.update(server_ms=result.server_ms, queries=result.queries, rows=result.rows)
            except Exception as error:  # one broken measurement must not hide the others
                log(f"{item.name} failed: {error!r}")
                line["error"] = repr(error)
            finally:
                cr.rollback()
            print(json.dumps(line), flush=True)
            results.append(line)
    return results


def markdown_table(results, args):
    lines = [
        "",
        f"crm_extended benchmark, scale {args.scale:g}, best of {args.runs} runs",
        "",
        "| measurement | server ms | queries | rows |",
        "|---|---:|---:|---:|",
    ]
    for line in results:
        if "error" in line:
            lines.append(f"| {line['name']} | error: {line['error']} | | |")
        else:
            lines.append(
                f"| {line['name']} | {line['server_ms']:.1f} | {line['queries']} | {line['rows']} |"
            )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    load_measurements()
    if args.list:
        for item in measurements.MEASUREMENTS.values():
            print(f"{item.name}: {item.doc.splitlines()[0] if item.doc else ''}")
        return 0
    selected = select(measurements.MEASUREMENTS, args.only)
    ensure_database(args)
    results = run_measurements(args, selected)
    print(markdown_table(results, args))
    return 1 if any("error" in line for line in results) else 0


if __name__ == "__main__":
    sys.exit(main())
