# heads: two heads: heads, upgrade head (ambiguous, refused), upgrade heads,
# current, history.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run heads app migrate heads
run heads app migrate upgrade head
run heads app migrate upgrade heads
run heads app migrate current
run heads app migrate history
