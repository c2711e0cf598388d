"""xhal conformance suite: cases derived from the op specs, numpy references, comparison, runner.

``xhal conformance`` (see :mod:`.cli`) runs it; :func:`run` is the programmatic entry point.
Cases, references and comparison need only numpy; the runner needs the xhal runtime.
"""

from __future__ import annotations

from .cases import Case, generate_cases
from .compare import Comparison, compare
from .runner import CaseResult, Report, run

__all__ = ["Case", "CaseResult", "Comparison", "Report", "compare", "generate_cases", "run"]
