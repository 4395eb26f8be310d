"""Settings of the B2B Billing API, read from the environment once per container (never at import
time), beside `billing.config.Settings`. Tests change them by setting the variable and calling
`b2b_settings.cache_clear()`."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class B2bSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_scan: int = Field(20_000, ge=1)
    """B2B_MAX_SCAN: at most this many bills are read to answer one request whose result the
    index and the counters cannot give directly (docs/b2b-bills.md); beyond it, a 400 says how to
    narrow the query."""
    file_redirect_bytes: int = Field(4_000_000, ge=0)
    """B2B_FILE_REDIRECT_BYTES: a report or PDF larger than this is answered with a redirect to a
    presigned S3 URL instead of inline (a Lambda response carries at most 6 MB, base64 included)."""
    file_url_ttl: int = Field(300, ge=1, le=3600)
    """B2B_FILE_URL_TTL: seconds a presigned download URL stays valid."""
    rate_per_second: int = Field(25, ge=0)
    """B2B_RATE_PER_SECOND: requests a B2B client may make per second, unless its record says
    otherwise (0: no per-second limit)."""
    rate_per_minute: int = Field(600, ge=0)
    """B2B_RATE_PER_MINUTE: the same per minute."""


@lru_cache(maxsize=1)
def b2b_settings() -> B2bSettings:
    env = os.environ
    values = {
        "max_scan": env.get("B2B_MAX_SCAN"),
        "file_redirect_bytes": env.get("B2B_FILE_REDIRECT_BYTES"),
        "file_url_ttl": env.get("B2B_FILE_URL_TTL"),
        "rate_per_second": env.get("B2B_RATE_PER_SECOND"),
        "rate_per_minute": env.get("B2B_RATE_PER_MINUTE"),
    }
    return B2bSettings.model_validate({name: value for name, value in values.items() if value})
