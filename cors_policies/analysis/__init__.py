"""Questions the admin asks about policies, answered from plain data (no ORM, no settings).

* :func:`find_shadows` (:mod:`.shadows`): which policies with higher precedence win over a policy for some
  of its paths, worked out with the glob algebra of :mod:`.globs` (:func:`covers`, :func:`overlap`).
* :func:`preview` (:mod:`.previews`): the exact headers a policy sends for a sample preflight and a sample
  actual request.
* :func:`sample_path` and :func:`sample_origin` (:mod:`.samples`): a concrete path and origin a policy
  covers.
* :func:`policy_warnings` (:mod:`.warnings`): misconfigurations, each with its safer alternative; its regex
  examples come from :mod:`.regex_samples`, which writes texts a regex matches.
* :mod:`.normalize`: how policy lists are stored (the validators apply it before saving).

Precedence is the engine's (``CompiledPolicy.sort_key``) and every verdict is the engine's: this package
only chooses what to ask it. Every name the package had as one module is importable from here.
"""

from __future__ import annotations

from .globs import covers, overlap, segments
from .normalize import normalize_header_names, normalize_methods, normalize_origins, normalize_strings
from .previews import Preview, SampleRequest, preview
from .regex_samples import literal_prefix as _regex_literal_prefix  # noqa: F401 - the module's old private name
from .samples import ANY_ORIGIN_SAMPLE, SAMPLE_LABEL, SAMPLE_SEGMENT, sample_origin, sample_path, sample_paths
from .shadows import Shadow, find_shadows
from .warnings import PolicyWarning, policy_warnings

__all__ = [
    "ANY_ORIGIN_SAMPLE",
    "SAMPLE_LABEL",
    "SAMPLE_SEGMENT",
    "PolicyWarning",
    "Preview",
    "SampleRequest",
    "Shadow",
    "covers",
    "find_shadows",
    "normalize_header_names",
    "normalize_methods",
    "normalize_origins",
    "normalize_strings",
    "overlap",
    "policy_warnings",
    "preview",
    "sample_origin",
    "sample_path",
    "sample_paths",
    "segments",
]
