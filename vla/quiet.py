"""Library chatter that every app start would print, silenced where we know it is noise.

- transformers draws a "Loading weights" progress bar for every model it loads (the
  sentence encoder, the SayCan LM): off, unless ``HF_HUB_DISABLE_PROGRESS_BARS`` is set.
- transformers warns that ``past_key_values`` is deprecated (a FutureWarning and a log
  line) each time the SayCan scorer reuses the prompt's key/value cache: that warning only.

(pybullet's own start-up lines are silenced in :mod:`sim.bullet`.) The apps call
:func:`quiet_libraries` at start and in every worker process.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

CACHE_DEPRECATION = "`past_key_values`"


class _DropCacheDeprecation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return CACHE_DEPRECATION not in record.getMessage()


def quiet_libraries() -> None:
    """Silence the messages above in this process (and its spawn children); idempotent."""
    if os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS") is None:  # the user's choice wins
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # read when transformers loads
        if "transformers" in sys.modules:  # loaded already: tell it directly
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
    warnings.filterwarnings(
        "ignore", message=f"{CACHE_DEPRECATION} is deprecated", category=FutureWarning
    )
    logger = logging.getLogger("transformers.utils.generic")
    if not any(isinstance(f, _DropCacheDeprecation) for f in logger.filters):
        logger.addFilter(_DropCacheDeprecation())
