"""Paths and the typed study configuration.

Every stage reads one study YAML file (``config/<study>.yml``). It is validated on load: an
unknown key, a missing key or a value of the wrong kind stops with a :class:`ConfigError` that
names the file, the key and what is allowed. All paths the pipeline uses are derived here and
nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    import pandas as pd

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


# Per register shape: its raw files, the other keys it needs, and the keys it may have.
SHAPE_FILES = {"canonical": ("persons", "monthly"), "denmark": ("population", "dream", "wages"),
               "finland": ("folk",)}
SHAPE_NEEDS = {"canonical": ("person_columns", "monthly_columns"), "denmark": (), "finland": ()}
SHAPE_OPTIONS = {"canonical": (), "denmark": ("dream_weeks", "unemployment_codes"),
                 "finland": ("years",)}


class RegisterFiles(_Strict):
    """The register extract: which shape it arrives in and where its files are.

    ``shape: canonical`` (the default) is a person table and a monthly table under any column
    names (LISA-like in Sweden), mapped by ``person_columns`` and ``monthly_columns``.
    ``shape: denmark`` is DREAM weekly benefit codes, eIndkomst monthly wages and BEF population
    data (:mod:`pipeline.register.denmark`); ``shape: finland`` is FOLK-style annual data
    (:mod:`pipeline.register.finland`). Those two are reduced to the canonical tables by their
    adapter inside the register stage, in a private temporary folder, so everything downstream
    is the same; their column mapping and codes are the adapter's.
    """

    shape: Literal["canonical", "denmark", "finland"] = "canonical"
    # shape: canonical
    persons: str | None = None
    monthly: str | None = None
    person_columns: PersonColumns | None = None
    monthly_columns: MonthlyColumns | None = None
    # shape: denmark
    population: str | None = None  # BEF-style population file
    dream: str | None = None  # DREAM weekly codes, wide (y_YYWW columns) or long
    wages: str | None = None  # eIndkomst-style monthly wages
    dream_weeks: tuple[str, str] | None = None  # the weeks the DREAM extract states it covers
    unemployment_codes: list[int] | None = None  # DREAM codes of an unemployment week
    # shape: finland
    folk: str | None = None  # FOLK-style annual data, one row per person and year
    years: tuple[int, int] | None = None  # the years the FOLK extract states it covers
    # how the values are coded; with an adapter shape the adapter's codes unless given here
    codes: RegisterCodes = RegisterCodes()
    # DuckDB may use this much memory before it spills to a temporary folder.
    duckdb_memory_limit: Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$")] = "4GB"

    @model_validator(mode="after")
    def _files_of_the_shape(self) -> RegisterFiles:
        needed = SHAPE_FILES[self.shape] + SHAPE_NEEDS[self.shape]
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            raise ValueError(f"shape {self.shape} needs the keys {', '.join(missing)}")
        every_key = {key for keys in (*SHAPE_FILES.values(), *SHAPE_NEEDS.values(),
                                      *SHAPE_OPTIONS.values()) for key in keys}
        foreign = sorted(key for key in every_key - {*needed, *SHAPE_OPTIONS[self.shape]}
                         if getattr(self, key) is not None)
        if foreign:
            raise ValueError(
                f"shape {self.shape} does not use {', '.join(foreign)}: "
                f"remove them or change the shape"
            )
        return self

    @property
    def files(self) -> dict[str, str]:
        """The raw files of this shape, by role."""
        return {role: getattr(self, role) for role in SHAPE_FILES[self.shape]}

    @property
    def time_unit(self) -> str:
        """"year" for annual registers (FOLK), else "month"."""
        return "year" if self.shape == "finland" else "month"


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
    # months of the year in which cohorts start (spring and autumn intakes by default)
    cohort_start_months: list[Annotated[int, Field(ge=1, le=12)]] = Field([3, 9], min_length=1)
    # or the cohorts' start months themselves (YYYY-MM), instead of years x months
    cohort_months: list[Annotated[str, Field(pattern=MONTH_PATTERN)]] | None = None
    selection_on_unobservables: bool = False
    truth_file: str

    def starts(self, month: pd.Period) -> bool:
        """Whether a cohort starts in ``month``."""
        if self.cohort_months is not None:
            return str(month) in self.cohort_months
        return month.year in self.cohort_years and month.month in self.cohort_start_months


class DesignConfig(_Strict):
    min_age: Annotated[int, Field(ge=15, le=100)]
    max_age: Annotated[int, Field(ge=15, le=100)]
    foreign_born_only: bool = True
    women_only: bool = False  # a programme for women: only women are eligible
    # a programme for people with at least this education level (Sun2000niva_old-like 1-7:
    # 5 = post-secondary); None: any level
    min_education_level: Annotated[int, Field(ge=1, le=7)] | None = None
    not_employed_month_before: bool = True  # annual registers: not employed at the year's end
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
                raise ValueError(
                    "municipality codes are four digits in quotes, as the register stage holds "
                    "them (Danish KOM and Finnish kunta codes padded: '0101' for 101), got "
                    f"{code!r}"
                )
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
    """Horizons, subgroups and the thresholds below which no effect is estimated.

    Monthly registers state horizons in months (``horizon_months``, ``horizons``,
    ``placebo_month``); annual registers (``data.register.shape: finland``) in years
    (``horizon_years``, ``horizons_years``, ``placebo_year``): outcomes then exist only once a
    year, and the report says so.
    """

    horizon_months: Annotated[int, Field(ge=0, le=120)] = 12  # the headline horizon
    horizons: list[Annotated[int, Field(ge=0, le=120)]] = [6, 12, 24, 36]  # all estimated
    horizon_years: Annotated[int, Field(ge=1, le=10)] | None = None
    horizons_years: list[Annotated[int, Field(ge=1, le=10)]] | None = None
    # the outcome of the headline sentence and the summary
    headline_outcome: Literal["employed", "employed_matching"] = "employed"
    # characteristics (of the participant in each matched set) to break effects down by
    subgroups: list[str] = ["female", "region_of_birth", "education_field", "municipality",
                            "cohort"]
    min_treated_subgroup: Annotated[int, Field(ge=1)] = 10  # fewer: "too few", no number
    # The design supports an estimate only with at least this many matched participants and
    # this share of the participants in the analysis matched; otherwise the report declines to
    # estimate and shows the participants' outcomes with their intervals instead.
    min_participants: Annotated[int, Field(ge=2)] = 20
    min_share_matched: Annotated[float, Field(ge=0, le=1)] = 0.5
    # a month before start at which a "placebo effect" should be nil (nobody took part yet)
    placebo_month: Annotated[int, Field(le=-2, ge=-120)] = -18
    placebo_year: Annotated[int, Field(le=-1, ge=-10)] | None = None
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
        years = (self.horizon_years, self.horizons_years, self.placebo_year)
        if any(v is not None for v in years) and any(v is None for v in years):
            raise ValueError("horizon_years, horizons_years and placebo_year go together")
        if self.horizons_years is not None and self.horizon_years not in self.horizons_years:
            raise ValueError(
                f"horizon_years ({self.horizon_years}) must be one of horizons_years "
                f"{self.horizons_years}"
            )
        return self

    @property
    def in_years(self) -> bool:
        return self.horizons_years is not None

    @property
    def horizon_list(self) -> list[int]:
        """The estimated horizons in the study's time unit."""
        return list(self.horizons_years) if self.in_years else list(self.horizons)

    @property
    def headline_horizon(self) -> int:
        return self.horizon_years if self.in_years else self.horizon_months

    @property
    def placebo(self) -> int:
        return self.placebo_year if self.in_years else self.placebo_month


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
        estimation = self.estimation
        if self.time_unit == "year" and not estimation.in_years:
            raise ValueError(
                "an annual register (data.register.shape: finland) has outcomes once a year: "
                "give estimation.horizon_years, horizons_years and placebo_year instead of months"
            )
        if self.time_unit == "month" and estimation.in_years:
            raise ValueError(
                "horizon_years, horizons_years and placebo_year are for annual registers "
                "(data.register.shape: finland); this register is monthly: use horizon_months, "
                "horizons and placebo_month"
            )
        unit = "year" if estimation.in_years else "month"
        if -self.placebo_rel_month > self.design.pre_months:
            raise ValueError(
                f"estimation.placebo_{unit} ({estimation.placebo}) is before "
                f"design.pre_months ({self.design.pre_months}): that month is not kept"
            )
        beyond = [h for h in estimation.horizon_list if self.rel_month(h) > self.design.post_months]
        if beyond:
            raise ValueError(
                f"estimation horizons {beyond} are beyond "
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
    def register_paths(self) -> list[Path]:
        """The register's raw files, whatever its shape."""
        return [self.raw_path(p) for p in self.data.register_files.files.values()]

    @property
    def raw_inputs(self) -> list[Path]:
        """Every raw file the pipeline reads."""
        return [self.roster_path, *self.survey_paths, *self.register_paths]

    @property
    def time_unit(self) -> str:
        """The register's period: "month", or "year" for annual registers (FOLK)."""
        return self.data.register_files.time_unit

    def rel_month(self, horizon: int) -> int:
        """The month relative to start at which a horizon in the study's time unit is read.

        Monthly registers: the horizon itself. Annual registers keep one row per year at
        December (the status at the end of the year) and a cohort starts in January of its
        start year, so year ``k`` after start is month ``12 k - 1`` (``k = 1``: the end of the
        start year, ``k = 0``: the end of the year before start, ``k = -1`` the year before).
        """
        return int(horizon) if self.time_unit == "month" else 12 * int(horizon) - 1

    @property
    def horizon_rel_months(self) -> list[int]:
        """Every estimated horizon as a month relative to start (see :meth:`rel_month`)."""
        return [self.rel_month(h) for h in self.estimation.horizon_list]

    @property
    def headline_rel_month(self) -> int:
        return self.rel_month(self.estimation.headline_horizon)

    @property
    def placebo_rel_month(self) -> int:
        return self.rel_month(self.estimation.placebo)

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
