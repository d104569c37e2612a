"""The names that the parts of optuna-srm share through the storage.

The pruners, the architecture search, the command and the dashboard never import one another:
they read and write trial user attrs and params under these names.
"""

from __future__ import annotations

import re

# Written by the pruners at every check where a model applies.
PREDICTED_FINAL = "srm_predicted_final"  # predicted final value; the sampler's reward if pruned
PREDICTED_STD = "srm_predicted_std"
P_IMPROVE = "srm_p_improve"
STEP = "srm_step"  # the step of the check that recorded the three above
# The checks of the trial so far, one row each, in the order of their steps:
# [step, predicted final value, its std, p_improve, the best finished value it was compared
# with (null where there was none)]. At most MAX_HISTORY rows: when a check would exceed them,
# the row whose neighbours lie closest together goes (the earliest of ties; the first and the
# latest stay), so that the rows kept spread over the whole curve. Floats to 6 significant
# digits; the four attrs above hold the latest check exactly.
PREDICTION_HISTORY = "srm_history"
MAX_HISTORY = 200

# Written by optuna_srm.torch's training loop: seconds spent training and validating.
TRAIN_SECONDS = "train_seconds"
# Set by optuna-srm search on a trial whose architecture was trained before: that trial's number.
REUSED_FROM = "reused_from"
# A study user attr: what optuna-srm search trains, which every worker that joins follows.
SEARCH_CONFIG = "optuna_srm_search"

# Written by suggest_architecture; the pruners use depth and parameter count as features.
ARCHITECTURE = "architecture"
DEPTH = "architecture_depth"
NUM_PARAMS = "architecture_num_params"

# suggest_architecture names a layer's param "layer_03 (after Conv, size 8+)".
LAYER_PARAM_PREFIX = "layer_"
_LAYER_PARAM = re.compile(rf"{LAYER_PARAM_PREFIX}\d+ \(")


def is_layer_param(name: str) -> bool:
    """Whether ``name`` is a param that ``suggest_architecture`` creates for a layer."""
    return _LAYER_PARAM.match(name) is not None
