"""``CloudTrailLakeImportPlan`` (``import_plan.py``) and its parts: the prop checks
(``checks.py``), the specs cut into segments (``segments.py``), the access roles
(``access_roles.py``), names (``names.py``), the handler and custom resource (``handler.py``),
the plan's end (``ending.py``, with the finish function's inline code ``finish.py``), cdk-nag
acknowledgments (``nag.py``), the state machine (``definition.py``, with ``segment_states.py``,
``segment_results.py``, ``starting.py``, ``end_states.py``, ``notifications.py``, ``lookup.py``
and ``continuation.py``), the handler's asset (``handler_asset.py``) and its hardening
(``hardening.py``)."""
