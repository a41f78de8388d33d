"""Serving an agreement's uploaded evidence, the same for the web and the API: as a download
(never shown inline), with the type its checked extension says and ``nosniff``."""

from __future__ import annotations

from django.http import FileResponse, Http404

from . import actions
from .models import Agreement

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def download(agreement: Agreement) -> FileResponse:
    """The stored copy of ``agreement`` (callers check who may see it first)."""
    path = actions.evidence_path(agreement)
    if path is None:
        raise Http404("this agreement has no uploaded evidence")
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=agreement.evidence_file_name or path.name,
        content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
