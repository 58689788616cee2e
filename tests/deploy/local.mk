# The deployments in deploy/aws (issue 14 part 3): the CloudFormation
# templates checked against the CloudFormation resource specification
# (npm's @aws-cdk/cfnspec, pinned in tests/deploy/package-lock.json;
# needs node and npm, and the npm registry once per lock file), the
# instance scripts by bash -n and shellcheck, the units by systemd-analyze,
# the ntsd and chrony configurations (and doc/deployment.md's ntsd.conf
# blocks) by ntsd -n and chronyd -p.
TESTS += tests/deploy/cfn_check_test.sh
EXTRA_DIST += tests/deploy/cfn_check_test.sh tests/deploy/cfn-check.js \
	tests/deploy/package.json tests/deploy/package-lock.json \
	tests/deploy/bad/bad-getatt.yaml tests/deploy/bad/bad-primitive.yaml \
	tests/deploy/bad/bad-sub.yaml tests/deploy/bad/dangling-ref.yaml \
	tests/deploy/bad/if-branch.yaml tests/deploy/bad/missing-condition.yaml \
	tests/deploy/bad/missing-required.yaml tests/deploy/bad/nested-missing-required.yaml \
	tests/deploy/bad/nested-unknown-property.yaml tests/deploy/bad/output-no-value.yaml \
	tests/deploy/bad/unknown-property.yaml tests/deploy/bad/unknown-tag.yaml \
	tests/deploy/bad/unknown-type.yaml
EXTRA_DIST += deploy/aws/README.md deploy/aws/regional.yaml deploy/aws/global.yaml \
	deploy/aws/private-server.yaml \
	deploy/aws/instance/chrony.conf deploy/aws/instance/ntsd-fleet.conf \
	deploy/aws/instance/ntsd-private.conf deploy/aws/instance/ntsd-aws-setup \
	deploy/aws/instance/ntsd-aws-sync deploy/aws/instance/ntsd-aws-rotate \
	deploy/aws/instance/ntsd-aws-tls-put \
	deploy/aws/instance/ntsd-aws-sync.service deploy/aws/instance/ntsd-aws-sync.timer \
	deploy/aws/instance/ntsd-aws-rotate.service deploy/aws/instance/ntsd-aws-rotate.timer
