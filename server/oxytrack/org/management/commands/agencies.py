"""`oxytrack agencies list|add|rename|import`."""

from oxytrack.org.management.units import AgenciesCommand


class Command(AgenciesCommand):
    pass
