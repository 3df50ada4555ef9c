"""The ``regionenum`` command's entry point.

Starting the command line imports numpy, scipy, Numba and the package, which takes a second or
more; a Ctrl-C in that time would otherwise end in a traceback. Importing this module notes a
Ctrl-C instead (its handler is in place from here until the command line's own takes over), and
:func:`main` reports it like a Ctrl-C at any later moment (see :mod:`regionenum.cli`): nothing
was found yet, exit status 0.
"""
import signal
import sys

_interrupts = []
signal.signal(signal.SIGINT, lambda signum, frame: _interrupts.append(signum))


def main() -> int:
    """Import and run :func:`regionenum.cli.main`, or report a Ctrl-C that came before it took
    over. Once the command has reported, a Ctrl-C has nothing left to stop: it is ignored while
    the interpreter shuts down (where it would otherwise print a traceback from an exit hook)."""
    try:
        from regionenum.cli import main as run_command_line
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(run_command_line)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(run_command_line) -> int:
    if not _interrupts:
        try:
            return run_command_line()
        except KeyboardInterrupt:  # between here and the command line's own handler
            pass
    import json
    if "--json" in sys.argv[1:]:
        print(json.dumps({"complete": False, "stop_reason": "interrupted", "interrupted_while": "starting"}))
    else:
        print("stopped by Ctrl-C while starting: nothing was done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
