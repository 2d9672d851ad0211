"""Practice sites: local simulations of OSCAR and the eTMA system for tests, benchmarks and demo.

>>> with PracticeSites(Cohort(size=30)) as sites:   # doctest: +SKIP
...     print(sites.allocation_url)
"""

from .cohort import Cohort, Student
from .faults import FAULT_KINDS, Faults
from .server import DEMO_ETMA_PORT, DEMO_OSCAR_PORT, ETMA_HOST, OSCAR_HOST, PracticeSites

__all__ = [
    "DEMO_ETMA_PORT",
    "DEMO_OSCAR_PORT",
    "ETMA_HOST",
    "FAULT_KINDS",
    "OSCAR_HOST",
    "Cohort",
    "Faults",
    "PracticeSites",
    "Student",
]
