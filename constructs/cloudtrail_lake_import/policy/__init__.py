"""What the constructs share about permissions and scanners: CloudTrail's access role, the
statements a bucket's owner adds (and ``CloudTrailLakeImportSourceAccess``, which adds them), the
log key's policy, the handlers' self-invoke policy, cdk-nag acknowledgments and checkov skips."""
