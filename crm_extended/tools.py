"""Small helpers shared by crm_extended's models."""

import threading


def scheduler_may_commit(env):
    """Whether a batch job may commit after each batch: only when Odoo's scheduler runs it
    (``ir_cron_progress_id`` in the context), never in tests nor when a user's click runs
    the same code (the request's transaction stays whole)."""
    return bool(env.context.get("ir_cron_progress_id")) and not getattr(
        threading.current_thread(), "testing", False
    )
