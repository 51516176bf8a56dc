# The two commands of the README:  `make run`  and  `make test`.
# Both set everything up on a fresh machine: a virtualenv in .venv with torch pinned to the
# CPU build that lies on this machine's disk (an open range would pull a multi-GB CUDA build),
# then the project with all its extras, then llama.cpp (built from source: see below).

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := $(CURDIR)/.sample-library
STAMP := $(VENV)/.installed
# llama.cpp's Python binding (and its OpenAI-compatible server) has no wheel on PyPI: pip builds
# it from source with cmake and a C++ compiler, about 4 minutes on 2 cores. The stamp carries
# the version, so the build runs once per virtualenv and again only when the pin changes; pip's
# wheel cache lets a new virtualenv reuse the build. Kept in step with the `llama` extra.
LLAMA_CPP := llama-cpp-python[server]==0.3.36
LLAMA_STAMP := $(VENV)/.llama-cpp-0.3.36

.PHONY: setup sysdeps run gui smoke test lint clean-sample

# Debian packages Qt needs for a real window under Xvfb and for readable Chinese (CJK fonts).
# Installed only when missing, and only where apt-get can be used (root, Debian).
QT_DEBS := xvfb fonts-noto-cjk libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
	libxcb-keysyms1 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 libxcb-shape0 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3

sysdeps:
	@missing=$$(for p in $(QT_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing: $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  else echo "missing Debian packages (install them for the GUI): $$missing"; fi; \
	fi

setup: $(STAMP) $(LLAMA_STAMP) sysdeps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[search,draft,gui,bundled-model,dev]"
	touch $(STAMP)

# Without a compiler the build fails: drafting then runs on transformers (slower), the app and
# `award-writer models info` say so, and the tests of the llama.cpp engine and server fail.
$(LLAMA_STAMP): | $(STAMP)
	@echo "building $(LLAMA_CPP) from source (about 4 minutes, once)"
	@if $(BIN)/python -m pip install -q '$(LLAMA_CPP)'; then touch $@; else \
	  echo "llama-cpp-python could not be built (it needs cmake and a C++ compiler):"; \
	  echo "drafting will use transformers, which is slower"; fi

# The main job, on the sample corpus in its own library (.sample-library/) with the bundled
# models: import the seed cases, build the search index, find the case like a description,
# draft a Golden Mouse entry from the sample brief (once; again when the brief changes), check
# the draft, then open the app on that library with the draft (and its brief) on 撰写. Without a
# screen the app runs on a virtual one (Xvfb) and leaves a screenshot of every page instead.
AW := AWARD_WRITER_HOME=$(SAMPLE) $(BIN)/award-writer
SAMPLE_DRAFT := $(SAMPLE)/drafts/golden_mouse-sample.awdraft

run: setup
	$(AW) ingest corpus/cases
	$(AW) index
	$(AW) list
	$(AW) search "环保公益主题的开发者大赛" -k 3
	$(MAKE) --no-print-directory $(SAMPLE_DRAFT)
	-$(AW) check $(SAMPLE_DRAFT) --award golden_mouse
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then \
	  echo "opening the app on $(SAMPLE)"; \
	  $(AW) gui $(SAMPLE_DRAFT); \
	else \
	  echo "no screen here: running the app on a virtual screen, screenshots in $(SAMPLE)/screenshots"; \
	  AWARD_WRITER_HOME=$(SAMPLE) $(BIN)/python -m desktop.smoke $(SAMPLE)/screenshots --keep-library $(SAMPLE) \
	    --open $(SAMPLE_DRAFT); \
	fi

$(SAMPLE_DRAFT): corpus/briefs/golden_mouse.toml
	@mkdir -p $(dir $@)
	$(AW) draft corpus/briefs/golden_mouse.toml -o $@

# The app on the sample library (after `make run`), and the smoke run with screenshots.
gui: setup
	$(AW) gui

smoke: setup
	AWARD_WRITER_HOME=$(SAMPLE) $(BIN)/python -m desktop.smoke $(SAMPLE)/screenshots --keep-library $(SAMPLE)

lint: setup
	$(BIN)/ruff check analyzer desktop tests bench
	$(BIN)/ruff format --check analyzer desktop tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

clean-sample:
	rm -rf $(SAMPLE)
