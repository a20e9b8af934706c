"""``CloudTrailLakeImportPlan`` (``import_plan.py``) and its parts: the specs cut into segments
(``segments.py``), the state machine (``definition.py``, with ``lookup.py`` and
``continuation.py``), the finish function's inline code (``finish.py``), the handler's asset
(``handler_asset.py``) and its hardening (``hardening.py``)."""
