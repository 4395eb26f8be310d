"""Branch offices of a tenant (small: listed whole on the account)."""

from __future__ import annotations

from billing.domain.account import BranchOffice
from billing.store.records import Records

branch_offices: Records[BranchOffice] = Records("branch_office", BranchOffice)
