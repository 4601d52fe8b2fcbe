"""The probes: a target (``target``), the socket-level exchanges (``http``, ``websocket``),
and running a protocol's probe plan into one observation (``observe``)."""
