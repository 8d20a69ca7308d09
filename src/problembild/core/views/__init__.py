"""Core's pages: the access log, the access review and the import page."""

from .access import access_log, access_review
from .imports import import_commit, import_errors_export, import_page, import_records_export

__all__ = [
    "access_log",
    "access_review",
    "import_commit",
    "import_errors_export",
    "import_page",
    "import_records_export",
]
