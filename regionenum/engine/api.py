"""The engine's entry points: :func:`enumerate_regions` and :func:`count_regions`.

Each checks its arguments before any work, chooses the step for the cell representation (cells
given by their vertices, or by their inequalities above five inputs), and runs it under the
:class:`~regionenum.engine.driver.Driver`, serially, in local worker processes or on a Dask
cluster (:mod:`regionenum.engine.parallel`).
"""
from __future__ import annotations

import time

import numpy as np

from ..core.arrays import checked_flag, checked_instance, real_number, whole_number
from ..core.domain import Polytope
from ..core.network import Network
from ..core.slices import Slice
from ..core.tolerances import DEFAULT_TOL
from ..errors import ArgumentTypeError, InvalidArgumentError, InvalidDomainError, InvalidNetworkError
from .assemble import assemble_regions
from .driver import Budget, DeferredInterrupts, Driver, Tally
from .hrep_step import HrepStep, assemble_hrep
from .hrep_step import applies as hrep_applies
from .kernels import KernelClock
from .line_step import LineStep, Unproven
from .line_step import applies as line_applies
from .parallel import run_parallel
from .polytope_step import MAX_DIM, PolytopeStep
from .rescaling import Rescaled
from .subtrees import run_subtrees

__all__ = ["RegionCount", "count_regions", "enumerate_regions"]


class RegionCount(int):
    """The number of activation regions, with how the count went. Compares and computes as a
    plain ``int``.

    Attributes
    ----------
    bounded : int
        How many of the regions are bounded (all of them on a bounded domain).
    complete : bool
        False when a budget or Ctrl-C stopped the run; the count is then a lower bound.
    stop_reason : str or None
        ``"max_regions"``, ``"time_limit"`` or ``"interrupted"`` when incomplete.
    seconds : float
        Time of the count itself, without compiling or loading the kernels.
    kernel_seconds : float
        Time spent compiling the kernels (on a machine's first run) or loading them.
    exact_calls : int
        Signs settled in exact arithmetic.
    sign_stages : dict of str to int
        How many signs each stage decided, in the order they are tried: ``"float64 filter"`` (a
        value beyond its rigorous error bound), ``"exact zeros"``, ``"float64 expansions"`` (exact
        numbers summed without error) and ``"exact arithmetic"`` (the same as ``exact_calls``).
        They count the work done, so they can depend on ``batch_size`` and ``workers``: a batch
        of few cells is cut by a wide layer in stages, whose pieces are evaluated again. Inputs
        beyond five, which the engine cuts by linear programmes, count only the last.
    certificate : Certificate or None
        With ``count_regions(..., certify=True)`` on a complete run: the exact re-check of the
        enumeration behind the count (:func:`regionenum.certify`).
    """

    def __new__(cls, count, *, bounded, complete, seconds, stop_reason, exact_calls, kernel_seconds=0.0,
                certificate=None, sign_stages=None):
        obj = super().__new__(cls, count)
        obj.bounded = bounded
        obj.complete = complete
        obj.seconds = seconds
        obj.stop_reason = stop_reason
        obj.exact_calls = exact_calls
        obj.sign_stages = sign_stages or {}
        obj.kernel_seconds = kernel_seconds
        obj.certificate = certificate
        return obj

    def __getnewargs_ex__(self):
        """What pickle and copy pass back to ``__new__``: the count and its keyword arguments."""
        return (int(self),), dict(bounded=self.bounded, complete=self.complete, seconds=self.seconds,
                                  stop_reason=self.stop_reason, exact_calls=self.exact_calls,
                                  kernel_seconds=self.kernel_seconds, certificate=self.certificate,
                                  sign_stages=self.sign_stages)

    def __repr__(self) -> str:
        tail = "" if self.complete else f", incomplete: {self.stop_reason}"
        return f"RegionCount({int(self)}, bounded={self.bounded}{tail})"


