"""Survey exports: reading every format survey tools export, mapping them onto canonical items
through a codebook, and cleaning them into pseudonymised, tidy responses with a quarantine of
doubtful rows and a complete row accounting."""

from pipeline.surveys.cleaning import (
    SurveyAccountingError,
    SurveyCleaning,
    SurveyCleaningError,
    clean_exports,
    clean_surveys,
    response_status,
)
from pipeline.surveys.codebook import Codebook, CodebookError, load_codebook
from pipeline.surveys.coverage import Gap, find_gaps, format_gaps
from pipeline.surveys.readers import SurveyExport, SurveyReadError, iter_survey, read_survey

__all__ = [
    "Codebook",
    "CodebookError",
    "Gap",
    "SurveyAccountingError",
    "SurveyCleaning",
    "SurveyCleaningError",
    "SurveyExport",
    "SurveyReadError",
    "clean_exports",
    "clean_surveys",
    "find_gaps",
    "format_gaps",
    "iter_survey",
    "load_codebook",
    "read_survey",
    "response_status",
]
