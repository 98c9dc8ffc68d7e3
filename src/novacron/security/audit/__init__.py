"""The hash-chained audit log: every mutating request and every security event."""
