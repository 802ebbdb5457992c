import base64
import hashlib
from urllib.parse import quote

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.mimetypes import guess_mimetype

PDF_MIMETYPE = "application/pdf"


class CrmContractOriginal(models.Model):
    """A signed original of a contract: the scanned or electronically signed PDF.

    The file is kept as an attachment and fingerprinted with SHA-256 when it is uploaded; it
    cannot be replaced afterwards (add another original instead), so the checksum always
    proves which document the customer signed. Originals of a contract in force cannot be
    deleted.
    """

    _name = "crm.contract.original"
    _description = "Signed Original of a Contract"
    _order = "contract_id, date_signed desc, id desc"
    _rec_name = "file_name"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    contract_id = fields.Many2one("crm.contract", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="contract_id.company_id", store=True, index=True)
    file = fields.Binary(string="Signed PDF", attachment=True, required=True, copy=False)
    file_name = fields.Char(required=True)
    date_signed = fields.Date(string="Signed On", required=True, default=fields.Date.context_today)
    signatory = fields.Char(required=True, help="Who signed for the customer (name and position).")
    checksum = fields.Char(
        string="SHA-256",
        compute="_compute_checksum",
        store=True,
        readonly=True,
        copy=False,
        help="SHA-256 fingerprint of the file, computed when it was uploaded.",
    )
    file_size = fields.Integer(compute="_compute_checksum", store=True, readonly=True)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("file")
    def _compute_checksum(self):
        for original in self.with_context(bin_size=False):
            data = original._get_file_bytes()
            original.checksum = hashlib.sha256(data).hexdigest() if data else False
            original.file_size = len(data)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("file", "file_name")
    def _check_pdf(self):
        for original in self.with_context(bin_size=False):
            data = original._get_file_bytes()
            if not data.startswith(b"%PDF-") or guess_mimetype(data) != PDF_MIMETYPE:
                raise ValidationError(
                    self.env._(
                        "The signed original “%(file)s” is not a PDF file: scan or export "
                        "the signed contract as PDF and upload that file.",
                        file=original.file_name or "",
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        if "file" in vals:
            raise UserError(
                self.env._(
                    "A signed original cannot be replaced, its checksum proves what was "
                    "signed: add the new document as another original."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_contract_in_force(self):
        in_force = self.filtered(lambda original: original.contract_id.state != "draft")
        if in_force:
            raise UserError(
                self.env._(
                    "The signed originals of %(contract)s cannot be deleted: the contract "
                    "is no longer a draft.",
                    contract=in_force.contract_id[:1].display_name,
                )
            )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_file_bytes(self):
        """The raw bytes of the file (``self`` read without ``bin_size``)."""
        self.ensure_one()
        return base64.b64decode(self.file) if self.file else b""

    def _get_download_url(self, download=False):
        """URL of the PDF for the web client (an internal user with access to the record)."""
        self.ensure_one()
        url = f"/web/content/crm.contract.original/{self.id}/file/{quote(self.file_name or '')}"
        return f"{url}?download=true" if download else url
