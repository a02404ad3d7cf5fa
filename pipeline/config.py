"""Paths and the typed study configuration.

Every stage reads one study YAML file (``config/<study>.yml``). It is validated on load: an
unknown key, a missing key or a value of the wrong kind stops with a :class:`ConfigError` that
names the file, the key and what is allowed. All paths the pipeline uses are derived here and
nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class ConfigError(ValueError):
    """A study configuration that cannot be used, with a message naming the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonColumns(_Strict):
    """Column names of the register's person table, keyed by canonical name."""

    personal_id: str
    birth_year: str
    sex: str
    region_of_birth: str
    immigration_year: str
    education_level: str
    education_field: str
    municipality: str


class MonthlyColumns(_Strict):
    """Column names of the register's monthly labour-market table, keyed by canonical name."""

    personal_id: str
    month: str
    employed: str
    earnings: str
    jobseeker_category: str
    occupation: str


class RosterColumns(_Strict):
    """Column headers of the programme roster, keyed by canonical name."""

    personal_id: str = "Personnummer"
    first_name: str = "Förnamn"
    last_name: str = "Efternamn"
    email: str = "E-post"
    phone: str = "Telefon"
    cohort: str = "Kohort"
    city: str = "Ort"
    start_date: str = "Startdatum"
    end_date: str = "Slutdatum"
    mentor_matched: str = "Mentor matchad"
    n_mentor_meetings: str = "Antal mentorsträffar"
    completed: str = "Fullföljt"


class RegisterCodes(_Strict):
    """How the extract codes the values the pipeline interprets."""

    female: int | str = 2  # value of the sex column for women (LISA Kon: 1 man, 2 woman)
    native_born_regions: list[str] = ["Sweden"]  # region_of_birth values meaning born here
    registered_unemployed: list[int] = [11]  # job-seeker categories counted as unemployed


class RegisterFiles(_Strict):
    persons: str
    monthly: str
    person_columns: PersonColumns
    monthly_columns: MonthlyColumns
    codes: RegisterCodes = RegisterCodes()
    # DuckDB may use this much memory before it spills to a temporary folder.
    duckdb_memory_limit: Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$")] = "4GB"


class DataConfig(_Strict):
    raw_dir: str
    # country whose identity numbers key the roster and the register (se, dk or fi)
    identity_country: Literal["se", "dk", "fi"] = "se"
    roster: str
    roster_columns: RosterColumns = RosterColumns()
    surveys: list[str] = Field(min_length=1)
    codebook: str  # the survey family's codebook, relative to the repository root
    register_files: RegisterFiles = Field(alias="register")


class PseudonymisationConfig(_Strict):
    key_env: str = "MENTOR_EVAL_KEY"
    key_file: str | None = None
    allow_generated_key: bool = False


class SynthConfig(_Strict):
    seed: int
    n_persons: Annotated[int, Field(ge=200)]
    participants_per_cohort: Annotated[int, Field(ge=5)]
    first_month: Annotated[str, Field(pattern=MONTH_PATTERN)]
    last_month: Annotated[str, Field(pattern=MONTH_PATTERN)]
    cohort_years: list[int] = Field(min_length=1)
    selection_on_unobservables: bool = False
    truth_file: str


class DesignConfig(_Strict):
    min_age: Annotated[int, Field(ge=15, le=100)]
    max_age: Annotated[int, Field(ge=15, le=100)]
    foreign_born_only: bool = True
    not_employed_month_before: bool = True
    municipalities: list[str] | None = None
    # People who join a later cohort: "keep" leaves them in earlier pools as non-participants
    # at that moment (Sianesi); "exclude" keeps them out, which conditions on the future.
    later_participants: Literal["exclude", "keep"] = "keep"
    pre_months: Annotated[int, Field(ge=12, le=120)] = 24
    post_months: Annotated[int, Field(ge=1, le=120)] = 36

    @field_validator("municipalities")
    @classmethod
    def _four_digit_codes(cls, value: list[str] | None) -> list[str] | None:
        for code in value or []:
            if not re.fullmatch(r"\d{4}", code):
                raise ValueError(f"municipality codes are four digits in quotes, got {code!r}")
        return value

    @model_validator(mode="after")
    def _age_band(self) -> DesignConfig:
        if self.min_age > self.max_age:
            raise ValueError(f"min_age ({self.min_age}) is above max_age ({self.max_age})")
        return self