def enumerate_regions(network: Network, domain, *, tol: float = DEFAULT_TOL,
                      max_regions: int | None = None, time_limit: float | None = None,
                      batch_size: int = 1024, progress=None, workers: int = 1, client=None,
                      certify: bool = False):
    """Every activation region of a network on a domain, exactly.

    Parameters
    ----------
    network : Network
        The network (see :meth:`Network.from_layers` and the importers).
    domain : Box, Polytope or Slice
        The input domain, of the network's input dimension; or a :class:`~regionenum.Slice` (a
        line or plane through the inputs), in whose coordinates the result then is.
    tol : float, optional
        Relative width of the band of float64 signs that are always settled in exact arithmetic
        (README, "Exactness"); in ``(0, 1e-3)``.
    max_regions : int, optional
        Stop after this many regions (on an unbounded domain: pieces, one per orthant around the
        domain's interior point that a region meets, until merged).
    time_limit : float, optional
        Stop after about this many seconds, the assembly of the regions found included (a run
        stops early enough for an estimate of it to fit).
    batch_size : int, optional
        Cells split together; memory stays within a few batches per layer.
    progress : callable, optional
        Called with a :class:`~regionenum.Progress` after every batch (for example a
        :class:`regionenum.progress.ProgressBar`): from the thread that finished the batch where
        the run is cut into subtrees, one call at a time; an exception it raises ends the run
        (once the other threads' subtrees end) and it is not called again.
    workers : int, optional
        Local processes to enumerate in (the result is the serial one). With the default, one,
        the run still uses the idle cores of this process's machine: on one to three inputs
        its subtrees after the first layer go to threads (README, "The result": threads; the
        result does not depend on how many).
    client : distributed.Client, optional
        A Dask client: enumerate on its cluster instead (the result is the serial one).
    certify : bool, optional
        Re-check a complete result in exact rational arithmetic (:func:`regionenum.certify`)
        and keep the :class:`~regionenum.verify.Certificate` as ``regions.certificate``; a
        wrong result raises :class:`~regionenum.CertificationError`. This costs more than the
        enumeration (README, "Exactness"). Needs the vertex representation (at most five
        inputs, or no bounded domain without max layers beyond).

    Notes
    -----
    With more than five inputs (:data:`~regionenum.engine.hrep_step.HREP_ABOVE`), a bounded
    domain and no max layers, and without ``client``, cells are given by their inequalities and
    an interior point, split by small linear programmes with every split and non-split proven
    exactly (:mod:`regionenum.engine.hrep_step`), serially: vertices grow too fast there. Such a
    result has patterns, interior points, facets and affine maps, but no vertices (volumes are
    NaN); the analyses that need vertices say so.

    Returns
    -------
    Regions
        Every region with its pattern, geometry and affine map; ``complete`` is False (and
        ``stop_reason`` says why) when a budget or Ctrl-C stopped the run.

    Raises
    ------
    ArgumentTypeError
        ``network`` is not a :class:`Network`, ``domain`` not a domain, or an option is of the
        wrong kind (a number given as a string or None, a ``progress`` that cannot be called, a
        ``client`` that is not a Dask client, a ``certify`` that is not a bool).
    InvalidDomainError
        The domain's dimension is not the network's.
    InvalidArgumentError
        A budget, ``tol``, ``batch_size`` or ``workers`` out of range.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> regions = rn.enumerate_regions(net, rn.Box([-1, -1], [1, 1]))
    >>> len(regions), float(regions.volumes.sum())
    (4, 4.0)
    """
    run = _checked(network, domain, tol, max_regions, time_limit, batch_size, workers, client,
                   progress=progress, certify=certify)
    hrep = client is None and hrep_applies(run.network, run.domain)
    if certify and hrep:
        raise InvalidArgumentError(f"certify needs vertices; with {run.network.input_dim} inputs the regions are "
                                   "enumerated by their inequalities (re-check proofs of properties instead: "
                                   "rn.verify.verify_property, rn.certify)")
    if hrep:  # many inputs: cells by inequalities
        step = HrepStep(run.floats, run.run_domain, keep=True)
        tally = _execute(step, Budget(max_regions, time_limit), progress, 1, None)
        return run.back(assemble_hrep(run.run_network, run.run_domain, tally))
    step = PolytopeStep(run.floats, run.run_domain, tol, batch_size, keep=True)
    with DeferredInterrupts():  # Ctrl-C while assembling waits for the result
        tally = _execute(step, Budget(max_regions, time_limit), progress, workers, client)
        regions = run.back(assemble_regions(run.run_network, run.run_domain, step.roots, tally))
    if certify and regions.complete:
        from ..verify.certificates import certify as check  # lazy facade: certificates sit above the engine
        regions.certificate = check(regions, workers=workers)
    return regions


