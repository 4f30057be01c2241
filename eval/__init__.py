"""Evaluation harness: realism and detectability side by side, tracked in MLflow (issue #6).

So far it holds the metrics the motion model is judged by: `judges` (independent dlib landmarks),
`lipsync` (lag and peak correlation of mouth opening with the audio level) and `motion` (Fréchet motion
distance, head-pose speed and range, diversity). The `likeness eval` harness itself is still to come.
"""
