"""The bundled server (``bundled``: CA, hypercorn runner), enforcement (``enforce``)
and the policy server (``policy``)."""
