import logging

from psycopg2 import Error as PsycopgError

from odoo.tools import SQL, remove_accents

_logger = logging.getLogger(__name__)

# Vietnamese letters and their plain forms, for databases without the unaccent extension.
_VI_LOWER = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
VI_ACCENTED = _VI_LOWER + _VI_LOWER.upper()
VI_PLAIN = "".join(remove_accents(char) for char in VI_ACCENTED).translate(
    str.maketrans("đĐ", "dD")
)


def pre_init_hook(env):
    """Make every search of the database ignore Vietnamese accents.

    Odoo wraps text searches in ``unaccent()`` as soon as that function exists in the
    database, so "nguyen" finds "Nguyễn" in every screen, ours and Odoo's. The extension
    is trusted since PostgreSQL 13, so the database owner may create it; when it cannot be
    created the install goes on and searches stay accent-sensitive.
    """
    try:
        with env.cr.savepoint():
            env.cr.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    except PsycopgError as error:
        _logger.warning(
            "crm_extended: the PostgreSQL extension 'unaccent' could not be created (%s); "
            "searches will not ignore accents until a superuser creates it.",
            error,
        )
    create_search_functions(env.cr)


def unaccent_schema(cr):
    """Schema of the ``unaccent`` extension, or None when it is not installed."""
    cr.execute(
        """
        SELECT ns.nspname
          FROM pg_extension ext
          JOIN pg_namespace ns ON ns.oid = ext.extnamespace
         WHERE ext.extname = 'unaccent'
        """
    )
    row = cr.fetchone()
    return row[0] if row else None


def create_search_functions(cr):
    """(Re)create the SQL functions of the knowledge-base search; return the unaccent kind.

    ``public.crm_extended_unaccent(text)`` is IMMUTABLE, so stored columns and indexes may
    use it: the extension's own ``unaccent(text)`` is only STABLE because it looks its
    dictionary up through the search path. Ours names the dictionary with its schema, which
    makes the result independent of the session. Without the extension it falls back on a
    translation of the Vietnamese letters (đ included), so the knowledge base ignores
    Vietnamese accents on any PostgreSQL.

    ``public.crm_extended_kb_tsquery(text)`` turns what a user typed into a prefix query
    (``'dieu':* & 'hoa':*``): the words are cut by the same parser as the articles and each
    is quoted, so no input can inject tsquery operators. It is IMMUTABLE too, so PostgreSQL
    computes it once while planning and estimates the matches from the column statistics.

    Every name in the bodies carries its schema: restores and index builds run with an
    empty search path.

    :return: ``"unaccent"`` or ``"translate"``, the implementation in place
    """
    schema = unaccent_schema(cr)
    if schema:
        kind = "unaccent"
        # the dictionary is named as text: '"public".unaccent'
        dictionary = f"{SQL.identifier(schema).code}.unaccent"
        body = SQL(
            "SELECT %s(%s::regdictionary, $1)", SQL.identifier(schema, "unaccent"), dictionary
        )
    else:
        kind = "translate"
        body = SQL("SELECT pg_catalog.translate($1, %s, %s)", VI_ACCENTED, VI_PLAIN)
    cr.execute(
        SQL(
            """
            CREATE OR REPLACE FUNCTION public.crm_extended_unaccent(text)
            RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            AS $func$ %s $func$
            """,
            body,
        )
    )
    cr.execute(
        r"""
        CREATE OR REPLACE FUNCTION public.crm_extended_kb_tsquery(text)
        RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $func$
            SELECT pg_catalog.to_tsquery(
                'pg_catalog.simple',
                coalesce(
                    pg_catalog.string_agg(
                        '''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''':*',
                        ' & '
                    ),
                    ''
                )
            )
            FROM pg_catalog.unnest(
                pg_catalog.to_tsvector('pg_catalog.simple', public.crm_extended_unaccent($1))
            )
        $func$
        """
    )
    return kind
