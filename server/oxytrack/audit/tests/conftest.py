"""The dashboard's activity fixture, for the audit tests of the employee pages."""

from oxytrack.dashboard.tests.conftest import activity

__all__ = ["activity"]
