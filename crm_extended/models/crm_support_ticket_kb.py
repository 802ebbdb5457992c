from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

SUGGESTED_ARTICLES = 5


class CrmSupportTicket(models.Model):
    _inherit = "crm.support.ticket"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    kb_article_id = fields.Many2one(
        "crm.kb.article",
        string="Solved by Article",
        index="btree_not_null",
        tracking=True,
        copy=False,
        ondelete="set null",
        check_company=True,
        help="The knowledge-base article whose answer solved this ticket: it counts as helpful.",
    )
    suggested_article_ids = fields.Many2many(
        "crm.kb.article",
        string="Suggested Articles",
        compute="_compute_suggested_article_ids",
        help="Articles matching the subject, the description and the product of the ticket.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("name", "description", "product_id")
    def _compute_suggested_article_ids(self):
        Article = self.env["crm.kb.article"]
        for ticket in self:
            ticket.suggested_article_ids = Article._suggest_articles(
                ticket._prepare_description_text(),
                products=ticket.product_id,
                limit=SUGGESTED_ARTICLES,
            )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        for article, solved in tickets.grouped("kb_article_id").items():
            article._increment_counter("helpful_count", len(solved))
        return tickets

    def write(self, vals):
        if "kb_article_id" not in vals:
            return super().write(vals)
        # the count moves with the link: a ticket counts once, for its current article
        previous = {ticket: ticket.kb_article_id for ticket in self}
        result = super().write(vals)
        steps = defaultdict(int)
        for ticket, article in previous.items():
            if ticket.kb_article_id != article:
                steps[article] -= 1
                steps[ticket.kb_article_id] += 1
        for article, step in steps.items():
            if step:
                article._increment_counter("helpful_count", step)
        return result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_insert_article(self, article_id):
        """Open the reply composer of the ticket with the answer of the article.

        The operator reviews and sends it; the article counts one more use.
        """
        self.ensure_one()
        article = self._kb_get_article(article_id)
        article._increment_counter("use_count")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply with %(article)s", article=article.name),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_composition_mode": "comment",
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_subtype_xmlid": "mail.mt_comment",
                "default_body": article.answer,
                "mail_post_autofollow": True,
            },
        }

    def action_solved_by_article(self, article_id):
        """Record that the article solved the ticket, which counts it as helpful once."""
        self.ensure_one()
        article = self._kb_get_article(article_id)
        self.kb_article_id = article
        return True

    def _kb_get_article(self, article_id):
        article = self.env["crm.kb.article"].browse(int(article_id)).exists()
        if not article:
            raise UserError(self.env._("This article does not exist any more."))
        article.check_access("read")
        return article
