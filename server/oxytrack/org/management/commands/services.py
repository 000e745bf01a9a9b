"""`oxytrack services list|add|rename|import`."""

from oxytrack.org.management.units import ServicesCommand


class Command(ServicesCommand):
    pass
