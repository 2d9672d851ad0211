"""Practice sites: local simulations of OSCAR, the eTMA system and the university's sign-on host
for tests, benchmarks and demo.

>>> with PracticeSites(Cohort(size=30)) as sites:   # doctest: +SKIP
...     print(sites.allocation_url)
"""

from .cohort import Cohort, Student
from .faults import FAULT_KINDS, Faults
from .server import (
    DEMO_ETMA_PORT,
    DEMO_OSCAR_PORT,
    DEMO_SIGNON_PORT,
    ETMA_HOST,
    OSCAR_HOST,
    SIGNON_HOST,
    PracticeSites,
)
from .signon import SIGNON_MODES

__all__ = [
    "DEMO_ETMA_PORT",
    "DEMO_OSCAR_PORT",
    "DEMO_SIGNON_PORT",
    "ETMA_HOST",
    "FAULT_KINDS",
    "OSCAR_HOST",
    "SIGNON_HOST",
    "SIGNON_MODES",
    "Cohort",
    "Faults",
    "PracticeSites",
    "Student",
]
