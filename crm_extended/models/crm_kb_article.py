import re
from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, remove_accents

from ..hooks import create_search_functions

KINDS = [
    ("warranty", "Warranty"),
    ("how_to", "How to use"),
    ("maintenance", "Maintenance"),
    ("faq", "FAQ"),
    ("other", "Other"),
]

# Text-search columns kept by PostgreSQL itself (stored generated columns), so every way
# of writing an article, the ORM or plain SQL, keeps them right. Three nested scopes: the
# title, the title with keywords and symptoms ("head"), everything with the answer.
TSV_COLUMNS = {
    "title_tsv": "coalesce(name, '')",
    "head_tsv": "coalesce(name, '') || ' ' || coalesce(keywords, '') || ' ' "
    "|| coalesce(symptoms, '')",
    "search_tsv": "coalesce(name, '') || ' ' || coalesce(keywords, '') || ' ' "
    "|| coalesce(symptoms, '') || ' ' "
    # the answer without its tags and entities
    "|| regexp_replace(coalesce(answer, ''), '<[^>]*>|&[#a-zA-Z0-9]+;', ' ', 'g')",
}
# Bump when TSV_COLUMNS change: init() then rebuilds the columns of existing databases.
TSV_VERSION = "1"

# Relevance: every word in the title, in the head, or anywhere in the article.
TIERS = [(3, "title_tsv"), (2, "head_tsv"), (1, "search_tsv")]
# Bonus of the articles of the caller's product, or of its category.
BOOST_PRODUCT = 2
BOOST_CATEGORY = 1

# Ranking reads the matches of a relevance level when they are at most this many (GIN
# index, then sort); beyond, it walks the helpfulness index and stops at the page's end.
# Both stay bounded whether the words are rare or in every second article.
RANK_PROBE_SIZE = 500
ALL_MATCHES = 2**31 - 1

# Words of a ticket that say nothing about the problem (unaccented, lower case).
STOP_WORDS = frozenset(
    """
    a ah am an and anh are as at be bi but by can cac chi cho co con could cua da dang
    de dear den does duoc em for from gi giup had has have hay he hello hi i in is it
    its ka khi la lai me minh mot my nay nen neu nha nhe nhung no nua o of oi on or our
    please qua rat roi sao se so ta thank thanks the thi this to toi tu va van vang vay
    very vi voi was we with xin you your
    """.split()
)
SUGGESTION_WORDS = 8


def plain_words(text):
    """Lower-case words of ``text`` without accents (đ → d), in order."""
    text = remove_accents((text or "").lower()).replace("đ", "d")
    return re.findall(r"\w+", text)


