"""Helpers for the interactive course on Transformers and large models.

Importing the package decides once whether the Hugging Face Hub is reachable and, if it
is not, sets ``HF_HUB_OFFLINE=1`` (and friends) *before* ``transformers``/``datasets``
are imported -- otherwise every Hub lookup costs 23-46 s of retries (see
``course_utils.assets``). Nothing else happens on import.
"""

from course_utils.assets import configure_hub_env as _configure_hub_env

__version__ = "0.1.0"

_configure_hub_env()
