"""``CloudTrailLakeImport`` (``lake_import.py``), the constructs it is composed of, one job each,
and the helpers only it uses: placement checks, prop types, the handler's asset.

The resource a construct exists for (the bucket, the store, the access role, the function, the
custom resource) is its ``Default`` child, which adds nothing to a logical id: each keeps the
logical id it had when ``CloudTrailLakeImport`` declared it directly.
"""