class MatchingConfig(_Strict):
    method: Literal["nearest"] = "nearest"
    distance: Literal["logit"] = "logit"
    ratio: Annotated[int, Field(ge=1, le=10)] = 1
    replace: bool = False
    caliper: Annotated[float, Field(gt=0)] | None = 0.2
    covariates: list[str] = Field(min_length=1)
    # rows with a missing covariate: listwise (left out, counted), indicator (mean + 0/1
    # indicator; a missing category is its own level) or refuse (stop)
    missing_covariates: Literal["listwise", "indicator", "refuse"] = "listwise"


class EstimationConfig(_Strict):
    horizon_months: Annotated[int, Field(ge=0, le=120)] = 12  # the headline horizon
    horizons: list[Annotated[int, Field(ge=0, le=120)]] = [6, 12, 24, 36]  # all estimated
    # characteristics (of the participant in each matched set) to break effects down by
    subgroups: list[str] = ["female", "region_of_birth", "education_field", "municipality",
                            "cohort"]
    min_treated_subgroup: Annotated[int, Field(ge=1)] = 10  # fewer: "too few", no number
    # a month before start at which a "placebo effect" should be nil (nobody took part yet)
    placebo_month: Annotated[int, Field(le=-2, ge=-120)] = -18
    # with design.later_participants = keep: a comparison who joins a later cohort counts
    # only until the month before its own start (censored), so the effect is against not
    # taking part, not against taking part later
    censor_later_participants: bool = False
    confidence_level: Annotated[float, Field(gt=0.5, lt=1)] = 0.95

    @model_validator(mode="after")
    def _headline_among_horizons(self) -> EstimationConfig:
        if self.horizon_months not in self.horizons:
            raise ValueError(
                f"horizon_months ({self.horizon_months}) must be one of horizons "
                f"{self.horizons}"
            )
        return self


class ReportConfig(_Strict):
    min_cell_count: Annotated[int, Field(ge=1)] = 5


