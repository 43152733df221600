# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: demo test lint typecheck pytest nodetest bench proto clean

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
	rm -rf $(VENV) build dist *.egg-info runs frontend/node_modules
