# The pipeline's DAG. Each stage is a real file target (its manifest), so a second
# `make report` with nothing changed re-runs nothing, and a changed parameter or input file
# re-runs only the stages downstream of it. `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

STUDY  ?= demo
CONFIG := config/$(STUDY).yml
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
READY  := $(VENV)/.installed

P       := data_processed/$(STUDY)
M       := $(P)/manifests
S       := $(P)/.stamps
REPORT  := reports/$(STUDY)/report.html
RUN     := $(PY) -m pipeline run
# Synthetic studies name a truth file; building the world is then part of the DAG.
TRUTH   := $(shell sed -n 's/^  truth_file: *//p' $(CONFIG) 2>/dev/null)

COMMON_SRC   := pipeline/__init__.py pipeline/__main__.py pipeline/cli.py pipeline/config.py \
                pipeline/stage.py pipeline/runner.py pipeline/privacy.py pipeline/pseudonymise.py \
                pipeline/identity.py pipeline/signatures.py
SYNTH_SRC    := $(wildcard pipeline/synth/*.py)
SURVEY_SRC   := $(wildcard pipeline/surveys/*.py)
REGISTER_SRC := $(wildcard pipeline/register/*.py)
MATCH_SRC    := $(wildcard pipeline/matching/*.py)
EFFECTS_SRC  := $(wildcard pipeline/effects/*.py) pipeline/register/outcomes.py
# the report also reads the survey results code and its texts, templates and catalogues
REPORT_SRC   := $(wildcard pipeline/report/*.py pipeline/report/chapters/*.py \
                  pipeline/report/templates/* pipeline/report/locales/*.yml) \
                pipeline/surveys/results.py pipeline/surveys/nonresponse.py \
                pipeline/surveys/codebook.py

.PHONY: help venv report test lab lint bench validate lock clean clean-all world stamp-synth stamps

help: ## list the targets (default)
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  STUDY=<name> selects config/<name>.yml (default: demo)"

venv: $(READY) ## create .venv with the pinned packages and register the Jupyter kernel

$(READY): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name mentor-eval \
	  --display-name "Python (mentor-eval)" > /dev/null
	touch $@

report: $(REPORT) ## run every stage for STUDY and print the report's path
	@echo "$(REPORT)"

# ---- the DAG -------------------------------------------------------------------------------
stamp-synth: | $(READY)
	@$(PY) -m pipeline stamps --config $(CONFIG) --only synth

$(S)/synth.stamp: stamp-synth ;

ifneq ($(TRUTH),)
world: $(TRUTH) ## build the synthetic world of a demo study

$(TRUTH): $(S)/synth.stamp $(SYNTH_SRC) | $(READY)
	$(PY) -m pipeline synth --config $(CONFIG)
endif

stamps: $(TRUTH) | $(READY)
	@$(PY) -m pipeline stamps --config $(CONFIG)

$(S)/clean.stamp $(S)/panel.stamp $(S)/match.stamp $(S)/estimate.stamp $(S)/report.stamp: stamps ;

$(M)/clean.json: $(S)/clean.stamp notebooks/01-clean-surveys.ipynb $(COMMON_SRC) $(SURVEY_SRC)
	$(RUN) clean --config $(CONFIG)

$(M)/panel.json: $(S)/panel.stamp $(M)/clean.json notebooks/02-build-panel.ipynb \
                 $(COMMON_SRC) $(REGISTER_SRC)
	$(RUN) panel --config $(CONFIG)

$(M)/match.json: $(S)/match.stamp $(M)/panel.json notebooks/03-match.ipynb $(COMMON_SRC) \
                 $(MATCH_SRC)
	$(RUN) match --config $(CONFIG)

$(M)/estimate.json: $(S)/estimate.stamp $(M)/match.json $(M)/panel.json \
                    notebooks/04-estimate-effects.ipynb $(COMMON_SRC) $(EFFECTS_SRC)
	$(RUN) estimate --config $(CONFIG)

# The report stage writes the HTML and its manifest together; the HTML is the target, so a
# deleted report is rebuilt.
$(REPORT): $(S)/report.stamp $(M)/clean.json $(M)/panel.json $(M)/match.json \
           $(M)/estimate.json notebooks/05-render-report.ipynb $(COMMON_SRC) $(REPORT_SRC)
	$(RUN) report --config $(CONFIG)

# ---- development ---------------------------------------------------------------------------
test: | $(READY) ## run the whole test suite
	$(PY) -m pytest

lab: | $(READY) ## open JupyterLab on the notebooks with the project's kernel
	$(VENV)/bin/jupyter lab notebooks/

lint: | $(READY) ## check style (ruff) and that notebooks are committed without outputs
	$(VENV)/bin/ruff check pipeline tests benchmarks tools
	$(VENV)/bin/nbstripout --verify notebooks/*.ipynb

bench: | $(READY) ## time and measure memory of `make report` and the national-scale world
	$(PY) benchmarks/run.py

validate: | $(READY) ## bias and 95% coverage: whole pipeline on synthetic worlds, every estimator
	$(PY) -m benchmarks.pipeline_coverage
	$(PY) -m benchmarks.estimator_coverage

lock: ## re-resolve the newest allowed versions into requirements.lock and environment.yml
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -e '.[dev]'
	.venv-lock/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf .venv-lock
	$(PY) tools/sync_environment.py

clean: ## remove STUDY's processed data and report (raw data stay)
	rm -rf $(P) reports/$(STUDY)

clean-all: clean ## also remove a synthetic world (never real data) and the virtual environment
ifneq ($(TRUTH),)
	rm -rf data_raw/$(STUDY) $(TRUTH)
endif
	rm -rf $(VENV)
