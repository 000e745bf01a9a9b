"""Team analytics for sizing workloads: the team overview, trends and the heatmap.

Reads rollups only (daily, and hourly for the heatmap); categories come from
`oxytrack.categories`. Describes work, never ranks people.
"""
