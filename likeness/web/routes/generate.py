"""Generation: queue a marked, signed talking-face video."""
from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile

from generator.options import EMOTIONS, MOTION_MODELS, choice_pattern
from likeness.errors import UserError

from ..jobs import Job
from ..state import API, Shared, authorised, errors, shared

router = APIRouter(prefix=API, dependencies=[Depends(authorised)])


@router.post("/generate", status_code=202, responses=errors(409, 413, 415, 422, 503))
def generate(image: UploadFile = File(..., description="Portrait photo or painting (PNG or JPEG)."),
             audio: UploadFile = File(..., description="Speech or song (WAV, MP3, M4A, FLAC, OGG)."),
             motion: str = Form(MOTION_MODELS[0], pattern=choice_pattern(MOTION_MODELS)),
             seed: int = Form(0, ge=0, le=2**31 - 1),
             size: int = Form(512, ge=128, le=1024, multiple_of=16),
             gaze_x: float = Form(0.0, ge=-1, le=1), gaze_y: float = Form(0.0, ge=-1, le=1),
             emotion: str = Form("neutral", pattern=choice_pattern(EMOTIONS)),
             pose_scale: float = Form(1.0, ge=0, le=3), head_distance: float = Form(0.0, ge=-0.5, le=0.5),
             s: Shared = Depends(shared)) -> dict:
    """Queue a generation; poll the job, then fetch `/jobs/{id}/video`. Marked and signed like the CLI's output."""
    from provenance.keys import load_identity

    try:
        load_identity()
    except UserError as e:
        raise HTTPException(409, str(e)) from None
    folder, (img, snd) = s.save_all([(image, ("image",)), (audio, ("audio", "video"))])

    def work(job: Job, report) -> dict:
        from generator.motion.controls import Controls
        from generator.pipeline import GenerateConfig, generate as run

        out = folder / "likeness.mp4"
        gen = GenerateConfig(img.path, snd.path, out, size=size, seed=seed, motion=motion,
                             controls=Controls((gaze_x, gaze_y), head_distance, emotion, pose_scale))
        res = run(gen, lambda i, n: report(i / max(n, 1), f"rendering frame {i}/{n}"))
        job.files["video"] = out
        return {"frames": res.frames, "duration": res.duration, "fps": round(res.fps, 1),
                "summary": res.summary().replace(str(out), "likeness.mp4")}

    return s.submit("generate", folder, work, [img, snd])
