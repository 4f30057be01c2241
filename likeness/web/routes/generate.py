"""Generation: queue a marked, signed talking-face video."""
from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile

from generator.options import CONTROLS, EMOTIONS, MOTION_MODELS, choice_pattern
from likeness.errors import UserError

from ..jobs import Job
from ..state import API, Shared, authorised, errors, shared

router = APIRouter(prefix=API, dependencies=[Depends(authorised)])


def _control(name: str):
    """A form field for one of the generator's numeric controls, with its default, limits and help."""
    r = CONTROLS[name]
    return Form(r.default, ge=r.low, le=r.high, description=r.help)


@router.get("/generate/options", responses=errors())
def options() -> dict:
    """The generator's named choices and control ranges, as the form below accepts them (the web page reads its
    menus from here, so a new motion model or emotion needs no edit of the page)."""
    return {"motion": list(MOTION_MODELS), "emotion": list(EMOTIONS),
            "controls": {k: {"default": r.default, "low": r.low, "high": r.high, "help": r.help}
                         for k, r in CONTROLS.items()}}


@router.post("/generate", status_code=202, responses=errors(409, 413, 415, 422, 503))
def generate(image: UploadFile = File(..., description="Portrait photo or painting (PNG or JPEG)."),
             audio: UploadFile = File(..., description="Speech or song (WAV, MP3, M4A, FLAC, OGG)."),
             motion: str = Form(MOTION_MODELS[0], pattern=choice_pattern(MOTION_MODELS)),
             seed: int = Form(0, ge=0, le=2**31 - 1),
             size: int = Form(512, ge=128, le=1024, multiple_of=16),
             gaze_x: float = _control("gaze_x"), gaze_y: float = _control("gaze_y"),
             emotion: str = Form("neutral", pattern=choice_pattern(EMOTIONS)),
             pose_scale: float = _control("pose_scale"), head_distance: float = _control("head_distance"),
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
