"""Detection: queue a scan of uploaded videos."""
from fastapi import APIRouter, Depends, File, HTTPException, UploadFile

from ..jobs import Job
from ..state import API, Shared, authorised, errors, shared

router = APIRouter(prefix=API, dependencies=[Depends(authorised)])


@router.post("/scan", status_code=202, responses=errors(413, 415, 422, 503))
def scan(files: list[UploadFile] = File(..., description="One or more videos."), s: Shared = Depends(shared)) -> dict:
    """Queue a scan; poll the job. Each result is the JSON `likeness scan --json` prints."""
    if len(files) > s.cfg.max_files:
        raise HTTPException(422, f"at most {s.cfg.max_files} files per scan")
    folder, ups = s.save_all([(f, ("video",)) for f in files])

    def work(job: Job, report) -> list[dict]:
        scanner = s.scanner(report)
        out = []
        for i, up in enumerate(ups):
            report(i / len(ups), f"scanning {up.name}")
            r = scanner.scan_file(up.path).to_dict()
            r["file"] = up.name
            out.append(r)
        return out

    return s.submit("scan", folder, work, ups)
