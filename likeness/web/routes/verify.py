"""Provenance: is this file ours, and untouched?"""
import shutil

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile

from likeness.errors import UserError

from ..state import API, Shared, authorised, errors, shared

router = APIRouter(prefix=API, dependencies=[Depends(authorised)])


@router.post("/verify", responses=errors(413, 415, 422))
def verify(file: UploadFile = File(..., description="A video (MP4) or image (PNG, JPEG) to check."),
           s: Shared = Depends(shared)) -> dict:
    """Manifest and watermark checked together: the same JSON as `likeness verify --json`."""
    from provenance.keys import trust_anchors
    from provenance.verify import verify as run

    folder, ups = s.storage.new(), []
    try:
        up = s.save(file, folder, ("video", "image"))
        ups.append(up)
        with s.verify_slots:
            report = run(up.path, trust_anchors()).to_dict()
        report["file"] = up.name
        return report
    except UserError as e:
        raise HTTPException(422, s.scrub(str(e), ups)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
