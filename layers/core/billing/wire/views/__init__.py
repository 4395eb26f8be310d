"""v1 representations, one module per resource group: what each record looks like on the wire
(field names and nesting of the reference). Codecs then only deal with plain values."""
