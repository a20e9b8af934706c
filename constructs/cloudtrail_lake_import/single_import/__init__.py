"""The constructs ``CloudTrailLakeImport`` is composed of, one job each.

Each keeps the logical id its resource had when ``CloudTrailLakeImport`` declared it directly:
a construct whose resource is its ``Default`` child adds nothing to the logical id.
"""
