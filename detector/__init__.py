"""Deepfake detector: a timm classifier trained on the generator's output against real footage, and a scanner.

- `faces`: frame sampling, face finding and alignment (the generator's own framing), face tracks.
- `data`: renders fakes (self-reenactment and portraits) and builds the identity-split crop dataset.
- `augment`: upload degradations; `model`: the network, checkpoint and calibration; `train`: training.
- `reference`: renders the suspect's own face with the generator, so its score is read relative to that.
- `scan`: per-video verdicts with a per-second timeline and the provenance check; `report`: HTML.
"""