class StudyConfig(_Strict):
    """One evaluation: where its data are and how each stage is parameterised."""

    study: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    title: str
    language: Literal["en", "sv"] = "en"  # the report's language
    # Folder holding data_processed/ and reports/; the repository by default (tests use a
    # temporary folder).
    output_root: str | None = None
    data: DataConfig
    pseudonymisation: PseudonymisationConfig
    synth: SynthConfig | None = None
    design: DesignConfig
    matching: MatchingConfig
    estimation: EstimationConfig = EstimationConfig()
    report: ReportConfig = ReportConfig()

    @model_validator(mode="after")
    def _horizon_inside_follow_up(self) -> StudyConfig:
        if -self.estimation.placebo_month > self.design.pre_months:
            raise ValueError(
                f"estimation.placebo_month ({self.estimation.placebo_month}) is before "
                f"design.pre_months ({self.design.pre_months}): that month is not kept"
            )
        beyond = [h for h in self.estimation.horizons if h > self.design.post_months]
        if self.estimation.horizon_months > self.design.post_months or beyond:
            raise ValueError(
                f"estimation horizons {beyond or [self.estimation.horizon_months]} are beyond "
                f"design.post_months ({self.design.post_months}): outcomes would not be kept"
            )
        return self

    @model_validator(mode="after")
    def _generated_key_only_for_synthetic_data(self) -> StudyConfig:
        if self.pseudonymisation.allow_generated_key and self.synth is None:
            raise ValueError(
                "pseudonymisation.allow_generated_key is only allowed for synthetic studies "
                "(with a synth section); real data need a key from the environment or a key file"
            )
        return self

    # ---- derived paths (never configured twice) -------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return _resolve(self.data.raw_dir)

    def raw_path(self, relative: str) -> Path:
        """Absolute path of a file under the study's raw-data folder."""
        return self.raw_dir / relative

    @property
    def roster_path(self) -> Path:
        return self.raw_path(self.data.roster)

    @property
    def survey_paths(self) -> list[Path]:
        return [self.raw_path(p) for p in self.data.surveys]

    @property
    def codebook_path(self) -> Path:
        return _resolve(self.data.codebook)

    @property
    def persons_path(self) -> Path:
        return self.raw_path(self.data.register_files.persons)

    @property
    def monthly_path(self) -> Path:
        return self.raw_path(self.data.register_files.monthly)

    @property
    def raw_inputs(self) -> list[Path]:
        """Every raw file the pipeline reads."""
        return [self.roster_path, *self.survey_paths, self.persons_path, self.monthly_path]

    @property
    def _output_root(self) -> Path:
        return _resolve(self.output_root) if self.output_root else REPO_ROOT

    @property
    def processed_dir(self) -> Path:
        return self._output_root / "data_processed" / self.study

    @property
    def report_dir(self) -> Path:
        return self._output_root / "reports" / self.study

    @property
    def truth_path(self) -> Path | None:
        return _resolve(self.synth.truth_file) if self.synth else None


def _resolve(path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else REPO_ROOT / candidate


def _format_location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _format_validation_error(
    path: Path,
    error: ValidationError,
    root: type[BaseModel] | None = None,
    what: str = "study configuration",
) -> str:
    """One line per problem, naming the key and, for unknown keys, the keys allowed there."""
    root = root or StudyConfig
    lines = [f"{path}: invalid {what}"]
    for item in error.errors():
        key = _format_location(item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            parent = item["loc"][:-1]
            allowed = _allowed_keys(parent, root)
            hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"  - unknown key '{key}'{hint}")
        elif kind == "missing":
            lines.append(f"  - missing required key '{key}'")
        else:
            lines.append(f"  - key '{key}': {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def _allowed_keys(loc: tuple, root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    mapping_key_next = False  # after a dict-valued field comes a free key, not a field name
    for part in loc:
        if model is None or isinstance(part, int) or mapping_key_next:
            mapping_key_next = False
            continue
        field = next(
            (f for name, f in model.model_fields.items() if (f.alias or name) == str(part)), None
        )
        if field is None:
            return []
        annotation = field.annotation
        mapping_key_next = _is_mapping(annotation)
        model = _model_in(annotation)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _is_mapping(annotation) -> bool:
    if getattr(annotation, "__origin__", None) is dict:
        return True
    return any(_is_mapping(arg) for arg in getattr(annotation, "__args__", ()))


def _model_in(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found:
            return found
    return None


def load_config(path: str | Path) -> StudyConfig:
    """Read and validate a study configuration.

    Parameters
    ----------
    path : str or Path
        The study YAML file, e.g. ``config/demo.yml``.

    Returns
    -------
    StudyConfig
        The validated, immutable configuration.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or breaks the schema. The message names the file
        and every offending key with what is allowed.
    """
    return load_yaml_model(path, StudyConfig, "study configuration", ConfigError)


def load_yaml_model(
    path: str | Path,
    model: type[BaseModel],
    what: str,
    error: type[ConfigError] = ConfigError,
):
    """Read a YAML file into a validated ``model``; every problem is one ``error`` naming the
    file and, for schema problems, each offending key (with the keys allowed there)."""
    path = _resolve(str(path))
    if not path.is_file():
        raise error(f"{path}: {what} not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not a readable YAML file ({exc})") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: expected a mapping of keys at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(_format_validation_error(path, exc, model, what)) from None