def count_regions(network: Network, domain, *, tol: float = DEFAULT_TOL,
                  max_regions: int | None = None, time_limit: float | None = None,
                  batch_size: int = 1024, progress=None, workers: int = 1, client=None,
                  certify: bool = False) -> RegionCount:
    """The number of activation regions, keeping only the frontier of cells in memory.

    Parameters
    ----------
    network, domain, tol, max_regions, time_limit, batch_size, progress, workers, client
        As for :func:`enumerate_regions`. With more than five inputs (a bounded domain, no max
        layers) it runs serially on cells given by their inequalities, as in
        :func:`enumerate_regions`.
    certify : bool, optional
        Count by an enumeration re-checked in exact arithmetic instead (see
        :func:`enumerate_regions`): the count's ``certificate`` says what was proven. Memory
        then grows with the regions, as for an enumeration.

    Returns
    -------
    RegionCount
        The count (an ``int``) with ``bounded``, ``complete``, ``stop_reason``, ``seconds``,
        ``kernel_seconds`` and ``exact_calls``.

    Notes
    -----
    On one input (a :class:`~regionenum.Box` of one coordinate or a
    :class:`~regionenum.Slice` along a line; ReLU, LeakyReLU and identity layers; no Dask
    ``client``) the count keeps each layer's values at the intervals' ends, with every sign
    proven by rigorous error bounds (:mod:`regionenum.engine.line_step`; README, "Exactness").
    It runs in this process whatever ``workers`` says, being faster there than the general step
    on several (the suite's 512-wide line of eight layers: 0.07 s against 0.40 s on two
    processes). Where those bounds prove no sign (an exact zero at a breakpoint, roots that
    meet) the count starts again on the general step (on ``workers`` processes), with what is
    left of ``time_limit``, its ``progress`` reports from the start again.

    Raises
    ------
    ArgumentTypeError, InvalidDomainError, InvalidArgumentError
        As for :func:`enumerate_regions`, before any work.

    Examples
    --------
    >>> import numpy as np, regionenum as rn
    >>> net = rn.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    >>> rn.count_regions(net, rn.Box([-1, -1], [1, 1]))
    RegionCount(4, bounded=4)
    """
    run = _checked(network, domain, tol, max_regions, time_limit, batch_size, workers, client,
                   progress=progress, certify=certify)
    if certify:
        regions = enumerate_regions(network, domain, tol=tol, max_regions=max_regions, time_limit=time_limit,
                                    batch_size=batch_size, progress=progress, workers=workers, client=client,
                                    certify=True)
        return RegionCount(len(regions), bounded=int(regions.bounded.sum()), complete=regions.complete,
                           seconds=regions.seconds, stop_reason=regions.stop_reason,
                           exact_calls=regions.exact_calls, kernel_seconds=regions.kernel_seconds,
                           certificate=regions.certificate, sign_stages=regions.sign_stages)
    floats, domain = run.floats, run.run_domain
    budget, spent, clock = Budget(max_regions, time_limit), 0.0, KernelClock()
    with DeferredInterrupts():  # one flag for both steps: Ctrl-C in the first stops the second
        if client is None and line_applies(floats, domain):
            start = time.perf_counter()
            step = LineStep(floats, domain, tol, batch_size)
            try:  # one input: values at the breakpoints, every sign proven, or the general step below
                with clock:
                    tally = Driver(step, budget, progress).run()
                return RegionCount(tally.count, bounded=tally.bounded, **tally.outcome())
            except Unproven:
                spent = time.perf_counter() - start
                if time_limit is not None:
                    budget.time_limit = max(time_limit - spent, 0.0)
            finally:
                step.close()
        if client is None and hrep_applies(run.network, run.domain):
            step, workers = HrepStep(floats, domain, keep=False), 1
        else:
            step = PolytopeStep(floats, domain, tol, batch_size, keep=False)
        tally = _execute(step, budget, progress, workers, client)
    tally.seconds += spent - clock.seconds  # the first step's, its kernels' loading apart
    tally.kernel_seconds += clock.seconds
    if tally.patterns is not None:  # pieces of a region were counted once per orthant
        count, bounded = len(tally.patterns), sum(tally.patterns.values())
    else:
        count, bounded = tally.count, tally.bounded
    return RegionCount(count, bounded=bounded, **tally.outcome())


def _execute(step, budget: Budget, progress, workers: int, client) -> Tally:
    if workers > 1 or client is not None:
        return run_parallel(step, budget, progress, workers, client)
    if isinstance(step, PolytopeStep) and budget.max_regions is None:
        return run_subtrees(step, budget, progress)  # on the idle cores of this process
    return Driver(step, budget, progress).run()


