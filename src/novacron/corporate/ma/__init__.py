"""M&A pipeline: targets, stage gates, scorecards, diligence, valuations, synergy plans."""
