"""attachguard: may this chat attachment reach the other side? APPROVED or REJECTED, and why."""

__version__ = "0.1.0"