def _checked(network, domain, tol, max_regions, time_limit, batch_size, workers, client, *, progress=None,
             certify=False):
    """The problem as the engine runs it (:class:`~regionenum.engine.rescaling.Rescaled`: the
    network and the domain to enumerate, restricted to a slice if ``domain`` is one, and the
    exact changes of coordinates the float64 stages run in), after checking every argument;
    raises before any work."""
    _check_types(tol=tol, max_regions=max_regions, time_limit=time_limit, batch_size=batch_size, workers=workers,
                 client=client, progress=progress, certify=certify)
    checked_instance(network, Network, "network", "a regionenum.Network")
    if isinstance(domain, Slice):
        if len(domain.origin) != network.input_dim:
            raise InvalidDomainError(f"the slice lives in {len(domain.origin)} inputs but the network "
                                     f"takes {network.input_dim}")
        network, domain = domain.restrict(network), domain.domain
    if not isinstance(domain, Polytope):
        raise ArgumentTypeError(f"domain must be a regionenum Box, Polytope or Slice, got "
                                f"{type(domain).__name__}")
    if domain.dim != network.input_dim:
        raise InvalidDomainError(
            f"the domain has dimension {domain.dim} but the network takes {network.input_dim} inputs")
    if domain.dim > MAX_DIM and not (client is None and hrep_applies(network, domain)):
        raise InvalidDomainError(
            f"the domain has {domain.dim} dimensions; regionenum enumerates regions on up to {MAX_DIM} "
            f"inputs by vertices (its cells start from the 2^{domain.dim} corners of a box), and beyond that by "
            "inequalities on bounded domains of networks without max layers, without client. Restrict the "
            "network to a line or plane through inputs (rn.Slice.through) or fix some inputs (rn.Slice)")
    if not (0 < tol < 1e-3):
        raise InvalidArgumentError(f"tol must be in (0, 1e-3), got {tol}")
    if time_limit is not None and not (time_limit > 0):
        raise InvalidArgumentError(f"time_limit must be positive seconds, got {time_limit}")
    if max_regions is not None and (workers > 1 or client is not None):
        raise InvalidArgumentError("max_regions needs a serial run (workers=1, no client)")
    run = Rescaled(network, domain)
    _check_float_range(run.floats, run.run_domain)
    return run


def _check_types(*, tol, max_regions, time_limit, batch_size, workers, client, progress, certify) -> None:
    """Refuse by name, before any work, a run's options of the wrong kind: numbers that are not
    numbers (a string, None, a bool), counts that are not positive whole numbers
    (:func:`~regionenum.core.arrays.whole_number`), a ``progress`` that cannot be called, a
    ``client`` without ``submit``, a ``certify`` that is not a bool
    (:func:`~regionenum.core.arrays.checked_flag`). The ranges of ``tol`` and ``time_limit`` are
    checked by :func:`_checked`."""
    real_number(tol, "tol")
    if time_limit is not None:
        real_number(time_limit, "time_limit")
    # counts: a number first (as the other options say), then a positive whole one
    whole_number(real_number(batch_size, "batch_size"), "batch_size")
    whole_number(real_number(workers, "workers"), "workers")
    if max_regions is not None:
        whole_number(real_number(max_regions, "max_regions"), "max_regions")
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"progress must be callable (it is called with a Progress), got {progress!r}")
    if client is not None and not callable(getattr(client, "submit", None)):
        raise ArgumentTypeError(f"client must be a dask.distributed Client, got {type(client).__name__}")
    checked_flag(certify, "certify")


#: The largest bound on a pre-activation over the domain that the float64 stages accept: far
#: enough below float64's largest number (about 2^1024) that the sums, rounding-error bounds and
#: interpolations built on such values cannot overflow.
RANGE_LIMIT = 2.0 ** 960


def _check_float_range(network, domain):
    """Refuse, before any work, a network whose values over the domain may leave float64's range
    (they would turn into infinities and NaNs, and the combinatorics with them). Interval
    arithmetic bounds every unit: ``|z_l| <= |W_l| a_(l-1) + |b_l|``, from ``a_0 = max(1, |x|)``
    over the domain's (finite) bounds and each layer's outputs ``a_l`` (slopes and max groups
    included); the same bound covers the coefficients of every composed hyperplane row."""
    lo, hi = domain.bounds
    finite = np.abs(np.concatenate([lo, hi]))
    reach = max(1.0, float(finite[np.isfinite(finite)].max(initial=0.0)))
    a = np.full(network.input_dim, reach)
    with np.errstate(over="ignore", invalid="ignore"):
        for l, layer in enumerate(network.layers):
            z = np.abs(layer.W) @ a + np.abs(layer.b)
            if not np.all(z <= RANGE_LIMIT):  # an infinity or NaN fails too
                raise InvalidNetworkError(
                    f"layer {l}: its pre-activations over the domain (coordinates up to {reach:.3g}) may "
                    f"reach {np.nanmax(z):.3g}, beyond what the float64 stages can carry (2^960): scale the "
                    "domain's coordinates, or a layer's weights and bias (with the next layer's weights "
                    "divided back), by powers of two, which is exact, to bring them into range")
            a = layer.activation.collect(z * max(1.0, abs(layer.activation.off_slope)))
