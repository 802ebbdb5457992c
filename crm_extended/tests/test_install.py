import os
import subprocess
import sys
import unittest

import psycopg2

from odoo.tests import tagged
from odoo.tools import config

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class TestInstall(CrmExtendedCommon):
    """The module installs with its groups, settings and accent-insensitive search."""

    def test_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "crm_extended")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(module.latest_version, "18.0.1.0.0")
        self.assertTrue(module.application)
        for dependency in ("crm", "sale_management", "account", "portal", "mail"):
            self.assertIn(dependency, module.dependencies_id.mapped("name"))

    def test_settings_section(self):
        """The crm_extended block sits in the Sales settings, not in an app of its own."""
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="crm_extended_setting_container"', arch)
        menus = self.env["ir.ui.menu"].search([("name", "ilike", "CRM Extended")])
        self.assertFalse(menus, "crm_extended adds no top-level menu of its own")

    def test_search_ignores_accents(self):
        """'nguyen van duc' finds 'Nguyễn Văn Đức' everywhere Odoo searches text."""
        self.assertTrue(self.env.registry.has_unaccent)
        partners = self.env["res.partner"]
        self.assertIn(self.contact_vn, partners.search([("name", "ilike", "nguyen van duc")]))
        self.assertIn(self.customer_vn, partners.search([("name", "ilike", "dong a")]))
        self.assertIn(self.customer_vn, partners.search([("city", "ilike", "ha noi")]))
        # accents typed by the user still match too
        self.assertIn(self.contact_vn, partners.search([("name", "ilike", "Nguyễn")]))
        self.assertNotIn(self.customer_en, partners.search([("name", "ilike", "nguyen")]))


class TestUpgrade(unittest.TestCase):
    """``-u crm_extended`` on a database that has it keeps its data.

    Runs a real upgrade in a separate Odoo process on ``CRM_EXT_UPGRADE_DB``, a copy of the
    test database that ``make test`` takes before the suite starts (an upgrade cannot run in
    the database the suite holds open).
    """

    def setUp(self):
        super().setUp()
        self.dbname = os.environ.get("CRM_EXT_UPGRADE_DB")
        self.odoo_root = os.environ.get("CRM_EXT_ODOO_ROOT")
        self.odoo_conf = os.environ.get("CRM_EXT_ODOO_CONF")
        if not (self.dbname and self.odoo_root and self.odoo_conf):
            self.skipTest("run through `make test`, which prepares the upgrade database")

    def _connect(self):
        return psycopg2.connect(
            dbname=self.dbname,
            host=config["db_host"] or None,
            port=config["db_port"] or None,
            user=config["db_user"] or None,
            password=config["db_password"] or None,
        )

    def _odoo(self, *args, command=(), stdin=None):
        return subprocess.run(
            [
                sys.executable,
                os.path.join(self.odoo_root, "odoo-bin"),
                *command,
                *("-c", self.odoo_conf, "-d", self.dbname, "--log-level=warn", "--no-http"),
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def test_upgrade_keeps_data(self):
        # user data made through the ORM before the upgrade
        script = (
            "partner = env['res.partner'].create(\n"
            "    {'name': 'Công ty Nâng Cấp', 'is_company': True})\n"
            "user = env['res.users'].create({'name': 'Bùi Thanh Tâm', 'login': 'upgrade_care',\n"
            "    'groups_id': [(4, env.ref('crm_extended.group_care_officer').id)]})\n"
            "env.cr.commit()\n"
            "print('IDS', partner.id, user.id)\n"
        )
        shell = self._odoo(command=["shell"], stdin=script)
        ids_line = [line for line in shell.stdout.splitlines() if line.startswith("IDS ")]
        self.assertTrue(ids_line, shell.stdout + shell.stderr)
        partner_id, user_id = map(int, ids_line[0].split()[1:])

        with self._connect() as conn, conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM sale_order")
            orders_before = cr.fetchone()[0]
        conn.close()

        upgrade = self._odoo("-u", "crm_extended", "--stop-after-init")
        self.assertEqual(upgrade.returncode, 0, upgrade.stderr[-3000:])
        errors = [
            line
            for line in upgrade.stderr.splitlines()
            if " ERROR " in line or " CRITICAL " in line
        ]
        self.assertFalse(errors, "\n".join(errors))

        with self._connect() as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT state, latest_version FROM ir_module_module WHERE name = 'crm_extended'"
            )
            self.assertEqual(cr.fetchone(), ("installed", "18.0.1.0.0"))
            cr.execute("SELECT name FROM res_partner WHERE id = %s", [partner_id])
            self.assertEqual(cr.fetchone(), ("Công ty Nâng Cấp",))
            cr.execute(
                """
                SELECT count(*) FROM res_groups_users_rel rel
                  JOIN ir_model_data imd ON imd.model = 'res.groups' AND imd.res_id = rel.gid
                 WHERE rel.uid = %s AND imd.module = 'crm_extended'
                   AND imd.name IN ('group_care_officer', 'group_contact_user')
                """,
                [user_id],
            )
            self.assertEqual(cr.fetchone()[0], 2, "the user keeps the role and what it implies")
            cr.execute("SELECT count(*) FROM sale_order")
            self.assertEqual(cr.fetchone()[0], orders_before)
            cr.execute("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'")
            self.assertTrue(cr.fetchone())
        conn.close()
