# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: demo test lint typecheck pytest nodetest test-lowest bench proto clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-demo: $(VENV)/bin/activate setup.py pyproject.toml
	$(PIP) install --quiet -e ".[demo]"
	touch $@

$(VENV)/.installed-test: $(VENV)/bin/activate setup.py pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	$(PIP) install --quiet --no-deps "tf_keras==2.21.0"
	touch $@

demo: $(VENV)/.installed-demo
	$(PY) -m demo

test: $(VENV)/.installed-test lint pytest nodetest

lint: typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# tsc over the frontend's JSDoc (frontend/tsconfig.json); typescript is a dev-only
# dependency, pinned in frontend/package-lock.json and installed by `npm ci` into
# frontend/node_modules (git-ignored, never packaged or served).
typecheck: frontend/node_modules/.package-lock.json
	cd frontend && npm run --silent typecheck

# npm ci writes node_modules/.package-lock.json: installs again when it is missing
# or older than the lockfile.
frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

pytest:
	$(PY) -m pytest -q

nodetest:
	node --test --test-timeout=60000 --test-force-exit tests/js/

# Tests on the lowest supported versions (.ci/lowest-constraints.txt:
# tb_rnngrad/versions.py's lower bounds) in a venv of their own: capture, the
# PyTorch logger, the plugin's routes, Keras on JAX and PyTorch and tf_keras,
# the Keras callback's summaries; not the Playwright test (make test installs
# Playwright). About 4 minutes on 2 cores, 2 of them installing.
LOWEST_VENV := .venv-lowest
LOWEST_PIP := $(LOWEST_VENV)/bin/python -m pip
LOWEST_TESTS := tests/test_versions.py tests/test_capture.py tests/test_pytorch.py \
	tests/test_plugin_handlers.py tests/test_backends.py \
	tests/test_callback.py::test_logs_every_n_steps_with_values_of_the_last_step \
	tests/test_callback.py::test_dataset_data_next_to_keras_tensorboard \
	--deselect tests/test_backends.py::test_tensorboard_shows_the_four_runs_side_by_side

$(LOWEST_VENV)/.installed: .ci/lowest-constraints.txt setup.py pyproject.toml
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_PIP) install --quiet -c .ci/lowest-constraints.txt -e . \
		tensorflow-cpu keras "jax[cpu]" torch setuptools \
		"pytest>=8" "pytest-timeout>=2.3" "hypothesis>=6.100"
	$(LOWEST_PIP) install --quiet --no-deps -c .ci/lowest-constraints.txt tf_keras
	touch $@

test-lowest: $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/python -m pytest -q -m "not browser" $(LOWEST_TESTS)

# Every benchmark in bench/, then rewrites docs/benchmarks.md (about 10 min on
# 2 cores); `make bench BENCH_ARGS=--quick` for a smoke run (under 2 min).
bench: $(VENV)/.installed-test
	$(PY) -m bench $(BENCH_ARGS)

# Regenerates tb_rnngrad/proto/plugin_data_pb2.py (gencode 6.31.1 runs on
# protobuf 6.x and 7.x) with a throwaway protoc from grpcio-tools.
proto:
	$(PYTHON) -m venv /tmp/tb-rnngrad-protoc
	/tmp/tb-rnngrad-protoc/bin/pip install --quiet "grpcio-tools==1.75.1"
	/tmp/tb-rnngrad-protoc/bin/python -m grpc_tools.protoc -I. --python_out=. \
		tb_rnngrad/proto/plugin_data.proto

clean:
	rm -rf $(VENV) $(LOWEST_VENV) build dist *.egg-info runs frontend/node_modules
