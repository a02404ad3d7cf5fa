"""Survey exports: reading SPSS files with their labels and cleaning them into pseudonymised,
tidy responses with a quarantine of doubtful rows and a complete row accounting."""

from pipeline.surveys.cleaning import (
    StaffTestRules,
    SurveyAccountingError,
    SurveyCleaning,
    SurveyCleaningError,
    SurveyColumns,
    clean_surveys,
)
from pipeline.surveys.readers import SurveyExport, SurveyReadError, read_survey

__all__ = [
    "StaffTestRules",
    "SurveyAccountingError",
    "SurveyCleaning",
    "SurveyCleaningError",
    "SurveyColumns",
    "SurveyExport",
    "SurveyReadError",
    "clean_surveys",
    "read_survey",
]
