"""The engine: from a network and a domain to its activation regions.

- :mod:`.api`: the entry points :func:`enumerate_regions` and :func:`count_regions`;
- :mod:`.driver`: the stack of cells, budgets and progress (no geometry);
- :mod:`.polytope_step` (cells by vertices, with :mod:`.split` by unit signs and :mod:`.argmax`
  by max-group winners), :mod:`.hrep_step` (cells by inequalities, above five inputs) and
  :mod:`.line_step` (counts on one input, by the values at the intervals' ends): one layer at a
  time;
- :mod:`.roots`: the domain's root cells; :mod:`.cells`: cell sets and the complex handed on;
- :mod:`.assemble`: the :class:`~regionenum.Regions` of a finished run;
- :mod:`.subtrees`: a run cut into subtrees after its first layer, on the threads of idle cores;
- :mod:`.parallel`: worker processes and Dask; :mod:`.kernels`: the compiled kernels.
"""
from .api import RegionCount, count_regions, enumerate_regions
from .driver import Progress

__all__ = ["Progress", "RegionCount", "count_regions", "enumerate_regions"]
