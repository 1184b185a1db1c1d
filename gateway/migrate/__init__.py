"""``segmux migrate`` (segments from one vendor API to another, through each one's own API) and
``segmux export`` / ``segmux import`` (the canonical model as NDJSON, straight from the store).

Modules: ``endpoint`` (``<dialect>+<URL>`` and its options), ``item`` (a segment as read, in the
canonical model), one codec per dialect (``unleash``, ``adobe``, ``confidence``, ``v23``, ``hal``,
``segmux``: read with paging, render, create), ``planner``, ``report``, ``run`` (the command),
``ndjson`` (export/import) and ``commands`` (the CLI wiring)."""
