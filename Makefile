# Every target bootstraps its own virtual environment, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# `make chat` installs only the simulator's extra (not the test toolchain), unless `make
# test` already installed everything.
CHAT_STAMP := $(VENV)/.chat-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The red-flag detector's static embedding model, distilled at build time (gitignored);
# tools/build_static_model.py does nothing when the built model is already current.
MODEL  := skill/dialog/model/manifest.json
# Node tools for the tests only (apl-suggester, Amazon's APL validator), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

.PHONY: test chat serve bench clean model

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,model-build]'
	touch $@

$(MODEL): tools/build_static_model.py | $(STAMP)
	$(VENV)/bin/python tools/build_static_model.py

model: $(STAMP)
	$(VENV)/bin/python tools/build_static_model.py

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) $(MODEL) $(NODE_STAMP)
	$(VENV)/bin/python -m pytest

$(CHAT_STAMP): pyproject.toml
	rm -f $(VENV)/.chat-installed-*
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	test -f $(STAMP) || $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[chat]'
	touch $@

chat: $(CHAT_STAMP)
	$(VENV)/bin/python -m skill chat

serve: $(STAMP) $(MODEL)
	$(VENV)/bin/python -m skill serve --host 127.0.0.1 --port 8080

bench: $(STAMP) $(MODEL)
	$(VENV)/bin/python bench/benchmark.py

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info .simulator
