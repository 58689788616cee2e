#!/bin/sh
# No function in product code is longer than 80 lines (tables aside):
# scripts/function-lengths over common/ ntpd/ nts-ke/ ntsd/ client/ tools/.
top=${srcdir:-.}
cd "$top" || exit 1
if ! command -v python3 >/dev/null 2>&1; then
	echo "not ok - python3 is needed to measure function lengths"
	echo "function_lengths: 0 passed, 1 failed"
	exit 1
fi
# shellcheck disable=SC2086
if out=$(python3 scripts/function-lengths --max 80 ${FUNCTION_LENGTHS_DIRS:-}); then
	echo "ok - $out"
	echo "function_lengths: 1 passed, 0 failed"
	exit 0
fi
echo "$out" | sed 's/^/# /'
echo "not ok - functions longer than 80 lines in product code"
echo "function_lengths: 0 passed, 1 failed"
exit 1
