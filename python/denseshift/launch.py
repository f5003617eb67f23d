"""``torchrun`` with a fix for Debian's torch 1.13 on Python 3.11.

    python3 -m denseshift.launch --nproc_per_node=2 -m denseshift.train ...

takes exactly torchrun's arguments.  torch 1.13's launcher parses its
``--redirects``/``--tee`` values (default ``0``) by iterating over an
``IntFlag``; since Python 3.11 that iteration skips the zero and composite
members, so plain ``torchrun`` fails before starting any worker with
``AttributeError: 'NoneType' object has no attribute 'get'``.  This module
replaces that parser with one that looks the value up directly, then runs
torchrun's own ``main``.  (``torchrun -r 1 -t 1 ...`` also avoids the bug.)

Failures end with one line on stderr and a non-zero status instead of
torchrun's traceback: a rendezvous that cannot be reached or does not
complete (status 2, naming the endpoint), or a failed worker (its exit
status; the worker printed the reason above).
"""
import re
import sys


def _patch():
    from torch.distributed.elastic.multiprocessing import api

    def from_str(vm):
        if re.match(api._VALUE_REGEX, vm):
            return api.Std(int(vm))
        if re.match(api._MAPPING_REGEX, vm):
            return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")

    if api.Std.from_str("0") is None:           # only where the bug is present
        api.Std.from_str = staticmethod(from_str)


def _option(argv, name, default):
    for i, arg in enumerate(argv):
        for spelling in (f"--{name}", f"--{name.replace('_', '-')}"):
            if arg == spelling and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(spelling + "="):
                return arg.split("=", 1)[1]
    return default


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    _patch()
    from torch.distributed import run
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.rendezvous import RendezvousError
    try:
        run.main(argv)
    except (RendezvousError, RuntimeError, OSError, MemoryError, ValueError) as err:
        # Before any worker started: the rendezvous could not be reached, did not
        # complete, or the endpoint answered with something that is not a c10d
        # store (torch 1.13 then fails with MemoryError: std::bad_alloc).
        endpoint = _option(argv, "rdzv_endpoint", None) or "{}:{}".format(
            _option(argv, "master_addr", "127.0.0.1"), _option(argv, "master_port", "29500"))
        kind = type(err).__name__
        detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
        print(f"denseshift.launch: error: the rendezvous at {endpoint} failed ({kind}"
              f"{': ' + detail if detail else ''}): check that --rdzv_endpoint names a host "
              "and port every node can reach (and nothing else listens there), that all "
              "--nnodes nodes were started with the same --rdzv_id, and the timeouts in "
              "--rdzv_conf (join_timeout=SECONDS)", file=sys.stderr)
        return 2
    except ChildFailedError as err:
        codes = [f.exitcode for f in err.failures.values()]
        print(f"denseshift.launch: error: {err.name} failed on local rank(s) "
              f"{sorted(f.local_rank for f in err.failures.values())} with exit status "
              f"{sorted(set(codes))}; the workers' messages are above", file=sys.stderr)
        return next((c for c in codes if c > 0), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
