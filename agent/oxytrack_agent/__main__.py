"""`python -m oxytrack_agent` is the `oxytrack-agent` command."""

from oxytrack_agent.cli import main

raise SystemExit(main())
