"""Corporate development: M&A pipeline, due diligence, valuation, integration programmes,
partnerships, ecosystem and the executive dashboard.

Where things live:

    finance/      pure math (no I/O): TVM, WACC, DCF, comps, Monte Carlo, accretion ...
    calc/         stateless REST + CLI front of the finance engine
    ma/           targets, stage gates, scorecards, due diligence, valuation versions
    integration/  programmes generated on close: workstreams, phases, tasks, governance
    partners/     partners, tiers, programmes, deal registration, MDF, rebates
    ecosystem/    joint ventures, licensing, labs, academic and government partnerships
    strategy/     executive dashboard: pipelines, value creation, KPIs, recommendations
    api.py cli.py web.py   mount every sub-slice on the server, the CLI and the UI
"""
