# Metrics read by the real thing (issue 16 part 2): Debian's prometheus
# scrapes ntsd, promtool checks the exposition and contrib/prometheus's
# alert rules (with their unit tests), and contrib/grafana's dashboard is
# checked against a real scrape (needs prometheus, promtool, python3).
TESTS += tests/integration/prometheus_test.sh
EXTRA_DIST += tests/integration/prometheus_test.sh tests/integration/promql-check \
	contrib/prometheus/ntsd-alerts.yml contrib/prometheus/ntsd-alerts_test.yml \
	contrib/grafana/ntsd.json
