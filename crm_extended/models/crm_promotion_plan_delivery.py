import logging
import secrets
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, split_every

from ..tools import scheduler_may_commit

_logger = logging.getLogger(__name__)

# members handled per batch by the delivery job (emails queued, SMS created, committed)
DELIVERY_BATCH_SIZE = 500
# coupons inserted per statement at launch
COUPON_BATCH_SIZE = 5000
LETTER_REPORT = "crm_extended.action_report_promotion_letter"
DEFAULT_TEMPLATE = "crm_extended.mail_template_promotion_member"
# planned calls: first call of a day at this local hour, then one per slot
CALL_DAY_START = 9
CALL_SLOT_MINUTES = 15


class CrmPromotionPlan(models.Model):
    """Delivery of a promotion plan: its offer (a loyalty program restricted to the target
    members, or one personal coupon per member) and its channels (emails and SMS queued by
    the delivery job, letters printed on demand, calls planned for the salespeople)."""

    _inherit = "crm.promotion.plan"

    offer_summary = fields.Char(
        compute="_compute_offer_summary",
        help="What the customers get: the rewards of the plan's program.",
    )
    letter_count = fields.Integer(compute="_compute_delivery_counts")
    pending_delivery_count = fields.Integer(
        compute="_compute_delivery_counts",
        help="Target members still waiting for their email or SMS.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("offer_type", "loyalty_program_id.reward_ids.description")
    def _compute_offer_summary(self):
        for plan in self:
            program = plan.loyalty_program_id.sudo()
            if plan.offer_type == "none" or not program:
                plan.offer_summary = False
                continue
            plan.offer_summary = (
                ", ".join(reward.description for reward in program.reward_ids if reward.description)
                or program.name
            )

    def _compute_delivery_counts(self):
        counts = defaultdict(int)
        for plan, channel, state, count in (
            self.env["crm.promotion.member"]
            .sudo()
            ._read_group(
                [("plan_id", "in", self.ids), ("group", "=", "target")],
                ["plan_id", "channel", "state"],
                ["__count"],
            )
        ):
            if channel == "letter":
                counts[plan.id, "letter"] += count
            elif channel in ("email", "sms") and state == "pending":
                counts[plan.id, "pending"] += count
        for plan in self:
            plan.letter_count = counts[plan.id, "letter"]
            plan.pending_delivery_count = counts[plan.id, "pending"]

    # ------------------------------------------------------------
    # LAUNCH HOOKS
    # ------------------------------------------------------------

    def _launch_offer(self, targets):
        """Give the offer to ``targets`` (the target members just frozen): the plan's
        program is bound to the plan (its rewards then go to target members only, while
        the plan runs) and, for a coupon offer, one personal coupon is made per member."""
        result = super()._launch_offer(targets)
        for plan, members in targets.grouped("plan_id").items():
            program = plan.loyalty_program_id.sudo()
            if plan.offer_type == "none" or not program:
                continue
            other = program.crm_promotion_plan_id
            if other and other != plan and other.state == "running":
                raise UserError(
                    self.env._(
                        "The program %(program)s is already the offer of the running plan "
                        "%(plan)s: choose another program (or duplicate it) for %(this)s.",
                        program=program.name,
                        plan=program.crm_promotion_plan_id.name,
                        this=plan.name,
                    )
                )
            program.crm_promotion_plan_id = plan
            if plan.offer_type == "coupon":
                plan._create_coupons(members)
        return result

    def _launch_channels(self, targets):
        """Start the delivery to ``targets``: calls are planned now for the salespeople,
        emails and SMS are queued by the delivery job (woken up), letters wait to be
        printed."""
        result = super()._launch_channels(targets)
        wake_up = False
        for plan, members in targets.grouped("plan_id").items():
            calls = members.filtered(lambda member: member.channel == "call")
            if calls:
                today = fields.Date.context_today(self)
                plan._plan_calls(calls, max(today, plan.date_start or today))
            wake_up = wake_up or any(member.channel in ("email", "sms") for member in members)
        if wake_up:
            cron = self.env.ref("crm_extended.ir_cron_promotion_deliver", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()
        return result

    # ------------------------------------------------------------
    # COUPONS
    # ------------------------------------------------------------

    @api.model
    def _generate_coupon_codes(self, count):
        """``count`` new coupon codes: barcode-friendly like Odoo's ("044" prefix), with 48
        random bits so that 100,000 codes practically never collide (the insert skips a
        colliding code and the member gets one on the next pass)."""
        return [f"044{secrets.token_hex(6)}" for __ in range(count)]

    def _create_coupons(self, members):
        """One loyalty card per member of ``members`` without a coupon yet: bound to the
        member's customer, of the plan's coupon program, with ``coupon_points`` points,
        valid until the plan's end. Set-based: one INSERT … SELECT per
        ``COUPON_BATCH_SIZE`` members, which also sets the members' ``coupon_id``; no
        message, no email (the plan's channels deliver the code)."""
        self.ensure_one()
        program = self.loyalty_program_id.sudo()
        Member = self.env["crm.promotion.member"]
        Member.flush_model(["plan_id", "partner_id", "coupon_id"])
        self.env["loyalty.card"].flush_model(["code"])
        for __ in range(3):  # code collisions: the few members left get new codes
            todo = [
                member_id
                for [member_id] in self.env.execute_query(
                    SQL(
                        "SELECT id FROM crm_promotion_member WHERE id = ANY(%s) "
                        "AND coupon_id IS NULL ORDER BY id",
                        members.ids,
                    )
                )
            ]
            if not todo:
                break
            for batch in split_every(COUPON_BATCH_SIZE, todo):
                self.env.cr.execute(
                    SQL(
                        """
                    WITH todo AS (
                        SELECT member.id AS member_id, member.partner_id, codes.code
                          FROM unnest(%(member_ids)s::int[], %(codes)s::varchar[])
                               AS codes(member_id, code)
                          JOIN crm_promotion_member member ON member.id = codes.member_id
                         WHERE member.coupon_id IS NULL
                    ), cards AS (
                        INSERT INTO loyalty_card (
                            program_id, company_id, partner_id, points, code,
                            expiration_date, active,
                            create_uid, create_date, write_uid, write_date
                        )
                        SELECT %(program_id)s, %(company_id)s, todo.partner_id, %(points)s,
                               todo.code, %(expiration)s, TRUE,
                               %(uid)s, %(now)s, %(uid)s, %(now)s
                          FROM todo
                        ON CONFLICT (code) DO NOTHING
                     RETURNING id, code
                    )
                    UPDATE crm_promotion_member member
                       SET coupon_id = cards.id
                      FROM cards
                      JOIN todo ON todo.code = cards.code
                     WHERE member.id = todo.member_id
                        """,
                        member_ids=list(batch),
                        codes=self._generate_coupon_codes(len(batch)),
                        program_id=program.id,
                        company_id=program.company_id.id or None,
                        points=self.coupon_points,
                        expiration=self.date_end,
                        uid=self.env.uid,
                        now=fields.Datetime.now(),
                    )
                )
            members.invalidate_recordset(["coupon_id"])
        [[missing]] = self.env.execute_query(
            SQL(
                "SELECT count(*) FROM crm_promotion_member WHERE id = ANY(%s) "
                "AND coupon_id IS NULL",
                members.ids,
            )
        )
        if missing:
            _logger.warning("Promotion plan %s: %s member(s) got no coupon", self.id, missing)

    # ------------------------------------------------------------
    # CALLS
    # ------------------------------------------------------------

    def _plan_calls(self, members, start_date):
        """Plan a phone call for each member of ``members``, for its salesperson (the
        member's ``user_id``, else the plan's responsible), on working days from
        ``start_date``, at most ``call_capacity_per_day`` calls per person and day (calls
        this plan already planned count), from 9:00 in the person's time zone one slot
        after the other. The contact logs are created at once, and set on the members.

        :return: the crm.contact.log created
        """
        self.ensure_one()
        if not members:
            return self.env["crm.contact.log"]
        capacity = max(self.call_capacity_per_day or 0, 1)
        workdays = self._get_call_weekdays()
        Log = self.env["crm.contact.log"].sudo()
        by_user = members.grouped(lambda member: member.user_id or self.user_id)
        taken = self._get_taken_call_slots(start_date)
        category = self.env.ref(
            "crm_extended.crm_contact_log_category_promotion", raise_if_not_found=False
        )
        # what the call values read of every member, in a few queries for all of them
        members.fetch(["partner_id", "coupon_id"])
        members.partner_id.fetch(["name"])
        members.coupon_id.sudo().fetch(["code"])
        values, ordered_members = [], []
        for user, user_members in by_user.items():
            tz = pytz.timezone(user.tz or self.env.user.tz or "UTC")
            env = self.with_context(lang=user.lang or self.env.lang).env
            day = start_date
            for member in user_members:
                while day.weekday() not in workdays or taken[user.id, day] >= capacity:
                    day += timedelta(days=1)
                slot = taken[user.id, day]
                taken[user.id, day] += 1
                local = tz.localize(
                    datetime.combine(day, time(CALL_DAY_START))
                    + timedelta(minutes=CALL_SLOT_MINUTES * slot)
                )
                values.append(
                    self._prepare_call_values(
                        member, user, local.astimezone(pytz.utc).replace(tzinfo=None), category, env
                    )
                )
                ordered_members.append(member)
        # as planned by hand, but without the "activity assigned to you" email per call
        # (mail_activity_quick_update): thousands of emails to the salespeople, a message
        # and a mail each; the calls are on their activity list
        logs = Log.with_context(
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            tracking_disable=True,
            mail_activity_quick_update=True,
        ).create(values)
        # one UPDATE for all the members rather than a write per member
        Member = self.env["crm.promotion.member"]
        Member.flush_model(["contact_log_id"])
        self.env.cr.execute(
            SQL(
                """
            UPDATE crm_promotion_member member
               SET contact_log_id = link.log_id,
                   write_uid = %(uid)s,
                   write_date = NOW() AT TIME ZONE 'UTC'
              FROM unnest(%(member_ids)s::int[], %(log_ids)s::int[]) AS link(member_id, log_id)
             WHERE member.id = link.member_id
                """,
                uid=self.env.uid,
                member_ids=[member.id for member in ordered_members],
                log_ids=logs.ids,
            )
        )
        Member.browse(member.id for member in ordered_members).invalidate_recordset(
            ["contact_log_id", "write_uid", "write_date"]
        )
        return logs

    def _get_taken_call_slots(self, start_date):
        """{(user id, local day): calls this plan already planned for that person on that
        day}, from the day before ``start_date`` on (time zones): one grouped query."""
        self.ensure_one()
        self.env["crm.promotion.member"].flush_model(["plan_id", "contact_log_id"])
        self.env["crm.contact.log"].flush_model(["state", "planned_date", "user_id"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT log.user_id, log.planned_date
              FROM crm_promotion_member member
              JOIN crm_contact_log log ON log.id = member.contact_log_id
             WHERE member.plan_id = %(plan_id)s
               AND log.state = 'planned'
               AND log.planned_date >= %(since)s
                """,
                plan_id=self.id,
                since=datetime.combine(start_date - timedelta(days=1), time.min),
            )
        )
        taken = defaultdict(int)
        users = self.env["res.users"].sudo().browse({user_id for user_id, __ in rows})
        zones = {user.id: pytz.timezone(user.tz or self.env.user.tz or "UTC") for user in users}
        for user_id, planned_date in rows:
            local_day = pytz.utc.localize(planned_date).astimezone(zones[user_id]).date()
            taken[user_id, local_day] += 1
        return taken

    def _get_call_weekdays(self):
        """Weekdays (0 = Monday) calls are planned on: those of the company's working
        hours, Monday to Friday without them."""
        self.ensure_one()
        calendar = self.company_id.resource_calendar_id
        weekdays = {int(day) for day in calendar.attendance_ids.mapped("dayofweek")}
        return weekdays or {0, 1, 2, 3, 4}

    def _prepare_call_values(self, member, user, planned_date, category, env):
        """Values of the planned call of ``member`` for ``user`` (contract: a planned
        phone crm.contact.log about the plan)."""
        self.ensure_one()
        content = env._(
            "Promotion %(plan)s: %(offer)s",
            plan=self.name,
            offer=self.offer_summary or "",
        )
        if member.coupon_id:
            content += " — " + env._("coupon %(code)s", code=member.coupon_id.code)
        return {
            "name": env._(
                "Promotion %(plan)s: call %(customer)s",
                plan=self.name,
                customer=member.partner_id.name,
            ),
            "partner_id": member.partner_id.id,
            "company_id": self.company_id.id,
            "user_id": user.id,
            "channel": "phone",
            "direction": "outbound",
            "state": "planned",
            "planned_date": planned_date,
            "category_ids": [Command.set(category.ids)] if category else [],
            "content": content,
        }

    # ------------------------------------------------------------
    # EMAILS AND SMS
    # ------------------------------------------------------------

    @api.model
    def _cron_deliver(self, batch_size=DELIVERY_BATCH_SIZE):
        """Deliver the pending emails and SMS of the running plans, ``batch_size`` members
        at a time: emails are queued as mail.mail (sent by the mail queue), SMS as sms.sms
        (when the SMS app is installed). Consent is checked again at sending: a customer who
        withdrew it or asked not to be contacted since the launch is not contacted (member
        failed, with the reason). Each batch is committed under the scheduler. Safe to run
        twice: only pending members are delivered.

        :return: number of members handled
        """
        plans = self.sudo().search([("state", "=", "running")])
        plans._sync_called_members()
        # a plan launched ahead of its period reaches its customers from its first day
        today = fields.Date.context_today(self)
        started = plans.filtered(lambda plan: plan.date_start <= today)
        return started._deliver_pending(batch_size=batch_size)

    def _sync_called_members(self):
        """Target members reached by phone become contacted when their planned call is held
        (on the call's date): one UPDATE for all the plans of ``self``."""
        if not self:
            return
        Member = self.env["crm.promotion.member"]
        Member.flush_model(["state", "contact_log_id", "contacted_date"])
        self.env["crm.contact.log"].flush_model(["state", "date"])
        self.env.cr.execute(
            SQL(
                """
            UPDATE crm_promotion_member member
               SET state = 'contacted',
                   contacted_date = log.date,
                   write_date = NOW() AT TIME ZONE 'UTC'
              FROM crm_contact_log log
             WHERE log.id = member.contact_log_id
               AND log.state = 'done'
               AND member.plan_id = ANY(%s)
               AND member.channel = 'call'
               AND member.state = 'pending'
                """,
                self.ids,
            )
        )
        Member.invalidate_model(["state", "contacted_date"])

    def action_deliver_now(self):
        """Deliver the plan's pending emails and SMS now rather than waiting for the job."""
        self._check_manager(self.env._("deliver a promotion plan now"))
        running = self.filtered(lambda plan: plan.state == "running")
        if not running:
            raise UserError(
                self.env._("Only a running plan delivers its offer: launch the plan first.")
            )
        running.sudo()._sync_called_members()
        done = running.sudo()._deliver_pending()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(count)s customer(s) handled.", count=done),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _deliver_pending(self, batch_size=DELIVERY_BATCH_SIZE):
        channels = ["email"]
        if "sms.sms" in self.env:
            channels.append("sms")
        Member = self.env["crm.promotion.member"].sudo()
        pending = Member.search(
            [
                ("plan_id", "in", self.ids),
                ("group", "=", "target"),
                ("state", "=", "pending"),
                ("channel", "in", channels),
            ],
            order="plan_id, id",
        )
        auto_commit = scheduler_may_commit(self.env)
        done = 0
        for batch in split_every(batch_size, pending.ids, Member.browse):
            self._deliver_batch(batch)
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(pending) - done)
            if auto_commit:
                # the batch's messages are queued: a later timeout must not queue them again
                self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()
        return done

    @api.model
    def _get_failure_reasons(self):
        return {
            "do_not_contact": self.env._("The customer asked not to be contacted."),
            "no_consent": self.env._("The customer does not accept marketing."),
            "no_email": self.env._("The customer has no email address."),
            "no_phone": self.env._("The customer has no mobile or phone number."),
        }

    @api.model
    def _check_reachable(self, members):
        """{member id: failure key or None}: can each member still be reached on its
        channel now (consent, do-not-contact, address)? One query; the personal fields are
        read in SQL as salespeople cannot read them."""
        self.env["res.partner"].flush_model(
            ["email", "phone", "mobile", "marketing_consent", "do_not_contact"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT member.id,
                   CASE
                       WHEN partner.do_not_contact THEN 'do_not_contact'
                       WHEN NOT COALESCE(partner.marketing_consent, FALSE) THEN 'no_consent'
                       WHEN member.channel = 'email' AND COALESCE(partner.email, '') = ''
                           THEN 'no_email'
                       WHEN member.channel = 'sms'
                            AND COALESCE(partner.mobile, '') = ''
                            AND COALESCE(partner.phone, '') = ''
                           THEN 'no_phone'
                   END
              FROM crm_promotion_member member
              JOIN res_partner partner ON partner.id = member.partner_id
             WHERE member.id = ANY(%s)
                """,
                members.ids,
            )
        )
        return dict(rows)

    @api.model
    def _deliver_batch(self, members):
        """Queue the emails and SMS of ``members`` (pending target members): one mail.mail
        per email member rendered in a batch per template, one sms.sms per SMS member; the
        members become contacted, or failed with the reason."""
        members.fetch(["plan_id", "partner_id", "channel", "coupon_id"])
        reachable = self._check_reachable(members)
        reasons = self._get_failure_reasons()
        failed = members.filtered(lambda member: reachable.get(member.id))
        for key, key_members in failed.grouped(lambda member: reachable[member.id]).items():
            # the reason is personal data (refused contact or marketing): written by the system
            key_members.sudo().write({"state": "failed", "failure_reason": reasons[key]})
        ok = members - failed
        default_template = self.env.ref(DEFAULT_TEMPLATE, raise_if_not_found=False)
        emails = ok.filtered(lambda member: member.channel == "email")
        for template, template_members in emails.grouped(
            lambda member: member.plan_id.mail_template_id or default_template
        ).items():
            template.sudo().send_mail_batch(
                template_members.ids, email_layout_xmlid="mail.mail_notification_light"
            )
        texts = ok.filtered(lambda member: member.channel == "sms")
        if texts:
            self._queue_sms(texts)
        ok.write({"state": "contacted", "contacted_date": fields.Datetime.now()})

    @api.model
    def _queue_sms(self, members):
        """One outgoing sms.sms per member (sent by the SMS queue): the plan's text,
        rendered per member, else a short default text with the offer and the code."""
        values = []
        for plan, plan_members in members.grouped("plan_id").items():
            bodies = {}
            if plan.sms_body:
                bodies = (
                    self.env["mail.render.mixin"]
                    .sudo()
                    ._render_template(
                        plan.sms_body,
                        "crm.promotion.member",
                        plan_members.ids,
                        engine="inline_template",
                    )
                )
            for member in plan_members:
                partner = member.partner_id
                body = bodies.get(member.id) or member.plan_id._get_default_sms_body(member)
                values.append(
                    {
                        "number": partner.mobile or partner.phone,
                        "partner_id": partner.id,
                        "body": body,
                        "state": "outgoing",
                    }
                )
        return self.env["sms.sms"].sudo().create(values)

    def _get_default_sms_body(self, member):
        self.ensure_one()
        env = self.with_context(lang=member.partner_id.lang or self.env.lang).env
        if member.coupon_id:
            return env._(
                "%(company)s: %(offer)s with the code %(code)s until %(date)s.",
                company=self.company_id.name,
                offer=self.offer_summary or self.name,
                code=member.coupon_id.code,
                date=format_date(env, self.date_end),
            )
        return env._(
            "%(company)s: %(offer)s until %(date)s.",
            company=self.company_id.name,
            offer=self.offer_summary or self.name,
            date=format_date(env, self.date_end),
        )

    # ------------------------------------------------------------
    # LETTERS
    # ------------------------------------------------------------

    def action_print_letters(self):
        """Print the letters of the plan's letter members (one page each); those not yet
        contacted are marked contacted (the letters are posted)."""
        self.ensure_one()
        self._check_manager(self.env._("print the letters of a promotion plan"))
        members = (
            self.env["crm.promotion.member"]
            .sudo()
            .search(
                [
                    ("plan_id", "=", self.id),
                    ("group", "=", "target"),
                    ("channel", "=", "letter"),
                    ("state", "in", ("pending", "contacted")),
                ],
                order="partner_id",
            )
        )
        if not members:
            raise UserError(
                self.env._("No customer of %(plan)s is to be reached by letter.", plan=self.name)
            )
        # who withdrew consent or asked not to be contacted since the launch gets no letter
        pending = members.filtered(lambda member: member.state == "pending")
        reachable = self._check_reachable(pending)
        reasons = self._get_failure_reasons()
        failed = pending.filtered(lambda member: reachable.get(member.id))
        for key, key_members in failed.grouped(lambda member: reachable[member.id]).items():
            # the reason is personal data (refused contact or marketing): written by the system
            key_members.sudo().write({"state": "failed", "failure_reason": reasons[key]})
        (pending - failed).write({"state": "contacted", "contacted_date": fields.Datetime.now()})
        members -= failed
        if not members:
            raise UserError(
                self.env._(
                    "No letter to print for %(plan)s: its customers withdrew their consent.",
                    plan=self.name,
                )
            )
        return self.env.ref(LETTER_REPORT).report_action(members.sudo(False))

    # ------------------------------------------------------------
    # FOLLOW-UP
    # ------------------------------------------------------------

    def action_open_followup(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Follow-up Calls"),
            "res_model": "crm.promotion.followup",
            "view_mode": "form",
            "target": "new",
            "context": {"default_plan_id": self.id},
        }
