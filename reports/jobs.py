"""Job runners of the reports (discovered by the core at start-up)."""

from reports import exports  # noqa: F401  (registers the report export runner)
