"""Partners, tiers, programmes, deal registration, MDF and rebates."""
