"""What every stage shares: the canonical :class:`~regionenum.core.network.Network`, domains
(:mod:`.domain`) and slices (:mod:`.slices`), exact integer arithmetic (:mod:`.exact`), the sign
rule's tolerances (:mod:`.tolerances`), proven norm bounds (:mod:`.norm_bounds`, certified by
LAPACK's Cholesky factorisation, :mod:`.cholesky`), array helpers and the checks of arguments'
kinds (:mod:`.arrays`), of files to read or write (:mod:`.paths`), thread
counts that adapt to a busy machine (:mod:`.threads`) and handing freed memory back to the
system (:mod:`.memory`). Nothing here imports the engine or the analyses."""
