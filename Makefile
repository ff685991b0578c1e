# edge-vision: `make run` starts the daemon on its embedded default, `make test` runs the tests.
# Both set up everything they need first (virtual environments, packages). One .venv: `make run`
# installs only the device's dependencies into it (the daemon starts within a minute on a fresh
# machine); `make test`, `make check`, `make bench` ... add the workstation and development
# extras (TensorFlow, scikit-learn, pytest, mypy, ...) to the same .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TFLITE_VENV := .venv-tflite
STAMP := $(VENV)/.installed-stamp
DEVICE_STAMP := $(VENV)/.device-stamp

.PHONY: help setup run test check lint typecheck bench demo clean tflite-env mosquitto \
	chromium arm64-rootfs check-wheels soak rabbitmq homeassistant fleet-bench

help:
	@echo "make run     run the daemon on its embedded default (demo frames and models);"
	@echo "             its live page: http://127.0.0.1:8780/"
	@echo "make test    set up and run the test suite"
	@echo "make check   ruff, mypy and the tests"
	@echo "make bench   the performance figures against their peers (benchmarks/README.md)"
	@echo "make soak    power cuts, a 100,000-frame run and heavy fuzzing (about 7 minutes)"
	@echo "make demo    rebuild the shipped demo bundles and frames (needs TensorFlow)"

$(DEVICE_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "edge-vision needs Python 3.10 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-compile -e .
	@touch $@

$(STAMP): $(DEVICE_STAMP)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(STAMP)

# A second, small environment proves the tflite-runtime backend (it needs NumPy < 2), and runs
# the device's inference tests without TensorFlow, as on a Pi (on the bundles in tests/data):
#   PYTHONPATH=. .venv-tflite/bin/python -m pytest tests/edge/inference
# tflite-runtime has no wheels past Python 3.11; there the tests that need it are skipped.
$(TFLITE_VENV)/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv $(TFLITE_VENV)
	$(TFLITE_VENV)/bin/pip install --quiet 'numpy<2' 'opencv-python-headless<4.11' pillow pydantic \
		'pytest>=8' 'jsonschema>=4.20' \
		&& $(TFLITE_VENV)/bin/pip install --quiet 'tflite-runtime==2.14.*' \
		&& $(TFLITE_VENV)/bin/pip install --quiet --no-deps -e . \
		|| echo "tflite-runtime is not available for this Python: its tests will be skipped"
	@touch $@

tflite-env: $(TFLITE_VENV)/.installed-stamp

# The MQTT tests start their own Mosquitto processes (never the system service): install the
# broker and its clients from Debian's packages when missing (root, else sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
mosquitto:
	@command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y mosquitto mosquitto-clients; }

# The cluster tests (tests/mqtt/test_cluster.py) start a three-node RabbitMQ of their own, on
# loopback: install it from Debian's packages when missing, and keep the system's service and
# epmd from running (where systemd runs them). Without apt-get those tests skip.
rabbitmq:
	@[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || ! command -v apt-get >/dev/null || { \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends rabbitmq-server && \
		{ [ ! -d /run/systemd/system ] || \
			$(SUDO) systemctl disable --now rabbitmq-server epmd.socket epmd.service || true; }; }

# The Home Assistant tests (tests/homeassistant) run a real Home Assistant core in its own
# environment, built once into .cache/ (a few minutes) on a Python >= 3.13 found on the
# machine, then reused. Where there is none, this says so and those tests skip.
homeassistant: $(STAMP)
	scripts/homeassistant/setup --optional

# The page's tests load it in a real headless Chromium: Debian's package, when missing.
chromium:
	@command -v chromium >/dev/null || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# The daemon logs the live page's address (http://127.0.0.1:8780/) as it starts.
run: $(DEVICE_STAMP)
	@echo "edge-vision: the live page will be on http://127.0.0.1:8780/ (Ctrl-C stops)"
	$(BIN)/edge run

# The arm64 (Raspberry Pi OS bookworm) userland that tests/arm64 runs the device code in, under
# qemu-user: built once into .cache/ (about a minute), then reused. Where it cannot be built
# (not root, not Linux x86_64) this says so and the arm64 inference tests skip.
arm64-rootfs: $(STAMP)
	scripts/arm64/setup-rootfs --optional

# Do the device installs (bookworm, trixie) resolve to aarch64 binary wheels?
check-wheels: $(STAMP)
	$(BIN)/python scripts/arm64/check-wheels

test: $(STAMP) tflite-env mosquitto chromium rabbitmq arm64-rootfs homeassistant
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# Performance figures, each measured against its peer in one run (benchmarks/README.md).
bench: $(STAMP)
	@status=0; $(BIN)/python benchmarks/colors.py || status=1; \
	$(BIN)/python benchmarks/pipeline.py || status=1; \
	$(BIN)/python benchmarks/web.py || status=1; \
	$(BIN)/python benchmarks/memory.py || status=1; \
	$(BIN)/python benchmarks/false_alarms.py --markdown || status=1; \
	$(BIN)/python benchmarks/start.py || status=1; exit $$status

# How many daemons one Mosquitto carries (benchmarks/README.md, "Fleet"): a few minutes.
fleet-bench: $(STAMP) mosquitto
	$(BIN)/python benchmarks/fleet.py

# The long checks: 60 SIGKILLs of real daemons, 100,000 frames watching memory, files, threads,
# and the property tests at 20 times their usual number of examples.
soak: $(STAMP) mosquitto
	$(BIN)/python scripts/soak/powercut.py --runs 60
	$(BIN)/python scripts/soak/longrun.py --frames 100000
	EDGE_FUZZ_SCALE=20 $(BIN)/python -m pytest -q tests/reliability/test_properties.py

demo: $(STAMP)
	$(BIN)/python -m models.demo

clean:
	rm -rf $(VENV) $(TFLITE_VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
