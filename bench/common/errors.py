"""The one error a harness raises when it is itself broken (a peer or server did not start, a
command failed), as opposed to a slow or lossy server."""


class BenchError(RuntimeError):
    pass
