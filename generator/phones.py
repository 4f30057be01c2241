"""Phonetic audio features: pocketsphinx phone-loop decoding into per-video-frame viseme classes.

Mel spectra alone do not tell a model which sounds close the lips; a phone recogniser does, for any
speaker. The CMU US-English acoustic model and phone language model ship inside the `pocketsphinx`
wheel, so nothing is downloaded. Audio is decoded in fixed blocks with a little context either side;
a block's phones depend only on its own audio, so streaming gives exactly the offline result.
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

RATE = 16_000
BLOCK_S = 1.0     # phones are decided block by block: what streaming waits for (plus the context)
CONTEXT_S = 0.3   # audio decoded on either side of a block so that phones at its edges are not cut
LIVE_LAG_S = 0.08     # live: a frame's phones are fixed once the loop has heard this much audio past its end
LIVE_EVERY = 2        # live: video frames of audio between readings of the phone loop's best path
LIVE_UTTERANCE_S = 10.0  # live: the phone loop's utterance restarts this often
#: live: the cepstral mean the loop starts from (then follows the speaker): the median over 24 own-speech clips of
#: the shared footage outside the lip-sync and renderer test people; from the default, phones stay poor for seconds
LIVE_CMN_INIT = "45.2,4.6,-0.3,1.2,-1.2,-1.5,-0.7,-1.9,-0.8,-0.1,0.5,0.0,-0.1"
#: CMU phones grouped by what the lips and jaw do (after the Preston Blair / Rhubarb mouth shapes).
VISEMES = ("rest", "closed", "lip_teeth", "tongue", "alveolar", "sh", "back", "round", "spread", "open", "mid", "r")
_GROUPS = {
    "rest": "SIL +NSN+ +SPN+ +BREATH+ +COUGH+ +LAUGH+ +SMACK+ +UM+ +UH+ +NOISE+",
    "closed": "P B M",
    "lip_teeth": "F V",
    "tongue": "TH DH",
    "alveolar": "T D N L S Z",
    "sh": "SH ZH CH JH",
    "back": "K G NG HH Y",
    "round": "W UW UH OW OY",
    "spread": "IY IH EY",
    "open": "AA AH AO AW AY",
    "mid": "AE EH",
    "r": "R ER",
}
PHONE_VISEME = {p: VISEMES.index(v) for v, ps in _GROUPS.items() for p in ps.split()}


@dataclass(frozen=True)
class Phone:
    """One decoded (or aligned) phone: CMU symbol and its span in seconds."""

    name: str
    start: float
    end: float

    @property
    def viseme(self) -> str:
        return VISEMES[PHONE_VISEME.get(self.name, 0)]


@lru_cache(maxsize=1)
def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return os.path.join(get_model_path(), "en-us")


def phone_decoder(**options):
    """A phone-loop decoder (allphone search over the shipped phone language model); `options` (the normalisation,
    or a language weight `lw` other than 2) go to pocketsphinx."""
    from pocketsphinx import Decoder

    m = _model_dir()
    return Decoder(**{"hmm": os.path.join(m, "en-us"), "allphone": os.path.join(m, "en-us-phone.lm.bin"), "lw": 2.0,
                      "beam": 1e-20, "pbeam": 1e-20, "loglevel": "FATAL", **options})


@lru_cache(maxsize=1)
def _phone_loop():
    # Batch CMN: each block is normalised by its own mean, so no state leaks from one block to the next.
    return phone_decoder(cmn="batch")


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(np.nan_to_num(samples), -1, 1) * 32767).astype("<i2").tobytes()


def _decode(decoder, pcm: bytes, offset: float) -> list[Phone]:
    if not pcm:
        return []
    decoder.reinit_feat()  # the front end's noise tracking would otherwise carry one utterance into the next
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return [Phone(s.word, offset + s.start_frame / 100, offset + (s.end_frame + 1) / 100) for s in decoder.seg()]


_CACHE: OrderedDict[str, tuple[tuple[str, float, float], ...]] = OrderedDict()


def _decode_cached(pcm: bytes) -> tuple[tuple[str, float, float], ...]:
    """Phones of one stretch of audio (times from its start), cached by content hash: streaming asks for the
    same block again as audio arrives, and a clip decoded for motion is not decoded twice."""
    key = hashlib.sha256(pcm).hexdigest()
    if key not in _CACHE:
        _CACHE[key] = tuple((p.name, p.start, p.end) for p in _decode(_phone_loop(), pcm, 0.0))
        while len(_CACHE) > 512:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


def clear_cache() -> None:
    """Forget decoded blocks (benchmarks time a clip's decoding as if it were new)."""
    _CACHE.clear()


def decode_block(samples: np.ndarray, k: int, decoder=None) -> list[Phone]:
    """Phones of block k ([k, k+1) * BLOCK_S of 16 kHz `samples`), decoded with CONTEXT_S either side and
    clipped to the block. Final once audio reaches (k+1) * BLOCK_S + CONTEXT_S (or the clip's end). `decoder`: another
    phone loop than the shipped one (`phone_decoder`; not cached), for benchmarks."""
    b, c = int(BLOCK_S * RATE), int(CONTEXT_S * RATE)
    lo, hi = max(0, k * b - c), min(len(samples), (k + 1) * b + c)
    t0, t1 = k * BLOCK_S, (k + 1) * BLOCK_S
    if hi - lo < RATE // 20:  # under 50 ms: nothing to decode
        return [Phone("SIL", t0, t1)]
    raw = _decode_cached(_pcm(samples[lo:hi])) if decoder is None else \
        [(p.name, p.start, p.end) for p in decode_utterance(samples[lo:hi], decoder)]
    out = []
    for name, s, e in raw:
        s, e = max(s + lo / RATE, t0), min(e + lo / RATE, t1)
        if e > s:
            out.append(Phone(name, s, e))
    return out


def decode_utterance(samples: np.ndarray, decoder) -> list[Phone]:
    """Phones of mono 16 kHz float `samples` decoded at once by `decoder` (`phone_decoder`): the context that
    block-wise decoding gives up for streaming (benchmarks)."""
    return _decode(decoder, _pcm(samples), 0.0)


def decode_phones(samples: np.ndarray, decoder=None) -> list[Phone]:
    """Phones of mono 16 kHz float `samples`, block by block (`decode_block`)."""
    return [p for k in range(-(-len(samples) // int(BLOCK_S * RATE))) for p in decode_block(samples, k, decoder)]


def final_seconds(n_samples: int) -> float:
    """How much of a growing stream of `n_samples` has final phones (the blocks whose right context has arrived)."""
    return max(0, (n_samples - int(CONTEXT_S * RATE)) // int(BLOCK_S * RATE)) * BLOCK_S


def viseme_matrix(phones: list[Phone], frames: int, fps: float) -> np.ndarray:
    """(frames, len(VISEMES)) share of each video frame's time span taken by each viseme class (rows sum to 1;
    frames no phone covers are `rest`)."""
    out = np.zeros((frames, len(VISEMES)), np.float32)
    for p in phones:
        a, b = p.start * fps, p.end * fps
        for i in range(max(0, int(a)), min(frames, int(np.ceil(b)))):
            out[i, PHONE_VISEME.get(p.name, 0)] += min(b, i + 1) - max(a, i)
    out[:, 0] += np.maximum(0.0, 1 - out.sum(1))
    return out / out.sum(1, keepdims=True)


def align_text(samples: np.ndarray, text: str) -> list[Phone]:
    """Forced alignment of a known English sentence (words in the CMU dictionary) to 16 kHz `samples`."""
    from pocketsphinx import Decoder

    m = _model_dir()
    d = Decoder(hmm=os.path.join(m, "en-us"), dict=os.path.join(m, "cmudict-en-us.dict"), loglevel="FATAL")
    d.set_align_text(text.lower())
    pcm = _pcm(samples)
    _decode(d, pcm, 0.0)
    d.set_alignment()
    _decode(d, pcm, 0.0)
    return [Phone(p.name, p.start / 100, (p.start + p.duration) / 100) for p in d.get_alignment().phones()]


class PhoneStream:
    """Viseme shares (`viseme_matrix`) of a growing audio stream, frame by frame, for live sessions.

    The phone loop decodes incrementally as audio arrives (its cost follows the audio, not a window decoded
    again and again); every LIVE_EVERY frames of audio its current best path is read and the frames that end at
    least LIVE_LAG_S before the audio does are fixed. The utterance restarts every LIVE_UTTERANCE_S so that a
    session of any length holds a bounded search. Offline decoding sees 0.3 s of right context in whole blocks
    with batch normalisation; this sees less, so its phones differ in places (`benchmarks/RESULTS.md`, live).
    Paths are read at fixed sample counts, so the result does not depend on how the audio is cut into chunks."""

    def __init__(self, fps: float):
        self.decoder = phone_decoder(cmn="live", cmninit=LIVE_CMN_INIT)
        self.fps, self.hop = fps, int(RATE // fps)
        self.step = LIVE_EVERY * self.hop
        self.utterance = int(LIVE_UTTERANCE_S * RATE) // self.step * self.step
        self.heard = self.utt_start = 0
        self.rows = np.zeros((0, len(VISEMES)), np.float32)  # fixed frames from frame `first` on
        self.first = 0
        self.decoder.start_utt()

    @property
    def ready(self) -> int:
        """Frames whose phones are fixed."""
        return self.first + len(self.rows)

    def push(self, samples: np.ndarray) -> None:
        x = np.asarray(samples, np.float32).ravel()
        while len(x):
            n = min(len(x), self.step - self.heard % self.step)  # up to the next point where the path is read
            self.decoder.process_raw(_pcm(x[:n]), full_utt=False)
            x, self.heard = x[n:], self.heard + n
            if self.heard % self.step == 0:
                self._fix(int((self.heard / RATE - LIVE_LAG_S) * self.fps))
                if self.heard - self.utt_start >= self.utterance:
                    self._restart()

    def flush(self, frames: int) -> None:
        """At the end of the input: fix every frame up to `frames` from the audio heard."""
        self.decoder.end_utt()
        self._fix(frames)
        self.decoder.start_utt()

    def take(self, a: int, b: int) -> np.ndarray:
        """(b - a, len(VISEMES)) shares of frames a..b (all fixed); frames before `a` are forgotten."""
        out = self.rows[a - self.first: b - self.first]
        self.rows, self.first = self.rows[b - self.first:], b
        return out

    def _restart(self) -> None:
        """End the utterance: its phones are final up to here; the next one starts from this sample."""
        self.decoder.end_utt()
        self._fix(int(self.heard / RATE * self.fps))
        self.utt_start = self.heard
        self.decoder.reinit_feat()
        self.decoder.start_utt()

    def _fix(self, upto: int) -> None:
        if upto <= self.ready:
            return
        t0 = self.utt_start / RATE - self.ready / self.fps  # phone times from the first frame not yet fixed
        ps = [Phone(s.word, t0 + s.start_frame / 100, t0 + (s.end_frame + 1) / 100) for s in self.decoder.seg()]
        self.rows = np.r_[self.rows, viseme_matrix(ps, upto - self.ready, self.fps)]
