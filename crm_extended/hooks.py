import logging

from psycopg2 import Error as PsycopgError

_logger = logging.getLogger(__name__)


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
