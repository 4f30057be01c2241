"""The VASA core: a diffusion transformer that generates motion latents from audio, window by window.

Each window of `window` frames is denoised jointly (head pose and facial dynamics together), conditioned
per frame on audio features, on the previous window's last `prefix` frames of motion and audio (seamless
continuation), and on control signals (main gaze, head distance, emotion: smile and brow level). Audio and
controls are dropped independently in training, so inference can apply classifier-free guidance with a
separate scale for each. The sampler (`ddim.py`, numpy) is deterministic DDIM with few steps; at run time the
network runs exported to ONNX (`export_onnx`), so generating motion imports no torch.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .ddim import alpha_bar as _alpha_bar
from .dit_config import DiTConfig, config_dict


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """`ddim.alpha_bar` on a tensor (training draws t in torch)."""
    return torch.from_numpy(_alpha_bar(t.detach().cpu().numpy()))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device) / half)
    args = t[:, None] * 1000 * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], -1)


class Block(nn.Module):
    """Transformer block with adaLN-Zero conditioning (as in DiT)."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * d, d))
        self.ada = nn.Linear(d, 6 * d)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        s1, b1, g1, s2, b2, g2 = self.ada(F.silu(c))[:, None].chunk(6, -1)
        h = self.norm1(x) * (1 + s1) + b1
        x = x + g1 * self.attn(h, h, h, need_weights=False)[0]
        return x + g2 * self.mlp(self.norm2(x) * (1 + s2) + b2)


class MotionDiT(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.x_in = nn.Linear(cfg.latent_dim, d)
        self.audio_in = nn.Sequential(nn.Conv1d(cfg.audio_dim, d, 5, padding=2), nn.GELU(), nn.Conv1d(d, d, 5, padding=2))
        self.null_audio = nn.Parameter(torch.zeros(d))
        self.null_control = nn.Parameter(torch.zeros(d))
        self.pos = nn.Parameter(torch.randn(cfg.prefix + cfg.window, d) * 0.02)
        self.kind = nn.Embedding(3, d)  # 0: prefix frame, 1: frame to generate, 2: missing prefix
        self.t_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.c_in = nn.Linear(cfg.control_dim, d)
        self.blocks = nn.ModuleList(Block(d, cfg.n_heads, cfg.dropout) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d, elementwise_affine=False)
        self.ada_out = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, cfg.latent_dim)
        for m in (self.ada_out, self.out):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x_t, t, audio, prefix, controls, has_prefix, use_audio, use_controls):
        """Predict the clean window (B, W, L) from noisy `x_t` at time `t` and the conditions.

        audio (B, P+W, A) covers prefix and window; prefix (B, P, L); controls (B, C); flags are (B,) bools.
        """
        cfg, b = self.cfg, x_t.shape[0]
        a = self.audio_in(audio.transpose(1, 2)).transpose(1, 2)
        a = torch.where(use_audio[:, None, None], a, self.null_audio.expand_as(a))
        first = torch.where(has_prefix, 0, 2)[:, None].expand(-1, cfg.prefix)  # no in-place write: exports any batch
        kind = torch.cat([first, torch.ones_like(first[:, :1]).expand(-1, cfg.window)], 1)
        prefix = prefix * has_prefix[:, None, None]
        h = self.x_in(torch.cat([prefix, x_t], 1)) + a + self.pos + self.kind(kind)
        ctrl = torch.where(use_controls[:, None], self.c_in(controls), self.null_control.expand(b, -1))
        c = self.t_mlp(timestep_embedding(t, cfg.d_model)) + ctrl
        for blk in self.blocks:
            h = blk(h, c)
        shift, scale = self.ada_out(F.silu(c))[:, None].chunk(2, -1)
        return self.out(self.norm(h[:, cfg.prefix:]) * (1 + scale) + shift)

    def loss(self, x0, audio, prefix, controls, has_prefix, p_drop_audio=0.1, p_drop_controls=0.1, vel_weight=0.5,
             channel_weight: torch.Tensor | None = None):
        """Denoising loss on x0 plus a velocity term (frame-to-frame differences), with condition dropout.

        `channel_weight` (L,) weighs latent channels, e.g. up-weighting the mouth, which the audio predicts,
        against head pose, which it barely does."""
        b = x0.shape[0]
        t = torch.rand(b, device=x0.device)
        ab = alpha_bar(t)[:, None, None]
        noise = torch.randn_like(x0)
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        use_audio = torch.rand(b, device=x0.device) > p_drop_audio
        use_controls = torch.rand(b, device=x0.device) > p_drop_controls
        pred = self(x_t, t, audio, prefix, controls, has_prefix, use_audio, use_controls)
        w = torch.ones(x0.shape[-1]) if channel_weight is None else channel_weight
        w = w / w.mean()
        mse = ((pred - x0) ** 2 * w).mean()
        vel = ((pred.diff(dim=1) - x0.diff(dim=1)) ** 2 * w).mean()
        return mse + vel_weight * vel, {"mse": mse.item(), "vel": vel.item()}


class TorchDenoiser:
    """A `MotionDiT` as `ddim.sample`'s numpy callable (training's validation, a .pt checkpoint)."""

    def __init__(self, model: MotionDiT):
        self.model = model

    @torch.no_grad()
    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        return self.model(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)).numpy()


ONNX_INPUTS = ("x_t", "t", "audio", "prefix", "controls", "has_prefix", "use_audio", "use_controls")


def export_onnx(model: MotionDiT, norm: dict, path: Path) -> None:
    """Write the network as ONNX (batch dimension free) with its config and normalisation in the file's metadata,
    so the runtime (`dit_motion.DiTMotion.load`) needs onnxruntime alone, no torch."""
    import onnx

    from likeness.files import atomic_path

    cfg, b = model.cfg, 3
    x = (torch.zeros(b, cfg.window, cfg.latent_dim), torch.zeros(b), torch.zeros(b, cfg.prefix + cfg.window, cfg.audio_dim),
         torch.zeros(b, cfg.prefix, cfg.latent_dim), torch.zeros(b, cfg.control_dim), torch.ones(b, dtype=torch.bool),
         torch.ones(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool))
    was_training = model.training
    model.eval()
    with atomic_path(Path(path)) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks in attention, constant for our shapes
        torch.onnx.export(model, x, str(tmp), dynamo=False, input_names=list(ONNX_INPUTS), output_names=["x0"],
                          dynamic_axes={k: {0: "batch"} for k in (*ONNX_INPUTS, "x0")}, opset_version=17)
        proto = onnx.load(str(tmp))
        meta = {"config": config_dict(cfg), "norm": {k: np.asarray(v, np.float32).tolist() for k, v in norm.items()}}
        for k, v in meta.items():
            proto.metadata_props.add(key=k, value=json.dumps(v))
        onnx.save(proto, str(tmp))
    model.train(was_training)
