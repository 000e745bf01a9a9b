"""OxyTrack server."""
