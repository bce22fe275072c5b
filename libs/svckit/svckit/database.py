"""Which database errors mean "unavailable, try again shortly" rather than a bug.

Shared by the request handlers (a 503 `database_unavailable`) and by workers (retry, do not drop).
SQLSTATEs from PostgreSQL's "Appendix A. PostgreSQL Error Codes".
"""

from __future__ import annotations

from django import db

READ_ONLY_SQL_TRANSACTION = "25006"  # a write on a server that became a replica (failover)
ADMIN_SHUTDOWN = "57P01"  # the backend terminated: shutdown, pg_terminate_backend
CRASH_SHUTDOWN = "57P02"
CANNOT_CONNECT_NOW = "57P03"  # starting up, shutting down, in recovery
UNAVAILABLE_SQLSTATES = frozenset({READ_ONLY_SQL_TRANSACTION, ADMIN_SHUTDOWN, CRASH_SHUTDOWN, CANNOT_CONNECT_NOW})


def database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` says the database cannot take this request now but may in a few seconds.

    That is Django's OperationalError (connection refused or lost, server restarting, statement
    timeout, serialization or deadlock failure) and InterfaceError (a connection already closed), and
    any other DatabaseError whose SQLSTATE is in UNAVAILABLE_SQLSTATES: psycopg2 files 25006 under
    InternalError, which otherwise stands for bugs. A ProgrammingError, IntegrityError, DataError
    stays False: retrying will not help."""
    if isinstance(exc, (db.OperationalError, db.InterfaceError)):
        return True
    return isinstance(exc, db.DatabaseError) and sqlstate(exc) in UNAVAILABLE_SQLSTATES


def sqlstate(exc: BaseException) -> str | None:
    """The five-character SQLSTATE of a database error: the driver's `pgcode` (psycopg2) or
    `sqlstate` (psycopg 3), on the error or on the driver error Django wrapped (`__cause__`)."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if code:
            return str(code)
    return None
