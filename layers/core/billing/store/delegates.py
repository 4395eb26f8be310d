"""Delegates of a tenant (the people printed on shipped documents, reference §7.1.5)."""

from __future__ import annotations

from billing.domain.delegates import Delegate
from billing.store.records import Records

delegates: Records[Delegate] = Records("delegate", Delegate)
