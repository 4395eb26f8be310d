"""The issuance workflow's task code (statemachines/issue_invoice.asl.json, IssuanceFunction)."""
