"""The development stack, declared once (see declaration.py). Development only: never in an image."""

from devstack.declaration import Config, Process, processes
from devstack.stack import Stack, wait_until

__all__ = ["Config", "Process", "Stack", "processes", "wait_until"]
