"""Jobs: progress, results, and their files (a generated video, a scan's CSV)."""
from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from detector.scan import results_csv

from ..state import API, Shared, authorised, errors, shared

router = APIRouter(prefix=API, dependencies=[Depends(authorised)])


@router.get("/jobs/{job_id}", responses=errors(404))
def job(job_id: str, s: Shared = Depends(shared)) -> dict:
    """State, progress (0-1), message, and the result when done."""
    j = s.job(job_id)
    if j is None:
        raise HTTPException(404, "no such job (finished jobs are forgotten after a while)")
    return j.to_dict()


@router.get("/jobs/{job_id}/video", responses={200: {"content": {"video/mp4": {}}}, **errors(404)})
def job_video(job_id: str, s: Shared = Depends(shared)):
    """The generated MP4 of a finished generate job."""
    j = s.job(job_id)
    if j is None or "video" not in j.files:
        raise HTTPException(404, "no video for this job (yet)")
    return FileResponse(j.files["video"], media_type="video/mp4", filename="likeness.mp4")


@router.get("/jobs/{job_id}/results.csv", responses={200: {"content": {"text/csv": {}}}, **errors(404)})
def job_csv(job_id: str, s: Shared = Depends(shared)):
    """A finished scan job's results as CSV (one row per file)."""
    j = s.job(job_id)
    if j is None or j.kind != "scan" or j.state != "done":
        raise HTTPException(404, "no finished scan with this id")
    return Response(results_csv(j.result), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="scan.csv"'})
