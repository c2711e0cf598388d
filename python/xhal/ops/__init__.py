"""Every operator of the standard, as Python functions generated from op_specs/."""

from ._generated import *  # noqa: F403
from ._generated import __all__  # noqa: F401
