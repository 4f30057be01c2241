"""The service itself: health, and whether it can sign."""
from fastapi import APIRouter, Depends

from likeness import __version__
from likeness.errors import UserError

from ..state import API, Shared, authorised, errors, shared

router = APIRouter(prefix=API, dependencies=[Depends(authorised)])


@router.get("/health", responses=errors())
def health(s: Shared = Depends(shared)) -> dict:
    """Service state: version, queued jobs, bytes held in temporary storage."""
    return {"status": "ok", "version": __version__, "queued_jobs": s.jobs.pending(), "storage_bytes": s.storage.size()}


@router.get("/keys", responses=errors())
def keys() -> dict:
    """Whether this server can sign generated videos, and how to make it able to."""
    from provenance.keys import load_identity

    try:
        load_identity()
    except UserError as e:
        return {"ready": False, "message": f"{e} Run it on the server, then reload this page."}
    return {"ready": True, "message": "signing keys found: every generated video is watermarked and signed"}
