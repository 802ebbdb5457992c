import base64
import binascii
import csv
import datetime
import io
import re
import zipfile

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import split_every

from .crm_lead_source import INTAKE_TEXT_FIELDS, LeadIntakeError

try:
    import chardet
except ImportError:  # pragma: no cover - in Odoo's requirements
    chardet = None

try:
    import openpyxl
except ImportError:  # pragma: no cover - in Odoo's requirements
    openpyxl = None

# The columns a file may be mapped to: the keys of the intake (see crm.lead.source).
INTAKE_KEYS = [
    ("contact_name", "Contact Name"),
    ("company", "Company"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("country", "Country"),
    ("vat", "Tax ID"),
    ("message", "Message"),
    ("product_interest", "Product Interest"),
    ("utm_source", "UTM Source"),
    ("utm_medium", "UTM Medium"),
    ("utm_campaign", "UTM Campaign"),
]
assert [key for key, _label in INTAKE_KEYS] == list(INTAKE_TEXT_FIELDS)

# Headers recognized without a remembered mapping (compared lower-cased, spaces collapsed).
HEADER_ALIASES = {
    "contact_name": {"name", "contact", "full name", "họ tên", "họ và tên", "tên", "người liên hệ"},
    "company": {"company name", "organization", "công ty", "tên công ty", "doanh nghiệp"},
    "email": {"e-mail", "mail", "email address", "thư điện tử"},
    "phone": {"mobile", "telephone", "tel", "phone number", "điện thoại", "số điện thoại", "sđt"},
    "country": {"country code", "quốc gia", "nước"},
    "vat": {"tax id", "mã số thuế", "mst"},
    "message": {"note", "notes", "comment", "ghi chú", "nội dung", "lời nhắn"},
    "product_interest": {"product", "sản phẩm", "sản phẩm quan tâm"},
    "utm_source": {"source", "nguồn"},
    "utm_medium": {"medium", "kênh"},
    "utm_campaign": {"campaign", "chiến dịch"},
}
SEPARATORS = [
    (",", "Comma"),
    (";", "Semicolon"),
    ("\t", "Tab"),
    ("|", "Vertical Bar"),
]
MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_ROWS = 50000
# rows handed to the intake at once; their report lines are created in one call
IMPORT_CHUNK_SIZE = 500
PREVIEW_ROWS = 5
SAMPLE_LENGTH = 60
# below this, chardet's guess is not trusted: the user is asked for the encoding
ENCODING_MIN_CONFIDENCE = 0.6
XLSX_MAGIC = b"PK\x03\x04"


def normalize_header(header):
    return re.sub(r"[\s_]+", " ", header or "").strip().lower()


class CrmLeadImport(models.Model):
    """One file of leads imported into a source of kind ``file``.

    The file is read when it is saved (``_read_file``): its encoding and separator are
    detected (CSV) and its columns listed, mapped to the intake keys with the mapping the
    source remembers from its last import (else by their headers). The form previews the
    first rows as the intake will read them. ``action_import`` then hands every row to the
    source's ``_intake_leads`` (the normalization and de-duplication of the webhook) and
    keeps one report line per row: created, merged or rejected with the reason.

    A file that cannot be read as a whole (size, encoding, format, mapping) is refused
    before any lead is created; a bad row is rejected alone.
    """

    _name = "crm.lead.import"
    _description = "Lead Import"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True
    _rec_names_search = ["file_name", "source_id"]

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    source_id = fields.Many2one(
        "crm.lead.source",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        domain="[('kind', '=', 'file')]",
        tracking=True,
    )
    company_id = fields.Many2one(
        related="source_id.company_id", store=True, index=True, precompute=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Imported By",
        default=lambda self: self.env.user,
        readonly=True,
    )
    state = fields.Selection(
        [("draft", "Upload"), ("mapped", "Mapping"), ("done", "Imported")],
        required=True,
        default="draft",
        readonly=True,
        tracking=True,
        copy=False,
    )
    file = fields.Binary(attachment=True, copy=False)
    file_name = fields.Char(copy=False)
    file_type = fields.Selection([("csv", "CSV"), ("xlsx", "XLSX")], readonly=True, copy=False)
    encoding = fields.Char(
        copy=False,
        help="Encoding of the CSV file: detected when the file is read; change it if the "
        "preview shows garbled letters.",
    )
    separator = fields.Selection(
        SEPARATORS,
        copy=False,
        help="Column separator of the CSV file: detected when the file is read.",
    )
    row_count = fields.Integer(string="Rows", readonly=True, copy=False)
    column_ids = fields.One2many("crm.lead.import.column", "import_id", string="Columns")
    mapping_warning = fields.Char(readonly=True, copy=False)
    preview_html = fields.Html(string="Preview", compute="_compute_preview_html", sanitize=False)
    line_ids = fields.One2many("crm.lead.import.line", "import_id", string="Rows Imported")
    import_date = fields.Datetime(string="Imported On", readonly=True, copy=False)
    created_count = fields.Integer(string="Created", readonly=True, copy=False)
    merged_count = fields.Integer(string="Merged", readonly=True, copy=False)
    rejected_count = fields.Integer(string="Rejected", readonly=True, copy=False)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("source_id", "file_name")
    def _compute_display_name(self):
        for batch in self:
            batch.display_name = " - ".join(
                part for part in (batch.source_id.name, batch.file_name) if part
            ) or self.env._("New Import")

    @api.depends("state", "column_ids.intake_key", "file", "encoding", "separator")
    def _compute_preview_html(self):
        for batch in self:
            batch.preview_html = batch._render_preview() if batch.state == "mapped" else False

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        batches = super().create(vals_list)
        batches.filtered("file")._read_file()
        return batches

    def write(self, vals):
        if self.filtered(lambda batch: batch.state == "done") and (
            {"file", "source_id", "encoding", "separator"} & set(vals)
        ):
            raise UserError(self.env._("An import that is done cannot be changed."))
        if "file" in vals:
            # a new file: its own encoding and separator are detected
            vals = {"encoding": False, "separator": False, **vals}
        result = super().write(vals)
        if self.env.context.get("crm_lead_import_reading"):
            return result  # what _read_file found
        if {"file", "encoding", "separator"} & set(vals):
            self.filtered("file")._read_file()
            self.filtered(lambda batch: not batch.file).write(
                {"state": "draft", "column_ids": [(5, 0, 0)], "row_count": 0}
            )
        return result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_read_file(self):
        """Read (again) the uploaded file: the form saves it first."""
        for batch in self:
            if not batch.file:
                raise UserError(self.env._("Upload a CSV or XLSX file first."))
            if batch.state == "draft":
                batch._read_file()
        return True

    def action_reset(self):
        """Back to the upload, to choose another file."""
        self.filtered(lambda batch: batch.state == "mapped").write({"file": False})
        return True

    def action_import(self):
        """Take in every row of the file through the source's intake, then show the report.

        The file as a whole is checked first (readable, mapped): on an error nothing is
        created. Rows are handed to ``_intake_leads`` by chunks of ``IMPORT_CHUNK_SIZE``:
        each is created, merged into an open lead or rejected on its own.
        """
        self.ensure_one()
        self.check_access("write")
        if self.state != "mapped":
            raise UserError(self.env._("Upload a file and check its columns before importing."))
        mapping = self._get_mapping()
        self._check_mapping(mapping)
        _header, rows, _details = self._read_rows()
        source = self.source_id
        Line = self.env["crm.lead.import.line"]
        countries = {}
        for chunk in split_every(IMPORT_CHUNK_SIZE, rows):
            intake_rows = [
                self._prepare_intake_row(cells, mapping, countries) for _n, cells in chunk
            ]
            results = source._intake_leads(intake_rows)
            Line.create(
                [
                    self._prepare_line_values(number, row, result)
                    for (number, _cells), row, result in zip(
                        chunk, intake_rows, results, strict=True
                    )
                ]
            )
        counts = dict(Line._read_group([("import_id", "=", self.id)], ["status"], ["__count"]))
        self.write(
            {
                "state": "done",
                "import_date": fields.Datetime.now(),
                "created_count": counts.get("created", 0),
                "merged_count": counts.get("merged", 0),
                "rejected_count": counts.get("rejected", 0),
            }
        )
        source.import_mapping = {key: self._column_header(index) for key, index in mapping.items()}
        self.message_post(
            body=self.env._(
                "%(file)s imported: %(created)s leads created, %(merged)s merged into open "
                "leads, %(rejected)s rows rejected.",
                file=self.file_name or "",
                created=self.created_count,
                merged=self.merged_count,
                rejected=self.rejected_count,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return True

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action["domain"] = [("id", "in", self.line_ids.lead_id.ids)]
        action["context"] = {"active_test": False}
        return action

    def action_view_lines(self):
        """The rows of the report, to filter (``search_default_*`` from the button)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_lead_import_line_action"
        )
        action["domain"] = [("import_id", "=", self.id)]
        action["context"] = {
            key: value
            for key, value in self.env.context.items()
            if key.startswith("search_default_")
        }
        return action

    # ------------------------------------------------------------
    # READING THE FILE
    # ------------------------------------------------------------

    def _read_file(self):
        """Read the file: its type, encoding, separator, columns and number of rows.

        The columns are mapped with the source's remembered mapping (``import_mapping``:
        intake key → header); headers it names that the file lacks are reported in
        ``mapping_warning``. Without a remembered mapping, headers are recognized by name.
        :raise UserError: the file cannot be read (too large, not CSV/XLSX, encoding)
        """
        for batch in self:
            header, rows, details = batch._read_rows()
            remembered = batch.source_id.import_mapping or {}
            by_header = {}
            if remembered:
                for key, name in remembered.items():
                    if key in INTAKE_TEXT_FIELDS and name:
                        by_header.setdefault(normalize_header(name), key)
            else:
                for key in INTAKE_TEXT_FIELDS:
                    for alias in HEADER_ALIASES[key] | {key, normalize_header(key)}:
                        by_header.setdefault(alias, key)
            samples = [""] * len(header)
            for _number, cells in rows:
                for index, cell in enumerate(cells[: len(header)]):
                    if cell and not samples[index]:
                        samples[index] = cell[:SAMPLE_LENGTH]
                if all(samples):
                    break
            used = set()
            column_values = []
            for index, name in enumerate(header):
                key = by_header.get(normalize_header(name))
                if key in used:
                    key = False
                used.add(key)
                column_values.append(
                    {"sequence": index, "name": name, "sample": samples[index], "intake_key": key}
                )
            missing = [name for key, name in remembered.items() if name and key not in used]
            batch.with_context(crm_lead_import_reading=True).write(
                {
                    **details,
                    "state": "mapped",
                    "row_count": len(rows),
                    "column_ids": [(5, 0, 0)] + [(0, 0, values) for values in column_values],
                    "mapping_warning": self.env._(
                        "Columns of the last import not found in this file: %(columns)s",
                        columns=", ".join(missing),
                    )
                    if missing
                    else False,
                }
            )

    def _read_rows(self):
        """The header and the data rows of the file.

        :return tuple: (list of header names, list of (row number, list of cell texts),
            dict of what was detected: ``file_type``, ``encoding``, ``separator``); the header
            is the first row that is not blank, blank rows are left out
        :raise UserError: the file cannot be read
        """
        self.ensure_one()
        raw = self._get_file_content()
        details = {"file_type": self._detect_file_type(raw)}
        if details["file_type"] == "xlsx":
            table = self._read_xlsx(raw)
        else:
            table, details["encoding"], details["separator"] = self._read_csv(raw)
        header, rows = None, []
        for number, cells in enumerate(table, start=1):
            if not any(cells):
                continue
            if header is None:
                header = self._clean_header(cells)
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise UserError(
                    self.env._(
                        "The file has more than %(count)s rows: split it into smaller files.",
                        count=MAX_ROWS,
                    )
                )
        if not header:
            raise UserError(self.env._("The file is empty: its first row must name the columns."))
        return header, rows, details

    def _get_file_content(self):
        self.ensure_one()
        data = self.with_context(bin_size=False).file
        if not data:
            raise UserError(self.env._("Upload a CSV or XLSX file first."))
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as error:
            raise UserError(self.env._("The uploaded file could not be read.")) from error
        if len(raw) > MAX_FILE_SIZE:
            raise UserError(
                self.env._(
                    "The file is %(size)s MB: files of up to %(max)s MB can be imported. "
                    "Split it into smaller files.",
                    size=round(len(raw) / 1024 / 1024, 1),
                    max=MAX_FILE_SIZE // 1024 // 1024,
                )
            )
        return raw

    def _detect_file_type(self, raw):
        extension = (self.file_name or "").rpartition(".")[2].lower()
        if extension == "xls" or raw.startswith(b"\xd0\xcf\x11\xe0"):
            raise UserError(
                self.env._("Old Excel files (.xls) cannot be read: save the file as .xlsx or CSV.")
            )
        if extension == "xlsx" or raw.startswith(XLSX_MAGIC):
            return "xlsx"
        return "csv"

    @api.model
    def _clean_header(self, cells):
        header, seen = [], set()
        for index, cell in enumerate(cells, start=1):
            name = cell or self.env._("Column %(number)s", number=index)
            unique, suffix = name, 2
            while normalize_header(unique) in seen:
                unique = f"{name} ({suffix})"
                suffix += 1
            seen.add(normalize_header(unique))
            header.append(unique)
        return header

    def _read_csv(self, raw):
        text, encoding = self._decode_csv(raw)
        separator = self.separator or self._detect_separator(text)
        try:
            table = [
                [cell.strip() for cell in cells]
                for cells in csv.reader(io.StringIO(text, newline=""), delimiter=separator)
            ]
        except csv.Error as error:
            raise UserError(
                self.env._("The CSV file could not be read: %(error)s", error=str(error))
            ) from error
        return table, encoding, separator

    def _decode_csv(self, raw):
        """The text of the file and its encoding: the chosen one, else UTF-8, else the one
        detected.

        :raise UserError: the bytes are not text in the chosen encoding, or none could be
            recognized with confidence
        """
        if self.encoding:
            try:
                return raw.decode(self.encoding), self.encoding
            except (LookupError, UnicodeDecodeError) as error:
                raise UserError(
                    self.env._(
                        "The file cannot be read as %(encoding)s: choose another encoding, "
                        "or save the file as CSV UTF-8.",
                        encoding=self.encoding,
                    )
                ) from error
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                encoding = self._detect_encoding(raw)
            else:
                return text, "utf-8"
        try:
            text = raw.decode(encoding) if encoding else None
        except (LookupError, UnicodeDecodeError):
            text = None
        if text is None or "\x00" in text:
            raise UserError(
                self.env._(
                    "The file is not UTF-8 text and its encoding could not be recognized: "
                    "save it as CSV UTF-8, or choose its encoding, and upload it again."
                )
            )
        return text, encoding

    @api.model
    def _detect_encoding(self, raw):
        if not chardet or b"\x00" in raw:
            return False
        detected = chardet.detect(raw)
        if not detected.get("encoding") or detected.get("confidence", 0) < ENCODING_MIN_CONFIDENCE:
            return False
        return detected["encoding"].lower()

    @api.model
    def _detect_separator(self, text):
        """The separator found most often in the header line (outside quotes)."""
        first_line = re.sub(r'"[^"]*"', "", text.lstrip().split("\n", 1)[0])
        counts = {separator: first_line.count(separator) for separator, _label in SEPARATORS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","

    def _read_xlsx(self, raw):
        if not openpyxl:
            raise UserError(self.env._("XLSX files cannot be read here: import a CSV file."))
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            rows = [
                [self._xlsx_cell_text(value) for value in values]
                for values in sheet.iter_rows(values_only=True)
            ]
            workbook.close()
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as error:
            raise UserError(
                self.env._("The file is not a valid XLSX workbook: save it again from Excel.")
            ) from error
        return rows

    @api.model
    def _xlsx_cell_text(self, value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            # numbers typed in cells (phone numbers, tax IDs) come back as floats
            return str(int(value))
        if isinstance(value, datetime.date):
            return value.isoformat()
        return str(value).strip()

    # ------------------------------------------------------------
    # MAPPING AND ROWS
    # ------------------------------------------------------------

    def _get_mapping(self):
        """The mapping of the columns: {intake key: index of the column in the file}."""
        self.ensure_one()
        return {
            column.intake_key: column.sequence for column in self.column_ids if column.intake_key
        }

    def _get_intake_key_labels(self):
        field = self.env["crm.lead.import.column"]._fields["intake_key"]
        return dict(field._description_selection(self.env))

    def _column_header(self, index):
        return next((column.name for column in self.column_ids if column.sequence == index), False)

    def _check_mapping(self, mapping):
        """A file must be mapped to enough to reach a contact; otherwise nothing is imported.

        :raise UserError: a required column is not mapped
        """
        labels = self._get_intake_key_labels()
        missing = []
        if not {"contact_name", "company"} & set(mapping):
            missing.append(
                self.env._("%(a)s or %(b)s", a=labels["contact_name"], b=labels["company"])
            )
        if not {"email", "phone"} & set(mapping):
            missing.append(self.env._("%(a)s or %(b)s", a=labels["email"], b=labels["phone"]))
        if missing:
            raise UserError(
                self.env._(
                    "Map the columns of the file before importing; missing: %(missing)s.",
                    missing="; ".join(missing),
                )
            )

    def _prepare_intake_row(self, cells, mapping, countries):
        """The row for ``_intake_leads``: {intake key: text}. Countries written by name are
        given as their ISO code (``countries`` caches the names already looked up)."""
        row = {key: cells[index] if index < len(cells) else "" for key, index in mapping.items()}
        country = row.get("country")
        if country and len(country) != 2:
            if country not in countries:
                found = self.env["res.country"].search(
                    ["|", ("name", "=ilike", country), ("code", "=ilike", country)], limit=1
                )
                countries[country] = found.code or country
            row["country"] = countries[country]
        return row

    def _prepare_line_values(self, number, row, result):
        return {
            "import_id": self.id,
            "row_number": number,
            "values": row,
            "name": row.get("contact_name") or row.get("company") or False,
            "email": row.get("email") or False,
            "phone": row.get("phone") or False,
            "status": result["status"],
            "lead_id": result["lead_id"],
            "partner_id": result["partner_id"],
            "match": result["match"],
            "error_field": result["field"],
            "reason": result["reason"],
        }

    # ------------------------------------------------------------
    # PREVIEW
    # ------------------------------------------------------------

    def _render_preview(self):
        """An HTML table of the first rows as the intake reads them, with what would
        happen to each: a new lead, a note on an open lead, or the reason of a refusal.
        Nothing is written."""
        self.ensure_one()
        try:
            _header, rows, _details = self._read_rows()
        except UserError as error:
            return Markup('<div class="alert alert-danger" role="alert">%s</div>') % error.args[0]
        mapping = self._get_mapping()
        labels = self._get_intake_key_labels()
        keys = [key for key in INTAKE_TEXT_FIELDS if key in mapping]
        head = Markup("").join(
            Markup("<th>%s</th>") % label
            for label in [self.env._("Row"), *(labels[key] for key in keys), self.env._("Result")]
        )
        body = Markup("")
        source = self.source_id
        countries = {}
        for number, cells in rows[:PREVIEW_ROWS]:
            row = self._prepare_intake_row(cells, mapping, countries)
            try:
                values = source._intake_normalize(row)
            except LeadIntakeError as error:
                values = {key: row.get(key) for key in keys}
                result = Markup('<span class="text-danger">%s</span>') % error.args[0]
            else:
                result = self._preview_result(values)
            cells_html = Markup("").join(
                Markup("<td>%s</td>") % self._preview_value(key, values) for key in keys
            )
            body += Markup("<tr><td>%s</td>%s<td>%s</td></tr>") % (number, cells_html, result)
        return Markup(
            '<table class="table table-sm o_crm_lead_import_preview">'
            "<thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
        ) % (head, body)

    @api.model
    def _preview_value(self, key, values):
        if key == "phone":
            return values.get("phone_international") or values.get("phone") or ""
        value = values.get(key)
        if isinstance(value, models.BaseModel):
            return value.display_name or ""
        return value or ""

    def _preview_result(self, values):
        source = self.source_id
        lead, _match = source._intake_find_open_lead(values)
        if lead:
            return Markup('<span class="text-info">%s</span>') % self.env._(
                "Note on the open lead %(lead)s", lead=lead.display_name
            )
        partner, _match = source._intake_find_customer(values)
        if partner:
            return Markup('<span class="text-success">%s</span>') % self.env._(
                "New lead for the customer %(customer)s", customer=partner.display_name
            )
        return Markup('<span class="text-success">%s</span>') % self.env._("New lead")


class CrmLeadImportColumn(models.Model):
    """A column of an imported file and the intake key it is mapped to."""

    _name = "crm.lead.import.column"
    _description = "Lead Import Column"
    _order = "import_id, sequence"

    import_id = fields.Many2one("crm.lead.import", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(string="Position", readonly=True)
    name = fields.Char(string="Column", required=True, readonly=True)
    sample = fields.Char(string="First Value", readonly=True)
    intake_key = fields.Selection(INTAKE_KEYS, string="Lead Field")

    @api.constrains("intake_key", "import_id")
    def _check_intake_key(self):
        for batch in self.import_id:
            keys = [column.intake_key for column in batch.column_ids if column.intake_key]
            if len(keys) != len(set(keys)):
                raise ValidationError(
                    self.env._("Each lead field can be mapped to one column of the file only.")
                )
