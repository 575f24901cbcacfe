# Every target bootstraps its own virtual environment, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Node tools for the tests only (apl-suggester, Amazon's APL validator), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

.PHONY: test chat serve bench clean

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/python -m pytest

chat: $(STAMP)
	$(VENV)/bin/python -m skill chat

serve: $(STAMP)
	$(VENV)/bin/python -m skill serve --host 127.0.0.1 --port 8080

bench: $(STAMP)
	$(VENV)/bin/python bench/benchmark.py

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info
