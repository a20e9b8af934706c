"""The constructs ``CloudTrailLakeImport`` is composed of, one job each.

The resource a construct exists for (the bucket, the store, the access role, the function, the
custom resource) is its ``Default`` child, which adds nothing to a logical id: each keeps the
logical id it had when ``CloudTrailLakeImport`` declared it directly.
"""
