# One-command set-up: every target below creates .venv and installs the pinned dependencies first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHARED ?= ../shared/data

.PHONY: install test test-fast demo bench clean

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

demo: install
	@if [ -d $(SHARED) ]; then \
		mkdir -p out && \
		$(BIN)/likeness generate --image $(SHARED)/portraits/lp_s9.jpg \
			--audio $(SHARED)/speech/st_RD_Radio31_000.wav --out out/demo.mp4; \
	else \
		echo "$(SHARED) not found (it ships with the Likeness dev data, not with the package)."; \
		echo "Run on your own portrait and audio:"; \
		echo "  $(BIN)/likeness generate --image face.jpg --audio speech.wav --out talk.mp4"; \
	fi

bench: install
	$(BIN)/python benchmarks/bench_generate.py --data $(SHARED)

clean:
	rm -rf $(VENV) out .pytest_cache
