import base64
import io
from contextlib import contextmanager
from unittest.mock import patch

import openpyxl

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users

from ..models import crm_lead_import
from ..models.crm_lead_source import CrmLeadSource
from .test_lead_source import LeadSourceCommon


@tagged("post_install", "-at_install")
class LeadImportCommon(LeadSourceCommon):
    """A file source of the company, whose leads go to the online sales team.

    Fixtures, on top of the lead source ones:
        source_file     file source "Đại lý Hoàng Long": team, user_salesman, tag_web
        user_sale_manager (common) imports the files
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source_file = cls.env["crm.lead.source"].create(
            {
                "name": "Đại lý Hoàng Long",
                "kind": "file",
                "team_id": cls.team.id,
                "user_id": cls.user_salesman.id,
                "tag_ids": [Command.set(cls.tag_web.ids)],
            }
        )

    def _csv(self, lines, separator=",", encoding="utf-8"):
        return base64.b64encode(
            "\n".join(separator.join(cells) for cells in lines).encode(encoding)
        )

    def _xlsx(self, lines):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for cells in lines:
            sheet.append(cells)
        stream = io.BytesIO()
        workbook.save(stream)
        return base64.b64encode(stream.getvalue())

    def _upload(self, data, file_name="leads.csv", source=None, **values):
        return self.env["crm.lead.import"].create(
            {
                "source_id": (source or self.source_file).id,
                "file": data,
                "file_name": file_name,
                **values,
            }
        )

    @contextmanager
    def assertUserError(self, text):
        """assertRaises(UserError) (which rolls back what the block did) whose message
        contains ``text``."""
        with self.assertRaises(UserError) as catcher:
            yield
        self.assertIn(text, catcher.exception.args[0])

    def _mapping(self, batch):
        return {column.name: column.intake_key for column in batch.column_ids}

    def _statuses(self, batch):
        return [(line.row_number, line.status) for line in batch.line_ids.sorted("row_number")]


@tagged("post_install", "-at_install")
class TestLeadImport(LeadImportCommon):
    # ------------------------------------------------------------
    # reading and mapping
    # ------------------------------------------------------------

    @users("ce_sale_manager")
    def test_import_created_merged_rejected(self):
        """A CSV file with Vietnamese headers and semicolons is read and mapped by itself;
        each row is created, merged into the open lead with the same email, or rejected with
        its reason while the others are imported."""
        batch = self._upload(
            self._csv(
                [
                    ["Họ tên", "Công ty", "Email", "Điện thoại", "Ghi chú"],
                    [
                        "Phạm Thị Thu",
                        "Công ty Sao Mai",
                        "Thu.Pham@SaoMai.example.vn",
                        "0903 111 222",
                        "Cần 5 máy",
                    ],
                    ["Trần Thị Hoa", "", "hoa.tran@example.vn", "", "Gọi lại giúp"],
                    ["Lý Văn Tâm", "", "tam@@example", "", ""],
                    ["", "", "", "", ""],
                    ["Đặng Minh Khoa", "", "", "0868 999 000", ""],
                ],
                separator=";",
            )
        )
        self.assertRecordValues(
            batch,
            [
                {
                    "state": "mapped",
                    "file_type": "csv",
                    "encoding": "utf-8",
                    "separator": ";",
                    "row_count": 4,
                }
            ],
        )
        self.assertEqual(
            self._mapping(batch),
            {
                "Họ tên": "contact_name",
                "Công ty": "company",
                "Email": "email",
                "Điện thoại": "phone",
                "Ghi chú": "message",
            },
        )
        self.assertEqual(batch.column_ids[0].sample, "Phạm Thị Thu")

        batch.action_import()

        self.assertRecordValues(
            batch,
            [{"state": "done", "created_count": 2, "merged_count": 1, "rejected_count": 1}],
        )
        # the header is row 1; the blank row 5 is skipped
        self.assertEqual(
            self._statuses(batch),
            [(2, "created"), (3, "merged"), (4, "rejected"), (6, "created")],
        )
        created, merged, rejected, phone_only = batch.line_ids.sorted("row_number")
        self.assertRecordValues(
            created.lead_id,
            [
                {
                    "lead_source_id": self.source_file.id,
                    "email_from": "thu.pham@saomai.example.vn",
                    "phone": "+84 903 111 222",
                    "partner_name": "Công ty Sao Mai",
                    "team_id": self.team.id,
                    "user_id": self.user_salesman.id,
                }
            ],
        )
        self.assertEqual(created.lead_id.tag_ids, self.tag_web)
        self.assertEqual(merged.lead_id, self.lead_open)
        self.assertEqual(merged.match, "email")
        self.assertRecordValues(
            rejected,
            [
                {
                    "lead_id": False,
                    "error_field": "email",
                    "name": "Lý Văn Tâm",
                    "email": "tam@@example",
                }
            ],
        )
        self.assertIn("tam@@example", rejected.reason)
        self.assertEqual(phone_only.lead_id.phone, "+84 868 999 000")
        self.assertEqual(
            self.env["crm.lead"].search_count([("lead_source_id", "=", self.source_file.id)]), 2
        )
        # the mapping is remembered on the source
        self.assertEqual(
            self.source_file.import_mapping,
            {
                "contact_name": "Họ tên",
                "company": "Công ty",
                "email": "Email",
                "phone": "Điện thoại",
                "message": "Ghi chú",
            },
        )
        self.assertEqual(self.source_file.import_count, 1)
        with self.assertRaises(UserError):
            batch.write({"encoding": "latin-1"})

    @users("ce_sale_manager")
    def test_mapping_remembered(self):
        """Headers no alias knows are mapped by hand once; the next file of the source is
        mapped the same way, whatever the order of its columns."""
        first = self._upload(
            self._csv(
                [
                    ["Tên KH", "Hộp thư", "Di động (KH)"],
                    ["Võ Văn Hải", "hai.vo@example.vn", "0912 777 888"],
                ]
            )
        )
        self.assertEqual(set(self._mapping(first).values()), {False})
        with self.assertRaises(UserError):
            first.action_import()  # nothing mapped: nothing imported
        self.assertFalse(first.line_ids)
        keys = {"Tên KH": "contact_name", "Hộp thư": "email", "Di động (KH)": "phone"}
        first.write(
            {
                "column_ids": [
                    Command.update(column.id, {"intake_key": keys[column.name]})
                    for column in first.column_ids
                ]
            }
        )
        first.action_import()
        self.assertEqual(first.created_count, 1)

        second = self._upload(
            self._csv(
                [
                    ["di động (kh)", "Ghi chú riêng", "Tên KH", "Hộp thư"],
                    ["0912 555 666", "x", "Mai Anh", "anh@example.vn"],
                ]
            )
        )
        self.assertEqual(
            self._mapping(second),
            {
                "di động (kh)": "phone",
                "Ghi chú riêng": False,
                "Tên KH": "contact_name",
                "Hộp thư": "email",
            },
        )
        self.assertFalse(second.mapping_warning)

    @users("ce_sale_manager")
    def test_missing_mapped_columns(self):
        """A file without the remembered columns of the contact's email and phone is refused
        as a whole, with the missing columns named: nothing is created."""
        self.source_file.import_mapping = {
            "contact_name": "Tên KH",
            "email": "Hộp thư",
            "phone": "Di động",
        }
        batch = self._upload(self._csv([["Tên KH", "Ghi chú"], ["Võ Văn Hải", "gọi sau"]]))
        self.assertEqual(self._mapping(batch), {"Tên KH": "contact_name", "Ghi chú": False})
        self.assertIn("Hộp thư", batch.mapping_warning)
        self.assertIn("Di động", batch.mapping_warning)
        with self.assertRaises(UserError):
            batch.action_import()
        self.assertEqual(batch.state, "mapped")
        self.assertFalse(batch.line_ids)
        self.assertFalse(
            self.env["crm.lead"].search_count([("lead_source_id", "=", self.source_file.id)])
        )

    @users("ce_sale_manager")
    def test_one_column_per_field(self):
        batch = self._upload(
            self._csv([["Email", "E-mail 2", "Name"], ["a@example.vn", "b@example.vn", "A"]])
        )
        with self.assertRaises(ValidationError):
            batch.column_ids.filtered(lambda column: column.name == "E-mail 2").intake_key = "email"

    # ------------------------------------------------------------
    # encodings and formats
    # ------------------------------------------------------------

    @users("ce_sale_manager")
    def test_latin1_file_is_detected(self):
        """A CSV file saved in Latin-1 (not UTF-8) is read in its encoding."""
        batch = self._upload(
            self._csv(
                [
                    ["Name", "Email"],
                    ["José Müller", "jose@example.com"],
                    ["François Lefèvre", "fl@example.com"],
                ],
                encoding="latin-1",
            )
        )
        self.assertEqual(batch.encoding, "iso-8859-1")
        batch.action_import()
        self.assertEqual(
            batch.line_ids.lead_id.mapped("contact_name"), ["José Müller", "François Lefèvre"]
        )

    @users("ce_sale_manager")
    def test_broken_encoding_is_refused(self):
        """Bytes that are no text in any recognizable encoding: a clear error for the file,
        no import is kept; the user may then name the encoding."""
        data = base64.b64encode(b"Name,Email\n" + bytes(range(128, 256)) * 3)
        with self.assertUserError("UTF-8"):
            self._upload(data)
        self.assertFalse(
            self.env["crm.lead.import"].search([("source_id", "=", self.source_file.id)])
        )
        batch = self._upload(data, encoding="latin-1")
        self.assertEqual(batch.encoding, "latin-1")
        self.assertEqual(batch.state, "mapped")
        with self.assertUserError("utf-8"):
            batch.write({"encoding": "utf-8"})

    @users("ce_sale_manager")
    def test_xlsx(self):
        """XLSX: numbers typed in cells keep their digits, countries written by name are
        found, and the first sheet is read."""
        batch = self._upload(
            self._xlsx(
                [
                    ["Name", "Company", "Phone", "Country", "Tax ID"],
                    ["Ngô Bảo Châu", "Công ty Đông Á", 912345000, "Vietnam", 101234567],
                    ["Lee Wei", "Harbour Trading", "+65 6123 4567", "SG", None],
                ]
            ),
            file_name="reseller.xlsx",
        )
        self.assertRecordValues(batch, [{"file_type": "xlsx", "row_count": 2, "encoding": False}])
        self.assertEqual(
            set(self._mapping(batch).values()),
            {"contact_name", "company", "phone", "country", "vat"},
        )
        batch.action_import()
        self.assertEqual(self._statuses(batch), [(2, "created"), (3, "created")])
        lead_vn, lead_sg = batch.line_ids.sorted("row_number").lead_id
        self.assertEqual(lead_vn.phone, "+84 912 345 000")
        self.assertEqual(lead_vn.country_id, self.env.ref("base.vn"))
        self.assertEqual(lead_sg.country_id, self.env.ref("base.sg"))

    @users("ce_sale_manager")
    def test_bad_files(self):
        """Old .xls files, broken workbooks, empty and oversized files: a clear error each."""
        with self.assertUserError("xls"):
            self._upload(base64.b64encode(b"\xd0\xcf\x11\xe0" + b"\x00" * 50), file_name="a.xls")
        with self.assertUserError("XLSX"):
            self._upload(base64.b64encode(b"PK\x03\x04broken"), file_name="a.xlsx")
        with self.assertUserError("empty"):
            self._upload(base64.b64encode(b"\n\n"))
        with patch.object(crm_lead_import, "MAX_FILE_SIZE", 100), self.assertUserError("MB"):
            self._upload(self._csv([["Name", "Email"]] + [["An", "an@example.vn"]] * 10))

    # ------------------------------------------------------------
    # preview, chunks, rights
    # ------------------------------------------------------------

    @users("ce_sale_manager")
    def test_preview(self):
        """The preview shows the first rows normalized, what will happen to each, and writes
        nothing."""
        batch = self._upload(
            self._csv(
                [
                    ["Name", "Email", "Phone"],
                    ["Trần Thị Hoa", "HOA.TRAN@example.vn", ""],
                    ["Bùi Văn Nam", "nam@example.vn", "0903 123 456"],
                    ["Lý Văn Tâm", "tam@@example", ""],
                ]
            )
        )
        preview = str(batch.preview_html)
        self.assertIn("hoa.tran@example.vn", preview)
        self.assertIn(self.lead_open.name, preview)
        self.assertIn("+84 903 123 456", preview)
        self.assertIn("tam@@example", preview)
        self.assertIn("text-danger", preview)
        self.assertFalse(
            self.env["crm.lead"].search_count([("lead_source_id", "=", self.source_file.id)])
        )

    @users("ce_sale_manager")
    def test_rows_by_chunks(self):
        """Rows go to the intake by chunks: one call, and one creation of report lines, per
        chunk."""
        lines = [["Name", "Email"]] + [[f"Khách {n}", f"khach{n}@example.vn"] for n in range(5)]
        batch = self._upload(self._csv(lines))
        sizes = []
        intake = CrmLeadSource._intake_leads

        def counting_intake(source, rows):
            sizes.append(len(rows))
            return intake(source, rows)

        with (
            patch.object(crm_lead_import, "IMPORT_CHUNK_SIZE", 2),
            patch.object(CrmLeadSource, "_intake_leads", counting_intake),
        ):
            batch.action_import()
        self.assertEqual(sizes, [2, 2, 1])
        self.assertEqual(batch.created_count, 5)
        self.assertEqual(len(batch.line_ids), 5)

    def test_rights(self):
        """Only sales managers import files; a webhook source takes no file."""
        data = self._csv([["Name", "Email"], ["An", "an@example.vn"]])
        with self.assertRaises(AccessError):
            self._upload(data).with_user(self.user_salesman).read(["state"])
        with self.assertRaises(AccessError):
            self.env["crm.lead.import"].with_user(self.user_salesman).create(
                {"source_id": self.source_file.id}
            )
        with self.assertRaises(UserError):
            self.source_web.action_import_file()
        action = self.source_file.with_user(self.user_sale_manager).action_import_file()
        self.assertEqual(action["context"], {"default_source_id": self.source_file.id})

    def test_other_company_imports_invisible(self):
        """Imports, and their rows, stay in the company of their source."""
        other = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        source = self.env["crm.lead.source"].create(
            {"name": "Đại lý Đà Nẵng", "kind": "file", "company_id": other.id}
        )
        batch = self._upload(self._csv([["Name", "Email"], ["An", "an@example.vn"]]), source=source)
        batch.with_context(allowed_company_ids=other.ids).action_import()
        self.assertEqual(batch.company_id, other)
        manager_env = self.env(user=self.user_sale_manager)
        self.assertFalse(manager_env["crm.lead.import"].search([("id", "=", batch.id)]))
        self.assertFalse(manager_env["crm.lead.import.line"].search([("import_id", "=", batch.id)]))
