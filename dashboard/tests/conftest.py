"""The dashboard's tests use the simulator fixtures of the postings app."""
from postings.tests.conftest import *  # noqa: F401,F403