class CrmKbArticle(models.Model):
    _name = "crm.kb.article"
    _description = "Knowledge Base Article"
    _inherit = ["mail.thread"]
    _order = "helpful_count desc, id desc"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(string="Title", required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    kind = fields.Selection(KINDS, required=True, default="faq", index=True, tracking=True)
    product_ids = fields.Many2many(
        "product.template",
        "crm_kb_article_product_rel",
        "article_id",
        "product_tmpl_id",
        string="Products",
        # a shared article may be about the product of one company
        domain="['|', ('company_id', '=', False), ('company_id', '=?', company_id)]",
    )
    product_category_ids = fields.Many2many(
        "product.category",
        "crm_kb_article_product_category_rel",
        "article_id",
        "category_id",
        string="Product Categories",
        help="The article also applies to every product of these categories and their "
        "subcategories.",
    )
    symptoms = fields.Text(
        string="Symptoms / Question", help="What the customer says, in their own words."
    )
    answer = fields.Html(sanitize=True)
    keywords = fields.Char(
        help="Other words customers use for this problem: they are searched like the title."
    )
    is_published = fields.Boolean(
        string="Published",
        tracking=True,
        copy=False,
        help="Published articles are searchable by customers on the portal.",
    )
    author_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        tracking=True,
    )
    use_count = fields.Integer(
        string="Times Used",
        default=0,
        required=True,
        readonly=True,
        copy=False,
        help="How many times the answer was inserted into a reply.",
    )
    helpful_count = fields.Integer(
        string="Helpful",
        default=0,
        required=True,
        readonly=True,
        copy=False,
        help="How many tickets this article solved.",
    )
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to share the article with every company.",
    )
    ticket_count = fields.Integer(compute="_compute_ticket_count")
    search_text = fields.Char(
        string="Search",
        compute="_compute_search_text",
        search="_search_search_text",
        help="Words of the title, keywords, symptoms or answer, accents ignored, best "
        "matches first.",
    )

    def init(self):
        cr = self.env.cr
        kind = create_search_functions(cr)
        # the column comment records what the generated columns were built with
        signature = f"crm_extended tsv {TSV_VERSION} {kind}"
        cr.execute(
            """
            SELECT col_description(attrelid, attnum)
              FROM pg_attribute
             WHERE attrelid = 'crm_kb_article'::regclass AND attname = 'search_tsv'
               AND NOT attisdropped
            """
        )
        row = cr.fetchone()
        if not row or row[0] != signature:
            for column, source in TSV_COLUMNS.items():
                cr.execute(
                    SQL(
                        "ALTER TABLE crm_kb_article DROP COLUMN IF EXISTS %(column)s, "
                        "ADD COLUMN %(column)s tsvector GENERATED ALWAYS AS ("
                        "to_tsvector('pg_catalog.simple', "
                        "public.crm_extended_unaccent(%(source)s))) STORED",
                        column=SQL.identifier(column),
                        source=SQL(source),
                    )
                )
            cr.execute(SQL("COMMENT ON COLUMN crm_kb_article.search_tsv IS %s", signature))
        # fastupdate off: articles are read far more than written, and a search would
        # otherwise scan every article written since the last vacuum (the pending list)
        for column in TSV_COLUMNS:
            index = SQL.identifier(f"crm_kb_article_{column}_idx")
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON crm_kb_article USING gin (%s) "
                    "WITH (fastupdate = off)",
                    index,
                    SQL.identifier(column),
                )
            )
            cr.execute(SQL("ALTER INDEX %s SET (fastupdate = off)", index))
        # the default order, and the walk of the ranking through frequent words
        cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_kb_article_helpful_idx "
            "ON crm_kb_article (helpful_count DESC, id DESC)"
        )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_ticket_count(self):
        Ticket = self.env["crm.support.ticket"]
        counts = {}
        if self.ids and Ticket.has_access("read"):
            counts = dict(
                Ticket._read_group(
                    [("kb_article_id", "in", self.ids)], ["kb_article_id"], ["__count"]
                )
            )
        for article in self:
            article.ticket_count = counts.get(article, 0)

    def _compute_search_text(self):
        self.search_text = False

    def _search_search_text(self, operator, value):
        if operator not in ("ilike", "like", "=", "=ilike", "not ilike", "not like", "!="):
            raise UserError(self.env._("Search the knowledge base with words."))
        negative = operator in ("not ilike", "not like", "!=")
        if not isinstance(value, str) or not plain_words(value):
            # nothing to look for: like "contains ''", everything matches
            return [("id", "=", False)] if negative else []
        self.flush_model(["name", "keywords", "symptoms", "answer"])
        matching = SQL(
            "(SELECT id FROM crm_kb_article WHERE search_tsv @@ %s)", self._kb_tsquery(value)
        )
        return [("id", "not in" if negative else "in", matching)]

    # ------------------------------------------------------------
    # SEARCH
    # ------------------------------------------------------------

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        """Searching with the search box ranks the articles, unless the user sorts.

        When the words are and-ed with the rest of the domain (the list view, a dropdown),
        they filter the articles directly on their text column, and a page in the default
        order is read the fast way of :meth:`_search_ranked`. Otherwise (words or-ed with
        other conditions) all the matches are sorted by the same relevance.
        """
        ranked = bool(order) and order == self._order
        text, rest = self._kb_split_search_text(domain)
        if not text:
            query = super()._search(domain, offset=offset, limit=limit, order=order)
            words = ranked and self._kb_searched_text(domain)
            if words and not query.is_empty():
                query.order = SQL(
                    "%s DESC, %s",
                    self._kb_relevance_sql(self._kb_tsquery(words), query.table),
                    self._order_to_sql(order, query),
                )
            return query
        self.flush_model(["name", "keywords", "symptoms", "answer"])
        if ranked and limit:
            base = super()._search(rest)
            if base.is_empty():
                return base
            self.flush_model()
            ids = RankedSearch(self, base, text, None, offset + limit).ranked_ids()
            return self.browse(ids[offset : offset + limit])._as_query(ordered=True)
        query = super()._search(rest, offset=offset, limit=limit, order=order)
        if not query.is_empty():
            tsquery = self._kb_tsquery(text)
            query.add_where(SQL("%s @@ %s", SQL.identifier(query.table, "search_tsv"), tsquery))
            if ranked:
                query.order = SQL(
                    "%s DESC, %s",
                    self._kb_relevance_sql(tsquery, query.table),
                    self._order_to_sql(order, query),
                )
        return query

    @api.model
    def _search_display_name(self, operator, value):
        # choosing an article (solved by...) finds it like the search box does
        if operator in ("ilike", "like") and isinstance(value, str) and plain_words(value):
            return [("search_text", operator, value)]
        return super()._search_display_name(operator, value)

    @api.model
    def _search_ranked(self, query, limit=20, offset=0, products=None, published_only=False):
        """Articles matching ``query``, the most relevant first, then the most helpful.

        Every word typed must appear (as a word or the start of one) in the title,
        keywords, symptoms or answer, accents ignored. Articles with all the words in
        their title come first, then those with all of them in title, keywords and
        symptoms, then the others; ties go to the articles that solved most tickets.
        Articles of ``products`` (``product.product`` or ``product.template``) get a
        bonus of two levels, those of their categories one level. An empty query lists
        the articles by bonus and helpfulness. Record rules apply: call it as the user
        who will see the result.

        :param str query: the words, as typed
        :param int limit: size of the page (None: all the matches)
        :param int offset: number of articles to skip
        :param products: the products the customer asks about, for the bonus
        :param bool published_only: only the articles published on the portal
        :return: the page of ``crm.kb.article``, in ranking order
        """
        return self.browse(
            self._kb_ranked_ids(
                query, limit=limit, offset=offset, products=products, published_only=published_only
            )
        )

    @api.model
    def _suggest_articles(self, text, products=None, limit=5, published_only=False):
        """Articles that may answer a customer's ``text`` (a ticket's subject and description).

        Unlike the search box, the text is the customer's, so no article holds all its
        words: an article matches with any significant word, and ranks by how many of them
        it holds, and where (title, then keywords and symptoms, then answer). Two words
        that follow each other in the text ("không lạnh", "very loud") count more when
        they follow each other in the article too. Articles of ``products`` come first,
        then those of their categories; the most helpful articles of the products fill
        the rest. Reads at most :data:`RANK_PROBE_SIZE` matches, the most helpful ones.
        """
        words = plain_words(text)
        significant = list(
            dict.fromkeys(word for word in words if word not in STOP_WORDS and len(word) > 1)
        )[:SUGGESTION_WORDS]
        pairs = list(
            dict.fromkeys(
                f"'{first}':* <-> '{second}':*"
                for first, second in pairwise(words)
                if first in significant and second in significant
            )
        )[:SUGGESTION_WORDS]
        found = []
        if significant:
            # words are letters and digits only (\w): quoting them is enough
            terms = pairs + [f"'{word}':*" for word in significant]
            found = self._kb_suggested_ids(
                SQL("to_tsquery('pg_catalog.simple', %s)", " | ".join(terms)),
                products=products,
                limit=limit,
                published_only=published_only,
            )
        articles = self.browse(found)
        if len(articles) < limit and products:
            templates, categories = self._kb_boost_targets(products)
            domain = [
                ("id", "not in", articles.ids),
                "|",
                ("product_ids", "in", templates),
                ("product_category_ids", "in", categories),
            ]
            if published_only:
                domain.append(("is_published", "=", True))
            articles |= self.search(domain, limit=limit - len(articles))
        return articles

    @api.model
    def _kb_suggested_ids(self, tsquery, products=None, limit=5, published_only=False):
        """Ids behind :meth:`_suggest_articles`, for a tsquery of alternatives."""
        self.flush_model()
        base = self._search([("is_published", "=", True)] if published_only else [])
        if base.is_empty():
            return []
        alias = base.table

        def rank(column, weight):
            return SQL(
                "%s * ts_rank('{1,1,1,1}', %s, %s)",
                weight,
                SQL.identifier(alias, column),
                tsquery,
            )

        score = SQL(
            "%s + %s + %s + %s",
            rank("title_tsv", 1.0),
            rank("head_tsv", 0.5),
            rank("search_tsv", 0.25),
            self._kb_bonus_sql(products, alias, product=1.0, category=0.5),
        )
        from_where = {"from": base.from_clause, "where": base.where_clause or SQL("TRUE")}
        rows = self.env.execute_query(
            SQL(
                """
                WITH probe AS MATERIALIZED (
                    SELECT %(id)s AS id FROM %(from)s
                     WHERE %(where)s AND %(vector)s @@ %(tsquery)s
                     LIMIT %(probe)s
                ), candidate AS (
                    SELECT id FROM probe WHERE (SELECT count(*) FROM probe) <= %(max)s
                    UNION ALL
                    (SELECT %(id)s FROM %(from)s
                      WHERE (SELECT count(*) FROM probe) > %(max)s
                        AND %(where)s AND ts_match_vq(%(vector)s, %(tsquery)s)
                      ORDER BY %(helpful)s DESC, %(id)s DESC
                      LIMIT %(max)s)
                )
                SELECT %(id)s FROM %(from)s
                  JOIN candidate ON candidate.id = %(id)s
                 WHERE %(where)s
                 ORDER BY %(score)s DESC, %(helpful)s DESC, %(id)s DESC
                 LIMIT %(limit)s
                """,
                id=SQL.identifier(alias, "id"),
                helpful=SQL.identifier(alias, "helpful_count"),
                vector=SQL.identifier(alias, "search_tsv"),
                tsquery=tsquery,
                score=score,
                probe=RANK_PROBE_SIZE + 1,
                max=RANK_PROBE_SIZE,
                limit=limit,
                **from_where,
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _kb_tsquery(self, text):
        """The prefix text-search query of the words of ``text``, built by PostgreSQL."""
        return SQL("public.crm_extended_kb_tsquery(%s)", text)

    @api.model
    def _kb_relevance_sql(self, tsquery, alias):
        """Relevance level of the article ``alias`` for ``tsquery``: 3, 2, 1 (or 0)."""
        cases = [
            SQL("WHEN %s @@ %s THEN %s", SQL.identifier(alias, column), tsquery, tier)
            for tier, column in TIERS
        ]
        return SQL("CASE %s ELSE 0 END", SQL(" ").join(cases))

    @api.model
    def _kb_is_search_box(self, leaf):
        """Whether the domain ``leaf`` (a triple) looks for words like the search box.

        Choosing an article in a dropdown searches its display name the same way.
        """
        field, operator, value = leaf
        if field == "display_name":
            return operator in ("ilike", "like") and isinstance(value, str) and plain_words(value)
        return (
            field == "search_text"
            and operator in ("ilike", "like", "=", "=ilike")
            and isinstance(value, str)
        )

    @api.model
    def _kb_searched_text(self, domain):
        """The words searched with the search box in ``domain``, or an empty string."""
        words = [
            leaf[2]
            for leaf in domain or []
            if isinstance(leaf, list | tuple) and len(leaf) == 3 and self._kb_is_search_box(leaf)
        ]
        return " ".join(words) if plain_words(" ".join(words)) else ""

    @api.model
    def _kb_split_search_text(self, domain):
        """``(words, rest)``: what ``domain`` searches with the search box when the rest
        of it is and-ed to it, and that rest; ``("", domain)`` otherwise."""
        domain = expression.normalize_domain(domain or [])

        def subtree(index):
            token = domain[index]
            if token == "!":
                operand, end = subtree(index + 1)
                return ["!", *operand], end
            if token in ("&", "|"):
                left, middle = subtree(index + 1)
                right, end = subtree(middle)
                return [token, *left, *right], end
            return [token], index + 1

        def conjuncts(index):
            if domain[index] == "&":
                left, middle = conjuncts(index + 1)
                right, end = conjuncts(middle)
                return left + right, end
            operand, end = subtree(index)
            return [operand], end

        words, rest = [], []
        for operand in conjuncts(0)[0]:
            leaf = operand[0]
            if (
                len(operand) == 1
                and isinstance(leaf, list | tuple)
                and len(leaf) == 3
                and self._kb_is_search_box(leaf)
            ):
                words.append(leaf[2])
            else:
                rest.append(operand)
        text = " ".join(words)
        if not plain_words(text):
            return "", domain
        return text, expression.AND(rest) if rest else []

    @api.model
    def _kb_boost_targets(self, products):
        """Ids of the product templates and categories (with ancestors) of ``products``."""
        templates = products.product_tmpl_id if products._name == "product.product" else products
        categories = {
            int(category_id)
            for path in templates.sudo().categ_id.mapped("parent_path")
            for category_id in (path or "").split("/")
            if category_id
        }
        return templates.ids, sorted(categories)

    @api.model
    def _kb_bonus_sql(self, products, alias, product=BOOST_PRODUCT, category=BOOST_CATEGORY):
        """Bonus of the article ``alias`` for ``products``: ``product``, ``category`` or 0."""
        if not products:
            return SQL("0")
        (_bonus, of_product), (_bonus, of_category), _any = self._kb_boost_sql(products, alias)
        return SQL(
            "(CASE WHEN %s THEN %s WHEN %s THEN %s ELSE 0 END)",
            of_product,
            product,
            of_category,
            category,
        )

    @api.model
    def _kb_boost_sql(self, products, alias):
        """``[(bonus, condition)]`` of the articles ``alias`` for ``products``.

        Conditions are "at least this bonus": the ranking fetches the higher levels first.
        """
        if not products:
            return [(0, SQL("TRUE"))]
        templates, categories = self._kb_boost_targets(products)
        article_id = SQL.identifier(alias, "id")
        of_product = SQL(
            "EXISTS (SELECT 1 FROM crm_kb_article_product_rel rel "
            "WHERE rel.article_id = %s AND rel.product_tmpl_id = ANY(%s))",
            article_id,
            templates,
        )
        of_category = SQL(
            "EXISTS (SELECT 1 FROM crm_kb_article_product_category_rel rel "
            "WHERE rel.article_id = %s AND rel.category_id = ANY(%s))",
            article_id,
            categories,
        )
        return [
            (BOOST_PRODUCT, of_product),
            (BOOST_CATEGORY, SQL("(%s OR %s)", of_product, of_category)),
            (0, SQL("TRUE")),
        ]

    @api.model
    def _kb_ranked_ids(self, query, limit=20, offset=0, products=None, published_only=False):
        """Ids behind :meth:`_search_ranked`; see :class:`RankedSearch` for the queries."""
        offset = offset or 0
        # no limit: every match (not bounded any more, for exports and scripts)
        wanted = offset + (ALL_MATCHES if limit is None else limit)
        if limit is not None and limit <= 0:
            return []
        self.flush_model()
        base = self._search([("is_published", "=", True)] if published_only else [])
        if base.is_empty():
            return []
        return RankedSearch(self, base, query, products, wanted).ranked_ids()[offset:wanted]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_tickets(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tickets solved by %(article)s", article=self.name),
            "res_model": "crm.support.ticket",
            "view_mode": "list,form",
            "domain": [("kb_article_id", "=", self.id)],
            "context": {"active_test": False},
        }

    def action_insert_into_ticket(self):
        """Button of a suggested article on a ticket: reply to the customer with it."""
        return self._kb_context_ticket().action_insert_article(self.id)

    def action_solve_ticket(self):
        """Button of a suggested article on a ticket: the article solved it."""
        return self._kb_context_ticket().action_solved_by_article(self.id)

    def _kb_context_ticket(self):
        self.ensure_one()
        ticket_id = self.env.context.get("kb_ticket_id")
        if not ticket_id:
            raise UserError(self.env._("Save the ticket first."))
        return self.env["crm.support.ticket"].browse(ticket_id)

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _increment_counter(self, field_name, step=1):
        """Add ``step`` to the counter ``field_name`` of the articles, in one statement.

        Counting is not editing: the database adds to the stored value, so two operators
        counting the same article at once both count, and neither the "last update" nor
        the chatter of the article moves.
        """
        if not self:
            return
        assert field_name in ("use_count", "helpful_count")
        self.flush_recordset([field_name])
        self.env.cr.execute(
            SQL(
                "UPDATE crm_kb_article SET %(counter)s = GREATEST(%(counter)s + %(step)s, 0) "
                "WHERE id IN %(ids)s",
                counter=SQL.identifier(field_name),
                step=step,
                ids=tuple(self.ids),
            )
        )
        self.invalidate_recordset([field_name])


class RankedSearch:
    """One ranked search of the knowledge base, query by query.

    The score of an article is its relevance level (all the words in the title 3, in
    title, keywords and symptoms 2, anywhere 1) plus its product bonus; ties go to the
    most helpful, then the newest. Each query reads a bounded number of rows, whether the
    words are rare or in every second article:

    1. the matching articles, when they are few (most searches): ranked at once;
    2. else the matching articles of the products, when they are few: read through the
       product links, ranked at once;
    3. then the other articles, score level by score level until the page is full: a
       level with few matches is read through its GIN index, a level with many walks the
       helpfulness index and stops at the end of the page. When the products have many
       matching articles, they are ranked that way too.
    """

    def __init__(self, articles, base, text, products, wanted):
        self.env = articles.env
        self.wanted = wanted
        alias = self.alias = base.table
        self.clauses = {
            "id": SQL.identifier(alias, "id"),
            "helpful": SQL.identifier(alias, "helpful_count"),
            "from": base.from_clause,
            "where": base.where_clause or SQL("TRUE"),
        }
        self.tsquery = articles._kb_tsquery(text) if plain_words(text) else None
        self.tiers = TIERS if self.tsquery else [(0, None)]
        score = articles._kb_bonus_sql(products, alias)
        if self.tsquery:
            score = SQL("(%s + %s)", articles._kb_relevance_sql(self.tsquery, alias), score)
        self.score = score
        self.boosts = articles._kb_boost_sql(products, alias)
        self.boosted = None
        if products:
            templates, categories = articles._kb_boost_targets(products)
            self.boosted = SQL(
                "%s IN (SELECT article_id FROM crm_kb_article_product_rel "
                "WHERE product_tmpl_id = ANY(%s) "
                "UNION SELECT article_id FROM crm_kb_article_product_category_rel "
                "WHERE category_id = ANY(%s))",
                self.clauses["id"],
                templates,
                categories,
            )

    def matches(self, column, indexed=True):
        """Condition "all the words in ``column``"; ``indexed=False`` hides it from GIN."""
        if not column:
            return SQL("TRUE")
        vector = SQL.identifier(self.alias, column)
        if indexed:
            return SQL("%s @@ %s", vector, self.tsquery)
        # the function form of @@: a filter on the walk of the helpfulness index
        return SQL("ts_match_vq(%s, %s)", vector, self.tsquery)

    def ranked_ids(self):
        scored = self.read_all(self.matches(self.tiers[-1][1]))
        if scored is None and self.boosted:
            boosted = self.read_all(
                SQL("%s AND %s", self.boosted, self.matches(self.tiers[-1][1], indexed=False))
            )
            if boosted is None:
                scored = self.by_levels(self.boosts)
            else:
                scored = boosted + self.by_levels([(0, SQL("NOT (%s)", self.boosted))], boosted)
        elif scored is None:
            scored = self.by_levels(self.boosts)
        scored.sort(reverse=True)
        return [article_id for _score, _helpful, article_id in scored]

    def read_all(self, condition):
        """``[(score, helpful, id)]`` of the articles matching ``condition``, or None when
        they are more than :data:`RANK_PROBE_SIZE` (then no score is computed)."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH probe AS MATERIALIZED (
                    SELECT %(id)s AS id FROM %(from)s
                     WHERE %(where)s AND %(condition)s
                     LIMIT %(probe)s
                ), probe_size AS (SELECT count(*) AS size FROM probe)
                SELECT %(score)s, %(helpful)s, %(id)s
                  FROM %(from)s
                  JOIN probe ON probe.id = %(id)s
                 WHERE (SELECT size FROM probe_size) <= %(max)s
                UNION ALL
                SELECT NULL, NULL, NULL WHERE (SELECT size FROM probe_size) > %(max)s
                """,
                score=self.score,
                condition=condition,
                probe=RANK_PROBE_SIZE + 1,
                max=RANK_PROBE_SIZE,
                **self.clauses,
            )
        )
        if rows and rows[0][2] is None:
            return None
        return rows

    def by_levels(self, boosts, known=()):
        """``[(score, helpful, id)]`` of the best articles, score level by score level.

        :param boosts: ``[(bonus, condition)]``, conditions meaning "at least this bonus"
        :param known: articles already ranked that compete for the page
        """
        levels = {}
        for tier, column in self.tiers:
            for bonus, boost in boosts:
                levels.setdefault(tier + bonus, []).append((column, boost))
        found = []
        for score, groups in sorted(levels.items(), reverse=True):
            # a level's articles are displaced by better-scored ones only; a higher level
            # was read to its end (else the page was full), so "at least" means "exactly"
            # once its articles are excluded
            better = sum(1 for row in (*known, *found) if row[0] > score)
            if better >= self.wanted:
                break
            rows = self.read_level(
                SQL(" OR ").join(
                    SQL("(%s AND %s)", self.matches(column), boost) for column, boost in groups
                ),
                SQL(" OR ").join(
                    SQL("(%s AND %s)", self.matches(column, indexed=False), boost)
                    for column, boost in groups
                ),
                [row[2] for row in found],
                self.wanted - better,
            )
            found += [(score, helpful, article_id) for article_id, helpful in rows]
            if sum(1 for row in (*known, *found) if row[0] >= score) >= self.wanted:
                break
        return found

    def read_level(self, indexed, walked, excluded, limit):
        """``[(id, helpful)]``: the ``limit`` most helpful articles of a score level."""
        excluded = SQL("NOT (%s = ANY(%s))", self.clauses["id"], excluded)
        return self.env.execute_query(
            SQL(
                """
                WITH probe AS MATERIALIZED (
                    SELECT %(id)s AS id, %(helpful)s AS helpful
                      FROM %(from)s
                     WHERE %(where)s AND %(excluded)s AND (%(indexed)s)
                     LIMIT %(probe)s
                ), probe_size AS (SELECT count(*) AS size FROM probe)
                SELECT id, helpful FROM (
                    (SELECT id, helpful FROM probe
                      WHERE (SELECT size FROM probe_size) <= %(max)s
                      ORDER BY helpful DESC, id DESC
                      LIMIT %(limit)s)
                    UNION ALL
                    (SELECT %(id)s, %(helpful)s
                       FROM %(from)s
                      WHERE (SELECT size FROM probe_size) > %(max)s
                        AND %(where)s AND %(excluded)s AND (%(walked)s)
                      ORDER BY %(helpful)s DESC, %(id)s DESC
                      LIMIT %(limit)s)
                ) page
                """,
                excluded=excluded,
                indexed=indexed,
                walked=walked,
                probe=RANK_PROBE_SIZE + 1,
                max=RANK_PROBE_SIZE,
                limit=limit,
                **self.clauses,
            )
        )
