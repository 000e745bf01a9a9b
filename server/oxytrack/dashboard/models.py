"""The dashboard has no models of its own (PastTotalsVersion moved to activity)."""
