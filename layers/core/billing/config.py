"""Runtime settings, read from the environment once per container (never at import time)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = "dev"
    table_name: str
    bucket_name: str = ""
    issue_state_machine_arn: str = ""
    payment_events_queue_url: str = ""
    callbacks_queue_url: str = ""
    event_bus_name: str = ""
    mail_from: str = "invoices@factura.local"
    pdf_redirect_bytes: int = 4 * 1024 * 1024
    """PDF downloads larger than this are answered with a redirect to a presigned S3 URL: a
    Lambda response carries at most 6 MB, and a binary body grows by a third in base64."""


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        stage=env.get("STAGE", "dev"),
        table_name=env["TABLE_NAME"],
        bucket_name=env.get("BUCKET_NAME", ""),
        issue_state_machine_arn=env.get("ISSUE_STATE_MACHINE_ARN", ""),
        payment_events_queue_url=env.get("PAYMENT_EVENTS_QUEUE_URL", ""),
        callbacks_queue_url=env.get("CALLBACKS_QUEUE_URL", ""),
        event_bus_name=env.get("EVENT_BUS_NAME", ""),
        mail_from=env.get("MAIL_FROM", "invoices@factura.local"),
        pdf_redirect_bytes=int(env.get("PDF_REDIRECT_BYTES") or 4 * 1024 * 1024),
    )
