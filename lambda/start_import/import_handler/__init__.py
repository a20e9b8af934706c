"""CloudTrail Lake import custom resource: parse properties → decide → act → report."""
