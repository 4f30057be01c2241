# One-command set-up: every target below creates .venv and installs the pinned dependencies first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHARED ?= ../shared/data

.PHONY: install test test-fast lint demo bench eval train-motion train-articulation train-detector train-renderer clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	# invisible-watermark asks for opencv-python, which would clash with opencv-contrib-python (both own cv2)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps invisible-watermark==0.2.0
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

# ruff (rules and why in pyproject.toml), the package boundaries as import-linter contracts, lenient mypy
lint: install
	$(BIN)/ruff check likeness generator provenance detector eval benchmarks tests
	$(BIN)/lint-imports
	$(BIN)/mypy

demo: install
	@if [ -d $(SHARED) ]; then \
		mkdir -p out && \
		$(BIN)/likeness keys init --exist-ok && \
		$(BIN)/likeness generate --image $(SHARED)/portraits/lp_s9.jpg \
			--audio $(SHARED)/speech/st_RD_Radio31_000.wav --out out/demo.mp4 && \
		$(BIN)/likeness verify out/demo.mp4; \
	else \
		echo "$(SHARED) not found (it ships with the Likeness dev data, not with the package)."; \
		echo "Run on your own portrait and audio:"; \
		echo "  $(BIN)/likeness keys init && $(BIN)/likeness generate --image face.jpg --audio speech.wav --out talk.mp4"; \
	fi

bench: install
	$(BIN)/likeness keys init --exist-ok
	$(BIN)/python benchmarks/bench_generate.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_live.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_reenact.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_provenance.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_encode.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_motion.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_noise.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_phones.py --data $(SHARED)
	test -f data/motion/index.json || $(BIN)/likeness train prepare --videos $(SHARED)/real_videos --out data/motion
	$(BIN)/python benchmarks/bench_closures.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_motion_data.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_detector.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_temporal.py --data $(SHARED)
	$(BIN)/python benchmarks/bench_web.py --data $(SHARED)

# The full evaluation suite (issue #6): reports/eval-full/report.html, an MLflow run, a RESULTS.md section.
eval: install
	$(BIN)/likeness keys init --exist-ok
	$(BIN)/python benchmarks/bench_eval.py --suite full --data $(SHARED) \
		--detector likeness-frames=eval.detectors:LikenessFramesOnly

# Reproduces the shipped checkpoint generator/motion/assets/dit.pt (+ .onnx, what generation runs; .json with data
# hash and metrics).
train-motion: install
	$(BIN)/likeness train prepare --videos $(SHARED)/real_videos --out data/motion
	$(BIN)/likeness train motion --data data/motion --steps 3000 --seed 0 --shared $(SHARED) --babble

# Reproduces generator/motion/assets/articulation.npz (+ .json: cross-validated and held-out lip sync).
train-articulation: install
	$(BIN)/likeness train prepare --videos $(SHARED)/real_videos --out data/motion
	$(BIN)/likeness train articulation --data data/motion --shared $(SHARED)

# Reproduces the renderer's assets: v3's learned mouth generator/render/assets/mouth_net.onnx (+ .json: data hash,
# people, validation; about 40 min on 2 cores) and v2's mouth-exemplar bank mouth_bank.npz (+ .json: sources, licences).
train-renderer: install
	$(BIN)/python -m generator.render.build_bank --data $(SHARED)
	$(BIN)/likeness train mouth-data --videos $(SHARED)/real_videos --out data/mouth
	$(BIN)/likeness train mouth --data data/mouth --seed 0

# Reproduces the shipped checkpoint detector/assets/detector.pt (+ .json with data hash and test metrics).
train-detector: install
	$(BIN)/likeness keys init --exist-ok
	$(BIN)/likeness train detector-data --real $(SHARED)/real_videos --portraits $(SHARED)/portraits \
		--speech $(SHARED)/speech --other-fakes $(SHARED)/other_fakes --out data/detector
	$(BIN)/likeness train detector --data data/detector --seed 0

clean:
	rm -rf $(VENV) out .pytest_cache
