"""The executive dashboard: pipelines, value creation, KPIs and recommendations."""
