"""tryg.stats: survey statistics for safety surveys, validated against R `survey`.

Pure core: plain data in (pandas DataFrames, numpy arrays), DataFrames or frozen results out;
no files, no database, no global state. The usual path::

    from tryg import stats
    d = stats.Design(df, weights="w", strata="stratum")
    d = stats.rake(d, {("stratum", "sex"): sex_totals, ("stratum", "age"): age_totals})
    stats.proportion(d, "q1", codes=[1, 2, 3], exclude=[8], by=["area", "wave"])
"""

from tryg.stats.calibration import (
    CalibrationReport,
    RakeReport,
    calibrate,
    poststratify,
    rake,
    trim,
)
from tryg.stats.contrasts import (
    change_between,
    compare_domains,
    compare_with_pooled,
    compare_with_rest,
)
from tryg.stats.design import Design, SurveyDesign
from tryg.stats.errors import CalibrationError, DesignError, EstimationError
from tryg.stats.estimators import mean, proportion, ratio, total
from tryg.stats.replicate_builders import bootstrap, jackknife
from tryg.stats.replicates import ReplicateAdjustment, ReplicateDesign
from tryg.stats.rest_contrasts import compare_with_rest_many

__all__ = [
    "CalibrationError",
    "CalibrationReport",
    "Design",
    "DesignError",
    "EstimationError",
    "RakeReport",
    "ReplicateAdjustment",
    "ReplicateDesign",
    "SurveyDesign",
    "bootstrap",
    "calibrate",
    "change_between",
    "compare_domains",
    "compare_with_pooled",
    "compare_with_rest",
    "compare_with_rest_many",
    "jackknife",
    "mean",
    "poststratify",
    "proportion",
    "rake",
    "ratio",
    "total",
    "trim",
]
