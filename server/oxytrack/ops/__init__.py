"""Running the server: `oxytrack serve`, and start-up checks that refuse a half-installed one."""
