"""`make demo`: filled in when the end-to-end path lands (issue: REPL, demo, embedding)."""

import sys

print("error: the demo is not available yet in this build.", file=sys.stderr)
sys.exit(2)
