"""An offline CloudTrail Lake: a JSON 1.1 endpoint whose imports really read S3 (moto).

A component of its own, used by the end-to-end suite, the benchmarks and any test that needs
CloudTrail Lake's import API:

* ``server.CloudTrailLake``: the HTTP front (wire format, fault plan, call log);
* ``engine.ImportEngine``: stores and imports, progressing on an injected clock (its docstring
  lists every choice made where AWS documents nothing);
* ``records``: the stores, imports and failures it keeps;
* ``clock.EmulatedClock``: time that moves only when someone sleeps or the test advances it;
* ``trail_archive``: generated trail archives with the statistics an import must report;
* ``local_http``: the small threaded HTTP(S) server the endpoints run on.
"""
